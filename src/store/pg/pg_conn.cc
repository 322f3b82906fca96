#include "store/pg/pg_conn.h"

#include <endian.h>

#include <algorithm>
#include <cstring>

namespace custos::store::pg_internal {

Params& Params::Int(int64_t v) {
  const uint64_t be = htobe64(static_cast<uint64_t>(v));
  Add(std::string(reinterpret_cast<const char*>(&be), 8), 1);
  return *this;
}

Params& Params::Text(std::string_view v) {
  Add(std::string(v), 0);
  return *this;
}

Params& Params::Blob(ByteSpan v) {
  Add(std::string(reinterpret_cast<const char*>(v.data()), v.size()), 1);
  return *this;
}

void Params::Add(std::string bytes, int format) {
  values_.push_back(std::move(bytes));
  formats_.push_back(format);
  lengths_.push_back(static_cast<int>(values_.back().size()));
}

int64_t Rows::Int(int row, int col) const {
  const char* v = PQgetvalue(r_.get(), row, col);
  switch (PQgetlength(r_.get(), row, col)) {
    case 8: {
      uint64_t be;
      std::memcpy(&be, v, 8);
      return static_cast<int64_t>(be64toh(be));
    }
    case 4: {
      uint32_t be;
      std::memcpy(&be, v, 4);
      return static_cast<int32_t>(be32toh(be));
    }
    case 2: {
      uint16_t be;
      std::memcpy(&be, v, 2);
      return static_cast<int16_t>(be16toh(be));
    }
    default:
      return 0;
  }
}

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

Bytes Rows::Blob(int row, int col) const {
  const ByteSpan v = View(row, col);
  return Bytes(v.begin(), v.end());
}

ByteSpan Rows::View(int row, int col) const {
  return ByteSpan(reinterpret_cast<const uint8_t*>(PQgetvalue(r_.get(), row, col)),
                  static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

Status CheckConnectionString(const std::string& uri) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &err);
  if (options == nullptr) {
    std::string why = err == nullptr ? "out of memory" : err;
    PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(InvalidArgument("not a PostgreSQL connection URI: " + why));
  }
  bool password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && *o->val != '\0') {
      password = true;
    }
  }
  PQconninfoFree(options);
  if (password) {
    return Fail(InvalidArgument(
        "the PostgreSQL URI holds a password, which anyone listing processes or reading the "
        "shell history would see: put it in a password file (~/.pgpass or PGPASSFILE) or a "
        "service file (PGSERVICEFILE) and leave it out of the URI"));
  }
  return Ok();
}

Result<std::unique_ptr<Conn>> Conn::Connect(const std::string& uri) {
  RETURN_IF_ERROR(CheckConnectionString(uri));
  PGconn* c = PQconnectdb(uri.c_str());
  std::string label = "PostgreSQL";
  if (c != nullptr && PQstatus(c) == CONNECTION_OK) {
    label += std::string(" database ") + PQdb(c);
  }
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string why = c == nullptr ? "out of memory" : PQerrorMessage(c);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    PQfinish(c);
    return Fail(Unavailable("cannot connect to PostgreSQL: " + why));
  }
  auto conn = std::unique_ptr<Conn>(new Conn(c, std::move(label)));
  RETURN_IF_ERROR(conn->Prepare());
  return conn;
}

Status Conn::Prepare() {
  // Named in pg_stat_activity (who holds the vault, in messages), and quiet:
  // no notices on standard error.
  PQsetNoticeProcessor(
      c_, [](void*, const char*) {}, nullptr);
  const char* name = PQparameterStatus(c_, "application_name");
  if (name == nullptr || *name == '\0') {
    Rows r(PQexec(c_, "SET application_name = 'custos'"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Fail(ErrorOf(r.get(), "statement"));
  }
  return Ok();
}

Status Conn::ReconnectIfLost() {
  if (PQstatus(c_) != CONNECTION_BAD || in_transaction_) return Ok();
  PQreset(c_);
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(
        Unavailable(label_ + ": the connection was lost, and connecting again failed: " + why));
  }
  return Prepare();
}

Status Conn::BeginTransaction(const char* sql) {
  RETURN_IF_ERROR(Exec(sql));
  in_transaction_ = true;
  return Ok();
}

Status Conn::EndTransaction(const char* sql) {
  Status st = Exec(sql);
  in_transaction_ = false;
  return st;
}

Error Conn::ErrorOf(PGresult* r, std::string_view what) const {
  std::string msg = label_ + ": " + std::string(what) + ": ";
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  msg += primary != nullptr ? primary : PQerrorMessage(c_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const std::string code = state == nullptr ? "" : state;
  if (PQstatus(c_) != CONNECTION_OK) return Unavailable(msg + " (the connection was lost)");
  if (code == "23505" || code == "42P06") return AlreadyExists(msg);  // unique, schema
  if (code == "55P03" || code == "40001" || code == "40P01" || code == "57014") {
    return Unavailable(msg + ": the vault is in use by another process");
  }
  if (code.starts_with("08") || code.starts_with("53") || code.starts_with("57")) {
    return Unavailable(msg);
  }
  if (code == "XX001" || code == "XX002") return DataLoss(msg);
  return Internal(msg);
}

// Between transactions a statement that finds the connection gone (the
// server ended the session while it was idle: libpq learns it only now) is
// sent once more on a new one. It ran nowhere: safe to repeat.
bool Conn::LostBetweenTransactions(const PGresult* r) const {
  const ExecStatusType st = PQresultStatus(r);
  return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !in_transaction_ &&
         PQstatus(c_) == CONNECTION_BAD;
}

Status Conn::Exec(const std::string& sql) {
  RETURN_IF_ERROR(ReconnectIfLost());
  Rows r(PQexec(c_, sql.c_str()));
  if (LostBetweenTransactions(r.get())) {
    RETURN_IF_ERROR(ReconnectIfLost());
    r = Rows(PQexec(c_, sql.c_str()));
  }
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(ErrorOf(r.get(), "statement"));
  return Ok();
}

Result<Rows> Conn::Query(const char* sql, const Params& params) {
  RETURN_IF_ERROR(ReconnectIfLost());
  auto send = [&] {
    return Rows(PQexecParams(c_, sql, params.size(), nullptr, params.values(), params.lengths(),
                             params.formats(), 1));
  };
  Rows r = send();
  if (LostBetweenTransactions(r.get())) {
    RETURN_IF_ERROR(ReconnectIfLost());
    r = send();
  }
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(ErrorOf(r.get(), "query"));
  return r;
}

Status Conn::CopyIn(const char* sql, std::string_view data) {
  RETURN_IF_ERROR(ReconnectIfLost());
  {
    Rows r(PQexec(c_, sql));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return Fail(ErrorOf(r.get(), "copy"));
  }
  constexpr size_t kChunk = size_t{1} << 20;
  bool sent = true;
  for (size_t at = 0; at < data.size() && sent; at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(c_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(c_, sent ? nullptr : "custos: sending the rows failed") != 1) sent = false;
  Status st = Ok();
  while (PGresult* raw = PQgetResult(c_)) {
    Rows r(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && st) st = Fail(ErrorOf(raw, "copy"));
  }
  if (st && !sent) return Fail(ErrorOf(nullptr, "copy"));
  return st;
}

Status Conn::Run(const char* sql, const Params& params) {
  ASSIGN_OR_RETURN(Rows r, Query(sql, params));
  (void)r;
  return Ok();
}

}  // namespace custos::store::pg_internal
