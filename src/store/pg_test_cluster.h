// The PostgreSQL cluster of a test run (tests only): the one that
// tests/pg_cluster.sh started (its admin URI in the build's pg-test.uri, or
// the file CUSTOS_TEST_PG_URI_FILE names), with a database per store path,
// owned by custos_vault, a role without superuser rights.
//
// Suites that run on both backends call TestVaultLocation(path) where they
// would name a vault file: with CUSTOS_TEST_BACKEND=postgresql (set by
// CMake's second discovery of the suite) it names a database instead.
#ifndef CUSTOS_STORE_PG_TEST_CLUSTER_H_
#define CUSTOS_STORE_PG_TEST_CLUSTER_H_

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

namespace custos::testing {

inline std::string PgAdminUri() {
  const char* file = std::getenv("CUSTOS_TEST_PG_URI_FILE");
  if (file == nullptr) file = CUSTOS_PG_URI_FILE;
  std::ifstream in(file);
  std::string uri;
  std::getline(in, uri);
  return uri;
}

inline std::string PgDatabaseFor(const std::string& path) {
  return "custos_t_" + std::to_string(std::hash<std::string>{}(path));
}

// The admin URI with another user and database.
inline std::string PgUri(const std::string& user, const std::string& db) {
  const std::string admin = PgAdminUri();
  const size_t query = admin.find('?');
  return "postgresql://" + user + "@/" + db +
         (query == std::string::npos ? "" : admin.substr(query));
}

// Runs `sql` as the cluster's superuser; false (and the message) if it fails.
inline bool PgAdmin(const std::string& sql, std::string* error = nullptr) {
  PGconn* c = PQconnectdb(PgAdminUri().c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    PQclear(r);
  }
  if (!ok && error != nullptr) *error = PQerrorMessage(c);
  PQfinish(c);
  return ok;
}

// A database for `path` (created once), owned by custos_vault.
inline void PgDatabase(const std::string& path) {
  const std::string db = PgDatabaseFor(path);
  PGconn* c = PQconnectdb(PgAdminUri().c_str());
  PGresult* r = PQexec(c, ("SELECT 1 FROM pg_database WHERE datname='" + db + "'").c_str());
  const bool exists = PQntuples(r) > 0;
  PQclear(r);
  PQfinish(c);
  if (!exists) PgAdmin("CREATE DATABASE " + db + " OWNER custos_vault");
}

// The URI of the database that stands for the vault file `path`.
inline std::string PgVaultUri(const std::string& path) {
  PgDatabase(path);
  return PgUri("custos_vault", PgDatabaseFor(path));
}

inline bool TestOnPostgres() {
  const char* b = std::getenv("CUSTOS_TEST_BACKEND");
  return b != nullptr && std::string(b) == "postgresql";
}

// The rows of the database at `uri` as pg_dump writes them (bytea as hex):
// what a backup of it would hold.
inline std::string PgDump(const std::string& uri) {
  std::string out;
  FILE* p = ::popen(("pg_dump --data-only --no-owner '" + uri + "' 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Where a test's vault "at `path`" is: that file, or a database of its own.
inline std::string TestVaultLocation(const std::string& path) {
  return TestOnPostgres() ? PgVaultUri(path) : path;
}

}  // namespace custos::testing

#endif  // CUSTOS_STORE_PG_TEST_CLUSTER_H_
