// custos recipient add | list, keys new-recipient,
// custos transfer plan | terms | notices | responses | package | status | close,
// custos package verify | import | receipt.
// Formats and state: docs/formats/package.md.
#include <sys/stat.h>

#include <iostream>
#include <sstream>

#include "base/file.h"
#include "base/json_text.h"
#include "base/time.h"
#include "cli/common.h"
#include "crypto/secret_bytes.h"
#include "package/age.h"
#include "package/ssh_key.h"
#include "package/ssh_private_key.h"
#include "workflow/handover.h"
#include "workflow/transfer.h"

namespace custos::cli {
namespace {

json CountsJson(const std::map<std::string, uint64_t>& m) {
  json j = json::object();
  for (const auto& [k, n] : m) j[k] = n;
  return j;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

Result<std::map<std::string, std::string>> CollectTerms(const std::string& contract_file,
                                                        const std::vector<std::string>& terms) {
  std::map<std::string, std::string> out;
  if (!contract_file.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(contract_file));
    auto parsed = workflow::ParseContractTerms(text);
    if (!parsed) return Fail(parsed.error().WithContext(contract_file));
    out = std::move(*parsed);
  }
  std::string joined;
  for (const auto& t : terms) joined += t + "\n";
  auto extra = workflow::ParseContractTerms(joined);
  if (!extra) return Fail(extra.error().WithContext("--term"));
  for (auto& [k, val] : *extra) out[k] = val;
  return out;
}

struct RecipientAddCmd {
  VaultOptions o;
  workflow::Recipient r;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "recipient add"));
    RETURN_IF_ERROR(workflow::AddRecipient(*v, r));
    if (o.json) {
      PrintJson({{"recipient", r.id}, {"ok", true}});
    } else {
      Out() << "Added recipient '" << r.id << "' (" << r.name << ").\n";
    }
    return Ok();
  }
};

struct RecipientListCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "recipient list"));
    ASSIGN_OR_RETURN(std::vector<workflow::Recipient> all, workflow::ListRecipients(*v));
    json arr = json::array();
    for (const workflow::Recipient& r : all) {
      arr.push_back({{"id", r.id},
                     {"name", r.name},
                     {"uscc", r.uscc},
                     {"contact", r.contact},
                     {"age_recipient", r.age_recipient},
                     {"ssh_key", r.ssh_key}});
      if (!o.json) Out() << r.id << "\t" << r.name << "\t" << r.uscc << "\n";
    }
    if (o.json) PrintJson(arr);
    return Ok();
  }
};

struct NewRecipientKeysCmd {
  std::string out;
  std::string comment = "custos-recipient";
  bool as_json = false;
  Status Run() {
    if (out.empty()) return Fail(InvalidArgument("--out DIR is required"));
    if (::mkdir(out.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(Unavailable("cannot create directory " + out));
    }
    package::AgeIdentity id = package::AgeIdentity::Generate();
    crypto::SecretBytes age_file = package::FormatAgeIdentityFile(id, NowUnixSeconds());
    const std::string age_pub = id.recipient().ToString();
    crypto::SecretBytes seed = crypto::SecretBytes::Random(32);
    ASSIGN_OR_RETURN(crypto::SecretBytes ssh_file, package::FormatOpenSshPrivateKey(seed, comment));
    ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
    const std::string ssh_pub = package::SshEd25519PublicKeyLine(signer.public_key(), comment);
    for (const char* f : {"/age.key", "/age.pub", "/ssh_ed25519", "/ssh_ed25519.pub"}) {
      if (FileExists(out + f))
        return Fail(AlreadyExists(out + f + " exists; not overwriting keys"));
    }
    RETURN_IF_ERROR(WriteFileExclusive(out + "/age.key", age_file.RevealSecret(), 0600));
    RETURN_IF_ERROR(WriteFileExclusive(out + "/age.pub", AsBytes(age_pub + "\n"), 0644));
    RETURN_IF_ERROR(WriteFileExclusive(out + "/ssh_ed25519", ssh_file.RevealSecret(), 0600));
    RETURN_IF_ERROR(WriteFileExclusive(out + "/ssh_ed25519.pub", AsBytes(ssh_pub + "\n"), 0644));
    if (as_json) {
      PrintJson({{"dir", out}, {"age_recipient", age_pub}, {"ssh_key", ssh_pub}});
    } else {
      Out() << "Wrote " << out << "/age.key and " << out << "/ssh_ed25519 (0600, keep secret), "
            << out << "/age.pub and " << out << "/ssh_ed25519.pub.\n  age recipient: " << age_pub
            << "\n  ssh key: " << ssh_pub << "\n";
    }
    return Ok();
  }
};

struct PlanCmd {
  VaultOptions o;
  workflow::TransferPlan p;
  std::string mode;
  std::string fields;
  std::string contract_file;
  std::vector<std::string> terms;
  Status Run() {
    ASSIGN_OR_RETURN(p.mode, workflow::ParseTransferMode(mode));
    p.fields = SplitComma(fields);
    ASSIGN_OR_RETURN(p.contract, CollectTerms(contract_file, terms));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer plan"));
    RETURN_IF_ERROR(workflow::PlanTransfer(*v, p));
    ASSIGN_OR_RETURN(workflow::TransferPlan saved, workflow::GetTransferPlan(*v, p.id));
    std::vector<std::string> missing = workflow::MissingTerms(saved);
    // Planning a frozen field is allowed (it may thaw before packaging, and
    // it is frozen only for some people); the package leaves it out.
    ASSIGN_OR_RETURN(auto frozen, workflow::FrozenPlannedFields(*v, saved));
    if (!frozen.empty()) {
      Err() << "custos: warning: planned fields are frozen under a retention rule for some people "
               "(PIPL Art. 47 ¶2: stored and protected only, never provided):\n";
      for (const auto& [field, n] : frozen) Err() << "  " << field << ": " << n << " people\n";
      Err() << "  The package will leave those values out (counted in manifest.json "
               "counts.withheld_frozen).\n";
    }
    ASSIGN_OR_RETURN(auto damaged, workflow::DamagedPlannedFields(*v, saved));
    if (!damaged.empty()) {
      Err() << "custos: warning: planned fields hold values damaged before import (long "
               "numbers a spreadsheet stored as numbers, digits past the 15th lost):\n";
      for (const auto& [field, n] : damaged) Err() << "  " << field << ": " << n << " values\n";
      Err() << "  transfer package refuses them unless --allow-damaged is given (recorded); "
               "better, import the column again from a text export.\n";
    }
    if (o.json) {
      PrintJson({{"transfer", p.id},
                 {"state", "planned"},
                 {"missing_terms", missing},
                 {"frozen_fields", CountsJson(frozen)},
                 {"damaged_fields", CountsJson(damaged)}});
    } else {
      Out() << "Planned transfer '" << p.id << "' (" << mode << ") to '" << p.recipient << "', "
            << p.fields.size() << " fields.\n";
      if (!missing.empty()) {
        Out() << "  still missing before packaging:";
        for (const auto& m : missing) Out() << " " << m;
        Out() << "\n  (add them with custos transfer terms)\n";
      }
    }
    return Ok();
  }
};

struct TermsCmd {
  VaultOptions o;
  std::string transfer;
  std::string contract_file;
  std::vector<std::string> terms;
  std::string approved_by;
  Status Run() {
    ASSIGN_OR_RETURN(auto t, CollectTerms(contract_file, terms));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer terms"));
    RETURN_IF_ERROR(workflow::SetTransferTerms(*v, transfer, t, approved_by));
    ASSIGN_OR_RETURN(workflow::TransferPlan saved, workflow::GetTransferPlan(*v, transfer));
    std::vector<std::string> missing = workflow::MissingTerms(saved);
    if (o.json) {
      PrintJson({{"transfer", transfer}, {"missing_terms", missing}});
    } else {
      Out() << "Updated the terms of '" << transfer
            << "'; missing: " << (missing.empty() ? std::string("none") : "");
      for (const auto& m : missing) Out() << m << " ";
      Out() << "\n";
    }
    return Ok();
  }
};

struct NoticesCmd {
  VaultOptions o;
  std::string transfer;
  std::string channel = "sms";
  std::string out;
  std::string lang = "zh";
  Status Run() {
    ASSIGN_OR_RETURN(workflow::Channel ch, workflow::ParseChannel(channel));
    if (lang != "zh" && lang != "en") return Fail(InvalidArgument("--lang must be zh or en"));
    if (out.empty()) return Fail(InvalidArgument("--out FILE is required"));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer notices"));
    ASSIGN_OR_RETURN(workflow::NoticeBatch b,
                     workflow::MakeNotices(*v, transfer, ch, lang == "en", out));
    Err() << "custos: warning: " << out
          << " holds customers' contact data (mode 0600). Send it, then destroy it.\n";
    if (!b.missing_contact.empty()) {
      Err() << "custos: warning: " << b.missing_contact.size() << " people have no " << channel
            << " contact and got no notice (send another channel):\n";
      for (const auto& id : b.missing_contact) Err() << "  " << id << "\n";
    }
    if (o.json) {
      PrintJson({{"transfer", transfer},
                 {"notices", b.notices},
                 {"missing_contact", b.missing_contact},
                 {"notices_sha256", b.digest},
                 {"out", out}});
    } else {
      Out() << "Wrote " << b.notices << " notices to " << out << " (digest " << b.digest << ").\n";
    }
    return Ok();
  }
};

struct ResponsesCmd {
  VaultOptions o;
  std::string transfer;
  std::string file;
  Status Run() {
    ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer responses"));
    auto rep = workflow::RecordResponses(*v, transfer, text);
    if (!rep) return Fail(rep.error().WithContext(file));
    if (o.json) {
      PrintJson({{"transfer", transfer},
                 {"recorded", rep->recorded},
                 {"by_response", CountsJson(rep->by_response)}});
    } else {
      Out() << "Recorded " << rep->recorded << " responses:";
      for (const auto& [k, n] : rep->by_response) Out() << " " << k << "=" << n;
      Out() << "\n";
    }
    return Ok();
  }
};

struct PackageCmd {
  VaultOptions o;
  std::string transfer;
  std::string out;
  std::string request;
  bool allow_damaged = false;
  Status Run() {
    if (out.empty()) return Fail(InvalidArgument("--out FILE is required"));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer package"));
    ASSIGN_OR_RETURN(workflow::PackageReport r,
                     workflow::BuildPackage(*v, transfer, out, TodayInChina(), allow_damaged,
                                            request));
    if (r.requested) {
      ReportNewRequest(*r.requested, o.json,
                       "custos transfer package --transfer " + transfer + " --out " + out +
                           " --request " + r.requested->id);
      return Ok();
    }
    if (o.json) {
      PrintJson({{"transfer", transfer},
                 {"out", out},
                 {"manifest_sha256", r.manifest_sha256},
                 {"people", r.people},
                 {"records", r.records},
                 {"excluded", CountsJson(r.excluded)},
                 {"withheld_frozen", CountsJson(r.withheld_frozen)},
                 {"damaged", CountsJson(r.damaged)},
                 {"already_built", r.already_built}});
    } else if (r.already_built) {
      Out() << out << " is transfer " << transfer << "'s recorded package already: " << r.people
            << " people, " << r.records << " records (manifest " << r.manifest_sha256
            << "). Nothing to do.\n";
    } else {
      Out() << "Wrote " << out << ": " << r.people << " people, " << r.records
            << " records (manifest " << r.manifest_sha256 << ").\n";
      for (const auto& [k, n] : r.excluded) Out() << "  excluded, " << k << ": " << n << "\n";
      for (const auto& [k, n] : r.withheld_frozen) {
        Out() << "  withheld (frozen), " << k << ": " << n << " people\n";
      }
      for (const auto& [k, n] : r.damaged) {
        Out() << "  damaged before import, packaged as they are (--allow-damaged), " << k << ": "
              << n << " values\n";
      }
    }
    return Ok();
  }
};

struct StatusCmd {
  VaultOptions o;
  std::string transfer;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer status"));
    std::vector<std::string> ids;
    if (!transfer.empty()) {
      ids.push_back(transfer);
    } else {
      ASSIGN_OR_RETURN(auto all, workflow::ListTransfers(*v));
      for (const auto& t : all) ids.push_back(t.id);
    }
    // With --json: one object per transfer (an array without --transfer),
    // as PrintJson would print it, but each person's entry written as it
    // comes (a million entries as json values took ~900 MB). Every status
    // is read before anything is printed, so an error leaves no partial
    // JSON on standard output.
    std::vector<std::pair<std::string, workflow::TransferStatus>> statuses;
    for (const auto& id : ids) {
      ASSIGN_OR_RETURN(workflow::TransferStatus s, workflow::GetTransferStatus(*v, id));
      if (o.json) {
        statuses.emplace_back(id, std::move(s));
        continue;
      }
      auto missing = workflow::MissingTerms(s.plan);
      Out() << id << " (" << workflow::TransferModeName(s.plan.mode) << " to " << s.plan.recipient
            << "): " << workflow::TransferStateName(s.state) << "; " << s.people << " people, "
            << s.included << " included, " << s.pending << " pending";
      for (const auto& [k, n] : s.excluded) Out() << ", " << n << " excluded (" << k << ")";
      Out() << "\n";
      for (const auto& [k, n] : s.withheld_frozen) {
        Out() << "  " << k << " withheld (frozen under a retention rule): " << n << " people\n";
      }
      if (!missing.empty()) {
        Out() << "  missing terms:";
        for (const auto& m : missing) Out() << " " << m;
        Out() << "\n";
      }
    }
    if (!o.json) {
      ASSIGN_OR_RETURN(vault::Vault::BreakGlassUses uses, v->BreakGlass());
      PrintBreakGlass(uses);
      return Ok();
    }
    const bool array = transfer.empty();
    if (array) Out() << (statuses.empty() ? "[]\n" : "[\n");
    for (size_t t = 0; t < statuses.size(); ++t) {
      const auto& [id, s] = statuses[t];
      json head = {{"transfer", id},
                   {"recipient", s.plan.recipient},
                   {"mode", workflow::TransferModeName(s.plan.mode)},
                   {"state", workflow::TransferStateName(s.state)},
                   {"people", s.people},
                   {"included", s.included},
                   {"pending", s.pending},
                   {"excluded", CountsJson(s.excluded)},
                   {"withheld_frozen", CountsJson(s.withheld_frozen)},
                   {"missing_terms", workflow::MissingTerms(s.plan)},
                   {"manifest_sha256", s.manifest_sha256}};
      PrintStatusJson(head, s.persons, *v, array ? 2 : 0);
      Out() << (t + 1 < statuses.size() ? ",\n" : array ? "\n]\n" : "\n");
    }
    return Ok();
  }

 private:
  // `head` and then "persons", as json::dump(2) would print the whole at
  // `indent` spaces of nesting (no newline after the closing brace).
  static void PrintStatusJson(const json& head, const std::vector<workflow::PersonStatus>& persons,
                              const vault::Vault& v, int indent) {
    const std::string pad(static_cast<size_t>(indent), ' ');
    std::string text = head.dump(2);
    text.erase(text.size() - 2);  // "\n}"
    std::string out;
    for (size_t begin = 0; begin < text.size();) {  // indent every line
      const size_t end = std::min(text.find('\n', begin), text.size());
      out += pad;
      out.append(text, begin, end - begin + (end < text.size()));
      begin = end + 1;
    }
    out += ",\n" + pad + "  \"persons\": ";
    if (persons.empty()) {
      out += "[]\n" + pad + "}";
      Out() << out;
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < persons.size(); ++i) {
      const workflow::PersonStatus& p = persons[i];
      out += pad + "    {\n" + pad + "      \"person\": ";
      AppendJsonString(out, v.IdOf(p.pk).ToString());
      out += ",\n" + pad + "      \"status\": ";
      out += p.included ? "\"included\"" : p.pending ? "\"pending\"" : "\"excluded\"";
      out += ",\n" + pad + "      \"reason\": ";
      AppendJsonString(out, p.reason);
      out += "\n" + pad + "    }";
      out += i + 1 < persons.size() ? ",\n" : "\n";
      if (out.size() > (size_t{1} << 20)) {
        Out() << out;
        out.clear();
      }
    }
    out += pad + "  ]\n" + pad + "}";
    Out() << out;
  }
};

struct CloseCmd {
  VaultOptions o;
  std::string transfer;
  std::string receipt;
  Status Run() {
    ASSIGN_OR_RETURN(std::string text, ReadFile(receipt));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "transfer close"));
    ASSIGN_OR_RETURN(workflow::CloseReport r, workflow::CloseTransfer(*v, transfer, text));
    if (o.json) {
      PrintJson({{"transfer", transfer},
                 {"state", "closed"},
                 {"people", r.people},
                 {"manifest_sha256", r.manifest_sha256}});
    } else {
      Out() << "Transfer '" << transfer << "' closed: the recipient acknowledged " << r.people
            << " people (manifest " << r.manifest_sha256 << ").\n";
    }
    return Ok();
  }
};

struct PkgVerifyCmd {
  std::string file;
  std::string sender_key;
  bool as_json = false;
  Status Run() {
    ASSIGN_OR_RETURN(workflow::OpenedPackage p,
                     workflow::VerifyPackage(workflow::PackageInput::File(file), sender_key));
    if (as_json) {
      PrintJson({{"ok", true}, {"manifest_sha256", p.manifest_sha256}, {"manifest", p.manifest}});
    } else {
      Out() << "Package verified: transfer '" << p.manifest.value("transfer", "") << "', "
            << p.manifest["counts"].value("people", 0) << " people, manifest " << p.manifest_sha256
            << ".\n";
    }
    return Ok();
  }
};

struct PkgImportCmd {
  VaultOptions o;
  std::string file;
  std::string identity;
  std::string sender_key;
  std::string dataset;
  Status Run() {
    ASSIGN_OR_RETURN(std::string ident, ReadFile(identity));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "package import"));
    auto r = workflow::ImportPackage(*v, workflow::PackageInput::File(file), sender_key, ident,
                                     dataset);
    std::fill(ident.begin(), ident.end(), '\0');
    if (!r) return Fail(r.error());
    if (o.json) {
      PrintJson({{"transfer", r->transfer},
                 {"dataset", r->dataset},
                 {"people", r->people},
                 {"records", r->records},
                 {"manifest_sha256", r->manifest_sha256}});
    } else {
      Out() << "Imported " << r->people << " people (" << r->records << " records) into dataset '"
            << r->dataset << "'.\n";
    }
    return Ok();
  }
};

struct PkgReceiptCmd {
  VaultOptions o;
  std::string file;
  std::string ssh_key;
  std::string out;
  Status Run() {
    if (out.empty()) return Fail(InvalidArgument("--out FILE is required"));
    ASSIGN_OR_RETURN(std::string key, ReadFile(ssh_key));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "package receipt"));
    auto r = workflow::MakeReceipt(*v, workflow::PackageInput::File(file), key);
    std::fill(key.begin(), key.end(), '\0');
    if (!r) return Fail(r.error());
    RETURN_IF_ERROR(WriteFileAtomic(out, *r, 0644));
    if (o.json) {
      PrintJson({{"out", out}});
    } else {
      Out() << "Wrote the signed receipt " << out << ".\n";
    }
    return Ok();
  }
};


// `recipient add|list` and `keys new-recipient`.
void AddRecipientCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* c_rec = app.add_subcommand("recipient", "Recipients of transfers (head office, buyer)");
  c_rec->require_subcommand(1);
  auto& add = Keep<RecipientAddCmd>();
  auto* c_add = c_rec->add_subcommand("add", "Register a recipient and its keys");
  AddVaultOptions(c_add, add.o);
  c_add->add_option("--id", add.r.id, "Short id for the recipient")->required();
  c_add->add_option("--name", add.r.name, "Legal name")->required();
  c_add->add_option("--uscc", add.r.uscc, "Unified social credit code")->required();
  c_add->add_option("--contact", add.r.contact, "Contact (address, phone) given on notices")
      ->required();
  c_add->add_option("--age-recipient", add.r.age_recipient, "age1... (age-keygen -y)")->required();
  c_add->add_option("--ssh-key", add.r.ssh_key, "\"ssh-ed25519 AAAA...\" signing receipts")
      ->required();
  commands.push_back({c_add, Runner(add, add.o.json)});
  auto& list = Keep<RecipientListCmd>();
  auto* c_list = c_rec->add_subcommand("list", "List recipients");
  AddVaultOptions(c_list, list.o);
  commands.push_back({c_list, Runner(list, list.o.json)});

  // ---- keys new-recipient ----
  if (CLI::App* keys = app.get_subcommand("keys")) {
    auto& nk = Keep<NewRecipientKeysCmd>();
    auto* c_nk = keys->add_subcommand(
        "new-recipient", "Make a recipient's age and ssh-ed25519 key pairs in a directory");
    c_nk->add_option("--out", nk.out, "Directory (created 0700)")->required();
    c_nk->add_option("--comment", nk.comment, "Comment of the ssh key");
    c_nk->add_flag("--json", nk.as_json, "Print machine-readable JSON");
    commands.push_back({c_nk, Runner(nk, nk.as_json)});
  }
}

// `transfer plan|terms`: what may leave, to whom, on which terms.
CLI::App* AddTransferPlanCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* c_tr = app.add_subcommand("transfer",
                                  "Transfer customers: plan, notices, responses, package, close");
  c_tr->require_subcommand(1);
  auto& plan = Keep<PlanCmd>();
  auto* c_plan =
      c_tr->add_subcommand("plan", "Plan a transfer: recipient, mode, purpose, fields, terms");
  AddVaultOptions(c_plan, plan.o);
  c_plan->add_option("--id", plan.p.id, "Transfer id")->required();
  c_plan->add_option("--recipient", plan.p.recipient, "Recipient id")->required();
  c_plan->add_option("--mode", plan.mode, "head-office, art22 or art23")
      ->required()
      ->check(CLI::IsMember({"head-office", "art22", "art23"}));
  c_plan->add_option("--purpose", plan.p.purpose, "Purpose of the transfer")->required();
  c_plan->add_option("--method", plan.p.method,
                     "Processing method (default for head-office/art22: unchanged)");
  c_plan->add_option("--fields", plan.fields, "Comma-separated column names that may leave")
      ->required();
  c_plan->add_option("--dataset", plan.p.dataset, "Only this dataset (default: all)");
  c_plan->add_option("--approved-by", plan.p.approved_by, "Who approved the mode and the transfer");
  c_plan->add_option("--processor-name", plan.p.processor_name,
                     "The processor (head office/branch) name");
  c_plan->add_option("--processor-contact", plan.p.processor_contact, "The processor's contact");
  c_plan->add_option("--processor-uscc", plan.p.processor_uscc, "The processor's USCC");
  c_plan->add_option("--contract", plan.contract_file, "Contract terms file: key = value lines");
  c_plan->add_option("--term", plan.terms, "A contract term key=value (repeatable)");
  c_plan->footer(
      "Required terms: scope, security, no_onward_transfer, return_or_delete, audit_right,\n"
      "breach_notice, retention (docs/formats/package.md).");
  commands.push_back({c_plan, Runner(plan, plan.o.json)});

  auto& terms = Keep<TermsCmd>();
  auto* c_terms =
      c_tr->add_subcommand("terms", "Add or change contract terms of a planned transfer");
  AddVaultOptions(c_terms, terms.o);
  c_terms->add_option("--transfer", terms.transfer, "Transfer id")->required();
  c_terms->add_option("--contract", terms.contract_file, "Contract terms file: key = value lines");
  c_terms->add_option("--term", terms.terms,
                      "A term key=value (repeatable; also method, processor_name, ...)");
  c_terms->add_option("--approved-by", terms.approved_by, "Who approved");
  commands.push_back({c_terms, Runner(terms, terms.o.json)});
  return c_tr;
}

// `transfer notices|responses|package|status|close`: the transfer's steps.
void AddTransferStepCommands(CLI::App* c_tr, std::vector<Command>& commands) {
  auto& notices = Keep<NoticesCmd>();
  auto* c_not =
      c_tr->add_subcommand("notices", "Write one notice per person (CSV: ref, contact, message)");
  AddVaultOptions(c_not, notices.o);
  c_not->add_option("--transfer", notices.transfer, "Transfer id")->required();
  c_not->add_option("--channel", notices.channel, "sms, letter or email")
      ->check(CLI::IsMember({"sms", "letter", "email"}));
  c_not->add_option("--out", notices.out, "Output CSV (holds contact data; written 0600)")
      ->required();
  c_not->add_option("--lang", notices.lang, "zh (default) or en");
  commands.push_back({c_not, Runner(notices, notices.o.json)});

  auto& resp = Keep<ResponsesCmd>();
  auto* c_resp =
      c_tr->add_subcommand("responses", "Record responses: CSV ref,response,time[,evidence,...]");
  AddVaultOptions(c_resp, resp.o);
  c_resp->add_option("--transfer", resp.transfer, "Transfer id")->required();
  c_resp->add_option("--file", resp.file, "Responses CSV")->required();
  commands.push_back({c_resp, Runner(resp, resp.o.json)});

  auto& pkg = Keep<PackageCmd>();
  auto* c_pkg = c_tr->add_subcommand("package", "Build the signed, encrypted handover package");
  AddVaultOptions(c_pkg, pkg.o);
  c_pkg->add_option("--transfer", pkg.transfer, "Transfer id")->required();
  c_pkg->add_option("--out", pkg.out, "Package file (T.tar)")->required();
  c_pkg->add_option("--request", pkg.request,
                    "A vault with users: the approved request (without it, one is made)");
  c_pkg->add_flag("--allow-damaged", pkg.allow_damaged,
                  "Package values damaged before import (long numbers a spreadsheet stored as "
                  "numbers) as they are, marked; recorded in the audit log and the manifest");
  commands.push_back({c_pkg, Runner(pkg, pkg.o.json)});

  auto& status = Keep<StatusCmd>();
  auto* c_st = c_tr->add_subcommand("status", "Where every transfer stands");
  AddVaultOptions(c_st, status.o);
  c_st->add_option("--transfer", status.transfer, "Only this transfer");
  commands.push_back({c_st, Runner(status, status.o.json)});

  auto& close = Keep<CloseCmd>();
  auto* c_close =
      c_tr->add_subcommand("close", "Verify the recipient's receipt and close the transfer");
  AddVaultOptions(c_close, close.o);
  c_close->add_option("--transfer", close.transfer, "Transfer id")->required();
  c_close->add_option("--receipt", close.receipt, "Receipt file")->required();
  commands.push_back({c_close, Runner(close, close.o.json)});
}

// `package verify|import|receipt`: the recipient's side.
void AddPackageCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* c_pk =
      app.add_subcommand("package", "Recipient side: verify, import and acknowledge a package");
  c_pk->require_subcommand(1);
  auto& ver = Keep<PkgVerifyCmd>();
  auto* c_ver =
      c_pk->add_subcommand("verify", "Verify a package's archive, signature and payload hash");
  c_ver->add_option("FILE", ver.file, "Package (T.tar)")->required();
  c_ver->add_option("--sender-key", ver.sender_key, "Sender vault's \"ssh-ed25519 ...\" key")
      ->required();
  c_ver->add_flag("--json", ver.as_json, "Print machine-readable JSON");
  commands.push_back({c_ver, Runner(ver, ver.as_json)});

  auto& imp = Keep<PkgImportCmd>();
  auto* c_imp = c_pk->add_subcommand(
      "import", "Verify and import a package into this vault (all or nothing)");
  AddVaultOptions(c_imp, imp.o);
  c_imp->add_option("FILE", imp.file, "Package (T.tar)")->required();
  c_imp->add_option("--identity", imp.identity, "age identity file (age-keygen)")->required();
  c_imp->add_option("--sender-key", imp.sender_key, "Sender vault's \"ssh-ed25519 ...\" key")
      ->required();
  c_imp->add_option("--dataset", imp.dataset, "Dataset name (default transfer-<id>)");
  commands.push_back({c_imp, Runner(imp, imp.o.json)});

  auto& rcpt = Keep<PkgReceiptCmd>();
  auto* c_rcpt = c_pk->add_subcommand("receipt", "Sign a receipt for an imported package");
  AddVaultOptions(c_rcpt, rcpt.o);
  c_rcpt->add_option("FILE", rcpt.file, "Package (T.tar)")->required();
  c_rcpt->add_option("--ssh-key", rcpt.ssh_key, "OpenSSH ed25519 private key file")->required();
  c_rcpt->add_option("--out", rcpt.out, "Receipt file")->required();
  commands.push_back({c_rcpt, Runner(rcpt, rcpt.o.json)});
}

}  // namespace

void AddTransferCommands(CLI::App& app, std::vector<Command>& commands) {
  AddRecipientCommands(app, commands);
  AddTransferStepCommands(AddTransferPlanCommands(app, commands), commands);
  AddPackageCommands(app, commands);
}

}  // namespace custos::cli
