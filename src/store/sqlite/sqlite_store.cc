// SQLite backend of the Store interface.
//
// One file per vault, WAL journal, secure_delete on (freed content is zeroed,
// so deleted ciphertext and wrapped keys do not linger in free pages), and a
// schema versioned by PRAGMA user_version with forward-only migrations.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace custos::store {
namespace {

constexpr int kSchemaVersion = 3;

// Forward-only migrations: kMigrations[i] takes the schema from version i to i+1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE person (
  pk          INTEGER PRIMARY KEY,
  wrapped_key BLOB NOT NULL,
  kek_version INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE dataset (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  schema_json   TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  source_format TEXT NOT NULL,
  imported_at   INTEGER NOT NULL,
  rows          INTEGER NOT NULL,
  people        INTEGER NOT NULL
);
CREATE TABLE record (
  id        INTEGER PRIMARY KEY,  -- (person pk << 24) | n
  dataset   INTEGER NOT NULL,
  body      BLOB NOT NULL
);
CREATE TABLE blind_index (
  kind      INTEGER NOT NULL,
  mac       BLOB NOT NULL,
  person_pk INTEGER NOT NULL,
  PRIMARY KEY (kind, mac, person_pk)
) WITHOUT ROWID;
CREATE INDEX blind_index_by_person ON blind_index(person_pk);
CREATE TABLE doc (
  kind TEXT NOT NULL,
  key  TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE person_doc (
  kind      TEXT NOT NULL,
  key       TEXT NOT NULL,
  person_pk INTEGER NOT NULL,
  body      TEXT NOT NULL,
  PRIMARY KEY (kind, key, person_pk)
) WITHOUT ROWID;
CREATE INDEX person_doc_by_person ON person_doc(person_pk);
CREATE TABLE audit_entry (
  seq  INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE audit_node (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE audit_checkpoint (
  size       INTEGER PRIMARY KEY,
  note       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql",
    // v2: a person's index entries as one row of their own instead of a
    // secondary index, so that an import writes the MAC tree in MAC order
    // and the person rows in person order (see SqliteStore::InsertIndex).
    // entries = (kind(1) || mac(16))*; filled from blind_index by
    // FillPersonIndex.
    R"sql(
CREATE TABLE person_index (
  person_pk INTEGER PRIMARY KEY,
  entries   BLOB NOT NULL
);
DROP INDEX blind_index_by_person;
)sql",
    // v3: the MAC tree as buckets (by the MAC's first two bytes), each one
    // blob of sorted entries, instead of a B-tree row per entry. An import's
    // million entries were as many INSERT steps at commit, most of its
    // serial work; now they are tens of thousands of blobs. entries =
    // (mac(16) || kind(1) || person_pk(8, big-endian))*, in byte order, no
    // duplicates; filled from blind_index by FillMacBuckets, which drops it.
    R"sql(
CREATE TABLE mac_bucket (
  bucket  INTEGER PRIMARY KEY,
  entries BLOB NOT NULL
);
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path, const StoreOptions& options)
      : db_(db), path_(std::move(path)), lock_wait_(options.lock_wait) {}
  ~SqliteStore() override {
    stmts_.clear();
    sqlite3_close_v2(db_);
  }

  Status Configure() {
    // First: preparing the pragmas below reads the schema, which can meet
    // another connection's lock for a moment (a WAL being checkpointed or
    // removed as its last connection closes); without a busy handler that
    // moment was an error ("database is locked") for a mere reader.
    SetBusyTimeout(lock_wait_);
    // secure_delete: deleted content is overwritten with zeros.
    // synchronous=FULL: a committed transaction survives power loss.
    // temp_store=MEMORY: no temporary files beside the vault.
    return Exec(
        "PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
        "PRAGMA cache_size=-16384;");
  }

  void SetBusyTimeout(std::chrono::milliseconds wait) {
    sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<int64_t>(wait.count(), 0, INT32_MAX)));
  }

  Status Initialize() {
    // 64 KiB pages: an import writes hundreds of megabytes, and with 4 KiB
    // pages the per-page work (WAL frames, checksums, one write call each)
    // was a fifth of it; point lookups read a few pages either way.
    RETURN_IF_ERROR(Exec("PRAGMA page_size=65536; PRAGMA journal_mode=WAL;"));
    return Migrate();
  }

  // Sets and returns the journal mode (what SQLite reports it now is).
  Result<std::string> JournalMode(const char* pragma) {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, pragma, -1, &raw, nullptr)));
    Stmt s(raw);
    int rc = sqlite3_step(raw);
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    return std::string(text == nullptr ? "" : text);
  }

  // The same without waiting: while another connection has the vault open a
  // change of mode fails at once instead of after the busy timeout.
  Result<std::string> JournalModeNoWait(const char* pragma) {
    SetBusyTimeout(std::chrono::milliseconds(0));
    Result<std::string> mode = JournalMode(pragma);
    SetBusyTimeout(lock_wait_);
    return mode;
  }

  // Back to WAL mode if an import of an earlier version was interrupted in
  // rollback-journal mode (those left WAL mode for a bulk import; the open
  // that rolls the journal back finds the vault in that mode).
  void RestoreWal() {
    Result<std::string> mode = JournalMode("PRAGMA journal_mode");
    if (!mode || *mode == "wal") return;
    (void)JournalModeNoWait("PRAGMA journal_mode=WAL");
  }

  Status CheckSchema() {
    ASSIGN_OR_RETURN(int version, UserVersion());
    if (version == 0) return Fail(DataLoss(path_ + " is not a Custos vault"));
    if (version > kSchemaVersion) {
      return Fail(FailedPrecondition(path_ + " has schema version " + std::to_string(version) +
                                     "; this build of Custos reads up to " +
                                     std::to_string(kSchemaVersion) + ": upgrade Custos"));
    }
    if (version < kSchemaVersion) return Migrate();
    return Ok();
  }

  // Every write transaction is BEGIN IMMEDIATE: it takes the write lock at
  // once, so two writers never both read and then collide at their first
  // write (a deferred transaction that read an older snapshot could not
  // write at all). Writes stay in WAL mode: a rollback journal (which an
  // earlier version used for large imports, to write pages once) blocks
  // every reader while the writer spills or commits, and a connection that
  // switches modes under another one's transaction corrupts the vault.
  Status Begin() override { return BeginWrite(lock_wait_); }
  Status TryBegin() override { return BeginWrite(std::chrono::milliseconds(0)); }

  Status Commit() override {
    if (!in_tx_) return Fail(Internal("no open transaction"));
    Status st = FlushIndex();
    if (st) st = Exec("COMMIT");
    ReleasePendingIndex();
    if (!st) {
      Rollback();
      return st;
    }
    in_tx_ = false;
    return Ok();
  }
  void Rollback() override {
    ForgetRecordHints();
    ReleasePendingIndex();
    if (!in_tx_) return;
    (void)Exec("ROLLBACK");
    in_tx_ = false;
    tx_audit_size_.reset();
  }

  // A deferred transaction: its snapshot is taken at its first read, and in
  // WAL mode it never waits for a writer.
  Status BeginRead() override {
    if (read_depth_++ > 0 || in_tx_) return Ok();
    Status st = Exec("BEGIN DEFERRED");
    if (!st) read_depth_ = 0;
    return st;
  }
  void EndRead() override {
    if (read_depth_ == 0) return;
    if (--read_depth_ > 0 || in_tx_) return;
    (void)Exec("COMMIT");
  }

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT value FROM meta WHERE key=?"));
    BindText(s, 1, key);
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<Bytes>();
    Bytes value = ColumnBlob(s, 0);
    sqlite3_reset(s);  // an open read cursor would block checkpoints
    return std::optional<Bytes>(std::move(value));
  }

  Status PutMeta(std::string_view key, ByteSpan value) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO meta(key,value) VALUES(?,?) "
                             "ON CONFLICT(key) DO UPDATE SET value=excluded.value"));
    BindText(s, 1, key);
    BindBlob(s, 2, value);
    return StepDone(s);
  }

  Status InsertPerson(const PersonRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    if (row.pk <= 0) return Fail(Internal("person pk must be positive"));
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO person(pk,wrapped_key,kek_version,created_at) "
                             "VALUES(?,?,?,?)"));
    sqlite3_bind_int64(s, 1, row.pk);
    BindBlob(s, 2, row.wrapped_key);
    sqlite3_bind_int64(s, 3, row.kek_version);
    sqlite3_bind_int64(s, 4, row.created_at);
    RETURN_IF_ERROR(StepDone(s));
    last_inserted_person_ = row.pk;
    return Ok();
  }

  Result<std::optional<PersonRow>> GetPerson(int64_t pk) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT pk,wrapped_key,kek_version,created_at FROM person "
                             "WHERE pk=?"));
    sqlite3_bind_int64(s, 1, pk);
    return ReadPerson(s);
  }

  Result<uint64_t> CountPersons() override {
    ASSIGN_OR_RETURN(int64_t n, QueryInt64("SELECT count(*) FROM person"));
    return static_cast<uint64_t>(n);
  }

  Result<std::vector<int64_t>> ListPersonPks() override {
    // Room for as many as the largest number (numbers only grow, so there
    // are at most that many): one B-tree descent, where count(*) read the
    // whole table a second time. Reserving only takes address space.
    ASSIGN_OR_RETURN(int64_t max_pk, QueryInt64("SELECT max(pk) FROM person"));
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT pk FROM person ORDER BY pk"));
    std::vector<int64_t> pks;
    pks.reserve(static_cast<size_t>(std::clamp<int64_t>(max_pk, 0, int64_t{1} << 27)));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));  // resets at the end and on an error
      if (!row) return pks;
      pks.push_back(sqlite3_column_int64(s, 0));
    }
  }

  Status ForEachPerson(const std::function<Status(const PersonRow&)>& visit) override {
    // A dedicated statement: the visitor may use the cached ones.
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT pk,wrapped_key,kek_version,created_at FROM person ORDER BY pk", -1,
        &raw, nullptr)));
    Stmt s(raw);
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Ok();
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      RETURN_IF_ERROR(visit(PersonFrom(raw)));
    }
  }

  Status UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("UPDATE person SET wrapped_key=?, kek_version=? WHERE pk=?"));
    BindBlob(s, 1, wrapped_key);
    sqlite3_bind_int64(s, 2, kek_version);
    sqlite3_bind_int64(s, 3, pk);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no person with that key"));
    return Ok();
  }

  Status DeletePerson(int64_t pk) override {
    RETURN_IF_ERROR(RequireTx());
    RETURN_IF_ERROR(FlushInserts());  // the person's person_index row is read below
    ForgetRecordHints();
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM record WHERE id BETWEEN ? AND ?"));
      sqlite3_bind_int64(s, 1, pk << kRecordShift);
      sqlite3_bind_int64(s, 2, ((pk + 1) << kRecordShift) - 1);
      RETURN_IF_ERROR(StepDone(s));
    }
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * q, Prepare("SELECT entries FROM person_index WHERE person_pk=?"));
      sqlite3_bind_int64(q, 1, pk);
      ASSIGN_OR_RETURN(bool row, Step(q));
      Bytes entries = row ? ColumnBlob(q, 0) : Bytes();
      sqlite3_reset(q);
      // Taken out of their buckets later, many at a time (each bucket is
      // then rewritten once, not once per person).
      RETURN_IF_ERROR(ForEachPersonEntry(entries, [&](uint8_t kind, ByteSpan mac) -> Status {
        pending_removals_.push_back(Entry(kind, mac, pk));
        return Ok();
      }));
      if (pending_removals_.size() >= kMaxPendingByMac) {
        RETURN_IF_ERROR(RemoveMacEntries(pending_removals_));
      }
    }
    for (const char* sql : {"DELETE FROM person_index WHERE person_pk=?",
                            "DELETE FROM person_doc WHERE person_pk=?"}) {
      ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
      sqlite3_bind_int64(s, 1, pk);
      RETURN_IF_ERROR(StepDone(s));
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM person WHERE pk=?"));
    sqlite3_bind_int64(s, 1, pk);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no such person"));
    return Ok();
  }

  Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep) override {
    RETURN_IF_ERROR(RequireTx());
    RETURN_IF_ERROR(FlushIndex());
    ForgetRecordHints();
    // Copy what is kept aside (temp_store=MEMORY: no temporary file), empty
    // the tables (SQLite's truncate optimization frees whole pages instead of
    // deleting row by row) and put the kept rows back.
    RETURN_IF_ERROR(Exec(
        "DROP TABLE IF EXISTS temp.custos_keep;"
        "CREATE TEMP TABLE custos_keep(pk INTEGER PRIMARY KEY);"));
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("INSERT OR IGNORE INTO temp.custos_keep(pk) VALUES(?)"));
      for (int64_t pk : keep) {
        sqlite3_bind_int64(s, 1, pk);
        RETURN_IF_ERROR(StepDone(s));
      }
    }
    ASSIGN_OR_RETURN(uint64_t before, CountPersons());
    RETURN_IF_ERROR(Exec(
        "CREATE TEMP TABLE custos_keep_person AS SELECT * FROM person WHERE pk IN temp.custos_keep;"
        "CREATE TEMP TABLE custos_keep_record AS SELECT * FROM record WHERE (id >> 24) IN temp.custos_keep;"
        "CREATE TEMP TABLE custos_keep_index AS SELECT * FROM person_index "
        "WHERE person_pk IN temp.custos_keep;"
        "CREATE TEMP TABLE custos_keep_doc AS SELECT * FROM person_doc WHERE person_pk IN temp.custos_keep;"
        "DELETE FROM record; DELETE FROM mac_bucket; DELETE FROM person_index;"
        "DELETE FROM person_doc; DELETE FROM person;"
        "INSERT INTO person SELECT * FROM temp.custos_keep_person;"
        "INSERT INTO record SELECT * FROM temp.custos_keep_record;"
        "INSERT INTO person_index SELECT * FROM temp.custos_keep_index ORDER BY person_pk;"
        "INSERT INTO person_doc SELECT * FROM temp.custos_keep_doc ORDER BY kind, key, person_pk;"
        "DROP TABLE temp.custos_keep_person; DROP TABLE temp.custos_keep_record;"
        "DROP TABLE temp.custos_keep_doc;"
        "DROP TABLE temp.custos_keep;"));
    // The MAC tree again, from the kept people's entries.
    std::vector<PendingIndex> kept;
    RETURN_IF_ERROR(ForEachPersonIndexRow(
        "SELECT person_pk, entries FROM temp.custos_keep_index",
        [&](int64_t pk, ByteSpan entries) {
          return ForEachPersonEntry(entries, [&](uint8_t kind, ByteSpan mac) {
            kept.push_back(Entry(kind, mac, pk));
            return Ok();
          });
        }));
    RETURN_IF_ERROR(WriteMacEntries(kept));
    RETURN_IF_ERROR(Exec("DROP TABLE temp.custos_keep_index;"));
    ASSIGN_OR_RETURN(uint64_t after, CountPersons());
    return before - after;
  }

  Status InsertDataset(DatasetRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO dataset(name,schema_json,source_sha256,source_format,"
                             "imported_at,rows,people) VALUES(?,?,?,?,?,?,?)"));
    BindText(s, 1, row.name);
    BindText(s, 2, row.schema_json);
    BindText(s, 3, row.source_sha256);
    BindText(s, 4, row.source_format);
    sqlite3_bind_int64(s, 5, row.imported_at);
    sqlite3_bind_int64(s, 6, static_cast<int64_t>(row.rows));
    sqlite3_bind_int64(s, 7, static_cast<int64_t>(row.people));
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Fail(AlreadyExists("a dataset named '" + row.name + "' already exists"));
    }
    if (rc != SQLITE_DONE) return Fail(StorageError(rc));
    row.id = sqlite3_last_insert_rowid(db_);
    return Ok();
  }

  Status UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET rows=?, people=? WHERE id=?"));
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(rows));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(people));
    sqlite3_bind_int64(s, 3, id);
    return StepDone(s);
  }

  Status UpdateDatasetSource(int64_t id, std::string_view source_sha256) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET source_sha256=? WHERE id=?"));
    BindText(s, 1, source_sha256);
    sqlite3_bind_int64(s, 2, id);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
    return Ok();
  }

  Status UpdateDatasetSchema(int64_t id, std::string_view schema_json) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET schema_json=? WHERE id=?"));
    BindText(s, 1, schema_json);
    sqlite3_bind_int64(s, 2, id);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
    return Ok();
  }

  Result<std::vector<DatasetRow>> ListDatasets() override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT id,name,schema_json,source_sha256,source_format,imported_at,"
                             "rows,people FROM dataset ORDER BY id"));
    std::vector<DatasetRow> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));
      if (!row) break;
      DatasetRow d;
      d.id = sqlite3_column_int64(s, 0);
      d.name = ColumnText(s, 1);
      d.schema_json = ColumnText(s, 2);
      d.source_sha256 = ColumnText(s, 3);
      d.source_format = ColumnText(s, 4);
      d.imported_at = sqlite3_column_int64(s, 5);
      d.rows = static_cast<uint64_t>(sqlite3_column_int64(s, 6));
      d.people = static_cast<uint64_t>(sqlite3_column_int64(s, 7));
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<int64_t> InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) override {
    RETURN_IF_ERROR(RequireTx());
    const int64_t lo = person_pk << kRecordShift, hi = ((person_pk + 1) << kRecordShift) - 1;
    int64_t id = lo;
    // Skip the max(id) lookup in the common import cases: the next record of
    // the person just written to, or the first of a person just created.
    if (person_pk == last_record_person_) {
      id = last_record_id_ + 1;
    } else if (person_pk != last_inserted_person_) {
      ASSIGN_OR_RETURN(sqlite3_stmt * q,
                       Prepare("SELECT max(id) FROM record WHERE id BETWEEN ? AND ?"));
      sqlite3_bind_int64(q, 1, lo);
      sqlite3_bind_int64(q, 2, hi);
      ASSIGN_OR_RETURN(bool row, Step(q));
      if (row && sqlite3_column_type(q, 0) != SQLITE_NULL) id = sqlite3_column_int64(q, 0) + 1;
      sqlite3_reset(q);
    }
    if (id > hi) return Fail(FailedPrecondition("a person cannot have more than 2^24 records"));
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO record(id,dataset,body) VALUES(?,?,?)"));
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, dataset_id);
    BindBlob(s, 3, body);
    RETURN_IF_ERROR(StepDone(s));
    last_record_person_ = person_pk;
    last_record_id_ = id;
    // The new person has a record now: a later record of theirs, after
    // another person's, must look up max(id) again.
    if (person_pk == last_inserted_person_) last_inserted_person_ = 0;
    return id;
  }

  Result<std::vector<int64_t>> ListPersonPksInDataset(int64_t dataset_id) override {
    // Record ids are (person pk << kRecordShift) | n, in rowid order: the
    // persons come out ascending, each person's records together.
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT id FROM record WHERE dataset = ? ORDER BY id"));
    sqlite3_bind_int64(s, 1, dataset_id);
    std::vector<int64_t> pks;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));
      if (!row) return pks;
      const int64_t pk = sqlite3_column_int64(s, 0) >> kRecordShift;
      if (pks.empty() || pks.back() != pk) pks.push_back(pk);
    }
  }

  Result<std::vector<RecordRow>> RecordsOf(int64_t person_pk) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT id,dataset,body FROM record WHERE id BETWEEN ? AND ? "
                             "ORDER BY id"));
    sqlite3_bind_int64(s, 1, person_pk << kRecordShift);
    sqlite3_bind_int64(s, 2, ((person_pk + 1) << kRecordShift) - 1);
    std::vector<RecordRow> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));
      if (!row) break;
      RecordRow r;
      r.id = sqlite3_column_int64(s, 0);
      r.person_pk = r.id >> kRecordShift;
      r.dataset_id = sqlite3_column_int64(s, 1);
      r.body = ColumnBlob(s, 2);
      out.push_back(std::move(r));
    }
    return out;
  }

  Status ForEachPersonWithRecords(
      const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) override {
    // Dedicated statements, stepped in lockstep: both tables are B-trees in
    // the order wanted (record ids are (pk << 24) | n), so this is a merge
    // join of two sequential scans, not a lookup per person.
    sqlite3_stmt* raw_people = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT pk,wrapped_key,kek_version,created_at FROM person ORDER BY pk", -1,
        &raw_people, nullptr)));
    Stmt people(raw_people);
    sqlite3_stmt* raw_records = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT id,dataset,body FROM record ORDER BY id", -1, &raw_records, nullptr)));
    Stmt records(raw_records);
    auto step = [this](sqlite3_stmt* s) -> Result<bool> {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      return Fail(StorageError(rc));
    };
    ASSIGN_OR_RETURN(bool have_record, step(raw_records));
    PersonRow person;
    // A person's record bodies are copied into one buffer (the statement's
    // row changes as it steps on), and viewed once all are in.
    Bytes bodies;
    struct At {
      int64_t id, dataset_id;
      size_t offset, size;
    };
    std::vector<At> at;
    std::vector<RecordView> views;
    for (;;) {
      ASSIGN_OR_RETURN(bool have_person, step(raw_people));
      if (!have_person) return Ok();
      person.pk = sqlite3_column_int64(raw_people, 0);
      auto* key = static_cast<const uint8_t*>(sqlite3_column_blob(raw_people, 1));
      person.wrapped_key.assign(key, key + (key ? sqlite3_column_bytes(raw_people, 1) : 0));
      person.kek_version = static_cast<uint32_t>(sqlite3_column_int64(raw_people, 2));
      person.created_at = sqlite3_column_int64(raw_people, 3);
      bodies.clear();
      at.clear();
      while (have_record) {
        const int64_t id = sqlite3_column_int64(raw_records, 0);
        const int64_t owner = id >> kRecordShift;
        if (owner > person.pk) break;
        if (owner == person.pk) {  // (a record of no person is passed over)
          auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw_records, 2));
          const size_t n = p ? static_cast<size_t>(sqlite3_column_bytes(raw_records, 2)) : 0;
          at.push_back({id, sqlite3_column_int64(raw_records, 1), bodies.size(), n});
          bodies.insert(bodies.end(), p, p + n);
        }
        ASSIGN_OR_RETURN(have_record, step(raw_records));
      }
      views.clear();
      for (const At& a : at) views.push_back({a.id, a.dataset_id, ByteSpan(bodies).subspan(a.offset, a.size)});
      RETURN_IF_ERROR(visit(person, views));
    }
  }

  // An entry goes into two places: its mac_bucket (by the MAC's first two
  // bytes; lookups), and the person's person_index row (forgetting someone).
  // MACs are random, so written as they come every bucket would be rewritten
  // again and again. So entries are held back and written in each table's
  // own key order: person_index in small chunks (an import creates people in
  // pk order), mac_bucket when many are pending (each bucket then rewritten
  // once), before any read of the index and at Commit.
  Status InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) override {
    RETURN_IF_ERROR(RequireTx());
    if (mac.size() != kIndexMacSize) {
      return Fail(InvalidArgument("a blind-index MAC is " + std::to_string(kIndexMacSize) +
                                  " bytes, not " + std::to_string(mac.size())));
    }
    // Someone forgotten earlier in this transaction leaves first.
    if (!pending_removals_.empty()) RETURN_IF_ERROR(RemoveMacEntries(pending_removals_));
    const PendingIndex e = Entry(kind, mac, person_pk);
    // Reserved whole: untouched pages cost no memory, and growing by copies
    // would briefly need 1.5 times as much.
    if (pending_by_mac_.capacity() == 0) pending_by_mac_.reserve(kMaxPendingByMac);
    pending_by_person_.push_back(e);
    pending_by_mac_.push_back(e);
    if (pending_by_person_.size() >= kPersonIndexChunk) {
      RETURN_IF_ERROR(WritePersonEntries(pending_by_person_));
    }
    if (pending_by_mac_.size() >= kMaxPendingByMac) {
      RETURN_IF_ERROR(WriteMacEntries(pending_by_mac_));
    }
    return Ok();
  }

  Result<std::vector<int64_t>> FindByIndex(uint8_t kind, ByteSpan mac) override {
    RETURN_IF_ERROR(FlushIndex());
    std::vector<int64_t> out;
    if (mac.size() != kIndexMacSize) return out;  // InsertIndex takes no other size
    const PendingIndex want = Entry(kind, mac, 0);
    ASSIGN_OR_RETURN(Bytes bucket, ReadBucket(BucketOf(want)));
    // Entries are in byte order: those of (mac, kind) are adjacent, by person.
    const size_t n = bucket.size() / kBucketEntrySize;
    auto at = [&](size_t i) { return bucket.data() + i * kBucketEntrySize; };
    uint8_t key[kBucketEntrySize];
    EncodeBucketEntry(want, key);
    size_t lo = 0, hi = n;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (std::memcmp(at(mid), key, kBucketKeySize) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (size_t i = lo; i < n && std::memcmp(at(i), key, kBucketKeySize) == 0; ++i) {
      out.push_back(static_cast<int64_t>(ReadU64BE(at(i) + kBucketKeySize)));
    }
    return out;
  }

  Status UpdateRecord(int64_t record_id, ByteSpan body) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE record SET body=? WHERE id=?"));
    BindBlob(s, 1, body);
    sqlite3_bind_int64(s, 2, record_id);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
    return Ok();
  }

  Status DeleteRecord(int64_t record_id) override {
    RETURN_IF_ERROR(RequireTx());
    ForgetRecordHints();
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM record WHERE id=?"));
    sqlite3_bind_int64(s, 1, record_id);
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
    return Ok();
  }

  Status PutDoc(std::string_view kind, std::string_view key, std::string_view body) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO doc(kind,key,body) VALUES(?,?,?) "
                             "ON CONFLICT(kind,key) DO UPDATE SET body=excluded.body"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    BindText(s, 3, body);
    return StepDone(s);
  }

  Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT body FROM doc WHERE kind=? AND key=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<std::string>();
    std::string body = ColumnText(s, 0);
    sqlite3_reset(s);
    return std::optional<std::string>(std::move(body));
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListDocs(std::string_view kind) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT key,body FROM doc WHERE kind=? ORDER BY key"));
    BindText(s, 1, kind);
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));
      if (!row) break;
      out.emplace_back(ColumnText(s, 0), ColumnText(s, 1));
    }
    return out;
  }

  Status DeleteDoc(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM doc WHERE kind=? AND key=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    return StepDone(s);
  }

  Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                      std::string_view body) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO person_doc(kind,key,person_pk,body) VALUES(?,?,?,?) "
                             "ON CONFLICT(kind,key,person_pk) DO UPDATE SET body=excluded.body"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    sqlite3_bind_int64(s, 3, person_pk);
    BindText(s, 4, body);
    return StepDone(s);
  }

  Result<std::optional<std::string>> GetPersonDoc(std::string_view kind, std::string_view key,
                                                  int64_t person_pk) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT body FROM person_doc WHERE kind=? AND key=? AND person_pk=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    sqlite3_bind_int64(s, 3, person_pk);
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<std::string>();
    std::string body = ColumnText(s, 0);
    sqlite3_reset(s);
    return std::optional<std::string>(std::move(body));
  }

  Status ForEachPersonDoc(
      std::string_view kind, std::string_view key,
      const std::function<Status(int64_t, std::string_view)>& visit) override {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT person_pk,body FROM person_doc WHERE kind=? AND key=? ORDER BY person_pk",
        -1, &raw, nullptr)));
    Stmt s(raw);
    BindText(raw, 1, kind);
    BindText(raw, 2, key);
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Ok();
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
      size_t n = static_cast<size_t>(sqlite3_column_bytes(raw, 1));
      RETURN_IF_ERROR(visit(sqlite3_column_int64(raw, 0), std::string_view(p ? p : "", n)));
    }
  }

  Status DeletePersonDocs(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM person_doc WHERE kind=? AND key=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    return StepDone(s);
  }

  Status ForEachIndexEntry(
      uint8_t kind, const std::function<Status(ByteSpan, int64_t)>& visit) override {
    RETURN_IF_ERROR(FlushIndex());
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT bucket,entries FROM mac_bucket ORDER BY bucket", -1, &raw, nullptr)));
    Stmt s(raw);
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Ok();
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
      const ByteSpan entries(p, p == nullptr ? 0 : static_cast<size_t>(sqlite3_column_bytes(raw, 1)));
      RETURN_IF_ERROR(CheckBucket(sqlite3_column_int64(raw, 0), entries));
      for (size_t at = 0; at < entries.size(); at += kBucketEntrySize) {
        const uint8_t* e = entries.data() + at;
        if (e[kIndexMacSize] != kind) continue;
        RETURN_IF_ERROR(visit(entries.subspan(at, kIndexMacSize),
                              static_cast<int64_t>(ReadU64BE(e + kBucketKeySize))));
      }
    }
  }

  Status AppendAuditEntry(uint64_t seq, ByteSpan data) override {
    RETURN_IF_ERROR(RequireTx());
    // The log's size is counted once per transaction, not per append (a
    // max() query costs as much as the insert): inside our write
    // transaction nobody else appends.
    if (!tx_audit_size_) {
      ASSIGN_OR_RETURN(uint64_t n, CountAuditEntries());
      tx_audit_size_ = n;
    }
    if (seq != *tx_audit_size_) {
      return Fail(Internal("audit entry " + std::to_string(seq) + " appended at size " +
                           std::to_string(*tx_audit_size_)));
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("INSERT INTO audit_entry(seq,data) VALUES(?,?)"));
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(seq));
    BindBlob(s, 2, data);
    RETURN_IF_ERROR(StepDone(s));
    ++*tx_audit_size_;
    return Ok();
  }

  Result<uint64_t> CountAuditEntries() override {
    // seq is dense from 0, so the next seq is max+1 (an index lookup, not a scan).
    ASSIGN_OR_RETURN(int64_t n, QueryInt64("SELECT coalesce(max(seq)+1,0) FROM audit_entry"));
    return static_cast<uint64_t>(n);
  }

  Status ForEachAuditEntry(uint64_t from,
                           const std::function<Status(uint64_t, ByteSpan)>& visit) override {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT seq,data FROM audit_entry WHERE seq>=? ORDER BY seq", -1, &raw, nullptr)));
    Stmt s(raw);
    sqlite3_bind_int64(raw, 1, static_cast<int64_t>(from));
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Ok();
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
      size_t n = static_cast<size_t>(sqlite3_column_bytes(raw, 1));
      RETURN_IF_ERROR(visit(static_cast<uint64_t>(sqlite3_column_int64(raw, 0)), ByteSpan(p, n)));
    }
  }

  Status PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO audit_node(level,idx,hash) VALUES(?,?,?)"));
    sqlite3_bind_int(s, 1, static_cast<int>(level));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(index));
    BindBlob(s, 3, hash);
    return StepDone(s);
  }

  Status ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO audit_node(level,idx,hash) VALUES(?,?,?) "
                             "ON CONFLICT(level,idx) DO UPDATE SET hash=excluded.hash"));
    sqlite3_bind_int(s, 1, static_cast<int>(level));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(index));
    BindBlob(s, 3, hash);
    return StepDone(s);
  }

  Result<uint64_t> DeleteAuditNodesFrom(uint64_t size) override {
    RETURN_IF_ERROR(RequireTx());
    // Node (level, idx) covers leaves [idx << level, (idx + 1) << level).
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("DELETE FROM audit_node WHERE ((idx + 1) << level) > ?"));
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
    RETURN_IF_ERROR(StepDone(s));
    return static_cast<uint64_t>(sqlite3_changes(db_));
  }

  Status DeleteCheckpoint(uint64_t size) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM audit_checkpoint WHERE size=?"));
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
    RETURN_IF_ERROR(StepDone(s));
    if (sqlite3_changes(db_) == 0) {
      return Fail(NotFound("no checkpoint of size " + std::to_string(size)));
    }
    return Ok();
  }

  Result<std::optional<Bytes>> GetAuditNode(uint32_t level, uint64_t index) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT hash FROM audit_node WHERE level=? AND idx=?"));
    sqlite3_bind_int(s, 1, static_cast<int>(level));
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(index));
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<Bytes>();
    Bytes h = ColumnBlob(s, 0);
    sqlite3_reset(s);
    return std::optional<Bytes>(std::move(h));
  }

  Status PutCheckpoint(const CheckpointRow& row) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO audit_checkpoint(size,note,created_at) VALUES(?,?,?)"));
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(row.size));
    BindText(s, 2, row.note);
    sqlite3_bind_int64(s, 3, row.created_at);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Fail(AlreadyExists("a checkpoint of size " + std::to_string(row.size) + " exists"));
    }
    if (rc != SQLITE_DONE) return Fail(StorageError(rc));
    return Ok();
  }

  Result<std::optional<CheckpointRow>> LatestCheckpoint() override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT size,note,created_at FROM audit_checkpoint "
                             "ORDER BY size DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<CheckpointRow>();
    CheckpointRow c = CheckpointFrom(s);
    sqlite3_reset(s);
    return std::optional<CheckpointRow>(std::move(c));
  }

  Result<std::vector<CheckpointRow>> ListCheckpoints() override {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT size,note,created_at FROM audit_checkpoint ORDER BY size"));
    std::vector<CheckpointRow> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step(s));
      if (!row) break;
      out.push_back(CheckpointFrom(s));
    }
    return out;
  }

  Result<bool> PurgeResidue(bool vacuum) override {
    if (in_tx_ || read_depth_ > 0) return Fail(Internal("PurgeResidue inside a transaction"));
    if (vacuum) {
      const int rc = sqlite3_exec(db_, "VACUUM", nullptr, nullptr, nullptr);
      if ((rc & 0xff) == SQLITE_BUSY) return false;
      RETURN_IF_ERROR(Check(rc));
    }
    // TRUNCATE waits (busy handler) for readers of older states and for a
    // writer, copies every frame into the file, and empties the log.
    int log = 0, ckpt = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt);
    if ((rc & 0xff) == SQLITE_BUSY) return false;
    RETURN_IF_ERROR(Check(rc));
    return log == 0;
  }

  Result<ResidueSettings> ReadResidueSettings() override {
    ResidueSettings r;
    ASSIGN_OR_RETURN(int64_t secure, QueryInt64("PRAGMA secure_delete"));
    r.zeroes_freed_space = secure == 1;  // 2 ("fast") leaves freed pages' residue in the WAL
    ASSIGN_OR_RETURN(r.journal_mode, JournalMode("PRAGMA journal_mode"));
    return r;
  }

  std::vector<std::string> Files() const override {
    return {path_, path_ + "-wal", path_ + "-shm", path_ + "-journal"};
  }

 private:
  // Who holds the write lock of the vault at `path`, for messages:
  // "process 1234 (custos import)", or "" when that cannot be told. In WAL
  // mode SQLite's write lock is a POSIX lock on byte 120 of the -shm file
  // (os_unix.c: UNIX_SHM_BASE + WAL_WRITE_LOCK); /proc/locks names its
  // owner. Read from there rather than probed with fcntl(F_GETLK): closing a
  // probe descriptor would drop this process's own locks on the file.
  static std::string WriteLockHolder(const std::string& path) {
    struct stat shm {};
    if (::stat((path + "-shm").c_str(), &shm) != 0) return "";
    FILE* f = std::fopen("/proc/locks", "re");
    if (f == nullptr) return "";
    long pid = 0;
    char line[256];
    while (pid == 0 && std::fgets(line, sizeof line, f) != nullptr) {
      // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 120 120"
      char cls[16], mode[16], access[16];
      long owner = 0;
      unsigned maj = 0, min = 0;
      unsigned long long ino = 0;
      char start[24], end[24];
      if (std::sscanf(line, "%*[^:]: %15s %15s %15s %ld %x:%x:%llu %23s %23s", cls, mode, access,
                      &owner, &maj, &min, &ino, start, end) != 9) {
        continue;
      }
      if (std::strcmp(cls, "POSIX") != 0 || std::strcmp(access, "WRITE") != 0) continue;
      if (ino != shm.st_ino || maj != major(shm.st_dev) || min != minor(shm.st_dev)) continue;
      const long long first = std::atoll(start);
      const long long last = std::strcmp(end, "EOF") == 0 ? INT64_MAX : std::atoll(end);
      if (first <= 120 && 120 <= last && owner > 0) pid = owner;
    }
    std::fclose(f);
    if (pid == 0) return "";
    return "process " + std::to_string(pid) + DescribeProcess(pid);
  }

  // " (custos import)": the program and the words of its command line that
  // name a subcommand (lower-case words before the first option or file),
  // never the rest, which may hold an ID number.
  static std::string DescribeProcess(long pid) {
    std::string cmdline;
    if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), "re")) {
      char buf[512];
      size_t n = std::fread(buf, 1, sizeof buf, f);
      std::fclose(f);
      cmdline.assign(buf, n);
    }
    std::vector<std::string> words;
    for (size_t pos = 0; pos < cmdline.size() && words.size() < 4;) {
      size_t nul = cmdline.find('\0', pos);
      if (nul == std::string::npos) nul = cmdline.size();
      words.push_back(cmdline.substr(pos, nul - pos));
      pos = nul + 1;
    }
    if (words.empty()) return "";
    std::string out = words[0].substr(words[0].rfind('/') + 1);
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string& w = words[i];
      const bool word = !w.empty() && w.size() <= 20 &&
                        std::all_of(w.begin(), w.end(), [](char c) {
                          return (c >= 'a' && c <= 'z') || c == '-';
                        }) &&
                        w[0] != '-';
      if (!word) break;
      out += " " + w;
    }
    return " (" + out + ")";
  }

  Error StorageError(int rc) const {
    std::string msg = path_ + ": " + sqlite3_errstr(rc);
    const char* detail = sqlite3_errmsg(db_);
    if (detail && std::strcmp(detail, sqlite3_errstr(rc)) != 0) msg += std::string(" (") + detail + ")";
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED: return Unavailable(msg + ": the vault is in use by another process");
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB: return DataLoss(msg);
      case SQLITE_FULL:
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_READONLY: return Unavailable(msg);
      case SQLITE_CONSTRAINT: return AlreadyExists(msg);
      default: return Internal(msg);
    }
  }

  Status Check(int rc) const {
    if (rc == SQLITE_OK) return Ok();
    return Fail(StorageError(rc));
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    return Check(rc);
  }

  Status RequireTx() const {
    if (!in_tx_) return Fail(Internal("write outside a transaction"));
    return Ok();
  }

  // Cached prepared statement, reset and with bindings cleared.
  Result<sqlite3_stmt*> Prepare(const char* sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      sqlite3_stmt* raw = nullptr;
      RETURN_IF_ERROR(Check(sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw,
                                               nullptr)));
      it = stmts_.emplace(sql, Stmt(raw)).first;
    }
    sqlite3_stmt* s = it->second.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }

  static void BindText(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  static void BindBlob(sqlite3_stmt* s, int i, ByteSpan v) {
    // A zero-length blob must still be a blob, not NULL.
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob(s, i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  static Bytes ColumnBlob(sqlite3_stmt* s, int i) {
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, i));
    int n = sqlite3_column_bytes(s, i);
    return p ? Bytes(p, p + n) : Bytes();
  }
  static std::string ColumnText(sqlite3_stmt* s, int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
  }

  // The first column of the first row of a cached statement (0 if there is
  // no row; NULL reads as 0).
  Result<int64_t> QueryInt64(const char* sql) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return int64_t{0};
    const int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return v;
  }
  Result<bool> Step(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return false;
    return Fail(StorageError(rc));
  }
  Status StepDone(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return Fail(StorageError(rc));
    return Ok();
  }

  static CheckpointRow CheckpointFrom(sqlite3_stmt* s) {
    CheckpointRow c;
    c.size = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    c.note = ColumnText(s, 1);
    c.created_at = sqlite3_column_int64(s, 2);
    return c;
  }

  static PersonRow PersonFrom(sqlite3_stmt* s) {
    PersonRow p;
    p.pk = sqlite3_column_int64(s, 0);
    p.wrapped_key = ColumnBlob(s, 1);
    p.kek_version = static_cast<uint32_t>(sqlite3_column_int64(s, 2));
    p.created_at = sqlite3_column_int64(s, 3);
    return p;
  }
  Result<std::optional<PersonRow>> ReadPerson(sqlite3_stmt* s) {
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<PersonRow>();
    PersonRow p = PersonFrom(s);
    sqlite3_reset(s);
    return std::optional<PersonRow>(std::move(p));
  }

  Result<int> UserVersion() {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &raw, nullptr)));
    Stmt s(raw);
    int rc = sqlite3_step(raw);
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    return sqlite3_column_int(raw, 0);
  }

  Status Migrate() {
    for (;;) {
      RETURN_IF_ERROR(Begin());
      // Read under the write lock: another process may have migrated.
      Result<int> current = UserVersion();
      if (!current) {
        Rollback();
        return Fail(current.error());
      }
      const int version = *current;
      if (version >= kSchemaVersion) {
        Rollback();
        return Ok();
      }
      Status st = Exec(kMigrations[version]);
      if (st && version + 1 == 2) st = FillPersonIndex();
      if (st && version + 1 == 3) st = FillMacBuckets();
      if (st) {
        std::string pragma = "PRAGMA user_version=" + std::to_string(version + 1);
        st = Exec(pragma.c_str());
      }
      if (!st) {
        Rollback();
        return st;
      }
      RETURN_IF_ERROR(Commit());
    }
  }

  // ----------------------------------------------------- pending index entries

  static constexpr size_t kIndexMacSize = 16;
  // person_index entries are written in chunks of this many (grouped by
  // person within).
  static constexpr size_t kPersonIndexChunk = 4096;
  // At most this many index entries wait (25 bytes each: 52 MB).
  static constexpr size_t kMaxPendingByMac = size_t{1} << 21;
  // Below this many entries a sort is not worth a thread.
  static constexpr size_t kParallelSortMin = size_t{1} << 16;
  // Rows per multi-row INSERT: one statement step per 64 entries.
  static constexpr size_t kIndexRowsPerInsert = 64;

#pragma pack(push, 1)
  struct PendingIndex {
    int64_t person_pk;
    uint8_t kind;
    uint8_t mac[kIndexMacSize];
  };
#pragma pack(pop)
  static_assert(sizeof(PendingIndex) == 25);

  // The MAC's bytes as two big-endian words: comparing those is memcmp's
  // order without a library call (sorting is most of a commit's work).
  static uint64_t MacWord(const PendingIndex& e, size_t i) {
    const uint8_t* p = e.mac + 8 * i;
    uint64_t w = 0;
    for (size_t k = 0; k < 8; ++k) w = w << 8 | p[k];  // compiled to one load and a byte swap
    return w;
  }
  // The order of mac_bucket entries: MAC, kind, person.
  static bool ByMac(const PendingIndex& a, const PendingIndex& b) {
    if (uint64_t x = MacWord(a, 0), y = MacWord(b, 0); x != y) return x < y;
    if (uint64_t x = MacWord(a, 1), y = MacWord(b, 1); x != y) return x < y;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.person_pk < b.person_pk;
  }
  static bool ByPerson(const PendingIndex& a, const PendingIndex& b) {
    if (a.person_pk != b.person_pk) return a.person_pk < b.person_pk;
    if (a.kind != b.kind) return a.kind < b.kind;
    return std::memcmp(a.mac, b.mac, kIndexMacSize) < 0;
  }
  static bool SameEntry(const PendingIndex& a, const PendingIndex& b) {
    return a.person_pk == b.person_pk && a.kind == b.kind &&
           std::memcmp(a.mac, b.mac, kIndexMacSize) == 0;
  }

  // An INSERT of kIndexRowsPerInsert rows and the same of one row.
  struct MultiRowInsert {
    std::string many, one;
  };
  static MultiRowInsert MakeInsert(std::string_view head, std::string_view row,
                                   std::string_view tail) {
    MultiRowInsert sql{std::string(head), std::string(head)};
    for (size_t i = 0; i < kIndexRowsPerInsert; ++i) {
      if (i > 0) sql.many += ',';
      sql.many += row;
    }
    sql.many += tail;
    sql.one.append(row).append(tail);
    return sql;
  }

  // Inserts `rows` rows: kIndexRowsPerInsert per statement while that many
  // remain, then one by one. bind(stmt, j, i) binds row i as the
  // statement's j-th row.
  template <typename Bind>
  Status InsertRows(const MultiRowInsert& sql, size_t rows, Bind bind) {
    size_t i = 0;
    while (i < rows) {
      const size_t n = rows - i >= kIndexRowsPerInsert ? kIndexRowsPerInsert : 1;
      ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare((n == 1 ? sql.one : sql.many).c_str()));
      for (size_t j = 0; j < n; ++j, ++i) bind(s, static_cast<int>(j), i);
      RETURN_IF_ERROR(StepDone(s));
    }
    return Ok();
  }

  // mac_bucket entries: mac(16) || kind(1) || person_pk(8, big-endian), so
  // that byte order is ByMac's order; the first 17 bytes are the lookup key.
  static constexpr size_t kBucketKeySize = kIndexMacSize + 1;
  static constexpr size_t kBucketEntrySize = kBucketKeySize + 8;
  static int64_t BucketOf(const PendingIndex& e) { return int64_t{e.mac[0]} << 8 | e.mac[1]; }
  static void EncodeBucketEntry(const PendingIndex& e, uint8_t* out) {
    std::memcpy(out, e.mac, kIndexMacSize);
    out[kIndexMacSize] = e.kind;
    const auto pk = static_cast<uint64_t>(e.person_pk);
    for (size_t i = 0; i < 8; ++i) out[kBucketKeySize + i] = static_cast<uint8_t>(pk >> (56 - 8 * i));
  }
  // A bucket's blob is whole entries of that bucket in strictly rising order.
  static Status CheckBucket(int64_t bucket, ByteSpan entries) {
    auto damaged = [&] {
      return Fail(DataLoss("blind-index bucket " + std::to_string(bucket) + " is damaged"));
    };
    if (entries.size() % kBucketEntrySize != 0) return damaged();
    for (size_t at = 0; at < entries.size(); at += kBucketEntrySize) {
      const uint8_t* e = entries.data() + at;
      if ((int64_t{e[0]} << 8 | e[1]) != bucket) return damaged();
      if (at > 0 && std::memcmp(e - kBucketEntrySize, e, kBucketEntrySize) >= 0) return damaged();
    }
    return Ok();
  }
  Result<Bytes> ReadBucket(int64_t bucket) {
    ASSIGN_OR_RETURN(sqlite3_stmt * q, Prepare("SELECT entries FROM mac_bucket WHERE bucket=?"));
    sqlite3_bind_int64(q, 1, bucket);
    ASSIGN_OR_RETURN(bool row, Step(q));
    Bytes entries = row ? ColumnBlob(q, 0) : Bytes();
    sqlite3_reset(q);
    RETURN_IF_ERROR(CheckBucket(bucket, entries));
    return entries;
  }
  Status PutBucket(int64_t bucket, ByteSpan entries) {
    if (entries.empty()) {
      ASSIGN_OR_RETURN(sqlite3_stmt * d, Prepare("DELETE FROM mac_bucket WHERE bucket=?"));
      sqlite3_bind_int64(d, 1, bucket);
      return StepDone(d);
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("INSERT OR REPLACE INTO mac_bucket(bucket,entries) VALUES(?,?)"));
    sqlite3_bind_int64(s, 1, bucket);
    BindBlob(s, 2, entries);
    return StepDone(s);
  }
  // Takes the entries of `removals` out of their buckets and empties it.
  Status RemoveMacEntries(std::vector<PendingIndex>& removals) {
    std::sort(removals.begin(), removals.end(), ByMac);
    Bytes entries, kept;
    uint8_t key[kBucketEntrySize];
    for (size_t i = 0; i < removals.size();) {
      const int64_t bucket = BucketOf(removals[i]);
      ASSIGN_OR_RETURN(entries, ReadBucket(bucket));
      kept.clear();
      // Both in byte order: one pass.
      size_t at = 0;
      for (; i < removals.size() && BucketOf(removals[i]) == bucket; ++i) {
        EncodeBucketEntry(removals[i], key);
        for (; at < entries.size(); at += kBucketEntrySize) {
          const int c = std::memcmp(entries.data() + at, key, kBucketEntrySize);
          if (c >= 0) {
            if (c == 0) at += kBucketEntrySize;
            break;
          }
          kept.insert(kept.end(), entries.data() + at, entries.data() + at + kBucketEntrySize);
        }
      }
      kept.insert(kept.end(), entries.begin() + static_cast<ptrdiff_t>(at), entries.end());
      if (kept.size() != entries.size()) RETURN_IF_ERROR(PutBucket(bucket, kept));
    }
    removals.clear();
    return Ok();
  }

  // Sorts `pending` in MAC order, merges it into mac_bucket and empties it.
  // A large batch (an import's, at commit) is sorted in two halves on two
  // threads and merged as it is written; buckets are written 64 per
  // statement, and read first only if the table had any.
  Status WriteMacEntries(std::vector<PendingIndex>& pending) {
    static const MultiRowInsert kSql =
        MakeInsert("INSERT OR REPLACE INTO mac_bucket(bucket,entries) VALUES", "(?,?)", "");
    const auto less = [](const PendingIndex& x, const PendingIndex& y) { return ByMac(x, y); };
    const auto mid = pending.begin() + static_cast<ptrdiff_t>(pending.size() / 2);
    if (pending.size() >= kParallelSortMin) {
      std::thread half([&] { std::sort(pending.begin(), mid, less); });
      std::sort(mid, pending.end(), less);
      half.join();
    } else {
      std::sort(pending.begin(), mid, less);
      std::sort(mid, pending.end(), less);
    }
    bool had_buckets = false;
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * q, Prepare("SELECT EXISTS(SELECT 1 FROM mac_bucket)"));
      ASSIGN_OR_RETURN(bool row, Step(q));
      had_buckets = row && sqlite3_column_int(q, 0) != 0;
      sqlite3_reset(q);
    }
    // The buckets of one statement: their entries, one after another.
    struct Span {
      int64_t bucket;
      size_t at, size;
    };
    std::vector<Span> spans;
    spans.reserve(kIndexRowsPerInsert);
    Bytes blobs, fresh, old;
    auto write = [&]() -> Status {
      RETURN_IF_ERROR(InsertRows(kSql, spans.size(), [&](sqlite3_stmt* s, int j, size_t i) {
        sqlite3_bind_int64(s, 2 * j + 1, spans[i].bucket);
        sqlite3_bind_blob(s, 2 * j + 2, blobs.data() + spans[i].at,
                          static_cast<int>(spans[i].size), SQLITE_STATIC);
      }));
      spans.clear();
      blobs.clear();
      return Ok();
    };
    // Closes the bucket whose new entries are in `fresh`: merged with what
    // it held (duplicates once), appended to `blobs`.
    int64_t bucket = -1;
    auto close_bucket = [&]() -> Status {
      if (bucket < 0) return Ok();
      const size_t start = blobs.size();
      if (had_buckets) {
        ASSIGN_OR_RETURN(old, ReadBucket(bucket));
      }
      size_t i = 0, j = 0;
      while (i < old.size() || j < fresh.size()) {
        const int c = i == old.size()    ? 1
                      : j == fresh.size() ? -1
                                         : std::memcmp(old.data() + i, fresh.data() + j, kBucketEntrySize);
        const uint8_t* e = c <= 0 ? old.data() + i : fresh.data() + j;
        blobs.insert(blobs.end(), e, e + kBucketEntrySize);
        if (c <= 0) i += kBucketEntrySize;
        if (c >= 0) j += kBucketEntrySize;
      }
      spans.push_back({bucket, start, blobs.size() - start});
      fresh.clear();
      old.clear();
      if (spans.size() == kIndexRowsPerInsert) return write();
      return Ok();
    };
    auto a = pending.begin(), b = mid;
    const PendingIndex* last = nullptr;
    while (a != mid || b != pending.end()) {
      const bool take_a = b == pending.end() || (a != mid && !less(*b, *a));
      const PendingIndex& e = take_a ? *a++ : *b++;
      if (last != nullptr && SameEntry(*last, e)) continue;
      last = &e;
      if (BucketOf(e) != bucket) {
        RETURN_IF_ERROR(close_bucket());
        bucket = BucketOf(e);
      }
      fresh.resize(fresh.size() + kBucketEntrySize);
      EncodeBucketEntry(e, fresh.data() + fresh.size() - kBucketEntrySize);
    }
    RETURN_IF_ERROR(close_bucket());
    RETURN_IF_ERROR(write());
    pending.clear();
    return Ok();
  }

  static PendingIndex Entry(uint8_t kind, ByteSpan mac, int64_t person_pk) {
    PendingIndex e;
    e.person_pk = person_pk;
    e.kind = kind;
    std::memcpy(e.mac, mac.data(), kIndexMacSize);
    return e;
  }

  // person_index.entries: (kind(1) || mac(16))*.
  static constexpr size_t kPersonEntrySize = 1 + kIndexMacSize;
  static Status ForEachPersonEntry(ByteSpan entries,
                                   const std::function<Status(uint8_t, ByteSpan)>& visit) {
    if (entries.size() % kPersonEntrySize != 0) {
      return Fail(DataLoss("a person's index entries are damaged"));
    }
    for (size_t at = 0; at < entries.size(); at += kPersonEntrySize) {
      RETURN_IF_ERROR(visit(entries[at], entries.subspan(at + 1, kIndexMacSize)));
    }
    return Ok();
  }

  Status ForEachPersonIndexRow(const char* sql,
                               const std::function<Status(int64_t, ByteSpan)>& visit) {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr)));
    Stmt q(raw);
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Ok();
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
      const size_t n = p == nullptr ? 0 : static_cast<size_t>(sqlite3_column_bytes(raw, 1));
      RETURN_IF_ERROR(visit(sqlite3_column_int64(raw, 0), ByteSpan(p, n)));
    }
  }

  // Appends entries to their people's person_index rows: one row per
  // person, up to 64 people per statement.
  Status WritePersonEntries(std::vector<PendingIndex>& pending) {
    std::sort(pending.begin(), pending.end(), [](const PendingIndex& a, const PendingIndex& b) {
      return ByPerson(a, b);
    });
    pending.erase(std::unique(pending.begin(), pending.end(), SameEntry), pending.end());
    static const MultiRowInsert kSql =
        MakeInsert("INSERT INTO person_index(person_pk,entries) VALUES", "(?,?)",
                   " ON CONFLICT(person_pk) DO UPDATE SET"
                   // || yields text: keep the column a blob.
                   " entries = CAST(entries || excluded.entries AS BLOB)");
    struct Group {
      int64_t pk;
      size_t offset, size;
    };
    Bytes blob;
    blob.reserve(pending.size() * kPersonEntrySize);
    std::vector<Group> groups;
    for (const PendingIndex& e : pending) {
      if (groups.empty() || groups.back().pk != e.person_pk) {
        groups.push_back({e.person_pk, blob.size(), 0});
      }
      blob.push_back(e.kind);
      blob.insert(blob.end(), e.mac, e.mac + kIndexMacSize);
      groups.back().size += kPersonEntrySize;
    }
    RETURN_IF_ERROR(InsertRows(kSql, groups.size(), [&](sqlite3_stmt* s, int j, size_t i) {
      sqlite3_bind_int64(s, 2 * j + 1, groups[i].pk);
      sqlite3_bind_blob(s, 2 * j + 2, blob.data() + groups[i].offset,
                        static_cast<int>(groups[i].size), SQLITE_STATIC);
    }));
    pending.clear();
    return Ok();
  }

  // The rows of the blind_index table (schema versions 1 and 2).
  Result<std::vector<PendingIndex>> ReadBlindIndexTable() {
    std::vector<PendingIndex> all;
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
        db_, "SELECT kind, mac, person_pk FROM blind_index", -1, &raw, nullptr)));
    Stmt q(raw);
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return all;
      if (rc != SQLITE_ROW) return Fail(StorageError(rc));
      auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
      if (p == nullptr || sqlite3_column_bytes(raw, 1) != static_cast<int>(kIndexMacSize)) {
        return Fail(DataLoss("a blind-index entry is damaged"));
      }
      all.push_back(Entry(static_cast<uint8_t>(sqlite3_column_int(raw, 0)),
                          ByteSpan(p, kIndexMacSize), sqlite3_column_int64(raw, 2)));
    }
  }

  // Migration to v2: person_index rows from v1's blind_index.
  Status FillPersonIndex() {
    ASSIGN_OR_RETURN(std::vector<PendingIndex> all, ReadBlindIndexTable());
    return WritePersonEntries(all);
  }

  // Migration to v3: mac_bucket from blind_index, which then goes.
  Status FillMacBuckets() {
    ASSIGN_OR_RETURN(std::vector<PendingIndex> all, ReadBlindIndexTable());
    RETURN_IF_ERROR(WriteMacEntries(all));
    return Exec("DROP TABLE blind_index;");
  }

  // Writes the entries held back. Removals were queued after every insert
  // then pending had been written (DeletePerson flushes inserts first), so
  // they go first.
  Status FlushIndex() {
    if (!pending_removals_.empty()) RETURN_IF_ERROR(RemoveMacEntries(pending_removals_));
    return FlushInserts();
  }
  Status FlushInserts() {
    if (!pending_by_person_.empty()) RETURN_IF_ERROR(WritePersonEntries(pending_by_person_));
    if (!pending_by_mac_.empty()) RETURN_IF_ERROR(WriteMacEntries(pending_by_mac_));
    return Ok();
  }

  // Drops pending entries and gives their memory back (after a transaction).
  void ReleasePendingIndex() {
    pending_by_person_ = {};
    pending_by_mac_ = {};
    pending_removals_ = {};
  }

  void ForgetRecordHints() {
    last_inserted_person_ = 0;
    last_record_person_ = 0;
    last_record_id_ = 0;
  }

  Status BeginWrite(std::chrono::milliseconds wait) {
    if (in_tx_ || read_depth_ > 0) return Fail(Internal("transaction already open"));
    ForgetRecordHints();
    if (wait != lock_wait_) SetBusyTimeout(wait);
    const auto started = std::chrono::steady_clock::now();
    int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (wait != lock_wait_) SetBusyTimeout(lock_wait_);
    if (rc != SQLITE_OK) {
      if ((rc & 0xff) != SQLITE_BUSY) return Fail(StorageError(rc));
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      return Fail(Busy(waited));
    }
    in_tx_ = true;
    tx_audit_size_.reset();
    return Ok();
  }

  // kUnavailable for a write lock another process holds, naming it.
  Error Busy(std::chrono::milliseconds waited) const {
    std::string holder = WriteLockHolder(path_);
    std::string msg = "the vault " + path_ + " is busy: " +
                      (holder.empty() ? std::string("another process") : holder) +
                      " is writing to it";
    if (waited.count() >= 1000) {
      msg += "; gave up after waiting " + std::to_string(waited.count() / 1000) +
             " s (--wait SECONDS to wait longer)";
    }
    return Unavailable(msg);
  }

  sqlite3* db_;
  std::string path_;
  std::chrono::milliseconds lock_wait_;
  bool in_tx_ = false;
  int read_depth_ = 0;  // open BeginRead calls
  // Hints that spare InsertRecord a lookup (valid within one transaction).
  int64_t last_inserted_person_ = 0;
  int64_t last_record_person_ = 0;
  int64_t last_record_id_ = 0;
  std::vector<PendingIndex> pending_by_mac_;
  std::vector<PendingIndex> pending_by_person_;
  std::vector<PendingIndex> pending_removals_;  // from mac_bucket
  // The audit log's size inside the open write transaction, once counted.
  std::optional<uint64_t> tx_audit_size_;
  std::unordered_map<const char*, Stmt> stmts_;
};

Result<sqlite3*> OpenDb(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": " + sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Fail(Unavailable("cannot open vault " + msg));
  }
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace

Result<std::unique_ptr<Store>> CreateSqliteStore(const std::string& path,
                                                 const StoreOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Fail(AlreadyExists("vault file already exists: " + path));
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  auto store = std::make_unique<SqliteStore>(db, path, options);
  ::chmod(path.c_str(), 0600);
  RETURN_IF_ERROR(store->Configure());
  RETURN_IF_ERROR(store->Initialize());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail(NotFound("no vault at " + path));
  if (!S_ISREG(st.st_mode)) {
    return Fail(InvalidArgument(path + " is not a file; a vault is one SQLite file"));
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenDb(path, SQLITE_OPEN_READWRITE));
  auto store = std::make_unique<SqliteStore>(db, path, options);
  RETURN_IF_ERROR(store->Configure());
  RETURN_IF_ERROR(store->CheckSchema());
  store->RestoreWal();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace custos::store
