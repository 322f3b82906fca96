// PostgreSQL backend of the Store interface (docs/postgresql.md).
//
// The vault lives in a schema of its own ("custos"), versioned by a
// one-row table with forward-only migrations run by Create and Open; the
// role needs no superuser rights, only ownership of that schema (or of the
// database it creates it in). What reaches a table is what reaches SQLite:
// opaque numbers, ciphertext, keyed MACs, documents without personal data.
//
// Writers take turns across every connection of every process with a
// transaction-level advisory lock (the vault's one sequencer: the audit
// log's order, its frontier re-read under it); readers run in REPEATABLE
// READ snapshots and never wait for writers.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/pg/pg_store_internal.h"
#include "store/store.h"

namespace custos::store {
namespace pg_internal {
namespace {

constexpr int kSchemaVersion = 1;
// The advisory lock every write transaction takes: one number for all
// vaults of a database is enough, as each vault has a database or schema of
// its own and writers of one vault are what it orders.
constexpr int64_t kWriteLock = 0x637573746f73;  // "custos"

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE custos.meta (
  key   text PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE custos.person (
  pk          bigint PRIMARY KEY,
  wrapped_key bytea NOT NULL,
  kek_version bigint NOT NULL,
  created_at  bigint NOT NULL
);
CREATE TABLE custos.dataset (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  schema_json   text NOT NULL,
  source_sha256 text NOT NULL,
  source_format text NOT NULL,
  imported_at   bigint NOT NULL,
  rows          bigint NOT NULL,
  people        bigint NOT NULL
);
CREATE TABLE custos.record (
  id      bigint PRIMARY KEY,  -- (person pk << 24) | n
  dataset bigint NOT NULL,
  body    bytea NOT NULL
);
CREATE TABLE custos.blind_index (
  kind      smallint NOT NULL,
  mac       bytea NOT NULL,
  person_pk bigint NOT NULL,
  PRIMARY KEY (kind, mac, person_pk)
);
CREATE INDEX blind_index_by_person ON custos.blind_index(person_pk);
CREATE TABLE custos.doc (
  kind text NOT NULL,
  key  text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE TABLE custos.person_doc (
  kind      text NOT NULL,
  key       text NOT NULL,
  person_pk bigint NOT NULL,
  body      text NOT NULL,
  PRIMARY KEY (kind, key, person_pk)
);
CREATE INDEX person_doc_by_person ON custos.person_doc(person_pk);
CREATE TABLE custos.audit_entry (
  seq  bigint PRIMARY KEY,
  data bytea NOT NULL
);
CREATE TABLE custos.audit_node (
  level integer NOT NULL,
  idx   bigint NOT NULL,
  hash  bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE custos.audit_checkpoint (
  size       bigint PRIMARY KEY,
  note       text NOT NULL,
  created_at bigint NOT NULL
);
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

}  // namespace

Status PgStore::Initialize() {
  ASSIGN_OR_RETURN(bool found, HasSchema());
  if (found) {
    return Fail(AlreadyExists(conn_->label() + " already holds a Custos vault (schema custos)"));
  }
  RETURN_IF_ERROR(Begin());
  Status st = conn_->Exec(
      "CREATE SCHEMA custos; CREATE TABLE custos.schema_version (version integer NOT NULL)");
  if (st) st = conn_->Exec("INSERT INTO custos.schema_version VALUES (0)");
  if (!st) {
    Rollback();
    return st;
  }
  RETURN_IF_ERROR(Commit());
  if (Status migrated = Migrate(); !migrated) {
    // Made here and never a vault: nothing may be left that looks like one.
    (void)conn_->Exec("DROP SCHEMA IF EXISTS custos CASCADE");
    return migrated;
  }
  versions_ = {0, kSchemaVersion};
  return Ok();
}

Status PgStore::CheckSchema() {
  ASSIGN_OR_RETURN(bool found, HasSchema());
  if (!found) {
    return Fail(NotFound(conn_->label() + " holds no Custos vault (custos init creates one)"));
  }
  ASSIGN_OR_RETURN(Rows table,
                   conn_->Query("SELECT to_regclass('custos.schema_version') IS NOT NULL"));
  if (table.Text(0, 0) != std::string(1, '\1')) {
    return Fail(DataLoss(conn_->label() + " has a schema custos that is not a Custos vault"));
  }
  ASSIGN_OR_RETURN(int version, Version());
  RETURN_IF_ERROR(CheckSchemaNotNewer(conn_->label(), version, kSchemaVersion));
  versions_ = {version, version};
  if (version < kSchemaVersion) RETURN_IF_ERROR(Migrate());
  versions_.now = kSchemaVersion;
  return Ok();
}

Status PgStore::Commit() {
  if (!in_tx_) return Fail(Internal("no open transaction"));
  Status st = Flush();
  if (st) st = conn_->EndTransaction("COMMIT");
  in_tx_ = false;
  audit_size_.reset();
  ForgetHeld();
  if (!st) {
    (void)conn_->EndTransaction("ROLLBACK");
    return st;
  }
  return Ok();
}

void PgStore::Rollback() {
  ForgetHeld();
  if (!in_tx_) return;
  (void)conn_->EndTransaction("ROLLBACK");
  in_tx_ = false;
  audit_size_.reset();
}

Status PgStore::BeginRead() {
  if (read_depth_++ > 0 || in_tx_) return Ok();
  Status st = conn_->BeginTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!st) read_depth_ = 0;
  return st;
}

void PgStore::EndRead() {
  if (read_depth_ == 0) return;
  if (--read_depth_ > 0 || in_tx_) return;
  (void)conn_->EndTransaction("COMMIT");
}

Result<std::optional<Bytes>> PgStore::GetMeta(std::string_view key) {
  ASSIGN_OR_RETURN(Rows r,
                   conn_->Query("SELECT value FROM custos.meta WHERE key=$1", Params().Text(key)));
  if (r.size() == 0) return std::optional<Bytes>();
  return std::optional<Bytes>(r.Blob(0, 0));
}

Status PgStore::PutMeta(std::string_view key, ByteSpan value) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run(
      "INSERT INTO custos.meta(key,value) VALUES($1,$2) "
      "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
      Params().Text(key).Blob(value));
}

Status PgStore::BeginWrite(std::chrono::milliseconds wait) {
  if (in_tx_ || read_depth_ > 0) return Fail(Internal("a transaction is already open"));
  const auto started = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(conn_->BeginTransaction("BEGIN ISOLATION LEVEL READ COMMITTED"));
  in_tx_ = true;
  // lock_timeout 0 means "wait forever" to PostgreSQL: a try is the
  // non-blocking function instead.
  Status locked = Ok();
  if (wait.count() == 0) {
    auto r = conn_->Query("SELECT pg_try_advisory_xact_lock($1)", Params().Int(kWriteLock));
    if (!r) {
      locked = Fail(r.error());
    } else if (r->Text(0, 0) != std::string(1, '\1')) {
      locked = Fail(Unavailable(conn_->label() + ": the vault is in use by another process"));
    }
  } else {
    locked = conn_->Exec("SET LOCAL lock_timeout = " + std::to_string(wait.count()));
    if (locked) {
      locked = conn_->Run("SELECT pg_advisory_xact_lock($1)", Params().Int(kWriteLock));
    }
  }
  if (!locked) {
    Rollback();
    if (locked.error().code() != ErrorCode::kUnavailable) return locked;
    return Fail(Busy(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started)));
  }
  return Ok();
}

Error PgStore::Busy(std::chrono::milliseconds waited) {
  std::string holder = "another process";
  auto r = conn_->Query(
      "SELECT a.pid::int8, a.application_name FROM pg_locks l JOIN pg_stat_activity a "
      "USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND "
      "l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
      "l.classid::int8 = ($1 >> 32) AND l.objid::int8 = ($1 & 4294967295) LIMIT 1",
      Params().Int(kWriteLock));
  if (r && r->size() == 1) {
    holder = "PostgreSQL session " + std::to_string(r->Int(0, 0));
    const std::string app = r->Text(0, 1);
    if (!app.empty()) holder += " (" + app + ")";
  }
  std::string msg = "the vault " + conn_->label() + " is busy: " + holder + " is writing to it";
  if (waited.count() >= 1000) {
    msg += "; gave up after waiting " + std::to_string(waited.count() / 1000) +
           " s (--wait SECONDS to wait longer)";
  }
  return Unavailable(msg);
}

Result<bool> PgStore::HasSchema() {
  RETURN_IF_ERROR(conn_->Exec("SET client_min_messages = warning"));
  ASSIGN_OR_RETURN(Rows found, conn_->Query("SELECT 1 FROM pg_namespace WHERE nspname='custos'"));
  return found.size() > 0;
}

Result<int> PgStore::Version() {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT version FROM custos.schema_version"));
  if (r.size() != 1) return Fail(DataLoss(conn_->label() + ": custos.schema_version is damaged"));
  return static_cast<int>(r.Int(0, 0));
}

Status PgStore::Migrate() {
  for (;;) {
    RETURN_IF_ERROR(Begin());
    auto version = Version();  // read under the write lock: another may have migrated
    if (!version) {
      Rollback();
      return Fail(version.error());
    }
    if (*version >= kSchemaVersion) {
      Rollback();
      return Ok();
    }
    Status st = conn_->Exec(kMigrations[*version]);
    if (st) {
      st = conn_->Run("UPDATE custos.schema_version SET version=$1::int8::int4",
                      Params().Int(*version + 1));
    }
    if (!st) {
      Rollback();
      return st;
    }
    RETURN_IF_ERROR(Commit());
  }
}

}  // namespace pg_internal

bool IsPostgresUri(std::string_view vault) {
  return vault.starts_with("postgresql://") || vault.starts_with("postgres://");
}

Result<std::unique_ptr<Store>> CreatePgStore(const std::string& uri, const StoreOptions& options) {
  ASSIGN_OR_RETURN(auto conn, pg_internal::Conn::Connect(uri));
  auto store = std::make_unique<pg_internal::PgStore>(std::move(conn), options);
  RETURN_IF_ERROR(store->Initialize());
  return std::unique_ptr<Store>(std::move(store));
}

Status DropPgVault(const std::string& uri) {
  ASSIGN_OR_RETURN(auto conn, pg_internal::Conn::Connect(uri));
  return conn->Exec("DROP SCHEMA IF EXISTS custos CASCADE");
}

Result<std::unique_ptr<Store>> OpenPgStore(const std::string& uri, const StoreOptions& options) {
  auto conn = pg_internal::Conn::Connect(uri);
  if (!conn && conn.error().message().find("does not exist") != std::string::npos) {
    return Fail(NotFound(conn.error().message()));  // no such database: no vault
  }
  if (!conn) return Fail(conn.error());
  auto store = std::make_unique<pg_internal::PgStore>(std::move(*conn), options);
  RETURN_IF_ERROR(store->CheckSchema());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace custos::store
