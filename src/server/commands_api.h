// The CLI's commands under /api/v1 (api/commands.h; docs/server.md): each
// route runs the very command `custos` runs locally, inside the server,
// on the server's vault as the session's user, so the answer is the
// command's own JSON (or, for `custos --server`, its own text). Files a
// command reads arrive in the request and are held in anonymous memory
// files (never on disk); files it writes are kept in the server's spool
// for their owner to download. Long commands run as jobs that outlive the
// request and are recorded, so a job the server did not finish (killed,
// crashed) is reported failed at the next start.
#ifndef CUSTOS_SERVER_COMMANDS_API_H_
#define CUSTOS_SERVER_COMMANDS_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "access/roles.h"
#include "api/commands.h"
#include "base/result.h"
#include "vault/vault.h"

namespace custos::server {

struct ApiRequest;
struct ApiResponse;
class VaultService;

// One run of a CLI command for the server (cli::RunEmbedded does it).
struct CommandRun {
  vault::Vault* vault = nullptr;               // the principal set
  std::vector<std::string> args;               // {"transfer", "plan", "--id=t1", ...}
  std::map<std::string, std::string> secrets;  // "@password" -> value
  std::atomic<uint64_t>* done = nullptr;       // progress, when a job
  std::atomic<uint64_t>* total = nullptr;
};
struct CommandOutcome {
  std::string out;  // what it printed
  std::string err;  // its warnings
  std::optional<Error> error;
};
using CommandRunner = std::function<CommandOutcome(CommandRun&)>;
// A command the server answers without the CLI, for speed (a clear read):
// given the request's members, checked as for the command (known members,
// the required ones given, text where text is due), it returns exactly the
// JSON the command prints with --json.
using NativeCommand = std::function<Result<nlohmann::ordered_json>(
    vault::Vault& vault, const nlohmann::ordered_json& members)>;

struct PreparedRun;  // a command's arguments and inputs (commands_api.cc)

class CommandsApi {
 public:
  // `state_dir` holds the spool (files to download) and the job records;
  // it is created (0700) and its spool emptied; jobs left running by a
  // server that stopped are marked failed.
  CommandsApi(VaultService& service, CommandRunner runner, std::string state_dir);
  ~CommandsApi();  // waits for running jobs

  // Runs `route` for a request whose session is `who` on `vault`.
  Result<ApiResponse> Run(const api::CommandRoute& route, const ApiRequest& req,
                          const std::map<std::string, std::string>& path_params,
                          vault::Vault& vault);
  // Answers `route` (not a job) with `native` instead of running the CLI,
  // unless the client asks for the command's text output.
  void SetNative(const api::CommandRoute& route, NativeCommand native);
  Result<ApiResponse> GetJob(const std::string& id, const access::Principal& who);
  Result<ApiResponse> Download(const std::string& id, const std::string& name,
                               const access::Principal& who);

 private:
  struct Job;
  Result<PreparedRun> Prepare(const api::CommandRoute& route, const ApiRequest& req,
                              const std::map<std::string, std::string>& path_params);
  ApiResponse Answer(const PreparedRun& p, const CommandOutcome& outcome, bool text) const;
  Result<ApiResponse> StartJob(const api::CommandRoute& route, std::shared_ptr<PreparedRun> p,
                               const access::Principal& who, bool text);
  void SaveJob(const Job& job);
  void SweepSpool();

  VaultService& service_;
  CommandRunner runner_;
  std::string state_dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::thread> threads_;
  std::map<const api::CommandRoute*, NativeCommand> natives_;
  std::atomic<int64_t> swept_at_{0};  // steady-clock seconds of the last sweep
};

}  // namespace custos::server

#endif  // CUSTOS_SERVER_COMMANDS_API_H_
