#include "cli/common.h"

#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "access/sessions.h"
#include "base/file.h"
#include "crypto/kdf.h"
#include "package/age.h"
#include "server/client.h"

namespace custos::cli {

namespace {
thread_local Embedded* tls_embedded = nullptr;
thread_local std::vector<std::shared_ptr<void>> tls_arena;
}  // namespace

Embedded* CurrentEmbedded() { return tls_embedded; }
void SetCurrentEmbeddedForRun(Embedded* e) { tls_embedded = e; }
std::ostream& Out() { return tls_embedded ? tls_embedded->out : std::cout; }
std::ostream& Err() { return tls_embedded ? tls_embedded->err : std::cerr; }
std::vector<std::shared_ptr<void>>& CommandArena() { return tls_arena; }

Result<crypto::SecretBytes> OpenShareFile(const std::string& file,
                                          const std::string& identity_file) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  crypto::SecretBytes plain = crypto::SecretBytes::CopyOf(AsBytes(text));
  sodium_memzero(text.data(), text.size());
  const std::string_view head = AsChars(plain.RevealSecret());
  if (!head.starts_with(package::kAgeIntro) && !head.starts_with(package::kAgeArmorIntro)) {
    return plain;
  }
  if (identity_file.empty()) {
    return Fail(InvalidArgument(file + " is age-encrypted: give --share-identity FILE (the "
                                       "custodian's age identity), or open it with age -d"));
  }
  ASSIGN_OR_RETURN(std::string id_text, ReadFile(identity_file));
  auto identities = package::ParseAgeIdentityFile(id_text);
  sodium_memzero(id_text.data(), id_text.size());
  if (!identities) return Fail(identities.error().WithContext(identity_file));
  auto opened = package::AgeDecryptBytes(*identities, plain.RevealSecret());
  if (!opened) return Fail(opened.error().WithContext(file));
  crypto::SecretBytes out = crypto::SecretBytes::CopyOf(*opened);
  sodium_memzero(opened->data(), opened->size());
  return out;
}

Result<vault::KeySource> KeySourceFromShares(const std::vector<std::string>& files,
                                             const std::string& identity_file) {
  std::vector<vault::SourcedShare> shares;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(crypto::SecretBytes plain, OpenShareFile(file, identity_file));
    ASSIGN_OR_RETURN(vault::KeyShare share, vault::ParseKeyShare(plain.RevealSecret(), file));
    shares.push_back({std::move(share), file});
  }
  return vault::CombineKeyShares(shares);
}

void AddServerOptions(CLI::App* cmd, VaultOptions& o, bool session) {
  auto* remote = cmd->add_option_group("A server instead of a local vault");
  remote
      ->add_option("--server", o.server,
                   "Send the command to `custos serve` at this URL (or CUSTOS_SERVER); sign in "
                   "with custos login --server URL")
      ->envname("CUSTOS_SERVER");
  remote->add_option("--ca-cert", o.ca_cert, "Trust this CA certificate (PEM) for the server")
      ->envname("CUSTOS_CA_CERT");
  if (session) {
    remote->add_option("--session", o.session, "Session file of custos login --server")
        ->envname("CUSTOS_SESSION");
  }
}

void AddVaultOptions(CLI::App* cmd, VaultOptions& o, bool user_flag) {
  cmd->add_option("--vault", o.vault,
                  "Vault: a file, or a PostgreSQL database as postgresql://USER@HOST/DB?... "
                  "(password in ~/.pgpass or a service file, never here) (or CUSTOS_VAULT)")
      ->envname("CUSTOS_VAULT");
  cmd->add_option("--key-file", o.key_file,
                  "Key file: 32 random bytes, mode 0600 (or CUSTOS_KEY_FILE)");
  cmd->add_option("--passphrase-env", o.passphrase_env,
                  "Name of an environment variable holding the passphrase "
                  "(or put the passphrase itself in CUSTOS_PASSPHRASE)");
  cmd->add_option("--share", o.shares,
                  "Instead of the key: a custodian's key share (custos keys split), once per "
                  "share, as many as the split's threshold");
  cmd->add_option("--share-identity", o.share_identity,
                  "age identity file that opens the --share files still encrypted");
  cmd->add_flag("--json", o.json, "Print machine-readable JSON");
  cmd->add_option("--actor", o.actor, "Who is acting, for the records (default: CUSTOS_ACTOR or $USER)");
  cmd->add_option("--wait", o.wait_seconds,
                  "Seconds to wait while another process changes the vault, then fail with "
                  "`unavailable` (default 30; or CUSTOS_WAIT)")
      ->envname("CUSTOS_WAIT")
      ->check(CLI::Range(0.0, 86400.0));
  auto* who = cmd->add_option_group("Who acts (a vault with users)");
  if (user_flag) {
    who->add_option("--user", o.user,
                    "Act as this user: asks for the password and the one-time code (or see "
                    "--password-env, --totp-env); without it, the session of `custos login`");
  }
  who->add_option("--session", o.session,
                  "Session file written by `custos login` (or CUSTOS_SESSION; default "
                  "~/.local/state/custos/session-<vault id>)")
      ->envname("CUSTOS_SESSION");
  who->add_option("--password-env", o.password_env,
                  "Name of an environment variable holding the user's password (scripts)");
  who->add_option("--totp-env", o.totp_env,
                  "Name of an environment variable holding the current one-time code (scripts)");
  AddServerOptions(cmd, o, /*session=*/false);
  who->add_flag("--break-glass", o.break_glass,
                "Act with the key alone, without a user: only a custodian's work, recorded as "
                "break-glass in the audit log");
}

vault::OpenOptions OpenOptionsFrom(const VaultOptions& o) {
  vault::OpenOptions options;
  options.lock_wait = std::chrono::milliseconds(static_cast<int64_t>(o.wait_seconds * 1000));
  return options;
}

void WarnIfNotPurged(const vault::PurgeResult& r) {
  if (!r.purged) Err() << "custos: warning: " << r.why_not << "\n";
}

Result<vault::KeySource> KeySourceFrom(const VaultOptions& o) {
  vault::KeySource k;
  if (!o.key_file.empty() + !o.passphrase_env.empty() + !o.shares.empty() > 1) {
    return Fail(InvalidArgument("use one of --key-file, --passphrase-env or --share, not several"));
  }
  if (!o.shares.empty()) return KeySourceFromShares(o.shares, o.share_identity);
  if (!o.key_file.empty()) {
    k.kind = vault::KeySource::Kind::kKeyFile;
    k.key_file = o.key_file;
    return k;
  }
  if (!o.passphrase_env.empty()) {
    k.kind = vault::KeySource::Kind::kPassphrase;
    k.passphrase_env = o.passphrase_env;
    return k;
  }
  if (const char* f = std::getenv("CUSTOS_KEY_FILE"); f && *f) {
    k.kind = vault::KeySource::Kind::kKeyFile;
    k.key_file = f;
    return k;
  }
  if (const char* p = std::getenv("CUSTOS_PASSPHRASE"); p && *p) {
    k.kind = vault::KeySource::Kind::kPassphrase;
    k.passphrase_env = "CUSTOS_PASSPHRASE";
    return k;
  }
  return Fail(InvalidArgument(
      "no key given: pass --key-file FILE or --passphrase-env VAR (or set CUSTOS_KEY_FILE / "
      "CUSTOS_PASSPHRASE)"));
}

Status RequireVault(const VaultOptions& o) {
  if (o.vault.empty()) return Fail(InvalidArgument("--vault is required (or set CUSTOS_VAULT)"));
  return Ok();
}

std::string Actor(const VaultOptions& o) {
  if (!o.actor.empty()) return o.actor;
  if (const char* a = std::getenv("CUSTOS_ACTOR"); a && *a) return a;
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  return "unknown";
}

Result<VaultPtr> OpenVaultUnauthenticated(const VaultOptions& o, const std::string& command) {
  if (Embedded* e = CurrentEmbedded()) return VaultPtr(e->vault, VaultCloser{false});
  if (!o.server.empty()) {
    return Fail(InvalidArgument(command + " is not served through --server yet (so far: login, "
                                          "logout, find, show): run it on the vault"));
  }
  RETURN_IF_ERROR(RequireVault(o));
  ASSIGN_OR_RETURN(vault::KeySource k, KeySourceFrom(o));
  Result<VaultPtr> v = OpenVaultWith(o, k);
  if (!v && v.error().code() == ErrorCode::kUnauthenticated) {
    (void)vault::NoteRefusedAttempt(o.vault, Actor(o), command, "wrong key or passphrase");
  }
  return v;
}

Result<VaultPtr> OpenVault(const VaultOptions& o, const std::string& command) {
  ASSIGN_OR_RETURN(VaultPtr v, OpenVaultUnauthenticated(o, command));
  RETURN_IF_ERROR(EstablishPrincipal(o, *v));
  return v;
}

Result<std::string> ReadSecret(const std::string& env_name, const std::string& prompt) {
  if (Embedded* e = CurrentEmbedded()) {
    // On a server: only what the request carried, named "@member".
    auto it = e->secrets.find(env_name);
    if (env_name.starts_with('@') && it != e->secrets.end() && !it->second.empty()) {
      return it->second;
    }
    const std::string member = env_name.starts_with('@') ? env_name.substr(1) : "";
    return Fail(InvalidArgument(prompt + " is needed: send it in the request" +
                                (member.empty() ? "" : " as \"" + member + "\"")));
  }
  if (!env_name.empty()) {
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr || *value == '\0') {
      return Fail(InvalidArgument("the environment variable " + env_name + " is not set"));
    }
    return std::string(value);
  }
  const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    return Fail(InvalidArgument(prompt + " is needed, and there is no terminal to ask on: give "
                                "the name of an environment variable that holds it"));
  }
  termios old{};
  const bool is_tty = ::tcgetattr(tty, &old) == 0;
  if (is_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    (void)::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  const std::string ask = prompt + ": ";
  (void)!::write(tty, ask.data(), ask.size());
  std::string line;
  char c = 0;
  while (::read(tty, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (is_tty) (void)::tcsetattr(tty, TCSAFLUSH, &old);
  (void)!::write(tty, "\n", 1);
  ::close(tty);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

namespace {
// $XDG_STATE_HOME/custos (~/.local/state/custos when unset).
std::string StateDir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/custos";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/custos";
  return "./custos";
}
}  // namespace

std::string SessionFile(const VaultOptions& o, const vault::Vault& v) {
  if (!o.session.empty()) return o.session;
  return StateDir() + "/session-" + v.IdHex();
}

std::string ServerSessionFile(const VaultOptions& o) {
  if (!o.session.empty()) return o.session;
  return StateDir() + "/server-session-" + crypto::Sha256Hex(AsBytes(o.server)).substr(0, 16);
}

Result<server::ClientResponse> SendToServer(const VaultOptions& o, server::ClientRequest req,
                                            bool signed_in) {
  if (signed_in) {
    const std::string file = ServerSessionFile(o);
    if (!FileExists(file)) {
      return Fail(Unauthenticated("no session for " + o.server + ": custos login --server " +
                                  o.server + " --user ID"));
    }
    ASSIGN_OR_RETURN(SessionFileData session, ReadSessionFile(file));
    req.headers.push_back({"Authorization", "Bearer " + session.token});
  }
  auto answer = server::HttpCall(req);
  sodium_memzero(req.body.data(), req.body.size());  // it may hold a password
  return answer;
}

Result<json> ServerCall(const VaultOptions& o, const std::string& method, const std::string& path,
                        const json& body, bool signed_in) {
  std::string url = o.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  server::ClientRequest req;
  req.method = method;
  req.url = url + path;
  req.ca_cert = o.ca_cert;
  if (!body.is_null()) req.body = body.dump();
  auto answer = SendToServer(o, std::move(req), signed_in);
  if (!answer) return Fail(answer.error());
  if (answer->status < 200 || answer->status > 299) return Fail(server::ErrorFromResponse(*answer));
  json j = json::parse(answer->body, nullptr, false);
  if (j.is_discarded()) return Fail(Internal("the server's answer is not JSON"));
  return j;
}

Result<SessionFileData> ReadSessionFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const json j = json::parse(text, nullptr, false);
  const auto is_string = [&](const char* m) { return j.contains(m) && j[m].is_string(); };
  if (!j.is_object() || !is_string("user") || !is_string("token")) {
    return Fail(InvalidArgument(path + ": not a Custos session file"));
  }
  return SessionFileData{j["user"].get<std::string>(), j["token"].get<std::string>()};
}

Status EstablishPrincipal(const VaultOptions& o, vault::Vault& v) {
  if (CurrentEmbedded() != nullptr) return Ok();  // the server resumed the session
  // Vault::Open found whether the vault has users: it opens as nobody then.
  const bool has_users = v.principal().via == access::Via::kNone;
  if (!has_users) {
    if (!o.user.empty()) {
      return Fail(FailedPrecondition("this vault has no users yet: whoever holds its key acts "
                                     "(custos user add creates the first)"));
    }
    return Ok();
  }
  if (!o.user.empty()) {
    ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password for " + o.user));
    ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
    auto who = access::Authenticate(v, {o.user, password, code});
    std::fill(password.begin(), password.end(), '\0');
    if (!who) return Fail(who.error());
    v.set_principal(who->principal);
    return Ok();
  }
  if (o.break_glass) {
    v.set_principal(access::BreakGlass(Actor(o)));
    return Ok();
  }
  const std::string file = SessionFile(o, v);
  if (!FileExists(file)) {
    return Fail(Unauthenticated("this vault has users: log in first (custos login --user ID), or "
                                "give --user ID; a custodian without a user may use --break-glass"));
  }
  ASSIGN_OR_RETURN(SessionFileData session, ReadSessionFile(file));
  ASSIGN_OR_RETURN(access::Principal p, access::ResumeSession(v, session.token));
  v.set_principal(std::move(p));
  return Ok();
}

Result<VaultPtr> OpenVaultWith(const VaultOptions& o, const vault::KeySource& key) {
  RETURN_IF_ERROR(RequireVault(o));
  ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v,
                   vault::Vault::Open(o.vault, key, Actor(o), OpenOptionsFrom(o)));
  return VaultPtr(v.release());
}

int Report(const Error& e, bool as_json) {
  if (Embedded* emb = CurrentEmbedded()) {
    emb->error = e;
    return ExitStatusFor(e.code());
  }
  if (as_json) {
    json j = {{"error", {{"code", ErrorCodeName(e.code())}, {"message", e.message()}}}};
    std::cout << j.dump(2) << "\n";
  }
  std::cerr << "custos: error: " << e.message() << " [" << ErrorCodeName(e.code()) << "]\n";
  return ExitStatusFor(e.code());
}

void PrintJson(const json& j) { Out() << j.dump(2) << "\n"; }

void PrintBreakGlass(const vault::Vault::BreakGlassUses& uses) {
  if (uses.count == 0) return;
  Out() << "Break-glass: the vault's key was used without a user " << uses.count << " time(s), "
        << uses.first_at << " to " << uses.last_at << " (audit entries " << uses.first_seq << " to "
        << uses.last_seq << ").\n";
}

std::function<void(uint64_t, uint64_t)> ProgressSink(bool wanted) {
  if (!wanted) return nullptr;
  if (Embedded* e = CurrentEmbedded()) {
    if (e->done == nullptr && e->total == nullptr) return nullptr;  // not a job
    return [done_at = e->done, total_at = e->total](uint64_t done, uint64_t total) {
      if (total_at != nullptr) total_at->store(total, std::memory_order_relaxed);
      if (done_at != nullptr) done_at->store(done, std::memory_order_relaxed);
    };
  }
  if (!isatty(STDERR_FILENO)) return nullptr;
  return ProgressBar;
}

void ProgressBar(uint64_t done, uint64_t total) {
  if (total == 0) return;
  int pct = static_cast<int>(done * 100 / total);
  int filled = pct * 30 / 100;
  std::fprintf(stderr, "\r[%.*s%.*s] %3d%%", filled, "##############################", 30 - filled,
               "                              ", pct);
  if (done >= total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace custos::cli
