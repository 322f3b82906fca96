// custos user ..., login, logout, whoami, training ... (docs/people.md).
// The rules (who may do what, training, lockout) are the access layer's;
// these commands read what a person types and print what they need.
#include <qrencode.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>

#include "access/sessions.h"
#include "access/training.h"
#include "access/users.h"
#include "base/file.h"
#include "base/time.h"
#include "cli/common.h"
#include "crypto/kdf.h"

namespace custos::cli {
namespace {

// The otpauth URI as a QR code for an authenticator app, two modules a
// character (upper and lower half blocks), with a quiet zone.
void PrintQr(const std::string& text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) return;
  const int n = qr->width;
  const int quiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= n || y >= n) return false;
    return (qr->data[y * n + x] & 1) != 0;
  };
  for (int y = -quiet; y < n + quiet; y += 2) {
    std::string line;
    for (int x = -quiet; x < n + quiet; ++x) {
      // Light modules print as blocks, so the code reads on a dark terminal.
      const bool top = !dark(x, y), bottom = !dark(x, y + 1);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    Out() << line << "\n";
  }
}

std::vector<std::string> SplitRoles(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& item : in) {
    size_t start = 0;
    while (start <= item.size()) {
      const size_t comma = item.find(',', start);
      const std::string role =
          item.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!role.empty()) out.push_back(role);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

json UserJson(const access::UserDoc& u) {
  return {{"user", u.id},
          {"name", u.name},
          {"roles", u.roles.Names()},
          {"status", access::UserStatusName(u.status)},
          {"created_at", u.created_at},
          {"created_by", u.created_by},
          {"enrolled_at", u.enrolled_at},
          {"approval_key", u.approval_key},
          {"own_ssh_key", u.own_ssh_key},
          {"locked_until", u.locked_until}};
}

// How to run a grant again once approved.
std::string RunAgain(const std::string& command, const std::string& request) {
  return "custos " + command + " --request " + request;
}

// `text` in single quotes for a POSIX shell.
std::string ShellQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct UserAddCmd {
  VaultOptions o;
  access::NewUser u;
  std::vector<std::string> roles;
  std::string request;
  Status Run() {
    u.roles = SplitRoles(roles);
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "user add"));
    ASSIGN_OR_RETURN(access::Grant grant, access::AddUser(*v, u, request));
    if (grant.requested) {
      ReportNewRequest(*grant.requested, o.json,
                       RunAgain("user add --id " + u.id + " --name " + ShellQuoted(u.name) +
                                    " --role " + access::RoleSet::FromNames(u.roles)->Joined(","),
                                grant.requested->id));
      return Ok();
    }
    const access::Invitation& inv = grant.invitation;
    if (o.json) {
      PrintJson({{"user", inv.user},
                 {"enrolment_secret", inv.enrolment_secret},
                 {"expires_at", inv.expires_at}});
    } else {
      Out() << "Added user " << inv.user << ". Give them this one-time enrolment secret "
            << "(valid until " << inv.expires_at << "), by a channel only they read:\n\n  "
            << inv.enrolment_secret << "\n\nThey run: custos user enrol --id " << inv.user
            << " --vault " << o.vault << "\n";
    }
    return Ok();
  }
};

struct UserEnrolCmd {
  VaultOptions o;
  std::string id;
  std::string secret_env;
  std::string ssh_key;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVaultUnauthenticated(o, "user enrol"));
    access::Enrolment e;
    e.user = id;
    ASSIGN_OR_RETURN(e.enrolment_secret, ReadSecret(secret_env, "Enrolment secret for " + id));
    ASSIGN_OR_RETURN(e.password,
                     ReadSecret(o.password_env, "New password (12 characters or more)"));
    if (o.password_env.empty()) {
      ASSIGN_OR_RETURN(std::string again, ReadSecret("", "The password again"));
      if (again != e.password) return Fail(InvalidArgument("the two passwords differ"));
    }
    if (!ssh_key.empty()) {
      ASSIGN_OR_RETURN(e.own_ssh_key, ReadFile(ssh_key));
      while (!e.own_ssh_key.empty() &&
             (e.own_ssh_key.back() == '\n' || e.own_ssh_key.back() == '\r')) {
        e.own_ssh_key.pop_back();
      }
    }
    auto enrolled = access::Enrol(*v, e);
    std::fill(e.password.begin(), e.password.end(), '\0');
    if (!enrolled) return Fail(enrolled.error());
    if (o.json) {
      PrintJson({{"user", enrolled->user},
                 {"totp_uri", enrolled->totp_uri},
                 {"totp_secret", enrolled->totp_secret},
                 {"approval_key", enrolled->approval_key}});
      return Ok();
    }
    Out() << "Enrolled " << enrolled->user << ". Add this to your authenticator app now "
          << "(scan the code, or enter the secret " << enrolled->totp_secret << "):\n\n";
    PrintQr(enrolled->totp_uri);
    Out() << "\n"
          << enrolled->totp_uri << "\n\nYour approval key ("
          << (ssh_key.empty() ? "unlocked only by your password" : "your own SSH key") << "):\n  "
          << enrolled->approval_key << "\n";
    return Ok();
  }
};

struct UserListCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "user list"));
    ASSIGN_OR_RETURN(std::vector<access::UserDoc> users, access::ListUsers(*v));
    if (o.json) {
      json all = json::array();
      for (const auto& u : users) all.push_back(UserJson(u));
      PrintJson({{"users", all}});
      return Ok();
    }
    if (users.empty()) Out() << "No users: whoever holds the vault's key acts.\n";
    for (const auto& u : users) {
      Out() << u.id << "  " << u.name << "  [" << u.roles.Joined() << "]  "
            << access::UserStatusName(u.status) << "\n";
    }
    return Ok();
  }
};

struct UserShowCmd {
  VaultOptions o;
  std::string id;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "user show"));
    ASSIGN_OR_RETURN(std::vector<access::UserDoc> users, access::ListUsers(*v));
    for (const auto& u : users) {
      if (u.id != id) continue;
      if (o.json) {
        PrintJson(UserJson(u));
      } else {
        Out() << "user:         " << u.id << "\nname:         " << u.name
              << "\nroles:        " << u.roles.Joined()
              << "\nstatus:       " << access::UserStatusName(u.status)
              << "\ncreated:      " << u.created_at << " by " << u.created_by
              << "\nenrolled:     " << u.enrolled_at << "\napproval key: " << u.approval_key
              << "\n";
        if (!u.locked_until.empty()) Out() << "locked until: " << u.locked_until << "\n";
      }
      return Ok();
    }
    return Fail(NotFound("no user '" + id + "' in this vault"));
  }
};

// suspend, resume, remove, reset, roles: one command each, one call each.
struct UserChangeCmd {
  enum class Kind { kSuspend, kResume, kRemove, kReset, kRoles } kind;
  VaultOptions o;
  std::string id;
  std::vector<std::string> roles;
  std::string request;  // kRoles: an approved grant
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "user"));
    json out = {{"user", id}};
    switch (kind) {
      case Kind::kSuspend:
      case Kind::kResume:
        RETURN_IF_ERROR(access::SuspendUser(*v, id, kind == Kind::kSuspend));
        out["status"] = kind == Kind::kSuspend ? "suspended" : "active";
        break;
      case Kind::kRemove:
        RETURN_IF_ERROR(access::RemoveUser(*v, id));
        out["status"] = "removed";
        break;
      case Kind::kReset: {
        ASSIGN_OR_RETURN(access::Invitation inv, access::ResetUser(*v, id));
        out["status"] = "enrolling";
        out["enrolment_secret"] = inv.enrolment_secret;
        out["expires_at"] = inv.expires_at;
        break;
      }
      case Kind::kRoles: {
        ASSIGN_OR_RETURN(access::Grant grant, access::SetRoles(*v, id, SplitRoles(roles), request));
        if (grant.requested) {
          ReportNewRequest(*grant.requested, o.json,
                           RunAgain("user roles --id " + id + " --set " +
                                        access::RoleSet::FromNames(SplitRoles(roles))->Joined(","),
                                    grant.requested->id));
          return Ok();
        }
        out["roles"] = SplitRoles(roles);
        break;
      }
    }
    if (o.json) {
      PrintJson(out);
    } else {
      Out() << "User " << id << ": "
            << (out.contains("status") ? out["status"].get<std::string>()
                                       : "roles " + out["roles"].dump())
            << ".\n";
      if (out.contains("enrolment_secret")) {
        Out() << "New enrolment secret (valid until " << out["expires_at"].get<std::string>()
              << "):\n\n  " << out["enrolment_secret"].get<std::string>() << "\n";
      }
    }
    return Ok();
  }
};

// Creates the folder a session file goes in.
Status MakeDirectoryOf(const std::string& file) {
  const std::string dir = DirectoryOf(file);
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Unavailable("cannot create " + dir + ": " + ec.message()));
  return Ok();
}

struct LoginCmd {
  VaultOptions o;
  Status Run() {
    if (o.user.empty()) return Fail(InvalidArgument("--user ID is required"));
    if (!o.server.empty()) return RunOnServer();
    ASSIGN_OR_RETURN(VaultPtr v, OpenVaultUnauthenticated(o, "login"));
    // Where the session goes, first: a code is used up by the login.
    const std::string file = SessionFile(o, *v);
    RETURN_IF_ERROR(MakeDirectoryOf(file));
    ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password for " + o.user));
    ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
    auto who = access::Authenticate(*v, {o.user, password, code});
    std::fill(password.begin(), password.end(), '\0');
    if (!who) return Fail(who.error());
    ASSIGN_OR_RETURN(std::string token, access::StartSession(*v, *who));
    const json session = {{"format", "custos-session"},
                          {"vault", v->IdHex()},
                          {"user", o.user},
                          {"token", token},
                          {"started_at", FormatRfc3339(NowUnixSeconds())}};
    RETURN_IF_ERROR(WriteFileAtomic(file, session.dump() + "\n", 0600));
    return Report(who->principal.roles.Names(), file, who->principal.trained);
  }

  // Signs in at the server of --server: the same session file, naming the
  // server instead of a vault.
  Status RunOnServer() {
    const std::string file = ServerSessionFile(o);
    RETURN_IF_ERROR(MakeDirectoryOf(file));
    ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password for " + o.user));
    ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
    json body = {{"user", o.user}, {"password", password}, {"totp", code}};
    std::fill(password.begin(), password.end(), '\0');
    auto answer = ServerCall(o, "POST", "/api/v1/sessions", body, /*signed_in=*/false);
    std::string& sent = body["password"].get_ref<std::string&>();
    std::fill(sent.begin(), sent.end(), '\0');
    if (!answer) return Fail(answer.error());
    const json session = {{"format", "custos-session"},
                          {"server", o.server},
                          {"user", o.user},
                          {"token", (*answer)["token"]},
                          {"started_at", FormatRfc3339(NowUnixSeconds())}};
    RETURN_IF_ERROR(WriteFileAtomic(file, session.dump() + "\n", 0600));
    std::vector<std::string> roles = (*answer)["roles"];
    return Report(roles, file, answer->value("trained", false));
  }

  Status Report(const std::vector<std::string>& roles, const std::string& file, bool trained) {
    if (o.json) {
      PrintJson({{"user", o.user}, {"roles", roles}, {"session_file", file}, {"trained", trained}});
    } else {
      std::string joined;
      for (const auto& r : roles) joined += (joined.empty() ? "" : ", ") + r;
      Out() << "Logged in as " << o.user << " [" << joined
            << "] until 8 hours idle or 24 hours. Session: " << file << "\n";
      if (!trained) {
        Out() << "No passed training within its period: clear reads, approvals and "
                 "witnessing wait for `custos training take`.\n";
      }
    }
    return Ok();
  }
};

// Steps the session at a server up for clear reads, for a few minutes.
struct StepUpCmd {
  VaultOptions o;
  Status Run() {
    if (o.server.empty()) {
      return Fail(InvalidArgument(
          "step-up is for a session at a server (--server URL or CUSTOS_SERVER); locally, "
          "whoever holds the vault key reads in clear without it"));
    }
    ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password"));
    ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
    json body = {{"password", password}, {"totp", code}};
    std::fill(password.begin(), password.end(), '\0');
    auto answer = ServerCall(o, "POST", "/api/v1/sessions/current/step-up", body);
    std::string& sent = body["password"].get_ref<std::string&>();
    std::fill(sent.begin(), sent.end(), '\0');
    if (!answer) return Fail(answer.error());
    if (o.json) {
      PrintJson(*answer);
    } else {
      Out() << "Stepped up until " << (*answer)["stepped_up_until"].get<std::string>()
            << ": clear reads need no password or code until then.\n";
    }
    return Ok();
  }
};

struct LogoutCmd {
  VaultOptions o;
  Status Run() {
    if (!o.server.empty()) {
      const std::string file = ServerSessionFile(o);
      if (!FileExists(file)) return Fail(NotFound("no session file " + file + ": not logged in"));
      auto ended = ServerCall(o, "DELETE", "/api/v1/sessions/current", nullptr);
      ::unlink(file.c_str());
      if (!ended && ended.error().code() != ErrorCode::kUnauthenticated) return Fail(ended.error());
      return Report(file);
    }
    ASSIGN_OR_RETURN(VaultPtr v, OpenVaultUnauthenticated(o, "logout"));
    const std::string file = SessionFile(o, *v);
    if (!FileExists(file)) return Fail(NotFound("no session file " + file + ": not logged in"));
    ASSIGN_OR_RETURN(SessionFileData session, ReadSessionFile(file));
    Status ended = access::EndSession(*v, session.token);
    ::unlink(file.c_str());
    if (!ended && ended.error().code() != ErrorCode::kUnauthenticated) return ended;
    return Report(file);
  }
  Status Report(const std::string& file) {
    if (o.json) {
      PrintJson({{"logged_out", true}});
    } else {
      Out() << "Logged out; removed " << file << ".\n";
    }
    return Ok();
  }
};

struct WhoamiCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "whoami"));
    const access::Principal& p = v->principal();
    if (o.json) {
      PrintJson({{"user", p.user},
                 {"roles", p.roles.Names()},
                 {"via", access::ViaName(p.via)},
                 {"trained", p.trained},
                 {"session", p.session}});
    } else {
      Out() << p.user << " [" << p.roles.Joined() << "] via " << access::ViaName(p.via)
            << (p.IsUser() ? (p.trained ? ", trained" : ", no current training") : "") << "\n";
    }
    return Ok();
  }
};

struct CourseCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "training course"));
    ASSIGN_OR_RETURN(access::Course c, access::CurrentCourse(*v));
    if (o.json) {
      PrintJson({{"version", c.version},
                 {"title", c.title},
                 {"title_en", c.title_en},
                 {"pass_mark", c.pass_mark},
                 {"draw", c.draw},
                 {"period_months", c.period_months},
                 {"questions", c.questions.size()}});
    } else {
      Out() << c.title << " (" << c.title_en << ")\nversion " << c.version << ": " << c.draw
            << " questions drawn from " << c.questions.size() << ", pass mark " << c.pass_mark
            << "%, a pass counts for " << c.period_months << " months.\n";
    }
    return Ok();
  }
};

struct TakeCmd {
  VaultOptions o;
  std::string answers_env;  // scripts: "A,C,B,..." in the order asked
  std::vector<std::string> scripted;

  Status Run() {
    if (!answers_env.empty()) {
      ASSIGN_OR_RETURN(std::string all, ReadSecret(answers_env, "answers"));
      scripted = SplitRoles({all});
    }
    if (!o.server.empty()) return RunOnServer();
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "training take"));
    auto ask = [&](const access::Question& q, int n) -> Result<int> {
      ASSIGN_OR_RETURN(std::string answer, Ask(q.question, q.choices, n));
      return access::ChoiceIndex(answer, q.choices.size(), n);
    };
    ASSIGN_OR_RETURN(access::Attempt a, access::TakeQuiz(*v, ask));
    return Report(access::QuizResultToJson(a));
  }

  // The quiz drawn by the server, asked here, answered there.
  Status RunOnServer() {
    ASSIGN_OR_RETURN(json quiz, ServerCall(o, "POST", "/api/v1/training/quizzes", json::object()));
    json answers = json::array();
    int n = 0;
    for (const json& q : quiz["questions"]) {
      ++n;
      const std::vector<std::string> choices = q["choices"];
      ASSIGN_OR_RETURN(std::string answer, Ask(q["question"].get<std::string>(), choices, n));
      answers.push_back(answer);
    }
    ASSIGN_OR_RETURN(json attempt, ServerCall(o, "POST",
                                              "/api/v1/training/quizzes/" +
                                                  quiz["quiz"].get<std::string>() + "/answers",
                                              json{{"answers", answers}}));
    return Report(attempt);
  }

  // Question `n`'s answer: the script's, or asked in the terminal.
  Result<std::string> Ask(const std::string& question, const std::vector<std::string>& choices,
                          int n) {
    if (!answers_env.empty()) {
      if (static_cast<size_t>(n) > scripted.size()) {
        return Fail(InvalidArgument(answers_env + " holds fewer answers than questions"));
      }
      return scripted[n - 1];
    }
    Out() << "\n" << n << ". " << question << "\n";
    for (size_t i = 0; i < choices.size(); ++i) {
      Out() << "   " << static_cast<char>('A' + i) << ". " << choices[i] << "\n";
    }
    Out() << "答案 (A-" << static_cast<char>('A' + choices.size() - 1) << "): " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return Fail(InvalidArgument("no answer given"));
    return answer;
  }

  Status Report(const json& a) {
    if (o.json) {
      PrintJson(a);
    } else {
      Out() << "\nScore " << a["score"].get<int>() << "% (pass mark " << a["pass_mark"].get<int>()
            << "%): "
            << (a["passed"].get<bool>() ? "passed." : "not passed; you may take it again.") << "\n";
    }
    return Ok();
  }
};

struct RecordsCmd {
  VaultOptions o;
  std::string user;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "training records"));
    std::optional<std::string> who;
    if (!user.empty()) who = user;
    ASSIGN_OR_RETURN(std::vector<access::Attempt> all, access::ListAttempts(*v, who));
    json out = json::array();
    for (const auto& a : all) {
      out.push_back(access::AttemptToJson(a));
      if (!o.json) {
        Out() << a.taken_at << "  " << a.user << "  " << a.kind << "  course " << a.course_version
              << "  " << a.score << "% " << (a.passed ? "passed" : "not passed") << "\n";
      }
    }
    if (o.json) PrintJson({{"attempts", out}});
    return Ok();
  }
};

struct RecordCmd {
  VaultOptions o;
  access::Classroom c;
  std::string evidence;
  Status Run() {
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(evidence));
    c.evidence_sha256 = crypto::Sha256Hex(AsBytes(bytes));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "training record"));
    ASSIGN_OR_RETURN(access::Attempt a, access::RecordClassroom(*v, c));
    if (o.json) {
      PrintJson({{"attempt", a.id}, {"passed", a.passed}, {"evidence_sha256", a.evidence_sha256}});
    } else {
      Out() << "Recorded " << c.user << "'s classroom course " << c.course_version << ": "
            << a.score << "% " << (a.passed ? "passed" : "not passed") << ".\n";
    }
    return Ok();
  }
};

CLI::Option* AddId(CLI::App* cmd, std::string& id) {
  return cmd->add_option("--id", id, "User id")->required();
}

void AddUserChange(CLI::App* users, std::vector<Command>& commands, const char* name,
                   const char* help, UserChangeCmd::Kind kind) {
  auto* cmd = users->add_subcommand(name, help);
  UserChangeCmd* c = &Keep<UserChangeCmd>();
  c->kind = kind;
  AddVaultOptions(cmd, c->o);
  AddId(cmd, c->id);
  if (kind == UserChangeCmd::Kind::kRoles) {
    cmd->add_option("--set", c->roles, "The roles, comma-separated (replaces the current ones)")
        ->required();
    cmd->add_option("--request", c->request,
                    "Run the grant another custodian approved (a vault with two or more "
                    "custodians)");
  }
  commands.push_back({cmd, Runner(*c, c->o.json)});
}

void AddUserCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* users = app.add_subcommand("user", "Users of a vault: add, enrol, roles, suspend, reset");
  users->require_subcommand(1);
  users->footer(
      "Roles: custodian, operator, officer, approver, supervisor, auditor (docs/people.md).\n"
      "On a vault with no users, whoever holds its key adds the first ones. Once it has two\n"
      "or more custodians, a role grant (add, roles) waits for another custodian's approval:\n"
      "the command prints a request; custos approve ID; then the same command with --request.");
  auto& add = Keep<UserAddCmd>();
  auto* c_add =
      users->add_subcommand("add", "Add a user (custodian): prints a one-time enrolment secret");
  AddVaultOptions(c_add, add.o);
  c_add->add_option("--id", add.u.id, "User id: a-z, 0-9, '.', '_', '-'")->required();
  c_add->add_option("--name", add.u.name, "Display name")->required();
  c_add->add_option("--role", add.roles, "Role(s), comma-separated")->required();
  c_add->add_option("--request", add.request,
                    "Run the grant another custodian approved (a vault with two or more "
                    "custodians)");
  commands.push_back({c_add, Runner(add, add.o.json)});

  auto& enrol = Keep<UserEnrolCmd>();
  auto* c_enrol = users->add_subcommand(
      "enrol", "Enrol with the secret: set the password, get the TOTP secret and approval key");
  AddVaultOptions(c_enrol, enrol.o);
  AddId(c_enrol, enrol.id);
  c_enrol->add_option("--secret-env", enrol.secret_env,
                      "Name of an environment variable holding the enrolment secret");
  c_enrol->add_option("--ssh-key", enrol.ssh_key,
                      "Approve with your own OpenSSH key: its public key file (ssh-ed25519)");
  commands.push_back({c_enrol, Runner(enrol, enrol.o.json)});

  auto& list = Keep<UserListCmd>();
  auto* c_list = users->add_subcommand("list", "List users");
  AddVaultOptions(c_list, list.o);
  commands.push_back({c_list, Runner(list, list.o.json)});
  auto& show = Keep<UserShowCmd>();
  auto* c_show = users->add_subcommand("show", "Show a user");
  AddVaultOptions(c_show, show.o);
  AddId(c_show, show.id);
  commands.push_back({c_show, Runner(show, show.o.json)});

  using K = UserChangeCmd::Kind;
  AddUserChange(users, commands, "suspend", "Suspend a user (custodian)", K::kSuspend);
  AddUserChange(users, commands, "resume", "Lift a suspension (custodian)", K::kResume);
  AddUserChange(users, commands, "remove", "Remove a user; the record stays (custodian)",
                K::kRemove);
  AddUserChange(users, commands, "reset",
                "New enrolment secret; old password, TOTP and approval key stop (custodian)",
                K::kReset);
  AddUserChange(users, commands, "roles", "Set a user's roles (custodian)", K::kRoles);
}

void AddSessionCommands(CLI::App& app, std::vector<Command>& commands) {
  auto& login = Keep<LoginCmd>();
  auto* c_login =
      app.add_subcommand("login", "Log in: password and one-time code; starts a session");
  AddVaultOptions(c_login, login.o);
  commands.push_back({c_login, Runner(login, login.o.json)});
  auto& step_up = Keep<StepUpCmd>();
  auto* c_step = app.add_subcommand(
      "step-up",
      "Step your server session up for clear reads: password and a fresh one-time code, "
      "good for 5 minutes (recorded)");
  AddVaultOptions(c_step, step_up.o);
  commands.push_back({c_step, Runner(step_up, step_up.o.json)});
  auto& logout = Keep<LogoutCmd>();
  auto* c_logout = app.add_subcommand("logout", "End the session of this vault");
  AddVaultOptions(c_logout, logout.o);
  commands.push_back({c_logout, Runner(logout, logout.o.json)});
  auto& whoami = Keep<WhoamiCmd>();
  auto* c_who = app.add_subcommand("whoami", "Who acts: user, roles, how authenticated, training");
  AddVaultOptions(c_who, whoami.o);
  commands.push_back({c_who, Runner(whoami, whoami.o.json)});
}

void AddTrainingCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* t =
      app.add_subcommand("training", "Training with assessment: the course, the quiz, records");
  t->require_subcommand(1);
  auto& course = Keep<CourseCmd>();
  auto* c_course = t->add_subcommand("course", "The current course: version, pass mark, period");
  AddVaultOptions(c_course, course.o);
  commands.push_back({c_course, Runner(course, course.o.json)});
  auto& take = Keep<TakeCmd>();
  auto* c_take = t->add_subcommand("take", "Take the assessment in the terminal (zh-CN)");
  AddVaultOptions(c_take, take.o);
  c_take->add_option("--answers-env", take.answers_env,
                     "Scripts: name of a variable holding the answers, comma-separated (A-D)");
  commands.push_back({c_take, Runner(take, take.o.json)});
  auto& records = Keep<RecordsCmd>();
  auto* c_records = t->add_subcommand("records", "Training attempts (yours, or --user's)");
  AddVaultOptions(c_records, records.o, /*user_flag=*/false);
  c_records->add_option("--user", records.user, "Only this user");
  commands.push_back({c_records, Runner(records, records.o.json)});
  auto& record = Keep<RecordCmd>();
  auto* c_record = t->add_subcommand(
      "record", "Record a classroom course for someone else (custodian or officer)");
  AddVaultOptions(c_record, record.o, /*user_flag=*/false);
  c_record->add_option("--user", record.c.user, "The user who took the course")->required();
  c_record->add_option("--course", record.c.course_version, "Course version")->required();
  c_record->add_option("--score", record.c.score, "Score, percent")->required();
  c_record->add_option("--date", record.c.date, "Date held, YYYY-MM-DD")->required();
  c_record->add_option("--evidence", record.evidence, "Evidence file (its SHA-256 is kept)")
      ->required();
  commands.push_back({c_record, Runner(record, record.o.json)});
}

}  // namespace

void AddPeopleCommands(CLI::App& app, std::vector<Command>& commands) {
  AddUserCommands(app, commands);
  AddSessionCommands(app, commands);
  AddTrainingCommands(app, commands);
}

}  // namespace custos::cli
