// A small RAII wrapper over libpq for the PostgreSQL store: a connection,
// results that clear themselves, and parameters passed in binary (bytea and
// 64-bit integers) or as text. Internal to src/store/pg.
#ifndef CUSTOS_STORE_PG_PG_CONN_H_
#define CUSTOS_STORE_PG_PG_CONN_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace custos::store::pg_internal {

// A query's parameters, kept until the query runs.
class Params {
 public:
  Params& Int(int64_t v);
  Params& Text(std::string_view v);
  Params& Blob(ByteSpan v);

  int size() const { return static_cast<int>(values_.size()); }
  // Pointed at afresh on each call: the strings move when the vector
  // grows or the parameters are copied.
  const char* const* values() const {
    pointers_.clear();
    for (const std::string& v : values_) pointers_.push_back(v.data());
    return pointers_.data();
  }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Add(std::string bytes, int format);
  std::vector<std::string> values_;
  mutable std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A result, cleared when it goes. Columns are read as the query asked
// for them (binary results: every query of the store asks for binary).
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  int64_t Int(int row, int col) const;  // int8, int4 or int2
  std::string Text(int row, int col) const;
  Bytes Blob(int row, int col) const;
  ByteSpan View(int row, int col) const;
  PGresult* get() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

// kInvalidArgument if `uri` does not parse, or holds a password (which
// belongs in a password or service file, never on a command line).
Status CheckConnectionString(const std::string& uri);

class Conn {
 public:
  // Connects with `uri` (libpq's syntax: a URI or key=value pairs, with
  // sslmode, a password file or a service file). kUnavailable naming the
  // server's message when it cannot.
  static Result<std::unique_ptr<Conn>> Connect(const std::string& uri);
  ~Conn() { PQfinish(c_); }

  // Starts or ends a transaction (BEGIN ..., COMMIT, ROLLBACK). A
  // connection lost between transactions (a server restarted, a session
  // terminated) is made again by the next statement; one lost inside a
  // transaction fails every statement until the transaction is ended, so
  // that nothing meant for it runs outside it.
  Status BeginTransaction(const char* sql);
  Status EndTransaction(const char* sql);

  // Runs one or more statements without parameters.
  Status Exec(const std::string& sql);
  // Runs a query with parameters; results in binary.
  Result<Rows> Query(const char* sql, const Params& params = {});
  // The same, for statements that return nothing.
  Status Run(const char* sql, const Params& params = {});

  // Runs `sql` (a COPY ... FROM STDIN) and sends `data` as its input.
  Status CopyIn(const char* sql, std::string_view data);

  // What the server said went wrong, as an error of the right code:
  // unique violations kAlreadyExists, lock timeouts and lost connections
  // kUnavailable, others kInternal.
  Error ErrorOf(PGresult* r, std::string_view what) const;
  // The label the store's messages carry (the database, never a password).
  const std::string& label() const { return label_; }
  PGconn* get() const { return c_; }

 private:
  explicit Conn(PGconn* c, std::string label) : c_(c), label_(std::move(label)) {}
  // Quiet (no notices on standard error) and named in pg_stat_activity.
  Status Prepare();
  Status ReconnectIfLost();
  bool LostBetweenTransactions(const PGresult* r) const;
  PGconn* c_;
  std::string label_;
  bool in_transaction_ = false;
};

}  // namespace custos::store::pg_internal

#endif  // CUSTOS_STORE_PG_PG_CONN_H_
