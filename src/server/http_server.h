// `custos serve`'s HTTP layer (Boost.Beast over Asio, OpenSSL for TLS): a
// pool of threads, keep-alive connections, one JSON log line per request
// on stderr, security headers, and a graceful stop on SIGTERM or SIGINT
// (no new connection; requests in flight finish and get their answer).
#ifndef CUSTOS_SERVER_HTTP_SERVER_H_
#define CUSTOS_SERVER_HTTP_SERVER_H_

#include <functional>
#include <string>

#include "base/result.h"
#include "server/api.h"

namespace custos::server {

// Worker threads by default. A request that must be audited waits for its
// entry's group commit (audit_batcher.h), so many wait at once: threads
// are not cores here.
inline constexpr int kDefaultThreads = 32;

struct HttpOptions {
  std::string listen = "127.0.0.1:8443";  // HOST:PORT; port 0 picks a free one
  std::string tls_cert;                   // PEM chain; empty: plain HTTP
  std::string tls_key;
  int threads = 0;  // 0: kDefaultThreads
  // Called once the socket listens, with the address actually bound.
  std::function<void(const std::string&)> on_listening;
};

// Whether `host` is a loopback address (plain HTTP is allowed only there).
bool IsLoopback(const std::string& host);

// Serves until SIGTERM or SIGINT. kInvalidArgument for a bad address, a
// non-loopback address without TLS, or unreadable TLS files;
// kUnavailable if the address is in use.
Status ServeHttp(Api& api, const HttpOptions& options);

}  // namespace custos::server

#endif  // CUSTOS_SERVER_HTTP_SERVER_H_
