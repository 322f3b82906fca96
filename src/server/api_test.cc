#include "server/api.h"

#include <gtest/gtest.h>

#include <set>

namespace custos::server {
namespace {

// Every route the server has is in the OpenAPI document, and every
// operation the document describes is a route: neither drifts alone.
TEST(OpenApi, TheDocumentDescribesExactlyTheRoutes) {
  const json doc = json::parse(OpenApiDocument());
  ASSERT_EQ(doc["openapi"], "3.1.0");
  std::set<std::string> documented;
  std::set<std::string> operation_ids;
  for (auto& [path, item] : doc["paths"].items()) {
    for (auto& [method, op] : item.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
      ASSERT_TRUE(op.contains("operationId")) << path;
      EXPECT_TRUE(operation_ids.insert(op["operationId"]).second) << op["operationId"];
      EXPECT_FALSE(op["responses"].empty()) << path;
    }
  }
  VaultService service("unused.vault", {});
  Api api(service);
  const auto routes = api.RouteList();
  EXPECT_EQ(std::set<std::string>(routes.begin(), routes.end()), documented);
}

TEST(Api, ErrorsCarryTheCliCodeAndExitStatus) {
  const ApiResponse r = ErrorResponse(PermissionDenied("no"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.body["error"]["code"], "permission_denied");
  EXPECT_EQ(r.body["error"]["exit"], 5);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kFailedPrecondition), 409u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503u);
}

TEST(Api, SealedServesOnlyHealthAndUnsealing) {
  VaultService service("unused.vault", {});
  Api api(service);
  RequestLog log;
  auto call = [&](const std::string& method, const std::string& path) {
    ApiRequest req;
    req.method = method;
    req.path = path;
    return api.Handle(req, log).status;
  };
  EXPECT_EQ(call("GET", "/healthz"), 200u);
  EXPECT_EQ(call("GET", "/api/v1/unseal"), 200u);
  EXPECT_EQ(call("GET", "/api/v1/openapi.json"), 200u);
  EXPECT_EQ(call("GET", "/api/v1/me"), 503u);
  EXPECT_EQ(call("POST", "/api/v1/sessions"), 503u);
  EXPECT_EQ(call("GET", "/api/v1/nothing"), 404u);
  EXPECT_EQ(call("PUT", "/healthz"), 405u);
  EXPECT_EQ(log.route, "(method not allowed)");
}

}  // namespace
}  // namespace custos::server
