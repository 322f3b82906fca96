// The JSON API under /api/v1 (docs/server.md): routes, sessions, and the
// mapping of Custos errors to HTTP statuses. Transport-free: the HTTP
// layer (http_server.h) hands it an ApiRequest and sends the ApiResponse,
// so tests and the router share one path.
#ifndef CUSTOS_SERVER_API_H_
#define CUSTOS_SERVER_API_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/sealed_file.h"
#include "server/commands_api.h"
#include "server/service.h"

namespace custos::server {

using json = nlohmann::ordered_json;

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string body;
  std::string bearer;        // Authorization: Bearer ...
  std::string cookie_token;  // the custos_session cookie
  std::string csrf;          // X-CSRF-Token
  std::string peer;          // remote address, for login throttling
  std::string output;        // X-Custos-Output: "text" for the CLI's own text
  // An upload route's body as it was streamed: a workbook in a memory file,
  // anything else sealed on disk (server/upload_body.h).
  int upload_fd = -1;
  std::shared_ptr<const SealedFile> upload_sealed;
};

struct ApiResponse {
  unsigned status = 200;
  json body;                 // sent as JSON unless `raw` is set
  std::string raw;           // a body sent as is (the OpenAPI document)
  std::string content_type;  // for `raw` and `file`
  std::string file;          // a file sent as the body (a download)
  std::vector<std::pair<std::string, std::string>> headers;
  bool personal = false;  // holds personal data: Cache-Control no-store
};

// What the request log line names: the route template, never the path
// (which can hold a person id), and the user.
struct RequestLog {
  std::string route;
  std::string user;
};

// The HTTP status for an error code: invalid_argument 400, unauthenticated
// 401, permission_denied 403, not_found 404, already_exists and
// failed_precondition 409, unavailable 503, data_loss and internal 500.
unsigned HttpStatusFor(ErrorCode code);
// {"error": {"code", "exit", "message"}} with the CLI's code name and exit
// status.
ApiResponse ErrorResponse(const Error& e);

class Api {
 public:
  explicit Api(VaultService& service);
  ~Api();
  ApiResponse Handle(const ApiRequest& req, RequestLog& log);
  // Serves the CLI's commands (api/commands.h) with `runner`, keeping
  // downloads and job records in `state_dir`.
  void ServeCommands(CommandRunner runner, const std::string& state_dir);
  // Where uploads are sealed while they wait for their command ("" before
  // ServeCommands: $TMPDIR).
  std::string SpoolDir() const { return spool_dir_; }
  // Whether METHOD PATH takes a file as its body (an upload: streamed).
  bool IsUpload(const std::string& method, const std::string& path) const;

  // The routes, for the OpenAPI test: "METHOD /template".
  std::vector<std::string> RouteList() const;

 private:
  struct Context {
    const ApiRequest& req;
    std::map<std::string, std::string> params;  // from the path template
    vault::Vault* vault = nullptr;              // with the session's principal
    std::string token;
  };
  using Handler = std::function<Result<ApiResponse>(Context&)>;
  enum class Needs { kNothing, kUnsealed, kSession };
  struct Route {
    std::string method;
    std::string path;  // template: "/api/v1/persons/{person}"
    Needs needs;
    Handler handler;
    std::vector<std::string_view> segments = {};  // of `path`
  };
  void AddRoutes();
  Result<ApiResponse> Dispatch(const Route& route, Context& ctx, RequestLog& log);
  bool AllowLogin(const std::string& peer);

  Result<ApiResponse> Login(Context& ctx);
  Result<ApiResponse> Logout(Context& ctx);
  Result<ApiResponse> StepUp(Context& ctx);
  Result<ApiResponse> StartQuiz(Context& ctx);
  Result<ApiResponse> AnswerQuiz(Context& ctx);
  Result<ApiResponse> Me(Context& ctx);
  Result<ApiResponse> Unseal(Context& ctx);
  Result<ApiResponse> FindPersons(Context& ctx);
  Result<ApiResponse> ShowPerson(Context& ctx);
  Result<ApiResponse> RunCommand(const api::CommandRoute& route, Context& ctx);

  VaultService& service_;
  std::unique_ptr<CommandsApi> commands_;
  std::string spool_dir_;
  std::vector<Route> routes_;
  // METHOD and template segments of the routes that take an upload.
  std::vector<std::pair<std::string, std::vector<std::string_view>>> upload_routes_;
  std::mutex throttle_mu_;
  // peer -> (window start, attempts in it)
  std::unordered_map<std::string, std::pair<std::chrono::steady_clock::time_point, int>> logins_;
};

// The OpenAPI 3.1 document of this API (data/api/openapi.json).
std::string_view OpenApiDocument();

// The CSRF token of a session token (what a browser must echo in
// X-CSRF-Token on unsafe methods when it authenticates by cookie).
std::string CsrfTokenFor(std::string_view session_token);

}  // namespace custos::server

#endif  // CUSTOS_SERVER_API_H_
