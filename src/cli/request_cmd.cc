// custos request list|show|cancel and custos approve (docs/formats/approval.md).
// The rules are access/requests.h's; this file asks for credentials and,
// for users who approve with their own SSH key, has ssh-keygen sign.
#include <sys/wait.h>
#include <unistd.h>

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
  std::cout << r.id << "  " << r.kind << "  " << access::RequestStateName(r.state)
            << "  requested by " << r.requester << " at " << r.requested_at << ", expires "
            << r.expires_at << "\n  operation-sha256 " << r.operation_sha256 << "\n  needs:";
  for (const access::Slot& s : r.policy.slots) {
    std::cout << " " << s.count << " of " << s.roles.Joined("|") << ";";
  }
  std::cout << "\n";
  for (const access::Review& v : r.reviews) {
    std::cout << "  " << v.decision << " by " << v.reviewer << " [" << v.roles.Joined() << "] at "
              << v.time << (v.slot >= 0 ? " (slot " + std::to_string(v.slot) + ")" : "")
              << (v.comment.empty() ? "" : ": " + v.comment) << "\n";
  }
}

struct ListCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v, OpenVault(o, "request list"));
    ASSIGN_OR_RETURN(std::vector<access::Request> all, access::ListRequests(*v));
    if (o.json) {
      json out = json::array();
      for (const auto& r : all) out.push_back(access::RequestToJson(r));
      PrintJson({{"requests", out}});
    } else {
      if (all.empty()) std::cout << "No requests.\n";
      for (const auto& r : all) PrintRequest(r);
    }
    return Ok();
  }
};

struct ShowCmd {
  VaultOptions o;
  std::string id;
  Status Run() {
    ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v, OpenVault(o, "request show"));
    ASSIGN_OR_RETURN(access::Request r, access::GetRequest(*v, id));
    if (o.json) {
      PrintJson(access::RequestToJson(r));
    } else {
      PrintRequest(r);
      std::cout << "  operation: " << r.operation << "\n";
    }
    return Ok();
  }
};

struct CancelCmd {
  VaultOptions o;
  std::string id;
  Status Run() {
    ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v, OpenVault(o, "request cancel"));
    RETURN_IF_ERROR(access::CancelRequest(*v, id));
    if (o.json) {
      PrintJson({{"request", id}, {"state", "cancelled"}});
    } else {
      std::cout << "Cancelled request " << id << ".\n";
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

struct ApproveCmd {
  VaultOptions o;
  std::string id;
  bool deny = false;
  std::string comment;
  std::string ssh_key;
  Status Run() {
    ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v, OpenVaultUnauthenticated(o, "approve"));
    const std::string decision = deny ? "deny" : "approve";
    const std::string time = FormatRfc3339(NowUnixSeconds());
    access::Signing signing;
    if (!ssh_key.empty()) {
      // An own-SSH-key user: their session (or --user) says who they are;
      // the signature is the step-up.
      RETURN_IF_ERROR(EstablishPrincipal(o, *v));
      ASSIGN_OR_RETURN(access::Request r, access::GetRequest(*v, id));
      const std::string statement =
          access::Statement(v->IdHex(), r, decision, v->principal().user, time);
      ASSIGN_OR_RETURN(signing.ssh_signature, SshKeygenSign(ssh_key, statement));
    } else {
      // The password unseals the approval key; a fresh one-time code again.
      std::string user = o.user;
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
      std::cout << (deny ? "Denied" : "Approved") << " request " << r.id << "; it is now "
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
  std::cout << "This vault has users: the operation waits for approval.\n";
  PrintRequest(q);
  std::cout << "  operation: " << q.operation << "\nReviewers: custos approve " << q.id
            << "\nOnce approved: " << run_again << "\n";
}

void AddRequestCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* req = app.add_subcommand("request", "Requests that wait for approvals: list, show, cancel");
  req->require_subcommand(1);
  static ListCmd list;
  auto* c_list = req->add_subcommand("list", "Every request and where it stands");
  AddVaultOptions(c_list, list.o);
  commands.push_back({c_list, Runner(list, list.o.json)});
  static ShowCmd show;
  auto* c_show = req->add_subcommand("show", "One request: its operation, policy and reviews");
  AddVaultOptions(c_show, show.o);
  c_show->add_option("REQUEST", show.id, "Request id (r-...)")->required();
  commands.push_back({c_show, Runner(show, show.o.json)});
  static CancelCmd cancel;
  auto* c_cancel = req->add_subcommand("cancel", "Cancel a request (its requester or a custodian)");
  AddVaultOptions(c_cancel, cancel.o);
  c_cancel->add_option("REQUEST", cancel.id, "Request id")->required();
  commands.push_back({c_cancel, Runner(cancel, cancel.o.json)});

  static ApproveCmd approve;
  auto* c_approve = app.add_subcommand(
      "approve", "Review a request: sign an approval (or --deny) with your approval key");
  AddVaultOptions(c_approve, approve.o);
  c_approve->add_option("REQUEST", approve.id, "Request id")->required();
  c_approve->add_flag("--deny", approve.deny, "Deny instead: the request ends");
  c_approve->add_option("--comment", approve.comment, "A comment (kept, not signed)");
  c_approve->add_option("--ssh-key", approve.ssh_key,
                        "For users enrolled with their own SSH key: the key file (or its .pub "
                        "with the key in ssh-agent); ssh-keygen signs");
  c_approve->footer(
      "Without --ssh-key, asks for your password (it unlocks your approval key) and a fresh\n"
      "one-time code (--password-env, --totp-env for scripts).");
  commands.push_back({c_approve, Runner(approve, approve.o.json)});
}

}  // namespace custos::cli
