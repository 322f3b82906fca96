#include "server/client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/file.h"

namespace custos::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Fail(InvalidArgument("server URL " + url + ": must start with https:// or http://"));
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos)
      return Fail(InvalidArgument("server URL " + url + ": bad address"));
    u.host = authority.substr(1, close - 1);
    colon = authority.find(':', close);
  } else {
    u.host = authority.substr(0, colon);
  }
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : authority.substr(colon + 1);
  if (u.host.empty()) return Fail(InvalidArgument("server URL " + url + ": no host"));
  return u;
}

template <class Stream, class Request>
Result<ClientResponse> SendAndRead(Stream& stream, Request& r, const ClientRequest& req) {
  r.prepare_payload();
  beast::error_code ec;
  http::write(stream, r, ec);
  if (ec) return Fail(Unavailable("sending to " + req.url + ": " + ec.message()));
  beast::flat_buffer buffer;
  ClientResponse out;
  if (!req.save_to.empty()) {
    http::response_parser<http::file_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // not boost::none (Boost 1.74)
    parser.get().body().open(req.save_to.c_str(), beast::file_mode::write, ec);
    if (ec) return Fail(Unavailable("cannot write " + req.save_to + ": " + ec.message()));
    http::read(stream, buffer, parser, ec);
    if (ec) return Fail(Unavailable("reading the answer of " + req.url + ": " + ec.message()));
    out.status = parser.get().result_int();
    parser.get().body().close();
    if (out.status < 200 || out.status > 299) {  // an error: its JSON, not the file
      auto text = ReadFile(req.save_to);
      std::remove(req.save_to.c_str());
      if (text) out.body = std::move(*text);
    }
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{1} << 30);
  http::read(stream, buffer, parser, ec);
  if (ec) return Fail(Unavailable("reading the answer of " + req.url + ": " + ec.message()));
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  return out;
}

template <class Stream>
Result<ClientResponse> Exchange(Stream& stream, const ClientRequest& req, const Url& u) {
  const auto head = [&](auto& r) {
    r.set(http::field::host, u.host);
    r.set(http::field::user_agent, "custos");
    for (const auto& [name, value] : req.headers) r.set(name, value);
  };
  if (!req.body_file.empty()) {
    http::request<http::file_body> r{http::string_to_verb(req.method), u.target, 11};
    head(r);
    r.set(http::field::content_type, "application/octet-stream");
    beast::error_code ec;
    r.body().open(req.body_file.c_str(), beast::file_mode::scan, ec);
    if (ec) return Fail(NotFound("cannot open " + req.body_file + ": " + ec.message()));
    return SendAndRead(stream, r, req);
  }
  http::request<http::string_body> r{http::string_to_verb(req.method), u.target, 11};
  head(r);
  if (!req.body.empty()) r.set(http::field::content_type, "application/json");
  r.body() = req.body;
  return SendAndRead(stream, r, req);
}

}  // namespace

Result<ClientResponse> HttpCall(const ClientRequest& req) {
  ASSIGN_OR_RETURN(Url u, ParseUrl(req.url));
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) return Fail(Unavailable("cannot resolve " + u.host + ": " + ec.message()));
  if (!u.tls) {
    beast::tcp_stream stream(ioc);
    stream.connect(endpoints, ec);
    if (ec) return Fail(Unavailable("cannot reach " + req.url + ": " + ec.message()));
    return Exchange(stream, req, u);
  }
  ssl::context ctx(ssl::context::tls_client);
  if (req.ca_cert.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.load_verify_file(req.ca_cert, ec);
  }
  if (ec) return Fail(InvalidArgument("--ca-cert " + req.ca_cert + ": " + ec.message()));
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.set_verify_callback(ssl::host_name_verification(u.host));
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return Fail(Unavailable("cannot reach " + req.url + ": " + ec.message()));
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    return Fail(Unauthenticated("TLS with " + u.host + " failed (" + ec.message() +
                                "): is its certificate trusted? (--ca-cert FILE)"));
  }
  auto out = Exchange(stream, req, u);
  stream.shutdown(ec);  // the peer may just close: not an error here
  return out;
}

Error ErrorFromResponse(const ClientResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    const std::string code = e.value("code", "");
    const std::string message = e.value("message", "");
    for (ErrorCode c :
         {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kAlreadyExists,
          ErrorCode::kPermissionDenied, ErrorCode::kFailedPrecondition, ErrorCode::kDataLoss,
          ErrorCode::kUnauthenticated, ErrorCode::kUnavailable, ErrorCode::kInternal}) {
      if (ErrorCodeName(c) == code) return Error(c, message);
    }
  }
  if (r.status == 429) return Unavailable("the server refuses: too many attempts, wait a minute");
  return Internal("the server answered HTTP " + std::to_string(r.status));
}

}  // namespace custos::server
