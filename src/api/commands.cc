#include "api/commands.h"

namespace custos::api {
namespace {

using K = ParamKind;

Param Text(std::string member, std::string flag, std::string help, bool required = false) {
  return {std::move(member), std::move(flag), K::kText, required, std::move(help)};
}
Param Of(K kind, std::string member, std::string flag, std::string help, bool required = false) {
  return {std::move(member), std::move(flag), kind, required, std::move(help)};
}
Param Today() { return Text("today", "--today", "Reference date YYYY-MM-DD (default: today)"); }
Param Request() { return Text("request", "--request", "Run what this approved request allows"); }

// Adds routes to a table: add(method, path, command, summary, params).
struct Adder {
  std::vector<CommandRoute>& r;
  CommandRoute& operator()(std::string method, std::string path, std::string command,
                           std::string summary, std::vector<Param> params) {
    CommandRoute& route = r.emplace_back();
    route.method = std::move(method);
    route.path = std::move(path);
    route.command = std::move(command);
    route.summary = std::move(summary);
    route.params = std::move(params);
    return route;
  }
};

void AddDataRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  // Inventory and import: the export is the request body.
  add("POST", "/api/v1/inventory", "inventory",
      "Inventory an export (the request body): columns, kinds, findings; nothing stored",
      {Of(K::kUpload, "file", "FILE", "The export (CSV, XLSX, JSON Lines)", true),
       Text("encoding", "--encoding", "utf-8, gbk or gb18030 (default: detect)"),
       Text("sheet", "--sheet", "XLSX sheet (default: the first)"),
       Text("format", "--format", "json (default), text or html"),
       Text("lang", "--lang", "zh or en, for text and html"), Today(),
       Of(K::kOutFile, "out", "--out", "inventory")})
      .json_arg = "--format=json";
  add("POST", "/api/v1/datasets/{dataset}/imports", "import",
      "Import an export (the request body) into a dataset, encrypted",
      {Of(K::kUpload, "file", "FILE", "The export (CSV, XLSX, JSON Lines)", true),
       Text("dataset", "--dataset", "Dataset name", true),
       Text("encoding", "--encoding", "utf-8, gbk or gb18030 (default: detect)")})
      .job = true;
  // People.
  add("POST", "/api/v1/persons/{person}/clear-reads", "show",
      "Read a person's values in clear, for a stated purpose (recorded; step-up)",
      {Text("person", "PERSON", "Person id", true),
       Text("purpose", "--purpose", "Why the clear text is needed", true),
       Text("legal_ground", "--legal-ground", "Legal ground to read frozen data")})
      .step_up = true;
  r.back().fixed = {"--clear"};
  add("DELETE", "/api/v1/persons/{person}", "forget",
      "Crypto-shred a person: destroy their key and data",
      {Text("person", "PERSON", "Person id", true)});
}

void AddTransferRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  add("GET", "/api/v1/recipients", "recipient list", "List recipients", {});
  add("POST", "/api/v1/recipients", "recipient add", "Register a recipient and its keys",
      {Text("id", "--id", "Short id", true), Text("name", "--name", "Legal name", true),
       Text("uscc", "--uscc", "Unified social credit code", true),
       Text("contact", "--contact", "Contact given on notices", true),
       Text("age_recipient", "--age-recipient", "age1...", true),
       Text("ssh_key", "--ssh-key", "ssh-ed25519 public key that signs receipts", true)});
  add("GET", "/api/v1/transfers", "transfer status", "Where every transfer stands",
      {Text("transfer", "--transfer", "Only this transfer")});
  add("POST", "/api/v1/transfers", "transfer plan",
      "Plan a transfer: recipient, mode, purpose, fields, terms",
      {Text("id", "--id", "Transfer id", true),
       Text("recipient", "--recipient", "Recipient id", true),
       Text("mode", "--mode", "head-office, art22 or art23", true),
       Text("purpose", "--purpose", "Purpose of the transfer", true),
       Text("method", "--method", "Processing method"),
       Text("fields", "--fields", "Comma-separated column names that may leave", true),
       Text("dataset", "--dataset", "Only this dataset"),
       Text("approved_by", "--approved-by", "Who approved the mode and the transfer"),
       Text("processor_name", "--processor-name", "The processor's name"),
       Text("processor_contact", "--processor-contact", "The processor's contact"),
       Text("processor_uscc", "--processor-uscc", "The processor's USCC"),
       Of(K::kFile, "contract", "--contract", "Contract terms: key = value lines"),
       Of(K::kList, "terms", "--term", "Contract terms, key=value each")});
  add("POST", "/api/v1/transfers/{transfer}/terms", "transfer terms",
      "Add or change contract terms of a planned transfer",
      {Text("transfer", "--transfer", "Transfer id", true),
       Of(K::kFile, "contract", "--contract", "Contract terms: key = value lines"),
       Of(K::kList, "terms", "--term", "Terms, key=value each"),
       Text("approved_by", "--approved-by", "Who approved")});
  add("POST", "/api/v1/transfers/{transfer}/notices", "transfer notices",
      "Write one notice per person (CSV: ref, contact, message) to download",
      {Text("transfer", "--transfer", "Transfer id", true),
       Text("channel", "--channel", "sms, letter or email"), Text("lang", "--lang", "zh or en"),
       Of(K::kOutFile, "out", "--out", "notices.csv", true)});
  add("POST", "/api/v1/transfers/{transfer}/responses", "transfer responses",
      "Record responses: CSV ref,response,time[,evidence,...]",
      {Text("transfer", "--transfer", "Transfer id", true),
       Of(K::kFile, "file", "--file", "The responses CSV", true)});
  add("POST", "/api/v1/transfers/{transfer}/package", "transfer package",
      "Build the signed, encrypted handover package (a job; the package to download)",
      {Text("transfer", "--transfer", "Transfer id", true),
       Of(K::kFlag, "allow_damaged", "--allow-damaged", "Package damaged values, marked"),
       Request(), Of(K::kOutFile, "out", "--out", "package.tar", true)})
      .job = true;
  add("POST", "/api/v1/transfers/{transfer}/close", "transfer close",
      "Verify the recipient's signed receipt and close the transfer",
      {Text("transfer", "--transfer", "Transfer id", true),
       Of(K::kFile, "receipt", "--receipt", "The receipt file", true)});
}

void AddDestructionRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  add("GET", "/api/v1/retention/rules", "retention rules", "The retention rules applied", {});
  add("POST", "/api/v1/retention/bindings", "retention apply",
      "Bind fields of a dataset to a retention rule",
      {Text("rule", "--rule", "Rule id", true), Text("dataset", "--dataset", "Dataset", true),
       Text("fields", "--fields", "Comma-separated field names", true),
       Text("start_date", "--start-date", "Start event date for everyone"),
       Text("start_field", "--start-field", "Field holding each person's start date"),
       Of(K::kFile, "rules", "--rules", "An edited rule catalogue (TOML)"), Today()});
  add("POST", "/api/v1/retention/runs", "retention run",
      "Destroy what has passed its retention period (approved request)", {Today(), Request()})
      .job = true;
  add("GET", "/api/v1/destruction/plan", "destroy plan",
      "What will be destroyed, retained, transferred; blockers", {Today()});
  add("POST", "/api/v1/destructions", "destroy execute",
      "Destroy everything not retained (a job; needs an approved request)",
      {Today(), Request(), Of(K::kInteger, "chunk", "--chunk", "People per transaction")})
      .job = true;
  add("GET", "/api/v1/certificate", "certificate",
      "The signed destruction record (JSON, SSHSIG, HTML) to download",
      {Text("destruction", "--destruction", "Batch id (default: the latest)"),
       Text("lang", "--lang", "zh or en"), Of(K::kOutDir, "out", "--out", "certificate", true)});
  add("POST", "/api/v1/media", "media register", "Register a medium still to be destroyed",
      {Text("id", "--id", "Serial number or label", true),
       Text("kind", "--kind",
            "disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other", true),
       Text("description", "--description", "What it held (no personal data)")});
  add("POST", "/api/v1/media/{id}/destruction", "media record",
      "Record a medium's physical destruction, witnessed by two trained supervisors",
      {Text("id", "--id", "Serial number or label", true),
       Text("kind", "--kind",
            "disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other", true),
       Text("method", "--method", "shred, degauss, incinerate, overwrite, delete", true),
       Text("executor", "--executor", "Who destroyed it", true),
       Of(K::kList, "witnesses", "--witness", "Two witnesses (user ids)", true),
       Text("vendor", "--vendor", "Destruction vendor"),
       Text("vendor_certificate", "--vendor-certificate", "The vendor's certificate reference"),
       Text("description", "--description", "What it held (no personal data)")});
  add("GET", "/api/v1/deregistration", "deregister check", "Deregistration readiness", {Today()});
}

void AddApprovalRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  add("GET", "/api/v1/requests", "request list", "Every request and where it stands", {});
  add("GET", "/api/v1/requests/{request}", "request show", "One request and its reviews",
      {Text("request", "REQUEST", "Request id", true)});
  add("DELETE", "/api/v1/requests/{request}", "request cancel", "Cancel a request",
      {Text("request", "REQUEST", "Request id", true)});
  add("GET", "/api/v1/requests/{request}/statement", "approve",
      "The statement an own-SSH-key user signs (ssh-keygen -Y sign -n custos-approval)",
      {Text("request", "REQUEST", "Request id", true),
       Of(K::kFlag, "deny", "--deny", "The statement of a denial")});
  r.back().fixed = {"--print-statement"};
  add("POST", "/api/v1/requests/{request}/approvals", "approve",
      "Approve (or deny) a request: password and a fresh one-time code, or a signed statement",
      {Text("request", "REQUEST", "Request id", true),
       Of(K::kFlag, "deny", "--deny", "Deny instead"), Text("comment", "--comment", "A comment"),
       Of(K::kSecret, "password", "--password-env", "Your password (unlocks your approval key)"),
       Of(K::kSecret, "totp", "--totp-env", "A fresh one-time code"),
       Of(K::kFile, "statement", "--statement", "The statement, as signed"),
       Of(K::kFile, "signature", "--signature", "Its SSH signature (custos-approval)")});
  add("GET", "/api/v1/policies", "policy show", "The approval policy for each kind", {});
  add("POST", "/api/v1/policies", "policy set", "Change who must approve a kind of request",
      {Text("kind", "--kind", "destroy.execute, transfer.package, user.roles or policy.set", true),
       Of(K::kList, "slots", "--slot", "ROLE[,ROLE...][:COUNT] each", true), Request()});
}

void AddPeopleRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  add("GET", "/api/v1/whoami", "whoami", "Who acts: user, roles, authentication, training", {});
  add("GET", "/api/v1/users", "user list", "List users", {});
  add("GET", "/api/v1/users/{id}", "user show", "Show a user",
      {Text("id", "--id", "User id", true)});
  add("POST", "/api/v1/users", "user add", "Add a user: answers a one-time enrolment secret",
      {Text("id", "--id", "User id", true), Text("name", "--name", "Display name", true),
       Of(K::kList, "roles", "--role", "Roles", true), Request()});
  add("PUT", "/api/v1/users/{id}/roles", "user roles", "Replace a user's roles",
      {Text("id", "--id", "User id", true), Of(K::kList, "roles", "--set", "Roles", true),
       Request()});
  for (const char* change : {"suspend", "resume", "reset"}) {
    add("POST", std::string("/api/v1/users/{id}/") + change, std::string("user ") + change,
        std::string("User: ") + change, {Text("id", "--id", "User id", true)});
  }
  add("DELETE", "/api/v1/users/{id}", "user remove", "Remove a user",
      {Text("id", "--id", "User id", true)});
  add("POST", "/api/v1/enrolments", "user enrol",
      "Enrol with the one-time secret: set a password, get the one-time code's secret",
      {Text("id", "--id", "User id", true),
       Of(K::kSecret, "secret", "--secret-env", "The enrolment secret", true),
       Of(K::kSecret, "password", "--password-env", "The new password (12 characters or more)",
          true),
       Text("ssh_key", "--ssh-key", "Approve with this OpenSSH public key instead")})
      .public_route = true;
  add("GET", "/api/v1/training/course", "training course", "The current course", {});
  add("GET", "/api/v1/training/records", "training records", "Training attempts",
      {Text("user", "--user", "Only this user")});
  add("POST", "/api/v1/training/records", "training record",
      "Record a course held elsewhere, with its evidence",
      {Text("user", "--user", "Who took it", true), Text("course", "--course", "Version", true),
       Of(K::kInteger, "score", "--score", "Score, percent", true),
       Text("date", "--date", "Date held, YYYY-MM-DD", true),
       Of(K::kFile, "evidence", "--evidence", "The evidence (its SHA-256 is kept)", true)});
}

void AddAuditRoutes(std::vector<CommandRoute>& r) {
  Adder add{r};
  add("GET", "/api/v1/audit/verify", "audit verify", "Verify the whole audit log", {});
  add("GET", "/api/v1/audit/entries", "audit log", "Audit entries for people to read",
      {Text("since", "--since", "At or after (YYYY-MM-DD or RFC 3339)"),
       Text("action", "--action", "This action or family"),
       Text("via", "--via", "Authenticated so"), Text("by", "--by", "By this user")});
  add("GET", "/api/v1/audit/export", "audit export",
      "Export the log, its checkpoint and the verifier's inputs (to download)",
      {Of(K::kOutDir, "out", "--out", "audit-export", true)});
  add("GET", "/api/v1/audit/proofs/{index}", "audit prove", "RFC 9162 inclusion proof of an entry",
      {Of(K::kInteger, "index", "--index", "Entry (0-based)", true),
       Of(K::kInteger, "size", "--size", "Tree size (default: the latest checkpoint)")});
  add("POST", "/api/v1/audit/consistency", "audit consistency",
      "RFC 9162 consistency proof from an older checkpoint",
      {Of(K::kFile, "old", "--old", "The older checkpoint", true)});
}

std::vector<CommandRoute> Build() {
  std::vector<CommandRoute> r;
  AddDataRoutes(r);         // inventory, import, clear reads, forget
  AddTransferRoutes(r);     // recipients, transfers
  AddDestructionRoutes(r);  // retention, destruction, media, deregistration
  AddApprovalRoutes(r);     // requests, approvals, policies
  AddPeopleRoutes(r);       // users, training
  AddAuditRoutes(r);        // the audit log
  return r;
}

}  // namespace

const std::vector<CommandRoute>& CommandRoutes() {
  static const std::vector<CommandRoute> routes = Build();
  return routes;
}

std::vector<const CommandRoute*> RoutesForCommand(const std::string& command) {
  std::vector<const CommandRoute*> out;
  for (const CommandRoute& r : CommandRoutes()) {
    if (r.command == command) out.push_back(&r);
  }
  return out;
}

}  // namespace custos::api
