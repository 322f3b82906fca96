// Pieces every custos subcommand shares: vault and key options, opening a
// vault (noting refused attempts), actor, error reporting and JSON output.
#ifndef CUSTOS_CLI_COMMON_H_
#define CUSTOS_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"

namespace custos::access {
struct Request;
}
namespace custos::server {
struct ClientRequest;
struct ClientResponse;
}  // namespace custos::server

namespace custos::cli {

using json = nlohmann::ordered_json;

// A command run inside `custos serve` for one request or job
// (docs/server.md): it acts on the server's vault handle as the session's
// user, prints into `out`/`err` instead of the terminal, reports its error
// here, and takes secrets only from `secrets` (never from the server's
// environment or terminal).
struct Embedded {
  vault::Vault* vault = nullptr;  // principal already set
  // "--password-env @password": the value the request carried.
  std::map<std::string, std::string> secrets;
  std::ostringstream out;
  std::ostringstream err;
  std::optional<Error> error;
  // Progress of long work (done, total) for the job's poller, when a job.
  std::atomic<uint64_t>* done = nullptr;
  std::atomic<uint64_t>* total = nullptr;
};
// The command being run for the server on this thread, or null.
Embedded* CurrentEmbedded();
void SetCurrentEmbeddedForRun(Embedded* e);  // RunEmbedded's
// Runs one command line (`args` without the program name) as Run does,
// for the server (serve_cmd.cc gives it to the API): returns its exit
// status; what it printed and its error are in `e`.
int RunEmbedded(std::vector<std::string> args, Embedded& e);
// Where a command prints: the terminal, or the embedded run's buffers.
std::ostream& Out();
std::ostream& Err();

// A vault handle a command holds: its own, or (embedded) the server's.
struct VaultCloser {
  bool owned = true;
  void operator()(vault::Vault* v) const {
    if (owned) delete v;
  }
};
using VaultPtr = std::unique_ptr<vault::Vault, VaultCloser>;

// The command objects of one parse (fresh for each run, so one request's
// options never leak into the next): Keep<T>() makes one that lives as
// long as the run.
std::vector<std::shared_ptr<void>>& CommandArena();
template <typename T>
T& Keep() {
  auto p = std::make_shared<T>();
  CommandArena().push_back(p);
  return *p;
}

// Options every vault command shares.
struct VaultOptions {
  std::string vault;
  std::string key_file;
  std::string passphrase_env;
  // K of the custodians' key shares (keys split), instead of the key; each
  // file age-encrypted (opened with --share-identity) or already opened.
  std::vector<std::string> shares;
  std::string share_identity;
  bool json = false;
  std::string actor;
  double wait_seconds = 30;  // --wait / CUSTOS_WAIT
  // Who acts, on a vault that has users (docs/people.md).
  std::string user;          // --user ID: password and code asked now
  std::string session;       // --session FILE / CUSTOS_SESSION (default: per user and vault)
  std::string password_env;  // --password-env NAME
  std::string totp_env;      // --totp-env NAME
  bool break_glass = false;  // --break-glass: the key alone, custodian's work only
  // A server instead of a local vault (docs/server.md): --server URL /
  // CUSTOS_SERVER, and the CA to trust for it.
  std::string server;
  std::string ca_cert;
};

// `user_flag` false leaves --user to the command (training records/record,
// where it names whose records); the acting user is then the session's.
void AddVaultOptions(CLI::App* cmd, VaultOptions& o, bool user_flag = true);
// --server and --ca-cert (and --session when `session`), for a command
// without the vault options that a server can run too (inventory).
void AddServerOptions(CLI::App* cmd, VaultOptions& o, bool session);
Result<vault::KeySource> KeySourceFrom(const VaultOptions& o);
// A custodian's share file as plaintext: opened with the age identity file
// when it is still encrypted.
Result<crypto::SecretBytes> OpenShareFile(const std::string& file,
                                          const std::string& identity_file);
// The key rebuilt from custodians' share files (age-encrypted ones opened
// with the identity file).
Result<vault::KeySource> KeySourceFromShares(const std::vector<std::string>& files,
                                             const std::string& identity_file);
Status RequireVault(const VaultOptions& o);
std::string Actor(const VaultOptions& o);

// Opens the vault for `command` and establishes who acts: on a vault with
// users, the user of --user (password and code from the environment
// variables named by --password-env/--totp-env, else asked on the
// terminal), else the session of the session file, else break-glass when
// asked for; otherwise kUnauthenticated. A wrong key is noted beside the
// vault (the vault file itself stays untouched) and enters the audit log at
// the next successful open.
Result<VaultPtr> OpenVault(const VaultOptions& o, const std::string& command);
// Opens the vault without establishing a user (enrolment, login): its
// principal is the key holder, or nobody on a vault with users.
Result<VaultPtr> OpenVaultUnauthenticated(const VaultOptions& o, const std::string& command);
// Who acts, as OpenVault establishes it, on an open vault.
Status EstablishPrincipal(const VaultOptions& o, vault::Vault& v);
// A secret from the variable named `env_name`, else asked on the terminal
// without echo (`prompt`). kInvalidArgument when neither is possible.
Result<std::string> ReadSecret(const std::string& env_name, const std::string& prompt);
// The session file: --session, CUSTOS_SESSION, or
// $XDG_STATE_HOME/custos/session-<vault id> (~/.local/state when unset).
std::string SessionFile(const VaultOptions& o, const vault::Vault& v);
// The session file for a server: --session, else
// $XDG_STATE_HOME/custos/server-session-<hash of the URL>.
std::string ServerSessionFile(const VaultOptions& o);
// Sends `req` to the server of --server, with the session of
// ServerSessionFile unless `signed_in` is false; wipes the body after.
Result<server::ClientResponse> SendToServer(const VaultOptions& o, server::ClientRequest req,
                                            bool signed_in);
// Calls the server of --server with the session of ServerSessionFile
// (unless `signed_in` is false) and returns its JSON answer; an error
// answer becomes the same error the command gives locally.
Result<json> ServerCall(const VaultOptions& o, const std::string& method, const std::string& path,
                        const json& body, bool signed_in = true);

// What `custos login` wrote to a session file: the user and the token.
struct SessionFileData {
  std::string user;
  std::string token;
};
// kInvalidArgument naming the file when it is not a session file.
Result<SessionFileData> ReadSessionFile(const std::string& path);
// The same without noting a refused attempt (for a second try with another key).
Result<VaultPtr> OpenVaultWith(const VaultOptions& o, const vault::KeySource& key);
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

// `custos COMMAND --server URL` (or CUSTOS_SERVER) for a command the
// server runs (api/commands.h): sends it and returns its exit status;
// nothing when no server was named or the command speaks to it itself.
std::optional<int> RunOnServerIfAsked(const CLI::App* app);

// Registration functions, one per command family (each in its own .cc).
void AddAuditCommands(CLI::App& app, std::vector<Command>& commands);
// Users, login, logout, training. Defined in people_cmd.cc.
void AddPeopleCommands(CLI::App& app, std::vector<Command>& commands);
// Prints a request a command made instead of running (what it will do, what
// it needs, and `run_again`, the command that runs it once approved).
// "Break-glass: the key was used without a user N times (audit entries
// A-B)." when it was; nothing otherwise.
void PrintBreakGlass(const vault::Vault::BreakGlassUses& uses);

void ReportNewRequest(const access::Request& q, bool as_json, const std::string& run_again);
// request list|show|cancel, approve. Defined in request_cmd.cc.
void AddRequestCommands(CLI::App& app, std::vector<Command>& commands);
void AddInventoryCommands(CLI::App& app, std::vector<Command>& commands);
// Transfer (issue: notices, consent, handover package): recipient, transfer,
// package and keys new-recipient commands. Defined in transfer_cmd.cc.
void AddTransferCommands(CLI::App& app, std::vector<Command>& commands);
// Retention, destruction, certificate, media, deregister. Defined in
// retention_cmd.cc.
void AddRetentionCommands(CLI::App& app, std::vector<Command>& commands);
// serve, unseal. Defined in serve_cmd.cc.
void AddServeCommands(CLI::App& app, std::vector<Command>& commands);

// A progress bar on standard error: done of total bytes.
void ProgressBar(uint64_t done, uint64_t total);
// Where a command reports its progress: the job's counters when it runs for
// the server, a bar when standard error is a terminal, else nowhere (null).
// `wanted`: false for --no-progress.
std::function<void(uint64_t done, uint64_t total)> ProgressSink(bool wanted = true);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_COMMON_H_
