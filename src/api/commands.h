// The CLI commands the server offers under /api/v1 (docs/server.md), as
// data: each route names the command it runs and how the members of a
// request map to the command's options. The server builds the command's
// arguments from a request with it; `custos CMD --server URL` builds the
// request from the parsed options with it; the OpenAPI document describes
// the routes from it. So one table keeps the three in step.
#ifndef CUSTOS_API_COMMANDS_H_
#define CUSTOS_API_COMMANDS_H_

#include <string>
#include <vector>

namespace custos::api {

enum class ParamKind {
  kText,     // a string: --flag=VALUE (or the positional named by `flag`)
  kInteger,  // a whole number: --flag=N
  kFlag,     // a boolean: --flag when true
  kList,     // strings: --flag=V once for each
  kSecret,   // a string the command would ask for (password, code):
             // never an argument, never logged
  kFile,     // a small text file's content (contract, receipt, checkpoint)
  kUpload,   // the request body itself (an export to import): streamed
  kOutFile,  // the command writes one file: the answer links to it
  kOutDir,   // the command writes a directory: the answer links each file
             // (for both: `help` names it in the spool; `required`: the
             // command always writes it; the member, if sent, is the name
             // the command's messages give it)
};

struct Param {
  std::string member;  // JSON member, query parameter or {path} segment
  std::string flag;    // "--purpose", or "PERSON" for a positional
  ParamKind kind = ParamKind::kText;
  bool required = false;
  std::string help;
};

struct CommandRoute {
  std::string method;   // GET, POST, PUT, DELETE
  std::string path;     // "/api/v1/transfers/{transfer}/notices"
  std::string command;  // "transfer notices"
  std::string summary;
  std::vector<Param> params;
  // Runs as a job (202 and GET /api/v1/jobs/{job}): long work that must
  // survive the client going away.
  bool job = false;
  // Needs a fresh one-time code in "totp" (step-up): clear reads.
  bool step_up = false;
  // Without a session (enrolment: the user has none yet).
  bool public_route = false;
  // Arguments always given ("--clear" for a clear read).
  std::vector<std::string> fixed;
  // The argument that asks the command for JSON ("--json"; inventory
  // takes "--format=json").
  std::string json_arg = "--json";
};

const std::vector<CommandRoute>& CommandRoutes();
// The routes that run `command` ("transfer plan"; "approve" has two).
std::vector<const CommandRoute*> RoutesForCommand(const std::string& command);

}  // namespace custos::api

#endif  // CUSTOS_API_COMMANDS_H_
