// The baseline of bench/serve_load.sh: what a branch would run without
// Custos to look a customer up over HTTP. A plain SQLite table of the CRM
// export (clear text, an index on the ID number column), and a minimal
// Boost.Beast handler: POST {"id_number": "..."} answers the matching rows'
// customer number and name. No encryption, no session, no audit entry: the
// limit that custody's costs are measured against.
//
//   baseline_http DB PORT     (one thread and one SQLite connection per
//                              connection, keep-alive)
#include <sqlite3.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

void Serve(tcp::socket socket, const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT 客户编号, 姓名 FROM crm WHERE 身份证号 = ?", -1, &stmt, nullptr);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) break;
    const auto body = nlohmann::json::parse(req.body(), nullptr, false);
    const std::string id = body.is_object() ? body.value("id_number", "") : "";
    nlohmann::json people = nlohmann::json::array();
    sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      people.push_back({{"customer", reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))},
                        {"name", reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))}});
    }
    sqlite3_reset(stmt);
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = nlohmann::json{{"matches", people.size()}, {"people", people}}.dump();
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive()) break;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: baseline_http DB PORT\n");
    return 2;
  }
  const std::string db = argv[1];
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(std::stoi(argv[2]))});
  std::printf("listening on %d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket(ioc);
    acceptor.accept(socket);
    std::thread(Serve, std::move(socket), db).detach();
  }
}
