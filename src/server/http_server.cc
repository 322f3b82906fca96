#include "server/http_server.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "base/time.h"
#include "server/upload_body.h"

namespace custos::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr size_t kBodyLimit = size_t{16} << 20;        // JSON bodies
constexpr uint64_t kUploadLimit = uint64_t{16} << 30;  // an export to import
constexpr auto kUploadTimeout = std::chrono::hours(2);
constexpr auto kIdleTimeout = std::chrono::seconds(60);

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = header.substr(at, end - at);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return "";
}

template <class Body>
ApiRequest ToApiRequest(const http::request<Body>& req, const std::string& peer) {
  ApiRequest r;
  r.method = std::string(req.method_string());
  const std::string_view target = View(req.target());
  const size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    size_t at = 0;
    while (at <= query.size()) {
      size_t amp = query.find('&', at);
      if (amp == std::string_view::npos) amp = query.size();
      std::string_view pair = query.substr(at, amp - at);
      if (!pair.empty()) {
        const size_t eq = pair.find('=');
        r.query[PercentDecode(pair.substr(0, eq))] =
            eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
      }
      at = amp + 1;
    }
  }
  if constexpr (std::is_same_v<Body, http::string_body>) r.body = req.body();
  r.output = std::string(req["X-Custos-Output"]);
  const std::string_view auth = View(req[http::field::authorization]);
  if (auth.size() > 7 && beast::iequals(beast::string_view(auth.data(), 7), "Bearer ")) {
    r.bearer = std::string(auth.substr(7));
  }
  r.cookie_token = CookieValue(View(req[http::field::cookie]), "custos_session");
  r.csrf = std::string(req["X-CSRF-Token"]);
  r.peer = peer;
  return r;
}

// One JSON line per request: no path, no query, no body (they can hold
// personal data); the route template and the user id only.
void LogRequest(const std::string& method, const RequestLog& log, unsigned status, double ms) {
  json line = {{"time", FormatRfc3339(NowUnixSeconds())},
               {"method", method},
               {"route", log.route},
               {"status", status},
               {"ms", std::round(ms * 1000) / 1000},
               {"user", log.user}};
  const std::string text = line.dump() + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());  // one write: lines never mix
  (void)ignored;
}

class Connection;

// The live connections, so a stop can close the idle ones.
class Registry {
 public:
  void Add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu_);
    live_.push_back(c);
  }
  std::vector<std::shared_ptr<Connection>> Live() {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Connection>> out;
    std::vector<std::weak_ptr<Connection>> still;
    for (auto& w : live_) {
      if (auto c = w.lock()) {
        out.push_back(c);
        still.push_back(w);
      }
    }
    live_ = std::move(still);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Connection>> live_;
};

struct Shared {
  Api& api;
  bool tls = false;
  std::atomic<bool> stopping{false};
  Registry registry;
};

// A connection over plain TCP or TLS; every handler runs on its strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared& shared, ssl::context* tls)
      : shared_(shared), peer_(Peer(socket)) {
    if (tls != nullptr) {
      tls_.emplace(beast::tcp_stream(std::move(socket)), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  void Start() {
    Lowest().expires_after(kIdleTimeout);
    if (tls_) {
      tls_->async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec) self->Read();
                            });
    } else {
      Read();
    }
  }

  // Closes the connection if it waits for a request; one being answered
  // finishes and then closes.
  void Stop() {
    net::post(Lowest().get_executor(), [self = shared_from_this()] {
      if (self->reading_) self->Lowest().socket().close();
    });
  }

 private:
  static std::string Peer(const tcp::socket& s) {
    beast::error_code ec;
    auto ep = s.remote_endpoint(ec);
    return ec ? "" : ep.address().to_string();
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void Read() {
    if (shared_.stopping) return Close();
    header_.emplace();
    // OnHeader checks the route's limit (not boost::none: Boost 1.74 then refuses any body).
    header_->body_limit(kUploadLimit);
    Lowest().expires_after(kIdleTimeout);
    reading_ = true;
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); };
    if (tls_) {
      http::async_read_header(*tls_, buffer_, *header_, done);
    } else {
      http::async_read_header(*plain_, buffer_, *header_, done);
    }
  }

  template <class Parser>
  void ReadBody(Parser& parser) {
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); };
    if (tls_) {
      http::async_read(*tls_, buffer_, parser, done);
    } else {
      http::async_read(*plain_, buffer_, parser, done);
    }
  }

  // An upload route's body goes, as it arrives, into an anonymous memory
  // file (never a file on disk, never one string); others into a string.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& h = header_->get();
    const std::string target(View(h.target()));
    const std::string method(View(h.method_string()));
    const bool upload = shared_.api.IsUpload(method, target.substr(0, target.find('?')));
    if (header_->content_length() &&
        *header_->content_length() > (upload ? kUploadLimit : kBodyLimit)) {
      return OnRead(http::error::body_limit);
    }
    if (upload) {
      upload_.emplace(std::move(*header_));
      header_.reset();
      upload_->body_limit(kUploadLimit);
      upload_->get().body().sink = std::make_shared<UploadSink>(shared_.api.SpoolDir());
      Lowest().expires_after(kUploadTimeout);
      return ReadBody(*upload_);
    }
    parser_.emplace(std::move(*header_));
    header_.reset();
    parser_->body_limit(kBodyLimit);
    ReadBody(*parser_);
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::end_of_stream) return Close();
    if (ec == http::error::body_limit) {
      return Answer(ErrorResponse(InvalidArgument("the request body is over the limit (16 MiB; "
                                                  "an upload: 16 GiB)")),
                    "", {"(too large)", ""}, false);
    }
    if (upload_ && upload_->get().body().sink->error()) {  // the upload could not be kept
      const Error why = *upload_->get().body().sink->error();
      upload_.reset();
      return Answer(ErrorResponse(why), "", {"(upload)", ""}, false);
    }
    if (ec) return;  // timeout, reset, closed by Stop: nothing to answer
    const auto start = std::chrono::steady_clock::now();
    ApiRequest api_req;
    bool keep_alive = false;
    std::shared_ptr<UploadSink> upload;
    if (upload_) {
      http::request<UploadBody> req = upload_->release();
      upload_.reset();
      api_req = ToApiRequest(req, peer_);
      upload = req.body().sink;
      api_req.upload_fd = upload->memfd();
      api_req.upload_sealed = upload->sealed();
      keep_alive = req.keep_alive();
    } else {
      http::request<http::string_body> req = parser_->release();
      api_req = ToApiRequest(req, peer_);
      keep_alive = req.keep_alive();
    }
    RequestLog log;
    ApiResponse res = shared_.api.Handle(api_req, log);
    upload.reset();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    LogRequest(api_req.method, log, res.status, ms);
    Answer(std::move(res), api_req.method, log, keep_alive && !shared_.stopping);
  }

  void Answer(ApiResponse res, const std::string&, const RequestLog&, bool keep_alive) {
    if (!res.file.empty()) {
      auto out = std::make_shared<http::response<http::file_body>>();
      beast::error_code ec;
      out->body().open(res.file.c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        out->set(http::field::content_type, res.content_type);
        return Send(out, res, keep_alive);
      }
      res = ErrorResponse(Unavailable("cannot read the file to download"));
    }
    auto out = std::make_shared<http::response<http::string_body>>();
    if (!res.raw.empty()) {
      out->set(http::field::content_type, res.content_type);
      out->body() = std::move(res.raw);
    } else {
      out->set(http::field::content_type, "application/json; charset=utf-8");
      out->body() = res.body.dump() + "\n";
    }
    Send(out, res, keep_alive);
  }

  template <class Response>
  void Send(const std::shared_ptr<Response>& out, ApiResponse& res, bool keep_alive) {
    out->version(11);
    out->result(static_cast<http::status>(res.status));
    out->set(http::field::server, "custos");
    out->set(http::field::cache_control, "no-store");
    out->set("X-Content-Type-Options", "nosniff");
    out->set("X-Frame-Options", "DENY");
    out->set("Referrer-Policy", "no-referrer");
    out->set("Content-Security-Policy",
             "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (shared_.tls) out->set("Strict-Transport-Security", "max-age=31536000");
    for (auto& [name, value] : res.headers) out->insert(name, value);
    out->keep_alive(keep_alive);
    out->prepare_payload();
    response_ = out;
    auto done = [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      self->response_.reset();
      if (ec) return;
      if (!keep_alive) return self->Close();
      self->Read();
    };
    if (tls_) {
      http::async_write(*tls_, *out, done);
    } else {
      http::async_write(*plain_, *out, done);
    }
  }

  void Close() {
    if (tls_) {
      Lowest().expires_after(std::chrono::seconds(5));
      tls_->async_shutdown([self = shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->Lowest().socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      plain_->socket().shutdown(tcp::socket::shutdown_send, ignored);
      plain_->socket().close(ignored);
    }
  }

  Shared& shared_;
  std::string peer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<UploadBody>> upload_;
  std::shared_ptr<void> response_;
  bool reading_ = false;
};

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find("]:");
    if (close == std::string::npos)
      return Fail(InvalidArgument("--listen " + listen + ": use [ADDRESS]:PORT"));
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos)
      return Fail(InvalidArgument("--listen " + listen + ": use HOST:PORT"));
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec)
    return Fail(InvalidArgument("--listen " + listen + ": '" + host + "' is not an IP address"));
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535) {
    return Fail(InvalidArgument("--listen " + listen + ": the port must be 0 to 65535"));
  }
  return tcp::endpoint(address, static_cast<unsigned short>(std::stoi(port)));
}

}  // namespace

bool IsLoopback(const std::string& host) {
  beast::error_code ec;
  auto a = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  return !ec && a.is_loopback();
}

Status ServeHttp(Api& api, const HttpOptions& options) {
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options.listen));
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    return Fail(InvalidArgument("give both --tls-cert and --tls-key"));
  }
  if (!tls && !endpoint.address().is_loopback()) {
    return Fail(InvalidArgument(
        "--listen " + options.listen +
        " is not a loopback address: give --tls-cert and --tls-key (plain HTTP is allowed "
        "only on loopback, behind a reverse proxy)"));
  }
  std::optional<ssl::context> tls_context;
  if (tls) {
    tls_context.emplace(ssl::context::tls_server);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    tls_context->use_certificate_chain_file(options.tls_cert, ec);
    if (ec) return Fail(InvalidArgument("--tls-cert " + options.tls_cert + ": " + ec.message()));
    tls_context->use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec) return Fail(InvalidArgument("--tls-key " + options.tls_key + ": " + ec.message()));
  }

  const int threads = options.threads > 0 ? options.threads : kDefaultThreads;
  net::io_context ioc(threads);
  tcp::acceptor acceptor(net::make_strand(ioc));
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Fail(Unavailable("cannot listen on " + options.listen + ": " + ec.message()));
  const tcp::endpoint bound = acceptor.local_endpoint();

  Shared shared{api, tls, {}, {}};
  std::function<void()> accept = [&] {
    acceptor.async_accept(net::make_strand(ioc), [&](beast::error_code aec, tcp::socket socket) {
      if (aec) return;  // closed by the stop
      auto c = std::make_shared<Connection>(std::move(socket), shared,
                                            tls_context ? &*tls_context : nullptr);
      shared.registry.Add(c);
      c->Start();
      accept();
    });
  };
  accept();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    shared.stopping = true;
    net::post(acceptor.get_executor(), [&] {
      beast::error_code ignored;
      acceptor.close(ignored);
    });
    for (auto& c : shared.registry.Live()) c->Stop();
  });

  if (options.on_listening) {
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    options.on_listening((tls ? "https://" : "http://") + host + ":" +
                         std::to_string(bound.port()));
  }
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return Ok();
}

}  // namespace custos::server
