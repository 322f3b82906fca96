#include "server/api.h"

#include <sodium.h>

#include "access/sessions.h"
#include "access/training.h"
#include "api/commands.h"
#include "api/people_api.h"
#include "base/time.h"
#include "crypto/kdf.h"
#include "server/openapi.h"

namespace custos::server {
namespace {

constexpr int kLoginsPerMinute = 10;

void Wipe(std::string& s) { sodium_memzero(s.data(), s.size()); }

// The segments of a path, as views into it.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > at) out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

// Matches a path's segments against a template's; fills the {name}
// segments. (Templates are split once: this runs for every route of every
// request.)
bool Match(const std::vector<std::string_view>& t, const std::vector<std::string_view>& p,
           std::map<std::string, std::string>* out) {
  if (t.size() != p.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const bool param = t[i].size() > 2 && t[i].front() == '{' && t[i].back() == '}';
    if (!param && t[i] != p[i]) return false;
  }
  if (out != nullptr) {
    out->clear();
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].size() > 2 && t[i].front() == '{') {
        (*out)[std::string(t[i].substr(1, t[i].size() - 2))] = std::string(p[i]);
      }
    }
  }
  return true;
}

Result<json> BodyJson(const ApiRequest& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body, nullptr, false);
  if (!j.is_object()) return Fail(InvalidArgument("the request body must be one JSON object"));
  return j;
}

Result<std::string> StringMember(const json& j, const char* name, bool required = true) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return Fail(InvalidArgument(std::string("\"") + name + "\" is required"));
    return std::string();
  }
  if (!it->is_string())
    return Fail(InvalidArgument(std::string("\"") + name + "\" must be a string"));
  return it->get<std::string>();
}

ApiResponse Json(json body, unsigned status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

unsigned HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

ApiResponse ErrorResponse(const Error& e) {
  return Json({{"error",
                {{"code", ErrorCodeName(e.code())},
                 {"exit", ExitStatusFor(e.code())},
                 {"message", e.message()}}}},
              HttpStatusFor(e.code()));
}

namespace {

std::string OperationId(const api::CommandRoute& r) {
  std::string id;
  bool upper = false;
  std::string words = r.command;
  for (const std::string& f : r.fixed) words += " " + f.substr(2);
  for (char c : words) {
    if (c == ' ' || c == '-') {
      upper = true;
      continue;
    }
    id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return id;
}

json ParamSchema(const api::Param& p) {
  switch (p.kind) {
    case api::ParamKind::kInteger:
      return {{"type", "integer"}, {"minimum", 0}};
    case api::ParamKind::kFlag:
      return {{"type", "boolean"}};
    case api::ParamKind::kList:
      return {{"type", "array"}, {"items", {{"type", "string"}}}};
    default:
      return {{"type", "string"}};
  }
}

bool IsOutput(const api::Param& p) {
  return p.kind == api::ParamKind::kOutFile || p.kind == api::ParamKind::kOutDir;
}

// The OpenAPI operation of a command route.
json CommandOperation(const api::CommandRoute& r) {
  json op = {{"operationId", OperationId(r)},
             {"tags", json::array({r.command.substr(0, r.command.find(' '))})},
             {"summary", r.summary + " (as `custos " + r.command + " --json`)"},
             {"x-custos-command", r.command}};
  json params = json::array();
  json props = json::object();
  json required = json::array();
  bool upload = false;
  for (const api::Param& p : r.params) {
    const bool in_path = r.path.find("{" + p.member + "}") != std::string::npos;
    if (p.kind == api::ParamKind::kUpload) {
      upload = true;
      continue;
    }
    json schema = ParamSchema(p);
    if (p.kind == api::ParamKind::kOutFile || p.kind == api::ParamKind::kOutDir) {
      schema["description"] =
          "A name for the written file in messages (download it from "
          "\"downloads\")";
    }
    if (in_path || r.method == "GET" || upload) {
      params.push_back({{"name", p.member},
                        {"in", in_path ? "path" : "query"},
                        {"required", in_path || (p.required && !IsOutput(p))},
                        {"description", p.help},
                        {"schema", schema}});
      continue;
    }
    if (p.kind == api::ParamKind::kFile) schema["description"] = p.help + " (the file's text)";
    if (!schema.contains("description")) schema["description"] = p.help;
    props[p.member] = schema;
    if (p.required && !IsOutput(p)) required.push_back(p.member);
  }
  if (r.step_up) {
    // Both, or neither when the session stepped up in the last minutes.
    props["password"] = {{"type", "string"},
                         {"description",
                          "Your password (step-up for this call; not needed after "
                          "POST /api/v1/sessions/current/step-up)"}};
    props["totp"] = {{"type", "string"}, {"description", "A fresh one-time code (step-up)"}};
    op["description"] =
        "Needs a step-up: either this session stepped up in the last 5 minutes "
        "(POST /api/v1/sessions/current/step-up), or \"password\" and \"totp\" sent here.";
  }
  if (upload) {
    params.push_back({{"name", "filename"},
                      {"in", "query"},
                      {"required", false},
                      {"description", "The file's name (its extension tells the format)"},
                      {"schema", {{"type", "string"}}}});
    op["requestBody"] = {
        {"required", true},
        {"content",
         {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
          {"text/csv", {{"schema", {{"type", "string"}}}}}}}};
  } else if (r.method != "GET" && !props.empty()) {
    json schema = {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
    if (!required.empty()) schema["required"] = required;
    op["requestBody"] = {{"required", !required.empty()},
                         {"content", {{"application/json", {{"schema", schema}}}}}};
  }
  if (!params.empty()) op["parameters"] = params;
  json ok = {
      {"description", "The command's JSON answer; files it wrote in \"downloads\""},
      {"content",
       {{"application/json", {{"schema", {{"$ref", "#/components/schemas/CommandAnswer"}}}}}}}};
  json responses = json::object();
  if (r.job) {
    responses["202"] = {{"$ref", "#/components/responses/JobStarted"}};
  } else {
    responses["200"] = ok;
  }
  for (const char* code : {"400", "401", "403", "404", "409"}) {
    static const std::map<std::string, std::string> refs = {{"400", "InvalidArgument"},
                                                            {"401", "Unauthenticated"},
                                                            {"403", "PermissionDenied"},
                                                            {"404", "NotFound"},
                                                            {"409", "FailedPrecondition"}};
    responses[code] = {{"$ref", "#/components/responses/" + refs.at(code)}};
  }
  op["responses"] = responses;
  if (r.public_route) op["security"] = json::array();
  return op;
}

std::string BuildOpenApiDocument() {
  json doc = json::parse(internal::kOpenApiJson);
  for (const api::CommandRoute& r : api::CommandRoutes()) {
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    doc["paths"][r.path][method] = CommandOperation(r);
  }
  return doc.dump(1) + "\n";
}

}  // namespace

std::string_view OpenApiDocument() {
  static const std::string doc = BuildOpenApiDocument();
  return doc;
}

std::string CsrfTokenFor(std::string_view session_token) {
  return crypto::Sha256Hex(AsBytes("custos-csrf/v1\n" + std::string(session_token))).substr(0, 32);
}

Api::Api(VaultService& service) : service_(service) { AddRoutes(); }

Api::~Api() = default;

bool Api::IsUpload(const std::string& method, const std::string& path) const {
  const auto p = Segments(path);
  for (const auto& [m, t] : upload_routes_) {
    if (m == method && Match(t, p, nullptr)) return true;
  }
  return false;
}

void Api::ServeCommands(CommandRunner runner, const std::string& state_dir) {
  commands_ = std::make_unique<CommandsApi>(service_, std::move(runner), state_dir);
  spool_dir_ = state_dir + "/spool";
  // Clear reads come in runs (a person checking files): answered here, as
  // `custos show --clear --json` would, without building the CLI each time.
  for (const api::CommandRoute& r : api::CommandRoutes()) {
    if (r.command != "show") continue;
    commands_->SetNative(r, [](vault::Vault& vault, const json& in) -> Result<json> {
      workflow::PersonSelector sel;
      sel.person_id = in.at("person").get<std::string>();
      workflow::ReadOptions read;
      read.clear = true;
      read.purpose = in.at("purpose").get<std::string>();
      if (auto g = in.find("legal_ground"); g != in.end() && g->is_string()) {
        read.legal_ground = g->get<std::string>();
      }
      return api::ShowPersonJson(vault, sel, read);
    });
  }
}

Result<ApiResponse> Api::RunCommand(const api::CommandRoute& route, Context& ctx) {
  if (!commands_) return Fail(Unavailable("this server does not run commands"));
  if (!route.step_up) return commands_->Run(route, ctx.req, ctx.params, *ctx.vault);
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  if (!body.contains("password") && !body.contains("totp")) {
    // A session stepped up in the last few minutes needs no new proof.
    if (ctx.vault->principal().stepped_up_until > NowUnixSeconds()) {
      return commands_->Run(route, ctx.req, ctx.params, *ctx.vault);
    }
    return Fail(ctx.vault
                    ->Refuse("user.step_up", {{"route", route.path}},
                             Unauthenticated("this call needs a step-up: POST "
                                             "/api/v1/sessions/current/step-up with your password "
                                             "and a fresh one-time code (it lasts " +
                                             std::to_string(access::kStepUpSeconds / 60) +
                                             " minutes), or send them here as \"password\" and "
                                             "\"totp\""))
                    .error());
  }
  // Step-up for this call alone: the password and a fresh one-time code.
  access::Credentials c;
  c.user = ctx.vault->principal().user;
  ASSIGN_OR_RETURN(c.password, StringMember(body, "password"));
  ASSIGN_OR_RETURN(c.totp_code, StringMember(body, "totp"));
  body.erase("password");
  body.erase("totp");
  auto who = access::Authenticate(*ctx.vault, c, "user.step_up");
  Wipe(c.password);
  if (!who) return Fail(who.error());
  ctx.vault->set_principal(who->principal);
  ApiRequest rest = ctx.req;
  rest.body = body.dump();
  return commands_->Run(route, rest, ctx.params, *ctx.vault);
}

Result<ApiResponse> Api::StartQuiz(Context& ctx) {
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  if (!body.empty()) return Fail(InvalidArgument("this call takes no members"));
  ASSIGN_OR_RETURN(access::Quiz quiz, access::StartQuiz(*ctx.vault));
  ASSIGN_OR_RETURN(access::Course course, access::CurrentCourse(*ctx.vault));
  return Json(access::QuizToJson(quiz, course), 201);
}

Result<ApiResponse> Api::AnswerQuiz(Context& ctx) {
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  auto given = body.find("answers");
  if (given == body.end() || !given->is_array()) {
    return Fail(InvalidArgument("\"answers\" is required: an array, one answer per question"));
  }
  std::vector<int> answers;
  int n = 0;
  for (const json& a : *given) {
    ++n;
    if (a.is_number_unsigned()) {  // an index; out of range is refused by the quiz
      answers.push_back(a.get<uint64_t>() > 1000 ? -1 : a.get<int>());
    } else if (a.is_string()) {
      // The letter shown with the choice; its range is checked by the quiz.
      ASSIGN_OR_RETURN(int i, access::ChoiceIndex(a.get<std::string>(), 26, n));
      answers.push_back(i);
    } else {
      return Fail(InvalidArgument("answer " + std::to_string(n) + " must be a letter or an index"));
    }
  }
  ASSIGN_OR_RETURN(access::Attempt a, access::AnswerQuiz(*ctx.vault, ctx.params["quiz"], answers));
  return Json(access::QuizResultToJson(a));
}

Result<ApiResponse> Api::StepUp(Context& ctx) {
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  access::Credentials c;
  ASSIGN_OR_RETURN(c.password, StringMember(body, "password"));
  ASSIGN_OR_RETURN(c.totp_code, StringMember(body, "totp"));
  auto who = access::StepUpSession(*ctx.vault, ctx.token, std::move(c));
  if (!who) return Fail(who.error());
  // The next request reads the session again, stepped up.
  service_.Forget(ctx.token);
  return Json({{"user", who->user},
               {"session", who->session},
               {"stepped_up_until", FormatRfc3339(who->stepped_up_until)},
               {"valid_s", access::kStepUpSeconds}});
}

void Api::AddRoutes() {
  auto bind = [this](Result<ApiResponse> (Api::*f)(Context&)) {
    return [this, f](Context& c) { return (this->*f)(c); };
  };
  routes_ = {
      {"GET", "/healthz", Needs::kNothing,
       [this](Context&) -> Result<ApiResponse> {
         return Json({{"status", "ok"}, {"sealed", service_.sealed()}});
       }},
      {"GET", "/api/v1/openapi.json", Needs::kNothing,
       [](Context&) -> Result<ApiResponse> {
         ApiResponse r;
         r.raw = std::string(OpenApiDocument());
         r.content_type = "application/json; charset=utf-8";
         return r;
       }},
      {"GET", "/api/v1/unseal", Needs::kNothing,
       [this](Context&) -> Result<ApiResponse> {
         const auto p = service_.progress();
         return Json({{"sealed", p.sealed}, {"have", p.have}, {"need", p.need}});
       }},
      {"POST", "/api/v1/unseal", Needs::kNothing, bind(&Api::Unseal)},
      {"POST", "/api/v1/sessions", Needs::kUnsealed, bind(&Api::Login)},
      {"DELETE", "/api/v1/sessions/current", Needs::kSession, bind(&Api::Logout)},
      {"POST", "/api/v1/sessions/current/step-up", Needs::kSession, bind(&Api::StepUp)},
      {"POST", "/api/v1/training/quizzes", Needs::kSession, bind(&Api::StartQuiz)},
      {"POST", "/api/v1/training/quizzes/{quiz}/answers", Needs::kSession, bind(&Api::AnswerQuiz)},
      {"GET", "/api/v1/me", Needs::kSession, bind(&Api::Me)},
      // POST: an identifier never travels in a URL (proxies log URLs).
      {"POST", "/api/v1/persons/search", Needs::kSession, bind(&Api::FindPersons)},
      {"GET", "/api/v1/persons/{person}", Needs::kSession, bind(&Api::ShowPerson)},
      {"GET", "/api/v1/jobs/{job}", Needs::kSession,
       [this](Context& c) -> Result<ApiResponse> {
         if (!commands_) return Fail(NotFound("no jobs on this server"));
         return commands_->GetJob(c.params["job"], c.vault->principal());
       }},
      {"GET", "/api/v1/downloads/{download}/{name}", Needs::kSession,
       [this](Context& c) -> Result<ApiResponse> {
         if (!commands_) return Fail(NotFound("no downloads on this server"));
         return commands_->Download(c.params["download"], c.params["name"], c.vault->principal());
       }},
  };
  for (const api::CommandRoute& r : api::CommandRoutes()) {
    routes_.push_back({r.method, r.path, r.public_route ? Needs::kUnsealed : Needs::kSession,
                       [this, &r](Context& c) { return RunCommand(r, c); }});
    for (const api::Param& p : r.params) {
      if (p.kind == api::ParamKind::kUpload) upload_routes_.push_back({r.method, Segments(r.path)});
    }
  }
  // Views into the routes' own strings, which stay put from here on.
  for (Route& route : routes_) route.segments = Segments(route.path);
}

std::vector<std::string> Api::RouteList() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.method + " " + r.path);
  return out;
}

ApiResponse Api::Handle(const ApiRequest& req, RequestLog& log) {
  const auto path = Segments(req.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!Match(route.segments, path, &params)) continue;
    path_known = true;
    if (route.method != req.method) continue;
    log.route = route.path;
    Context ctx{req, std::move(params), nullptr, ""};
    Result<ApiResponse> r = Dispatch(route, ctx, log);
    return r ? std::move(*r) : ErrorResponse(r.error());
  }
  log.route = path_known ? "(method not allowed)" : "(no route)";
  if (path_known) {
    ApiResponse r = ErrorResponse(InvalidArgument(req.method + " is not allowed on this path"));
    r.status = 405;
    std::string allow;
    for (const Route& route : routes_) {
      if (Match(route.segments, path, nullptr)) allow += (allow.empty() ? "" : ", ") + route.method;
    }
    r.headers.push_back({"Allow", allow});
    return r;
  }
  ApiResponse r = ErrorResponse(NotFound("no such endpoint (see /api/v1/openapi.json)"));
  return r;
}

Result<ApiResponse> Api::Dispatch(const Route& route, Context& ctx, RequestLog& log) {
  if (route.needs == Needs::kNothing) return route.handler(ctx);
  ASSIGN_OR_RETURN(ctx.vault, service_.Handle());
  if (route.needs == Needs::kUnsealed) return route.handler(ctx);
  const ApiRequest& req = ctx.req;
  ctx.token = !req.bearer.empty() ? req.bearer : req.cookie_token;
  if (ctx.token.empty()) {
    return Fail(
        Unauthenticated("sign in first: POST /api/v1/sessions, then send the token as "
                        "Authorization: Bearer TOKEN"));
  }
  // A browser's cookie rides along on any request: unsafe methods must also
  // show the CSRF token that only the page that signed in has.
  if (req.bearer.empty() && req.method != "GET" && req.method != "HEAD" &&
      req.csrf != CsrfTokenFor(ctx.token)) {
    return Fail(PermissionDenied("missing or wrong X-CSRF-Token for a cookie session"));
  }
  ASSIGN_OR_RETURN(access::Principal who, service_.Resume(*ctx.vault, ctx.token));
  log.user = who.user;
  ctx.vault->set_principal(std::move(who));
  return route.handler(ctx);
}

bool Api::AllowLogin(const std::string& peer) {
  std::lock_guard lock(throttle_mu_);
  const auto now = std::chrono::steady_clock::now();
  auto& [start, count] = logins_[peer];
  if (now - start > std::chrono::minutes(1)) {
    start = now;
    count = 0;
  }
  return ++count <= kLoginsPerMinute;
}

Result<ApiResponse> Api::Unseal(Context& ctx) {
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  ASSIGN_OR_RETURN(std::string share, StringMember(body, "share"));
  auto progress = service_.AddShare(AsBytes(share));
  Wipe(share);
  if (!progress) return Fail(progress.error());
  return Json({{"sealed", progress->sealed}, {"have", progress->have}, {"need", progress->need}});
}

Result<ApiResponse> Api::Login(Context& ctx) {
  if (!AllowLogin(ctx.req.peer)) {
    ApiResponse r =
        ErrorResponse(Unavailable("too many sign-in attempts from this address: wait a minute"));
    r.status = 429;
    r.headers.push_back({"Retry-After", "60"});
    return r;
  }
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  access::Credentials c;
  ASSIGN_OR_RETURN(c.user, StringMember(body, "user"));
  ASSIGN_OR_RETURN(c.password, StringMember(body, "password"));
  ASSIGN_OR_RETURN(c.totp_code, StringMember(body, "totp"));
  auto who = access::Authenticate(*ctx.vault, c);
  Wipe(c.password);
  if (!who) return Fail(who.error());
  ASSIGN_OR_RETURN(std::string token, access::StartSession(*ctx.vault, *who));
  ApiResponse r = Json({{"user", who->principal.user},
                        {"name", who->principal.name},
                        {"roles", who->principal.roles.Names()},
                        {"trained", who->principal.trained},
                        {"token", token},
                        {"csrf_token", CsrfTokenFor(token)},
                        {"idle_timeout_seconds", access::kSessionIdleSeconds},
                        {"max_age_seconds", access::kSessionMaxSeconds}},
                       201);
  r.personal = true;  // a token: never cached
  r.headers.push_back({"Set-Cookie", "custos_session=" + token +
                                         "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" +
                                         std::to_string(access::kSessionMaxSeconds)});
  return r;
}

Result<ApiResponse> Api::Logout(Context& ctx) {
  service_.Forget(ctx.token);
  RETURN_IF_ERROR(access::EndSession(*ctx.vault, ctx.token));
  ApiResponse r = Json({{"ended", true}});
  r.headers.push_back(
      {"Set-Cookie", "custos_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"});
  return r;
}

Result<ApiResponse> Api::Me(Context& ctx) {
  const access::Principal& p = ctx.vault->principal();
  return Json({{"user", p.user},
               {"name", p.name},
               {"roles", p.roles.Names()},
               {"trained", p.trained},
               {"vault", ctx.vault->IdHex()},
               {"stepped_up_until", p.stepped_up_until > NowUnixSeconds()
                                        ? json(FormatRfc3339(p.stepped_up_until))
                                        : json(nullptr)}});
}

Result<ApiResponse> Api::FindPersons(Context& ctx) {
  ASSIGN_OR_RETURN(json body, BodyJson(ctx.req));
  workflow::PersonSelector sel;
  ASSIGN_OR_RETURN(sel.id_number, StringMember(body, "id_number", false));
  ASSIGN_OR_RETURN(sel.mobile, StringMember(body, "mobile", false));
  ASSIGN_OR_RETURN(sel.email, StringMember(body, "email", false));
  ASSIGN_OR_RETURN(json found, api::FindPeopleJson(*ctx.vault, sel));
  ApiResponse r = Json(std::move(found));
  r.personal = true;
  return r;
}

Result<ApiResponse> Api::ShowPerson(Context& ctx) {
  workflow::PersonSelector sel;
  sel.person_id = ctx.params["person"];
  ASSIGN_OR_RETURN(json shown, api::ShowPersonJson(*ctx.vault, sel, {}));
  ApiResponse r = Json(std::move(shown));
  r.personal = true;
  return r;
}

}  // namespace custos::server
