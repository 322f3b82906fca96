// A small HTTP(S) client for the CLI's calls to `custos serve` (unseal,
// --server): one request per connection, JSON in and out, TLS verified
// against the system's CAs or --ca-cert.
#ifndef CUSTOS_SERVER_CLIENT_H_
#define CUSTOS_SERVER_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace custos::server {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http(s)://host:port/path
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_cert;  // PEM file to trust instead of the system's CAs
  std::string body_file;  // send this file as the body (streamed), not `body`
  std::string save_to;    // a 2xx answer's body goes to this file (streamed)
};

struct ClientResponse {
  unsigned status = 0;
  std::string body;
};

// kInvalidArgument for a malformed URL; kUnavailable when the server cannot
// be reached (naming it); kUnauthenticated when its certificate does not
// verify.
Result<ClientResponse> HttpCall(const ClientRequest& req);

// The Custos error a JSON error body carries ({"error": {"code",
// "message"}}), or kInternal naming the status for any other body.
Error ErrorFromResponse(const ClientResponse& r);

}  // namespace custos::server

#endif  // CUSTOS_SERVER_CLIENT_H_
