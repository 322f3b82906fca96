#include "cli/common.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace custos::cli {

void AddVaultOptions(CLI::App* cmd, VaultOptions& o) {
  cmd->add_option("--vault", o.vault, "Vault file (or CUSTOS_VAULT)")->envname("CUSTOS_VAULT");
  cmd->add_option("--key-file", o.key_file,
                  "Key file: 32 random bytes, mode 0600 (or CUSTOS_KEY_FILE)");
  cmd->add_option("--passphrase-env", o.passphrase_env,
                  "Name of an environment variable holding the passphrase "
                  "(or put the passphrase itself in CUSTOS_PASSPHRASE)");
  cmd->add_flag("--json", o.json, "Print machine-readable JSON");
  cmd->add_option("--actor", o.actor, "Who is acting, for the records (default: CUSTOS_ACTOR or $USER)");
  cmd->add_option("--wait", o.wait_seconds,
                  "Seconds to wait while another process changes the vault, then fail with "
                  "`unavailable` (default 30; or CUSTOS_WAIT)")
      ->envname("CUSTOS_WAIT")
      ->check(CLI::Range(0.0, 86400.0));
}

vault::OpenOptions OpenOptionsFrom(const VaultOptions& o) {
  vault::OpenOptions options;
  options.lock_wait = std::chrono::milliseconds(static_cast<int64_t>(o.wait_seconds * 1000));
  return options;
}

void WarnIfNotPurged(const vault::PurgeResult& r) {
  if (!r.purged) std::cerr << "custos: warning: " << r.why_not << "\n";
}

Result<vault::KeySource> KeySourceFrom(const VaultOptions& o) {
  vault::KeySource k;
  if (!o.key_file.empty() && !o.passphrase_env.empty()) {
    return Fail(InvalidArgument("use either --key-file or --passphrase-env, not both"));
  }
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

Result<std::unique_ptr<vault::Vault>> OpenVault(const VaultOptions& o, const std::string& command) {
  RETURN_IF_ERROR(RequireVault(o));
  ASSIGN_OR_RETURN(vault::KeySource k, KeySourceFrom(o));
  auto v = OpenVaultWith(o, k);
  if (!v && v.error().code() == ErrorCode::kUnauthenticated) {
    (void)vault::NoteRefusedAttempt(o.vault, Actor(o), command, "wrong key or passphrase");
  }
  return v;
}

Result<std::unique_ptr<vault::Vault>> OpenVaultWith(const VaultOptions& o,
                                                    const vault::KeySource& key) {
  RETURN_IF_ERROR(RequireVault(o));
  return vault::Vault::Open(o.vault, key, Actor(o), OpenOptionsFrom(o));
}

int Report(const Error& e, bool as_json) {
  if (as_json) {
    json j = {{"error", {{"code", ErrorCodeName(e.code())}, {"message", e.message()}}}};
    std::cout << j.dump(2) << "\n";
  }
  std::cerr << "custos: error: " << e.message() << " [" << ErrorCodeName(e.code()) << "]\n";
  return ExitStatusFor(e.code());
}

void PrintJson(const json& j) { std::cout << j.dump(2) << "\n"; }


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
