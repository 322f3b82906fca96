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

#include "store/pg/pg_conn.h"
#include "store/store.h"

namespace custos::store {
namespace pg_internal {
namespace {

constexpr int kSchemaVersion = 1;
// The advisory lock every write transaction takes: one number for all
// vaults of a database is enough, as each vault has a database or schema of
// its own and writers of one vault are what it orders.
constexpr int64_t kWriteLock = 0x637573746f73;  // "custos"
constexpr size_t kIndexMacSize = 16;
// Blind-index rows written by one statement (3 parameters each; the
// protocol allows 65,535).
constexpr size_t kIndexRowsPerStatement = 2000;

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

class PgStore final : public Store {
 public:
  PgStore(std::unique_ptr<Conn> conn, const StoreOptions& options)
      : conn_(std::move(conn)), lock_wait_(options.lock_wait) {}
  ~PgStore() override { Rollback(); }

  // Creates the schema (kAlreadyExists if the database holds a vault).
  Status Initialize() {
    RETURN_IF_ERROR(conn_->Exec("SET client_min_messages = warning"));
    ASSIGN_OR_RETURN(Rows found, conn_->Query("SELECT 1 FROM pg_namespace WHERE nspname='custos'"));
    if (found.size() > 0) {
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
    return Migrate();
  }

  Status CheckSchema() {
    RETURN_IF_ERROR(conn_->Exec("SET client_min_messages = warning"));
    ASSIGN_OR_RETURN(Rows found, conn_->Query("SELECT 1 FROM pg_namespace WHERE nspname='custos'"));
    if (found.size() == 0) {
      return Fail(NotFound(conn_->label() + " holds no Custos vault (custos init creates one)"));
    }
    ASSIGN_OR_RETURN(Rows table,
                     conn_->Query("SELECT to_regclass('custos.schema_version') IS NOT NULL"));
    if (table.Text(0, 0) != std::string(1, '\1')) {
      return Fail(DataLoss(conn_->label() + " has a schema custos that is not a Custos vault"));
    }
    ASSIGN_OR_RETURN(int version, Version());
    if (version > kSchemaVersion) {
      return Fail(FailedPrecondition(conn_->label() + " has schema version " +
                                     std::to_string(version) +
                                     "; this build of Custos reads up to " +
                                     std::to_string(kSchemaVersion) + ": upgrade Custos"));
    }
    if (version < kSchemaVersion) return Migrate();
    return Ok();
  }

  Status Begin() override { return BeginWrite(lock_wait_); }
  Status TryBegin() override { return BeginWrite(std::chrono::milliseconds(0)); }

  Status Commit() override {
    if (!in_tx_) return Fail(Internal("no open transaction"));
    Status st = FlushIndex();
    if (st) st = conn_->Exec("COMMIT");
    in_tx_ = false;
    audit_size_.reset();
    if (!st) {
      (void)conn_->Exec("ROLLBACK");
      return st;
    }
    return Ok();
  }

  void Rollback() override {
    pending_index_.clear();
    if (!in_tx_) return;
    (void)conn_->Exec("ROLLBACK");
    in_tx_ = false;
    audit_size_.reset();
  }

  Status BeginRead() override {
    if (read_depth_++ > 0 || in_tx_) return Ok();
    Status st = conn_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!st) read_depth_ = 0;
    return st;
  }
  void EndRead() override {
    if (read_depth_ == 0) return;
    if (--read_depth_ > 0 || in_tx_) return;
    (void)conn_->Exec("COMMIT");
  }

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override {
    ASSIGN_OR_RETURN(
        Rows r, conn_->Query("SELECT value FROM custos.meta WHERE key=$1", Params().Text(key)));
    if (r.size() == 0) return std::optional<Bytes>();
    return std::optional<Bytes>(r.Blob(0, 0));
  }
  Status PutMeta(std::string_view key, ByteSpan value) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run(
        "INSERT INTO custos.meta(key,value) VALUES($1,$2) "
        "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        Params().Text(key).Blob(value));
  }

  Status InsertPerson(const PersonRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    if (row.pk <= 0) return Fail(Internal("person pk must be positive"));
    // A collision is reported without an error, which would abort the
    // whole transaction in PostgreSQL (SQLite's callers go on after one).
    ASSIGN_OR_RETURN(
        Rows r,
        conn_->Query(
            "INSERT INTO custos.person(pk,wrapped_key,kek_version,created_at) "
            "VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING pk",
            Params().Int(row.pk).Blob(row.wrapped_key).Int(row.kek_version).Int(row.created_at)));
    if (r.size() != 1) return Fail(AlreadyExists("person " + std::to_string(row.pk) + " exists"));
    return Ok();
  }
  Result<std::optional<PersonRow>> GetPerson(int64_t pk) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT pk,wrapped_key,kek_version,created_at FROM "
                                          "custos.person WHERE pk=$1",
                                          Params().Int(pk)));
    if (r.size() == 0) return std::optional<PersonRow>();
    return std::optional<PersonRow>(PersonAt(r, 0));
  }
  Result<uint64_t> CountPersons() override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT count(*) FROM custos.person"));
    return static_cast<uint64_t>(r.Int(0, 0));
  }
  Status ForEachPerson(const std::function<Status(const PersonRow&)>& visit) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT pk,wrapped_key,kek_version,created_at FROM "
                                          "custos.person ORDER BY pk"));
    for (int i = 0; i < r.size(); ++i) RETURN_IF_ERROR(visit(PersonAt(r, i)));
    return Ok();
  }
  Result<std::vector<int64_t>> ListPersonPks() override {
    return Ints("SELECT pk FROM custos.person ORDER BY pk", Params());
  }
  Status UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r, conn_->Query("UPDATE custos.person SET wrapped_key=$1, kek_version=$2 "
                                          "WHERE pk=$3 RETURNING pk",
                                          Params().Blob(wrapped_key).Int(kek_version).Int(pk)));
    if (r.size() != 1) return Fail(NotFound("no person with that key"));
    return Ok();
  }
  Status DeletePerson(int64_t pk) override {
    RETURN_IF_ERROR(RequireTx());
    RETURN_IF_ERROR(FlushIndex());
    RETURN_IF_ERROR(
        conn_->Run("DELETE FROM custos.record WHERE id BETWEEN $1 AND $2",
                   Params().Int(pk << kRecordShift).Int(((pk + 1) << kRecordShift) - 1)));
    RETURN_IF_ERROR(
        conn_->Run("DELETE FROM custos.blind_index WHERE person_pk=$1", Params().Int(pk)));
    RETURN_IF_ERROR(
        conn_->Run("DELETE FROM custos.person_doc WHERE person_pk=$1", Params().Int(pk)));
    ASSIGN_OR_RETURN(Rows r, conn_->Query("DELETE FROM custos.person WHERE pk=$1 RETURNING pk",
                                          Params().Int(pk)));
    if (r.size() != 1) return Fail(NotFound("no such person"));
    return Ok();
  }
  Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep) override {
    RETURN_IF_ERROR(RequireTx());
    RETURN_IF_ERROR(FlushIndex());
    // The kept pks as one array parameter: bigint[] in text form.
    std::string array = "{";
    for (size_t i = 0; i < keep.size(); ++i) array += (i ? "," : "") + std::to_string(keep[i]);
    array += "}";
    const Params kept = Params().Text(array);
    RETURN_IF_ERROR(
        conn_->Run("DELETE FROM custos.record WHERE NOT ((id >> 24) = ANY ($1::bigint[]))", kept));
    RETURN_IF_ERROR(conn_->Run(
        "DELETE FROM custos.blind_index WHERE NOT (person_pk = ANY ($1::bigint[]))", kept));
    RETURN_IF_ERROR(conn_->Run(
        "DELETE FROM custos.person_doc WHERE NOT (person_pk = ANY ($1::bigint[]))", kept));
    ASSIGN_OR_RETURN(Rows r,
                     conn_->Query("WITH gone AS (DELETE FROM custos.person WHERE NOT (pk = ANY "
                                  "($1::bigint[])) RETURNING 1) SELECT count(*) FROM gone",
                                  kept));
    return static_cast<uint64_t>(r.Int(0, 0));
  }

  Status InsertDataset(DatasetRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    auto r = conn_->Query(
        "INSERT INTO custos.dataset(name,schema_json,source_sha256,source_format,imported_at,"
        "rows,people) VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING RETURNING id",
        Params()
            .Text(row.name)
            .Text(row.schema_json)
            .Text(row.source_sha256)
            .Text(row.source_format)
            .Int(row.imported_at)
            .Int(static_cast<int64_t>(row.rows))
            .Int(static_cast<int64_t>(row.people)));
    if (!r) return Fail(r.error());
    if (r->size() != 1) {
      return Fail(AlreadyExists("a dataset named '" + row.name + "' already exists"));
    }
    row.id = r->Int(0, 0);
    return Ok();
  }
  Status UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run(
        "UPDATE custos.dataset SET rows=$1, people=$2 WHERE id=$3",
        Params().Int(static_cast<int64_t>(rows)).Int(static_cast<int64_t>(people)).Int(id));
  }
  Status UpdateDatasetSource(int64_t id, std::string_view source_sha256) override {
    return UpdateDataset("UPDATE custos.dataset SET source_sha256=$1 WHERE id=$2 RETURNING id", id,
                         source_sha256);
  }
  Status UpdateDatasetSchema(int64_t id, std::string_view schema_json) override {
    return UpdateDataset("UPDATE custos.dataset SET schema_json=$1 WHERE id=$2 RETURNING id", id,
                         schema_json);
  }
  Result<std::vector<DatasetRow>> ListDatasets() override {
    ASSIGN_OR_RETURN(Rows r,
                     conn_->Query("SELECT id,name,schema_json,source_sha256,source_format,"
                                  "imported_at,rows,people FROM custos.dataset ORDER BY id"));
    std::vector<DatasetRow> out;
    for (int i = 0; i < r.size(); ++i) {
      DatasetRow d;
      d.id = r.Int(i, 0);
      d.name = r.Text(i, 1);
      d.schema_json = r.Text(i, 2);
      d.source_sha256 = r.Text(i, 3);
      d.source_format = r.Text(i, 4);
      d.imported_at = r.Int(i, 5);
      d.rows = static_cast<uint64_t>(r.Int(i, 6));
      d.people = static_cast<uint64_t>(r.Int(i, 7));
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<int64_t> InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) override {
    RETURN_IF_ERROR(RequireTx());
    const int64_t lo = person_pk << kRecordShift, hi = ((person_pk + 1) << kRecordShift) - 1;
    ASSIGN_OR_RETURN(Rows m, conn_->Query("SELECT max(id) FROM custos.record WHERE id BETWEEN $1 "
                                          "AND $2",
                                          Params().Int(lo).Int(hi)));
    const int64_t id = m.IsNull(0, 0) ? lo : m.Int(0, 0) + 1;
    if (id > hi) return Fail(FailedPrecondition("a person cannot have more than 2^24 records"));
    RETURN_IF_ERROR(conn_->Run("INSERT INTO custos.record(id,dataset,body) VALUES($1,$2,$3)",
                               Params().Int(id).Int(dataset_id).Blob(body)));
    return id;
  }
  Result<std::vector<RecordRow>> RecordsOf(int64_t person_pk) override {
    ASSIGN_OR_RETURN(
        Rows r,
        conn_->Query(
            "SELECT id,dataset,body FROM custos.record WHERE id "
            "BETWEEN $1 AND $2 ORDER BY id",
            Params().Int(person_pk << kRecordShift).Int(((person_pk + 1) << kRecordShift) - 1)));
    std::vector<RecordRow> out;
    for (int i = 0; i < r.size(); ++i) {
      RecordRow rec;
      rec.id = r.Int(i, 0);
      rec.person_pk = rec.id >> kRecordShift;
      rec.dataset_id = r.Int(i, 1);
      rec.body = r.Blob(i, 2);
      out.push_back(std::move(rec));
    }
    return out;
  }
  Result<std::vector<int64_t>> ListPersonPksInDataset(int64_t dataset_id) override {
    return Ints("SELECT DISTINCT id >> 24 FROM custos.record WHERE dataset=$1 ORDER BY 1",
                Params().Int(dataset_id));
  }
  Status ForEachPersonWithRecords(
      const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) override {
    // Persons in pk order, each with their records: read in slices of
    // persons, so neither table is held whole in memory.
    int64_t after = 0;
    for (;;) {
      ASSIGN_OR_RETURN(Rows people,
                       conn_->Query("SELECT pk,wrapped_key,kek_version,created_at FROM "
                                    "custos.person WHERE pk > $1 ORDER BY pk LIMIT 1000",
                                    Params().Int(after)));
      if (people.size() == 0) return Ok();
      const int64_t first = people.Int(0, 0), last = people.Int(people.size() - 1, 0);
      ASSIGN_OR_RETURN(
          Rows records,
          conn_->Query("SELECT id,dataset,body FROM custos.record WHERE id BETWEEN "
                       "$1 AND $2 ORDER BY id",
                       Params().Int(first << kRecordShift).Int(((last + 1) << kRecordShift) - 1)));
      int at = 0;
      std::vector<RecordView> views;
      for (int i = 0; i < people.size(); ++i) {
        const PersonRow p = PersonAt(people, i);
        views.clear();
        while (at < records.size() && (records.Int(at, 0) >> kRecordShift) < p.pk) ++at;
        while (at < records.size() && (records.Int(at, 0) >> kRecordShift) == p.pk) {
          views.push_back({records.Int(at, 0), records.Int(at, 1), records.View(at, 2)});
          ++at;
        }
        RETURN_IF_ERROR(visit(p, views));
      }
      after = last;
    }
  }

  Status InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) override {
    RETURN_IF_ERROR(RequireTx());
    if (mac.size() != kIndexMacSize) {
      return Fail(InvalidArgument("a blind-index MAC is " + std::to_string(kIndexMacSize) +
                                  " bytes, not " + std::to_string(mac.size())));
    }
    // Held back and written many rows a statement (an import writes one or
    // more entries per person; a round trip each was most of its time).
    pending_index_.push_back({kind, Bytes(mac.begin(), mac.end()), person_pk});
    if (pending_index_.size() >= kIndexRowsPerStatement) return FlushIndex();
    return Ok();
  }
  Result<std::vector<int64_t>> FindByIndex(uint8_t kind, ByteSpan mac) override {
    RETURN_IF_ERROR(FlushIndex());
    return Ints(
        "SELECT person_pk FROM custos.blind_index WHERE kind=$1::int8::int2 AND mac=$2 "
        "ORDER BY person_pk",
        Params().Int(kind).Blob(mac));
  }
  Status ForEachIndexEntry(uint8_t kind,
                           const std::function<Status(ByteSpan, int64_t)>& visit) override {
    RETURN_IF_ERROR(FlushIndex());
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT mac,person_pk FROM custos.blind_index WHERE "
                                          "kind=$1::int8::int2 ORDER BY mac, person_pk",
                                          Params().Int(kind)));
    for (int i = 0; i < r.size(); ++i) RETURN_IF_ERROR(visit(r.View(i, 0), r.Int(i, 1)));
    return Ok();
  }

  Status UpdateRecord(int64_t record_id, ByteSpan body) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r, conn_->Query("UPDATE custos.record SET body=$1 WHERE id=$2 "
                                          "RETURNING id",
                                          Params().Blob(body).Int(record_id)));
    if (r.size() != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
    return Ok();
  }
  Status DeleteRecord(int64_t record_id) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r, conn_->Query("DELETE FROM custos.record WHERE id=$1 RETURNING id",
                                          Params().Int(record_id)));
    if (r.size() != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
    return Ok();
  }

  Status PutDoc(std::string_view kind, std::string_view key, std::string_view body) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run(
        "INSERT INTO custos.doc(kind,key,body) VALUES($1,$2,$3) "
        "ON CONFLICT (kind,key) DO UPDATE SET body=excluded.body",
        Params().Text(kind).Text(key).Text(body));
  }
  Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT body FROM custos.doc WHERE kind=$1 AND key=$2",
                                          Params().Text(kind).Text(key)));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.Text(0, 0));
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListDocs(
      std::string_view kind) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT key,body FROM custos.doc WHERE kind=$1 ORDER BY "
                                          "key COLLATE \"C\"",
                                          Params().Text(kind)));
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.size(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1));
    return out;
  }
  Status DeleteDoc(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run("DELETE FROM custos.doc WHERE kind=$1 AND key=$2",
                      Params().Text(kind).Text(key));
  }

  Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                      std::string_view body) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run(
        "INSERT INTO custos.person_doc(kind,key,person_pk,body) VALUES($1,$2,$3,$4) "
        "ON CONFLICT (kind,key,person_pk) DO UPDATE SET body=excluded.body",
        Params().Text(kind).Text(key).Int(person_pk).Text(body));
  }
  Result<std::optional<std::string>> GetPersonDoc(std::string_view kind, std::string_view key,
                                                  int64_t person_pk) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT body FROM custos.person_doc WHERE kind=$1 AND "
                                          "key=$2 AND person_pk=$3",
                                          Params().Text(kind).Text(key).Int(person_pk)));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.Text(0, 0));
  }
  Status ForEachPersonDoc(std::string_view kind, std::string_view key,
                          const std::function<Status(int64_t, std::string_view)>& visit) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT person_pk,body FROM custos.person_doc WHERE "
                                          "kind=$1 AND key=$2 ORDER BY person_pk",
                                          Params().Text(kind).Text(key)));
    for (int i = 0; i < r.size(); ++i) RETURN_IF_ERROR(visit(r.Int(i, 0), r.Text(i, 1)));
    return Ok();
  }
  Status DeletePersonDocs(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run("DELETE FROM custos.person_doc WHERE kind=$1 AND key=$2",
                      Params().Text(kind).Text(key));
  }

  Status AppendAuditEntry(uint64_t seq, ByteSpan data) override {
    RETURN_IF_ERROR(RequireTx());
    // Under the write lock nobody else appends: the size is read once.
    if (!audit_size_) {
      ASSIGN_OR_RETURN(uint64_t n, CountAuditEntries());
      audit_size_ = n;
    }
    if (seq != *audit_size_) {
      return Fail(Internal("audit entry " + std::to_string(seq) + " appended at size " +
                           std::to_string(*audit_size_)));
    }
    RETURN_IF_ERROR(conn_->Run("INSERT INTO custos.audit_entry(seq,data) VALUES($1,$2)",
                               Params().Int(static_cast<int64_t>(seq)).Blob(data)));
    ++*audit_size_;
    return Ok();
  }
  Result<uint64_t> CountAuditEntries() override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT coalesce(max(seq)+1,0) FROM custos.audit_entry"));
    return static_cast<uint64_t>(r.Int(0, 0));
  }
  Status ForEachAuditEntry(uint64_t from,
                           const std::function<Status(uint64_t, ByteSpan)>& visit) override {
    // In slices of entries: a log of millions is never one result.
    int64_t next = static_cast<int64_t>(from);
    for (;;) {
      ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT seq,data FROM custos.audit_entry WHERE seq "
                                            ">= $1 ORDER BY seq LIMIT 10000",
                                            Params().Int(next)));
      for (int i = 0; i < r.size(); ++i) {
        RETURN_IF_ERROR(visit(static_cast<uint64_t>(r.Int(i, 0)), r.View(i, 1)));
      }
      if (r.size() < 10000) return Ok();
      next = r.Int(r.size() - 1, 0) + 1;
    }
  }
  Status PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r,
                     conn_->Query("INSERT INTO custos.audit_node(level,idx,hash) "
                                  "VALUES($1::int8::int4,$2,$3) ON CONFLICT DO NOTHING "
                                  "RETURNING idx",
                                  Params().Int(level).Int(static_cast<int64_t>(index)).Blob(hash)));
    if (r.size() != 1) {
      return Fail(AlreadyExists("audit node (" + std::to_string(level) + ", " +
                                std::to_string(index) + ") exists"));
    }
    return Ok();
  }
  Result<std::optional<Bytes>> GetAuditNode(uint32_t level, uint64_t index) override {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT hash FROM custos.audit_node WHERE "
                                          "level=$1::int8::int4 AND idx=$2",
                                          Params().Int(level).Int(static_cast<int64_t>(index))));
    if (r.size() == 0) return std::optional<Bytes>();
    return std::optional<Bytes>(r.Blob(0, 0));
  }
  Status ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override {
    RETURN_IF_ERROR(RequireTx());
    return conn_->Run(
        "INSERT INTO custos.audit_node(level,idx,hash) VALUES($1::int8::int4,$2,$3) "
        "ON CONFLICT (level,idx) DO UPDATE SET hash=excluded.hash",
        Params().Int(level).Int(static_cast<int64_t>(index)).Blob(hash));
  }
  Result<uint64_t> DeleteAuditNodesFrom(uint64_t size) override {
    RETURN_IF_ERROR(RequireTx());
    // Node (level, idx) covers leaves [idx << level, (idx + 1) << level).
    ASSIGN_OR_RETURN(Rows r, conn_->Query("WITH gone AS (DELETE FROM custos.audit_node WHERE "
                                          "((idx + 1) << level) > $1 RETURNING 1) SELECT count(*) "
                                          "FROM gone",
                                          Params().Int(static_cast<int64_t>(size))));
    return static_cast<uint64_t>(r.Int(0, 0));
  }
  Status PutCheckpoint(const CheckpointRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(
        Rows r,
        conn_->Query(
            "INSERT INTO custos.audit_checkpoint(size,note,created_at) "
            "VALUES($1,$2,$3) ON CONFLICT DO NOTHING RETURNING size",
            Params().Int(static_cast<int64_t>(row.size)).Text(row.note).Int(row.created_at)));
    if (r.size() != 1) {
      return Fail(AlreadyExists("a checkpoint of size " + std::to_string(row.size) + " exists"));
    }
    return Ok();
  }
  Status DeleteCheckpoint(uint64_t size) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r, conn_->Query("DELETE FROM custos.audit_checkpoint WHERE size=$1 "
                                          "RETURNING size",
                                          Params().Int(static_cast<int64_t>(size))));
    if (r.size() != 1) return Fail(NotFound("no checkpoint of size " + std::to_string(size)));
    return Ok();
  }
  Result<std::optional<CheckpointRow>> LatestCheckpoint() override {
    ASSIGN_OR_RETURN(std::vector<CheckpointRow> all,
                     Checkpoints("SELECT size,note,created_at FROM custos.audit_checkpoint "
                                 "ORDER BY size DESC LIMIT 1"));
    if (all.empty()) return std::optional<CheckpointRow>();
    return std::optional<CheckpointRow>(std::move(all[0]));
  }
  Result<std::vector<CheckpointRow>> ListCheckpoints() override {
    return Checkpoints("SELECT size,note,created_at FROM custos.audit_checkpoint ORDER BY size");
  }

  // Deleted rows stay in the tables' pages until VACUUM reclaims them; a
  // plain VACUUM (not FULL) takes no lock that stops readers or writers.
  Result<bool> PurgeResidue(bool vacuum) override {
    if (in_tx_ || read_depth_ > 0) return Fail(Internal("PurgeResidue inside a transaction"));
    // VACUUM keeps what another session's snapshot may still see, and does
    // not say so: a snapshot held elsewhere means the purge cannot finish.
    ASSIGN_OR_RETURN(Rows held, conn_->Query("SELECT count(*) FROM pg_stat_activity WHERE "
                                             "datname = current_database() AND pid <> "
                                             "pg_backend_pid() AND backend_xmin IS NOT NULL"));
    if (held.Int(0, 0) > 0) return false;
    const char* tables[] = {"person", "record", "blind_index", "person_doc", "doc", "dataset"};
    for (const char* t : tables) {
      RETURN_IF_ERROR(
          conn_->Exec(std::string(vacuum ? "VACUUM (FULL) custos." : "VACUUM custos.") + t));
    }
    return true;
  }
  std::vector<std::string> Files() const override { return {}; }
  Result<ResidueSettings> ReadResidueSettings() override {
    ResidueSettings r;
    r.zeroes_freed_space = false;  // PostgreSQL reclaims space by VACUUM, never zeroes it
    r.journal_mode = "postgresql";
    return r;
  }

 private:
  Status RequireTx() const {
    if (!in_tx_) return Fail(Internal("write outside a transaction"));
    return Ok();
  }

  Status BeginWrite(std::chrono::milliseconds wait) {
    if (in_tx_ || read_depth_ > 0) return Fail(Internal("a transaction is already open"));
    const auto started = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(conn_->Exec("BEGIN ISOLATION LEVEL READ COMMITTED"));
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

  // Who holds the write lock, for messages: "PostgreSQL session 1234
  // (custos serve)", from pg_locks (an advisory lock on a bigint key is
  // (classid, objid) = (high, low) 32 bits, objsubid 1).
  Error Busy(std::chrono::milliseconds waited) {
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

  Status FlushIndex() {
    if (pending_index_.empty()) return Ok();
    std::string sql = "INSERT INTO custos.blind_index(kind,mac,person_pk) VALUES ";
    Params params;
    int n = 0;
    for (const PendingEntry& e : pending_index_) {
      sql += (n ? ",(" : "(") + std::string("$") + std::to_string(n + 1) + "::int8::int2,$" +
             std::to_string(n + 2) + ",$" + std::to_string(n + 3) + ")";
      params.Int(e.kind).Blob(e.mac).Int(e.person_pk);
      n += 3;
    }
    sql += " ON CONFLICT DO NOTHING";
    pending_index_.clear();
    return conn_->Run(sql.c_str(), params);
  }

  Result<int> Version() {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT version FROM custos.schema_version"));
    if (r.size() != 1) return Fail(DataLoss(conn_->label() + ": custos.schema_version is damaged"));
    return static_cast<int>(r.Int(0, 0));
  }

  Status Migrate() {
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

  Status UpdateDataset(const char* sql, int64_t id, std::string_view value) {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(Rows r, conn_->Query(sql, Params().Text(value).Int(id)));
    if (r.size() != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
    return Ok();
  }

  Result<std::vector<int64_t>> Ints(const char* sql, const Params& params) {
    ASSIGN_OR_RETURN(Rows r, conn_->Query(sql, params));
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(r.Int(i, 0));
    return out;
  }

  Result<std::vector<CheckpointRow>> Checkpoints(const char* sql) {
    ASSIGN_OR_RETURN(Rows r, conn_->Query(sql));
    std::vector<CheckpointRow> out;
    for (int i = 0; i < r.size(); ++i) {
      out.push_back({static_cast<uint64_t>(r.Int(i, 0)), r.Text(i, 1), r.Int(i, 2)});
    }
    return out;
  }

  static PersonRow PersonAt(const Rows& r, int i) {
    PersonRow p;
    p.pk = r.Int(i, 0);
    p.wrapped_key = r.Blob(i, 1);
    p.kek_version = static_cast<uint32_t>(r.Int(i, 2));
    p.created_at = r.Int(i, 3);
    return p;
  }

  std::unique_ptr<Conn> conn_;
  std::chrono::milliseconds lock_wait_;
  bool in_tx_ = false;
  int read_depth_ = 0;
  std::optional<uint64_t> audit_size_;
  struct PendingEntry {
    uint8_t kind;
    Bytes mac;
    int64_t person_pk;
  };
  std::vector<PendingEntry> pending_index_;  // InsertIndex's, until FlushIndex
};

}  // namespace
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
