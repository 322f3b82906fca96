// custos request list|show|cancel and custos approve (docs/formats/approval.md).
// The rules are access/requests.h's; this file asks for credentials and,
// for users who approve with their own SSH key, has ssh-keygen sign.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "access/requests.h"
#include "access/sessions.h"
#include "access/users.h"
#include "base/file.h"
#include "base/time.h"
#include "cli/common.h"

namespace custos::cli {
namespace {

void PrintRequest(const access::Request& r) {
  Out() << r.id << "  " << r.kind << "  " << access::RequestStateName(r.state) << "  requested by "
        << r.requester << " at " << r.requested_at << ", expires " << r.expires_at
        << "\n  operation-sha256 " << r.operation_sha256 << "\n  needs:";
  for (const access::Slot& s : r.policy.slots) {
    Out() << " " << s.count << " of " << s.roles.Joined("|") << ";";
  }
  Out() << "\n";
  for (const access::Review& v : r.reviews) {
    Out() << "  " << v.decision << " by " << v.reviewer << " [" << v.roles.Joined() << "] at "
          << v.time << (v.slot >= 0 ? " (slot " + std::to_string(v.slot) + ")" : "")
          << (v.comment.empty() ? "" : ": " + v.comment) << "\n";
  }
}

struct ListCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "request list"));
    ASSIGN_OR_RETURN(std::vector<access::Request> all, access::ListRequests(*v));
    if (o.json) {
      json out = json::array();
      for (const auto& r : all) out.push_back(access::RequestToJson(r));
      PrintJson({{"requests", out}});
    } else {
      if (all.empty()) Out() << "No requests.\n";
      for (const auto& r : all) PrintRequest(r);
    }
    return Ok();
  }
};

struct ShowCmd {
  VaultOptions o;
  std::string id;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "request show"));
    ASSIGN_OR_RETURN(access::Request r, access::GetRequest(*v, id));
    if (o.json) {
      PrintJson(access::RequestToJson(r));
    } else {
      PrintRequest(r);
      Out() << "  operation: " << r.operation << "\n";
    }
    return Ok();
  }
};

struct CancelCmd {
  VaultOptions o;
  std::string id;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "request cancel"));
    RETURN_IF_ERROR(access::CancelRequest(*v, id));
    if (o.json) {
      PrintJson({{"request", id}, {"state", "cancelled"}});
    } else {
      Out() << "Cancelled request " << id << ".\n";
    }
    return Ok();
  }
};

// ssh-keygen -Y sign with the user's own key (a private key file, or a
// public key file whose private half ssh-agent holds).
Result<std::string> SshKeygenSign(const std::string& key, const std::string& statement) {
  char dir_template[] = "/tmp/custos-approve-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr)
    return Fail(Unavailable("cannot make a temporary directory"));
  const std::string dir = dir_template;
  const std::string file = dir + "/statement";
  Status wrote = WriteFileAtomic(file, statement, 0600);
  std::string sig;
  Status st = wrote;
  if (st) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execlp("ssh-keygen", "ssh-keygen", "-q", "-Y", "sign", "-f", key.c_str(), "-n",
               std::string(access::kApprovalNamespace).c_str(), file.c_str(), nullptr);
      ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      st = Fail(InvalidArgument("ssh-keygen -Y sign -f " + key +
                                " failed (is it the right key, "
                                "or is ssh-agent holding it?)"));
    } else {
      auto read = ReadFile(file + ".sig");
      if (read) sig = *read;
      st = read ? Ok() : Fail(read.error());
    }
  }
  ::unlink((file + ".sig").c_str());
  ::unlink(file.c_str());
  ::rmdir(dir.c_str());
  RETURN_IF_ERROR(st);
  return sig;
}

// The "time" line of a statement made with --print-statement.
Result<std::string> StatementTime(const std::string& file) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  size_t at = text.find("\ntime ");
  if (at == std::string::npos) {
    return Fail(InvalidArgument(file + ": not a custos-approval statement (no 'time' line)"));
  }
  at += 6;
  return text.substr(at, text.find('\n', at) - at);
}

struct ApproveCmd {
  VaultOptions o;
  std::string id;
  bool deny = false;
  std::string comment;
  std::string ssh_key;
  bool print_statement = false;
  std::string statement_file, signature_file;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVaultUnauthenticated(o, "approve"));
    const std::string decision = deny ? "deny" : "approve";
    std::string time = FormatRfc3339(NowUnixSeconds());
    access::Signing signing;
    if (!ssh_key.empty() || print_statement || !signature_file.empty()) {
      // An own-SSH-key user: their session (or --user) says who they are;
      // the signature is the step-up.
      RETURN_IF_ERROR(EstablishPrincipal(o, *v));
      ASSIGN_OR_RETURN(access::Request r, access::GetRequest(*v, id));
      if (!signature_file.empty()) {
        if (statement_file.empty()) {
          return Fail(InvalidArgument("--signature needs --statement: the file you signed"));
        }
        ASSIGN_OR_RETURN(time, StatementTime(statement_file));
        ASSIGN_OR_RETURN(signing.ssh_signature, ReadFile(signature_file));
      } else {
        const std::string statement =
            access::Statement(v->IdHex(), r, decision, v->principal().user, time);
        if (print_statement) {
          Out() << statement;
          return Ok();
        }
        ASSIGN_OR_RETURN(signing.ssh_signature, SshKeygenSign(ssh_key, statement));
      }
    } else {
      // The password unseals the approval key; a fresh one-time code again.
      std::string user = o.user;
      if (user.empty() && CurrentEmbedded() != nullptr) user = v->principal().user;
      if (user.empty()) {
        ASSIGN_OR_RETURN(user, SessionUser(o, *v));
      }
      ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password for " + user));
      ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
      auto who = access::Authenticate(*v, {user, password, code}, "request.step_up");
      std::fill(password.begin(), password.end(), '\0');
      if (!who) return Fail(who.error());
      v->set_principal(who->principal);
      signing.keys = std::move(who->keys);
    }
    ASSIGN_OR_RETURN(access::Request r,
                     access::ReviewRequest(*v, id, decision, comment, signing, time));
    if (o.json) {
      PrintJson(access::RequestToJson(r));
    } else {
      Out() << (deny ? "Denied" : "Approved") << " request " << r.id << "; it is now "
            << access::RequestStateName(r.state) << ".\n";
    }
    return Ok();
  }

  // The user of the session file, for `approve` without --user.
  static Result<std::string> SessionUser(const VaultOptions& o, vault::Vault& v) {
    const std::string file = SessionFile(o, v);
    if (!FileExists(file)) return Fail(InvalidArgument("--user ID is required (no session file)"));
    ASSIGN_OR_RETURN(SessionFileData session, ReadSessionFile(file));
    return session.user;
  }
};

}  // namespace

void ReportNewRequest(const access::Request& q, bool as_json, const std::string& run_again) {
  if (as_json) {
    PrintJson({{"request", access::RequestToJson(q)}});
    return;
  }
  Out() << "This vault has users: the operation waits for approval.\n";
  PrintRequest(q);
  Out() << "  operation: " << q.operation << "\nReviewers: custos approve " << q.id
        << "\nOnce approved: " << run_again << "\n";
}

std::string SlotsText(const access::Policy& p) {
  std::string out;
  for (const access::Slot& s : p.slots) {
    out += (out.empty() ? "" : ", ") + std::to_string(s.count) + " of " + s.roles.Joined("|");
  }
  return out;
}

struct PolicyShowCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "policy show"));
    ASSIGN_OR_RETURN(std::vector<access::PolicyInForce> all, access::ListPolicies(*v));
    if (o.json) {
      json out = json::array();
      for (const auto& p : all) {
        json j = access::PolicyToJson(p.policy);
        j["default"] = p.is_default;
        j["set_at"] = p.set_at;
        j["set_by"] = p.set_by;
        j["request"] = p.request;
        out.push_back(j);
      }
      PrintJson({{"policies", out}});
      return Ok();
    }
    for (const auto& p : all) {
      std::string kind = p.policy.kind;
      kind.resize(std::max<size_t>(kind.size(), 17), ' ');
      Out() << kind << " " << SlotsText(p.policy);
      if (p.is_default) {
        Out() << "  (default)\n";
      } else {
        Out() << "  (set " << p.set_at << " by " << p.set_by << ", request " << p.request << ")\n";
      }
    }
    return Ok();
  }
};

struct PolicySetCmd {
  VaultOptions o;
  std::string kind;
  std::vector<std::string> slots;
  std::string request;
  Status Run() {
    access::Policy p;
    p.kind = kind;
    for (const std::string& text : slots) {
      ASSIGN_OR_RETURN(access::Slot slot, access::ParseSlot(text));
      p.slots.push_back(slot);
    }
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "policy set"));
    ASSIGN_OR_RETURN(std::optional<access::Request> made, access::SetPolicy(*v, p, request));
    if (made) {
      std::string again = "custos policy set --kind " + kind;
      for (const std::string& text : slots) again += " --slot " + text;
      ReportNewRequest(*made, o.json, again + " --request " + made->id);
      return Ok();
    }
    if (o.json) {
      PrintJson({{"policy", access::PolicyToJson(p)}, {"request", request}});
    } else {
      Out() << "The policy for " << kind << " is now: " << SlotsText(p) << ".\n";
    }
    return Ok();
  }
};

void AddPolicyCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* pol = app.add_subcommand("policy", "Approval policies: who must approve what");
  pol->require_subcommand(1);
  auto& show = Keep<PolicyShowCmd>();
  auto* c_show = pol->add_subcommand("show", "The policy in force for each kind of request");
  AddVaultOptions(c_show, show.o);
  commands.push_back({c_show, Runner(show, show.o.json)});
  auto& set = Keep<PolicySetCmd>();
  auto* c_set = pol->add_subcommand(
      "set", "Change a policy (a custodian asks, the officer approves; then --request)");
  AddVaultOptions(c_set, set.o);
  c_set
      ->add_option("--kind", set.kind,
                   "destroy.execute, transfer.package, user.roles or policy.set")
      ->required();
  c_set
      ->add_option("--slot", set.slots,
                   "ROLE[,ROLE...][:COUNT]: COUNT distinct people holding one of the roles; "
                   "repeat for each slot")
      ->required();
  c_set->add_option("--request", set.request, "Run the approved change");
  c_set->footer(
      "Example: custos policy set --kind destroy.execute --slot officer:1 --slot supervisor:3\n"
      "A policy the vault's active users cannot meet, or a count of 0, is refused.");
  commands.push_back({c_set, Runner(set, set.o.json)});
}

void AddRequestCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* req = app.add_subcommand("request", "Requests that wait for approvals: list, show, cancel");
  req->require_subcommand(1);
  auto& list = Keep<ListCmd>();
  auto* c_list = req->add_subcommand("list", "Every request and where it stands");
  AddVaultOptions(c_list, list.o);
  commands.push_back({c_list, Runner(list, list.o.json)});
  auto& show = Keep<ShowCmd>();
  auto* c_show = req->add_subcommand("show", "One request: its operation, policy and reviews");
  AddVaultOptions(c_show, show.o);
  c_show->add_option("REQUEST", show.id, "Request id (r-...)")->required();
  commands.push_back({c_show, Runner(show, show.o.json)});
  auto& cancel = Keep<CancelCmd>();
  auto* c_cancel = req->add_subcommand("cancel", "Cancel a request (its requester or a custodian)");
  AddVaultOptions(c_cancel, cancel.o);
  c_cancel->add_option("REQUEST", cancel.id, "Request id")->required();
  commands.push_back({c_cancel, Runner(cancel, cancel.o.json)});

  auto& approve = Keep<ApproveCmd>();
  auto* c_approve = app.add_subcommand(
      "approve", "Review a request: sign an approval (or --deny) with your approval key");
  AddVaultOptions(c_approve, approve.o);
  c_approve->add_option("REQUEST", approve.id, "Request id")->required();
  c_approve->add_flag("--deny", approve.deny, "Deny instead: the request ends");
  c_approve->add_option("--comment", approve.comment, "A comment (kept, not signed)");
  c_approve->add_option("--ssh-key", approve.ssh_key,
                        "For users enrolled with their own SSH key: the key file (or its .pub "
                        "with the key in ssh-agent); ssh-keygen signs");
  c_approve->add_flag("--print-statement", approve.print_statement,
                      "Print the statement to sign elsewhere (own-SSH-key users), then give it "
                      "back with --statement and --signature");
  c_approve->add_option("--statement", approve.statement_file,
                        "The statement --print-statement wrote, as signed");
  c_approve->add_option("--signature", approve.signature_file,
                        "Its signature: ssh-keygen -Y sign -n custos-approval -f KEY FILE");
  c_approve->footer(
      "Without --ssh-key, asks for your password (it unlocks your approval key) and a fresh\n"
      "one-time code (--password-env, --totp-env for scripts). Own-SSH-key users give\n"
      "--ssh-key FILE, or sign on another machine:\n"
      "  custos approve R --print-statement > statement\n"
      "  ssh-keygen -Y sign -n custos-approval -f ~/.ssh/id_ed25519 statement\n"
      "  custos approve R --statement statement --signature statement.sig");
  commands.push_back({c_approve, Runner(approve, approve.o.json)});
  AddPolicyCommands(app, commands);
}

}  // namespace custos::cli
