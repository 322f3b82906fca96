#include "server/commands_api.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/bytes.h"
#include "base/file.h"
#include "base/sealed_file.h"
#include "base/time.h"
#include "crypto/random.h"
#include "server/api.h"
#include "server/service.h"

namespace custos::server {
namespace {

namespace fs = std::filesystem;
using api::ParamKind;

constexpr std::chrono::hours kSpoolKeep{1};

std::string NewId() {
  uint8_t bytes[12];
  crypto::RandomFill(bytes);
  return HexEncode(bytes);
}

// Error text from this layer names the member, not the route's flag.
Error MemberError(const std::string& member, const std::string& what) {
  return InvalidArgument("\"" + member + "\" " + what);
}

bool IsPositional(const api::Param& p) { return !p.flag.starts_with("-"); }

std::string FlagArg(const api::Param& p, const std::string& value) { return p.flag + "=" + value; }

// An anonymous memory file holding `content`: never on a file system, gone
// with its last descriptor. Returns the descriptor.
Result<int> MemoryFile(const std::string& name, std::string_view content) {
  const int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return Fail(Unavailable(std::string("memfd_create: ") + std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Fail(
          Unavailable("cannot hold the upload in memory: " + std::string(std::strerror(errno))));
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") base = "upload";
  return base;
}

// A value of the request as the string the command's option takes.
Result<std::string> Scalar(const api::Param& p, const json& v) {
  if (p.kind == ParamKind::kInteger) {
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_string() && !v.get<std::string>().empty() &&
        v.get<std::string>().find_first_not_of("0123456789") == std::string::npos) {
      return v.get<std::string>();
    }
    return Fail(MemberError(p.member, "must be a whole number"));
  }
  if (!v.is_string()) return Fail(MemberError(p.member, "must be a string"));
  return v.get<std::string>();
}

Result<bool> Boolean(const api::Param& p, const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "1")) return true;
  if (v.is_string() && (v == "false" || v == "0")) return false;
  return Fail(MemberError(p.member, "must be true or false"));
}

}  // namespace

// A command's arguments and inputs, ready to run.
struct PreparedRun {
  std::vector<std::string> args;
  std::map<std::string, std::string> secrets;
  std::vector<int> fds;
  std::string dir;      // spool/<id>: outputs (and the upload's name)
  std::string id;       // the download id
  std::string out_dir;  // dir/out, when the command writes files
  std::vector<std::pair<std::string, std::string>> renames;  // in messages
  std::vector<std::string> sealed_names;                     // uploads held sealed
  PreparedRun() = default;
  PreparedRun(PreparedRun&&) = default;
  PreparedRun& operator=(PreparedRun&&) = default;
  ~PreparedRun() {
    for (int fd : fds) ::close(fd);
    for (const std::string& name : sealed_names) UnnameSealedFile(name);
    for (auto& [k, v] : secrets) std::fill(v.begin(), v.end(), '\0');
  }
};

struct CommandsApi::Job {
  std::string id;
  std::string owner;
  std::string command;
  std::string state = "running";  // running, succeeded, failed
  std::string started;
  std::string finished;
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
  json answer;  // the command's answer, once finished
  unsigned status = 0;
};

CommandsApi::CommandsApi(VaultService& service, CommandRunner runner, std::string state_dir)
    : service_(service), runner_(std::move(runner)), state_dir_(std::move(state_dir)) {
  std::error_code ec;
  for (const char* sub : {"", "/spool", "/jobs"}) {
    fs::create_directories(state_dir_ + sub, ec);
    ::chmod((state_dir_ + sub).c_str(), 0700);
  }
  // What a previous server left to download went with it.
  fs::remove_all(state_dir_ + "/spool", ec);
  fs::create_directories(state_dir_ + "/spool", ec);
  ::chmod((state_dir_ + "/spool").c_str(), 0700);
  for (const auto& entry : fs::directory_iterator(state_dir_ + "/jobs", ec)) {
    auto text = ReadFile(entry.path().string());
    if (!text) continue;
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("id")) continue;
    auto job = std::make_shared<Job>();
    job->id = j.value("id", "");
    job->owner = j.value("owner", "");
    job->command = j.value("command", "");
    job->state = j.value("state", "failed");
    job->started = j.value("started", "");
    job->finished = j.value("finished", "");
    job->status = j.value("status", 500u);
    job->answer = j.value("answer", json());
    if (job->state == "running") {
      job->state = "failed";
      job->finished = FormatRfc3339(NowUnixSeconds());
      job->status = 500;
      job->answer = {{"error",
                      {{"code", "unavailable"},
                       {"exit", ExitStatusFor(ErrorCode::kUnavailable)},
                       {"message",
                        "the server stopped while this job ran; what it changed was undone or "
                        "is resumed by running it again"}}}};
      SaveJob(*job);
    }
    jobs_[job->id] = job;
  }
}

CommandsApi::~CommandsApi() {
  for (std::thread& t : threads_) t.join();
}

void CommandsApi::SweepSpool() {
  // At most once a minute: a request should not read a directory.
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  int64_t last = swept_at_.load();
  if (last != 0 && now_s - last < 60) return;
  if (!swept_at_.compare_exchange_strong(last, now_s)) return;  // another thread sweeps
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(state_dir_ + "/spool", ec)) {
    std::error_code ec2;
    const auto when = fs::last_write_time(entry.path(), ec2);
    if (!ec2 && now - when > kSpoolKeep) fs::remove_all(entry.path(), ec2);
  }
}

namespace {

// The request's members: the JSON body, or the query for GET and for
// uploads (whose body is the file), and the path's {segments}; each one
// the route takes. `filename`: an upload's name, if the query gave one.
Result<json> Members(const api::CommandRoute& route, const ApiRequest& req,
                     const std::map<std::string, std::string>& path_params, bool upload,
                     std::string& filename) {
  json in = json::object();
  if (req.method == "GET" || upload || req.body.empty()) {
    for (const auto& [k, v] : req.query) in[k] = v;
  } else {
    in = json::parse(req.body, nullptr, false);
    if (!in.is_object()) return Fail(InvalidArgument("the request body must be one JSON object"));
  }
  if (upload && in.contains("filename")) {
    if (in["filename"].is_string()) filename = in["filename"].get<std::string>();
    in.erase("filename");
  }
  for (const auto& [k, v] : path_params) {
    if (in.contains(k) && in[k] != v)
      return Fail(MemberError(k, "differs from the one in the path"));
    in[k] = v;
  }
  for (auto it = in.begin(); it != in.end(); ++it) {
    const bool known = std::any_of(route.params.begin(), route.params.end(),
                                   [&](const api::Param& q) { return q.member == it.key(); });
    if (!known) {
      std::string takes;
      for (const auto& q : route.params) takes += (takes.empty() ? "" : ", ") + q.member;
      return Fail(InvalidArgument("unknown member \"" + it.key() + "\" (this call takes: " +
                                  (takes.empty() ? "nothing" : takes) + ")"));
    }
  }
  return in;
}

// For a native command: the required members given, and text members text,
// as Prepare checks them for the CLI.
Status CheckMembers(const api::CommandRoute& route, const json& in) {
  for (const api::Param& q : route.params) {
    const bool given = in.contains(q.member) && !in[q.member].is_null();
    if (!given) {
      if (q.required) return Fail(MemberError(q.member, "is required"));
      continue;
    }
    if (q.kind == ParamKind::kText) RETURN_IF_ERROR(Scalar(q, in[q.member]).map([](auto&&) {}));
  }
  return Ok();
}

// The upload, named as the client named it (its extension tells .tsv from
// .csv) in the spool: a sealed file by that name, or a link to the memory
// file that holds a workbook.
Result<std::string> AddUpload(PreparedRun& p, const ApiRequest& req, const std::string& filename) {
  if (::mkdir(p.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(Unavailable("cannot create the server's spool: " + p.dir));
  }
  const std::string name = p.dir + "/" + BaseName(filename);
  p.renames.push_back({name, filename});
  if (req.upload_sealed) {
    // An empty file holds the name on disk; readers find the sealed bytes.
    const int placeholder = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (placeholder < 0) return Fail(Unavailable("cannot name the upload in the server's spool"));
    ::close(placeholder);
    NameSealedFile(name, req.upload_sealed);
    p.sealed_names.push_back(name);
    return name;
  }
  int fd = -1;
  if (req.upload_fd >= 0) {  // streamed into memory as it arrived
    fd = ::fcntl(req.upload_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return Fail(Unavailable("cannot keep the upload"));
  } else {
    if (req.body.empty()) return Fail(InvalidArgument("send the file as the request body"));
    ASSIGN_OR_RETURN(fd, MemoryFile("custos-upload", req.body));
  }
  p.fds.push_back(fd);
  if (::symlink(FdPath(fd).c_str(), name.c_str()) != 0) {
    return Fail(Unavailable("cannot name the upload in the server's spool"));
  }
  return name;
}

// A file the command writes, in the spool; `shown` is the client's name
// for it, put in what the command says.
void AddOutput(PreparedRun& p, const api::Param& q, const std::string& shown) {
  p.out_dir = p.dir + "/out";
  std::error_code ec;
  fs::create_directories(p.out_dir, ec);
  ::chmod(p.dir.c_str(), 0700);
  const std::string path = p.out_dir + (q.kind == ParamKind::kOutFile ? "/" + q.help : "");
  p.renames.push_back({path, shown});
  p.args.push_back(FlagArg(q, path));
}

// A small text file's content (or {"base64": ...}) in a memory file.
Status AddFile(PreparedRun& p, const api::Param& q, const json& v) {
  std::string s;
  if (v.is_object() && v.contains("base64") && v["base64"].is_string()) {
    auto bytes = Base64Decode(v["base64"].get<std::string>());
    if (!bytes) return Fail(MemberError(q.member, "holds bad base64"));
    s.assign(bytes->begin(), bytes->end());
  } else {
    ASSIGN_OR_RETURN(s, Scalar(q, v));
  }
  ASSIGN_OR_RETURN(int fd, MemoryFile("custos-" + q.member, s));
  p.fds.push_back(fd);
  p.renames.push_back({FdPath(fd), q.member});
  p.args.push_back(FlagArg(q, FdPath(fd)));
  return Ok();
}

// The arguments for one member's value.
Status AddValue(PreparedRun& p, const api::Param& q, const json& v,
                std::vector<std::string>& positionals) {
  switch (q.kind) {
    case ParamKind::kFlag: {
      ASSIGN_OR_RETURN(bool on, Boolean(q, v));
      if (on) p.args.push_back(q.flag);
      return Ok();
    }
    case ParamKind::kList: {
      const json list = v.is_array() ? v : json::array({v});
      for (const json& item : list) {
        ASSIGN_OR_RETURN(std::string s, Scalar(q, item));
        p.args.push_back(FlagArg(q, s));
      }
      return Ok();
    }
    case ParamKind::kSecret: {
      ASSIGN_OR_RETURN(std::string s, Scalar(q, v));
      p.secrets["@" + q.member] = std::move(s);
      p.args.push_back(FlagArg(q, "@" + q.member));
      return Ok();
    }
    case ParamKind::kFile:
      return AddFile(p, q, v);
    default: {
      ASSIGN_OR_RETURN(std::string s, Scalar(q, v));
      if (IsPositional(q)) {
        positionals.push_back(std::move(s));
      } else {
        p.args.push_back(FlagArg(q, s));
      }
      return Ok();
    }
  }
}

}  // namespace

Result<PreparedRun> CommandsApi::Prepare(const api::CommandRoute& route, const ApiRequest& req,
                                         const std::map<std::string, std::string>& path_params) {
  const bool upload = std::any_of(route.params.begin(), route.params.end(),
                                  [](const api::Param& q) { return q.kind == ParamKind::kUpload; });
  std::string filename = "upload";
  ASSIGN_OR_RETURN(json in, Members(route, req, path_params, upload, filename));
  PreparedRun p;
  p.id = NewId();
  p.dir = state_dir_ + "/spool/" + p.id;
  std::istringstream words(route.command);
  for (std::string w; words >> w;) p.args.push_back(w);
  for (const std::string& f : route.fixed) p.args.push_back(f);
  std::vector<std::string> positionals;
  for (const api::Param& q : route.params) {
    const bool given = in.contains(q.member) && !in[q.member].is_null();
    if (q.kind == ParamKind::kUpload) {
      ASSIGN_OR_RETURN(std::string link, AddUpload(p, req, filename));
      positionals.push_back(std::move(link));
    } else if (q.kind == ParamKind::kOutFile || q.kind == ParamKind::kOutDir) {
      if (!given && !q.required) continue;  // (inventory: to standard output)
      AddOutput(p, q, given && in[q.member].is_string() ? in[q.member].get<std::string>() : q.help);
    } else if (given) {
      RETURN_IF_ERROR(AddValue(p, q, in[q.member], positionals));
    } else if (q.required) {
      return Fail(MemberError(q.member, "is required"));
    }
  }
  if (!positionals.empty()) {
    p.args.push_back("--");
    for (auto& s : positionals) p.args.push_back(std::move(s));
  }
  return p;
}

ApiResponse CommandsApi::Answer(const PreparedRun& p, const CommandOutcome& outcome,
                                bool text) const {
  std::string out = outcome.out;
  std::string err = outcome.err;
  std::optional<Error> error = outcome.error;
  for (const auto& [from, to] : p.renames) {
    ReplaceAll(out, from, to);
    ReplaceAll(err, from, to);
    if (error) {
      std::string m = error->message();
      ReplaceAll(m, from, to);
      error = Error(error->code(), m);
    }
  }
  json downloads = json::object();
  if (!p.out_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(p.out_dir, ec)) {
      if (!entry.is_regular_file()) continue;
      const std::string name = entry.path().filename().string();
      downloads[name] = "/api/v1/downloads/" + p.id + "/" + name;
    }
  }
  ApiResponse r;
  r.personal = true;
  if (error) {
    r = ErrorResponse(*error);
    r.personal = true;
    // What the command printed before it failed (deregister check's
    // blockers), as the terminal would have shown it.
    if (!out.empty()) r.body["error"]["stdout"] = out;
    if (text) r.body["error"]["stderr"] = err;
    return r;
  }
  if (text) {
    r.body = {{"stdout", out}, {"stderr", err}};
  } else {
    r.body = json::parse(out, nullptr, false);
    if (r.body.is_discarded()) r.body = {{"text", out}};
  }
  if (!downloads.empty()) {
    if (!r.body.is_object()) r.body = {{"result", r.body}};
    r.body["downloads"] = downloads;
  }
  return r;
}

Result<ApiResponse> CommandsApi::Run(const api::CommandRoute& route, const ApiRequest& req,
                                     const std::map<std::string, std::string>& path_params,
                                     vault::Vault& vault) {
  SweepSpool();
  if (auto native = natives_.find(&route); native != natives_.end() && req.output != "text") {
    std::string filename;
    ASSIGN_OR_RETURN(json in, Members(route, req, path_params, false, filename));
    RETURN_IF_ERROR(CheckMembers(route, in));
    ASSIGN_OR_RETURN(json answer, native->second(vault, in));
    ApiResponse r;
    r.body = std::move(answer);
    r.personal = true;
    return r;
  }
  ASSIGN_OR_RETURN(PreparedRun prepared, Prepare(route, req, path_params));
  auto p = std::make_shared<PreparedRun>();
  *p = std::move(prepared);
  const bool text = req.output == "text";
  // JSON unless asked for text or a member chose the format (inventory).
  const std::string json_flag = route.json_arg.substr(0, route.json_arg.find('='));
  const bool format_chosen = std::any_of(p->args.begin(), p->args.end(), [&](const std::string& a) {
    return a.starts_with(json_flag + "=");
  });
  if (!text && !route.json_arg.empty() && !format_chosen) {  // after the command's words
    const auto words = std::count(route.command.begin(), route.command.end(), ' ') + 1;
    p->args.insert(p->args.begin() + words, route.json_arg);
  }
  if (!p->out_dir.empty()) {  // only downloads need to know whose they are
    (void)WriteFileAtomic(p->dir + "/owner", vault.principal().user, 0600);
  }
  if (route.job) return StartJob(route, p, vault.principal(), text);
  CommandRun run{&vault, p->args, p->secrets, nullptr, nullptr};
  CommandOutcome outcome = runner_(run);
  for (auto& [k, v] : run.secrets) std::fill(v.begin(), v.end(), '\0');
  return Answer(*p, outcome, text);
}

void CommandsApi::SetNative(const api::CommandRoute& route, NativeCommand native) {
  natives_[&route] = std::move(native);
}

void CommandsApi::SaveJob(const Job& job) {
  json j = {{"id", job.id},         {"owner", job.owner},     {"command", job.command},
            {"state", job.state},   {"started", job.started}, {"finished", job.finished},
            {"status", job.status}, {"answer", job.answer}};
  (void)WriteFileAtomic(state_dir_ + "/jobs/" + job.id + ".json", j.dump() + "\n", 0600);
}

Result<ApiResponse> CommandsApi::StartJob(const api::CommandRoute& route,
                                          std::shared_ptr<PreparedRun> p,
                                          const access::Principal& who, bool text) {
  auto job = std::make_shared<Job>();
  job->id = p->id;
  job->owner = who.user;
  job->command = route.command;
  job->started = FormatRfc3339(NowUnixSeconds());
  SaveJob(*job);
  {
    std::lock_guard lock(mu_);
    jobs_[job->id] = job;
    threads_.emplace_back([this, job, p, who, text] {
      CommandOutcome outcome;
      auto handle = service_.OpenHandle();
      if (!handle) {
        outcome.error = handle.error();
      } else {
        (*handle)->set_principal(who);
        CommandRun run{handle->get(), p->args, p->secrets, &job->done, &job->total};
        outcome = runner_(run);
        for (auto& [k, v] : run.secrets) std::fill(v.begin(), v.end(), '\0');
      }
      ApiResponse answer = Answer(*p, outcome, text);
      std::lock_guard done_lock(mu_);
      job->answer = answer.body;
      job->status = answer.status;
      job->state = outcome.error ? "failed" : "succeeded";
      job->finished = FormatRfc3339(NowUnixSeconds());
      SaveJob(*job);
    });
  }
  ApiResponse r;
  r.status = 202;
  r.body = {{"job", {{"id", job->id}, {"state", "running"}, {"href", "/api/v1/jobs/" + job->id}}}};
  r.headers.push_back({"Location", "/api/v1/jobs/" + job->id});
  return r;
}

Result<ApiResponse> CommandsApi::GetJob(const std::string& id, const access::Principal& who) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->owner != who.user) {
    return Fail(NotFound("no job " + id + " of yours"));
  }
  const Job& job = *it->second;
  ApiResponse r;
  r.personal = true;
  r.body = {{"id", job.id},
            {"command", job.command},
            {"state", job.state},
            {"progress", {{"done", job.done.load()}, {"total", job.total.load()}}},
            {"started", job.started}};
  if (job.state != "running") {
    r.body["finished"] = job.finished;
    r.body["status"] = job.status;
    r.body["answer"] = job.answer;
  }
  return r;
}

Result<ApiResponse> CommandsApi::Download(const std::string& id, const std::string& name,
                                          const access::Principal& who) {
  const auto plain = [](const std::string& s) {
    return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
  };
  const std::string dir = state_dir_ + "/spool/" + id;
  auto owner = ReadFile(dir + "/owner");
  if (!plain(id) || !plain(name) || !owner || *owner != who.user ||
      !FileExists(dir + "/out/" + name)) {
    return Fail(NotFound("no download " + id + "/" + name + " of yours (kept for an hour)"));
  }
  ApiResponse r;
  r.personal = true;
  r.file = dir + "/out/" + name;
  r.content_type = "application/octet-stream";
  r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + name + "\""});
  return r;
}

}  // namespace custos::server
