// `custos COMMAND --server URL`: the command sent to `custos serve`, which
// runs the same command as the signed-in user (api/commands.h maps its
// options to the request); what the server's command printed is printed
// here, files it wrote are downloaded where the options said.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "api/commands.h"
#include "base/file.h"
#include "cli/common.h"
#include "server/client.h"

namespace custos::cli {
namespace {

// "transfer plan" for the app of `custos transfer plan`.
std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

const CLI::Option* Given(const CLI::App* app, const std::string& name) {
  const CLI::Option* opt = app->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0 ? opt : nullptr;
}

std::string Value(const CLI::App* app, const std::string& name) {
  const CLI::Option* opt = app->get_option_no_throw(name);
  if (opt == nullptr) return "";
  if (opt->count() > 0) return opt->results().back();
  if (!opt->get_envname().empty()) {
    if (const char* v = std::getenv(opt->get_envname().c_str()); v != nullptr) return v;
  }
  return "";
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80             ? 0
                     : (c & 0xE0) == 0xC0 ? 1
                     : (c & 0xF0) == 0xE0 ? 2
                     : (c & 0xF8) == 0xF0 ? 3
                                          : 4;
    if (n == 4 || (n > 0 && i + n >= s.size())) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string PercentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The route for the options given: one whose fixed flags were all given.
const api::CommandRoute* PickRoute(const CLI::App* app, const std::string& command) {
  const api::CommandRoute* best = nullptr;
  for (const api::CommandRoute* r : api::RoutesForCommand(command)) {
    const bool all = std::all_of(r->fixed.begin(), r->fixed.end(),
                                 [&](const std::string& f) { return Given(app, f) != nullptr; });
    if (all && (best == nullptr || r->fixed.size() > best->fixed.size())) best = r;
  }
  return best;
}

struct Call {
  server::ClientRequest req;
  std::vector<std::pair<const api::Param*, std::string>> outputs;  // local paths
};

// An option given that the route does not carry: refused rather than
// dropped (the server would run something else than was asked).
Status CheckCarried(const CLI::App* app, const api::CommandRoute& route) {
  // (--vault and --wait may come from CUSTOS_VAULT, CUSTOS_WAIT: not the server's concern.)
  static const std::set<std::string> kLocal = {"--server", "--ca-cert", "--session",
                                               "--json",   "--vault",   "--no-progress",
                                               "--wait",   "--actor",   "--help"};
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->count() == 0) continue;
    const std::string name = opt->get_name();
    const bool carried =
        kLocal.count(name) > 0 ||
        std::any_of(route.params.begin(), route.params.end(),
                    [&](const api::Param& p) { return opt->check_name(p.flag); }) ||
        std::any_of(route.fixed.begin(), route.fixed.end(),
                    [&](const std::string& f) { return opt->check_name(f); });
    if (!carried) {
      return Fail(InvalidArgument(name + " is not sent to a server (the server keeps the key and "
                                         "knows who you are): leave it out"));
    }
  }
  return Ok();
}

// The request for `route` from the options given to `app`.
Result<Call> BuildCall(const VaultOptions& o, const CLI::App* app, const api::CommandRoute& route,
                       bool as_json) {
  Call call;
  json body = json::object();
  std::string path = route.path;
  std::string query;
  const bool upload = std::any_of(route.params.begin(), route.params.end(),
                                  [](const auto& p) { return p.kind == api::ParamKind::kUpload; });
  const bool signed_statement = Given(app, "--statement") != nullptr;
  for (const api::Param& p : route.params) {
    const CLI::Option* opt = Given(app, p.flag);
    json value;
    switch (p.kind) {
      case api::ParamKind::kUpload:
        call.req.body_file = Value(app, p.flag);
        query += "&filename=" + PercentEncode(call.req.body_file);
        continue;
      case api::ParamKind::kOutFile:
      case api::ParamKind::kOutDir:
        if (opt == nullptr) continue;
        call.outputs.push_back({&p, Value(app, p.flag)});
        value = Value(app, p.flag);
        break;
      case api::ParamKind::kFlag:
        if (opt == nullptr) continue;
        value = true;
        break;
      case api::ParamKind::kList: {
        if (opt == nullptr) continue;
        value = json::array();
        for (const std::string& s : opt->results()) value.push_back(s);
        break;
      }
      case api::ParamKind::kSecret: {
        // Asked here, as locally, and sent to the server only.
        if (opt == nullptr && signed_statement) continue;
        if (opt == nullptr && route.command != "approve" && !p.required) continue;
        const std::string prompt = p.member == "totp" ? "One-time code" : p.help;
        ASSIGN_OR_RETURN(std::string secret, ReadSecret(Value(app, p.flag), prompt));
        value = std::move(secret);
        break;
      }
      case api::ParamKind::kFile: {
        if (opt == nullptr) continue;
        ASSIGN_OR_RETURN(std::string text, ReadFile(Value(app, p.flag)));
        if (!ValidUtf8(text)) {
          value = {{"base64", Base64Encode(AsBytes(text))}};
        } else {
          value = std::move(text);
        }
        break;
      }
      case api::ParamKind::kInteger:
        if (opt == nullptr) continue;
        value = std::stoull(Value(app, p.flag));
        break;
      case api::ParamKind::kText:
        if (opt == nullptr) continue;
        value = Value(app, p.flag);
        break;
    }
    const std::string slot = "{" + p.member + "}";
    if (const size_t at = path.find(slot); at != std::string::npos) {
      path.replace(at, slot.size(),
                   PercentEncode(value.is_string() ? value.get<std::string>() : value.dump()));
    } else if (route.method == "GET" || upload) {
      query += "&" + p.member + "=" +
               PercentEncode(value.is_string() ? value.get<std::string>() : value.dump());
    } else {
      body[p.member] = std::move(value);
    }
  }
  std::string url = o.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  call.req.method = route.method;
  call.req.url = url + path + (query.empty() ? "" : "?" + query.substr(1));
  call.req.ca_cert = o.ca_cert;
  if (!upload && route.method != "GET" && !body.empty()) call.req.body = body.dump();
  if (!as_json) call.req.headers.push_back({"X-Custos-Output", "text"});
  return call;
}

// Waits for a job, showing its progress on a terminal; returns the answer
// the command would have given.
Result<server::ClientResponse> AwaitJob(const VaultOptions& o, const std::string& href) {
  const bool tty = isatty(STDERR_FILENO);
  for (;;) {
    server::ClientRequest poll;
    poll.url = o.server + href;
    poll.ca_cert = o.ca_cert;
    ASSIGN_OR_RETURN(server::ClientResponse r, SendToServer(o, poll, true));
    if (r.status != 200) return r;
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return Fail(Internal("the server's answer is not JSON"));
    if (tty) ProgressBar(j["progress"].value("done", 0), j["progress"].value("total", 0));
    if (j.value("state", "") != "running") {
      server::ClientResponse done;
      done.status = j.value("status", 500u);
      done.body = j["answer"].dump();
      return done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status Download(const VaultOptions& o, const json& downloads,
                const std::vector<std::pair<const api::Param*, std::string>>& outputs) {
  for (const auto& [param, local] : outputs) {
    if (param->kind == api::ParamKind::kOutDir) {
      if (::mkdir(local.c_str(), 0700) != 0 && errno != EEXIST) {
        return Fail(Unavailable("cannot create directory " + local));
      }
    }
    for (auto it = downloads.begin(); it != downloads.end(); ++it) {
      server::ClientRequest get;
      get.url = o.server + it.value().get<std::string>();
      get.ca_cert = o.ca_cert;
      get.save_to = param->kind == api::ParamKind::kOutDir ? local + "/" + it.key() : local;
      ASSIGN_OR_RETURN(server::ClientResponse r, SendToServer(o, get, true));
      if (r.status != 200) return Fail(server::ErrorFromResponse(r));
      ::chmod(get.save_to.c_str(), 0600);
      if (param->kind == api::ParamKind::kOutFile) break;
    }
  }
  return Ok();
}

// `reported`: the command's own report was printed before its error.
Status RunRemote(const VaultOptions& o, const CLI::App* app, const api::CommandRoute& route,
                 bool& reported) {
  const bool as_json = Given(app, "--json") != nullptr;
  RETURN_IF_ERROR(CheckCarried(app, route));
  ASSIGN_OR_RETURN(Call call, BuildCall(o, app, route, as_json));
  ASSIGN_OR_RETURN(server::ClientResponse r, SendToServer(o, call.req, !route.public_route));
  if (r.status == 202) {
    const json started = json::parse(r.body, nullptr, false);
    if (started.is_discarded()) return Fail(Internal("the server's answer is not JSON"));
    ASSIGN_OR_RETURN(r, AwaitJob(o, started["job"].value("href", "")));
  }
  json answer = json::parse(r.body, nullptr, false);
  if (r.status < 200 || r.status > 299) {
    const json error = answer.is_object() ? answer.value("error", json::object()) : json::object();
    Out() << error.value("stdout", "");
    Err() << error.value("stderr", "");
    // Printed its report, then failed: the error line alone follows.
    reported = error.contains("stdout");
    return Fail(server::ErrorFromResponse(r));
  }
  if (answer.is_discarded()) return Fail(Internal("the server's answer is not JSON"));
  if (answer.is_object() && answer.contains("downloads")) {
    RETURN_IF_ERROR(Download(o, answer["downloads"], call.outputs));
    answer.erase("downloads");
    if (answer.size() == 1 && answer.contains("result")) answer = answer["result"];
  }
  if (!as_json || answer.contains("stdout")) {
    Out() << answer.value("stdout", "");
    Err() << answer.value("stderr", "");
  } else if (answer.is_object() && answer.size() == 1 && answer.contains("text")) {
    Out() << answer["text"].get<std::string>();
  } else {
    PrintJson(answer);
  }
  return Ok();
}

}  // namespace

std::optional<int> RunOnServerIfAsked(const CLI::App* app) {
  const std::string command = CommandPath(app);
  // These speak to a server by themselves.
  for (const char* own :
       {"login", "logout", "step-up", "find", "show", "serve", "unseal", "training take"}) {
    if (command == own) return std::nullopt;
  }
  VaultOptions o;
  o.server = Value(app, "--server");
  if (o.server.empty()) return std::nullopt;
  o.ca_cert = Value(app, "--ca-cert");
  o.session = Value(app, "--session");
  const bool as_json = Given(app, "--json") != nullptr;
  const api::CommandRoute* route = PickRoute(app, command);
  if (route == nullptr) {
    return Report(InvalidArgument(command + " is not served through --server: run it on the vault"),
                  as_json);
  }
  bool reported = false;
  Status st = RunRemote(o, app, *route, reported);
  if (!st) return Report(st.error(), as_json && !reported);
  return 0;
}

}  // namespace custos::cli
