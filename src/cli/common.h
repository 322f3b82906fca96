// Pieces every custos subcommand shares: vault and key options, opening a
// vault (noting refused attempts), actor, error reporting and JSON output.
#ifndef CUSTOS_CLI_COMMON_H_
#define CUSTOS_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"

namespace custos::cli {

using json = nlohmann::ordered_json;

// Options every vault command shares.
struct VaultOptions {
  std::string vault;
  std::string key_file;
  std::string passphrase_env;
  bool json = false;
  std::string actor;
  double wait_seconds = 30;  // --wait / CUSTOS_WAIT
};

void AddVaultOptions(CLI::App* cmd, VaultOptions& o);
Result<vault::KeySource> KeySourceFrom(const VaultOptions& o);
Status RequireVault(const VaultOptions& o);
std::string Actor(const VaultOptions& o);

// Opens the vault for `command`. A wrong key is noted beside the vault (the
// vault file itself stays untouched) and enters the audit log at the next
// successful open.
Result<std::unique_ptr<vault::Vault>> OpenVault(const VaultOptions& o, const std::string& command);
// The same without noting a refused attempt (for a second try with another key).
Result<std::unique_ptr<vault::Vault>> OpenVaultWith(const VaultOptions& o,
                                                    const vault::KeySource& key);
vault::OpenOptions OpenOptionsFrom(const VaultOptions& o);
// A warning on stderr when a purge of the vault's files could not finish.
void WarnIfNotPurged(const vault::PurgeResult& r);

// Prints an error (stderr; also stdout as JSON when as_json) and returns the
// exit status for it.
int Report(const Error& e, bool as_json);
void PrintJson(const json& j);

// A registered subcommand: its CLI11 app and what runs when it was chosen.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

// Runs a command object with a Status Run() and a `bool json` in its options.
template <typename Cmd>
std::function<int()> Runner(Cmd& cmd, const bool& as_json) {
  return [&cmd, &as_json]() -> int {
    Status st = cmd.Run();
    if (!st) return Report(st.error(), as_json);
    return 0;
  };
}

// Registration functions, one per command family (each in its own .cc).
void AddAuditCommands(CLI::App& app, std::vector<Command>& commands);
void AddInventoryCommands(CLI::App& app, std::vector<Command>& commands);
// Transfer (issue: notices, consent, handover package): recipient, transfer,
// package and keys new-recipient commands. Defined in transfer_cmd.cc.
void AddTransferCommands(CLI::App& app, std::vector<Command>& commands);
// Retention, destruction, certificate, media, deregister. Defined in
// retention_cmd.cc.
void AddRetentionCommands(CLI::App& app, std::vector<Command>& commands);

// A progress bar on standard error: done of total bytes.
void ProgressBar(uint64_t done, uint64_t total);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_COMMON_H_
