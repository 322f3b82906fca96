// The SQLite store's class, shared by the files that implement it:
// sqlite_store.cc (opening, transactions, schema, errors), sqlite_people.cc
// (persons, datasets, records, index lookups), sqlite_docs.cc (documents,
// the audit log's tables, residue), sqlite_index.cc (blind-index entries
// written in bulk at commit). Internal to src/store/sqlite.
#ifndef CUSTOS_STORE_SQLITE_SQLITE_STORE_INTERNAL_H_
#define CUSTOS_STORE_SQLITE_SQLITE_STORE_INTERNAL_H_

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/store.h"

namespace custos::store::sqlite_internal {

// A prepared statement, finalized when it goes.
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
      : db_(db),
        path_(std::move(path)),
        lock_wait_(options.lock_wait),
        mmap_bytes_(options.mmap_bytes) {}
  ~SqliteStore() override {
    stmts_.clear();
    sqlite3_close_v2(db_);
  }

  Status Configure();

  void SetBusyTimeout(std::chrono::milliseconds wait) {
    sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<int64_t>(wait.count(), 0, INT32_MAX)));
  }

  Status Initialize() {
    // 64 KiB pages: an import writes hundreds of megabytes, and with 4 KiB
    // pages the per-page work (WAL frames, checksums, one write call each)
    // was a fifth of it; point lookups read a few pages either way.
    RETURN_IF_ERROR(Exec("PRAGMA page_size=65536; PRAGMA journal_mode=WAL;"));
    RETURN_IF_ERROR(Migrate());
    ASSIGN_OR_RETURN(versions_.now, UserVersion());
    return Ok();
  }

  // Sets and returns the journal mode (what SQLite reports it now is).
  Result<std::string> JournalMode(const char* pragma);

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

  Status CheckSchema();

  // Every write transaction is BEGIN IMMEDIATE: it takes the write lock at
  // once, so two writers never both read and then collide at their first
  // write (a deferred transaction that read an older snapshot could not
  // write at all). Writes stay in WAL mode: a rollback journal (which an
  // earlier version used for large imports, to write pages once) blocks
  // every reader while the writer spills or commits, and a connection that
  // switches modes under another one's transaction corrupts the vault.
  Status Begin() override { return BeginWrite(lock_wait_); }
  Status TryBegin() override { return BeginWrite(std::chrono::milliseconds(0)); }

  Status Commit() override;
  void Rollback() override;

  // A deferred transaction: its snapshot is taken at its first read, and in
  // WAL mode it never waits for a writer.
  Status BeginRead() override {
    if (read_depth_++ > 0 || in_tx_) return Ok();
    Status st = ExecCached("BEGIN DEFERRED");
    if (!st) read_depth_ = 0;
    return st;
  }
  void EndRead() override {
    if (read_depth_ == 0) return;
    if (--read_depth_ > 0 || in_tx_) return;
    (void)ExecCached("COMMIT");
  }

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override;

  Status PutMeta(std::string_view key, ByteSpan value) override;

  Status InsertPerson(const PersonRow& row) override;

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

  Result<std::vector<int64_t>> ListPersonPks() override;

  Status ForEachPerson(const std::function<Status(const PersonRow&)>& visit) override;

  Status UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) override;

  Status DeletePerson(int64_t pk) override;

  Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep) override;

  Status InsertDataset(DatasetRow& row) override;

  Status UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) override;

  Status UpdateDatasetSource(int64_t id, std::string_view source_sha256) override;

  Status UpdateDatasetSchema(int64_t id, std::string_view schema_json) override;

  Result<std::vector<DatasetRow>> ListDatasets() override;

  Result<int64_t> InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) override;

  Result<std::vector<int64_t>> ListPersonPksInDataset(int64_t dataset_id) override;

  Result<std::vector<RecordRow>> RecordsOf(int64_t person_pk) override;

  Status ForEachPersonWithRecords(
      const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) override;

  // An entry goes into two places: its mac_bucket (by the MAC's first two
  // bytes; lookups), and the person's person_index row (forgetting someone).
  // MACs are random, so written as they come every bucket would be rewritten
  // again and again. So entries are held back and written in each table's
  // own key order: person_index in small chunks (an import creates people in
  // pk order), mac_bucket when many are pending (each bucket then rewritten
  // once), before any read of the index and at Commit.
  Status InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) override;

  Result<std::vector<int64_t>> FindByIndex(uint8_t kind, ByteSpan mac) override;

  Status UpdateRecord(int64_t record_id, ByteSpan body) override;

  Status DeleteRecord(int64_t record_id) override;

  Status PutDoc(std::string_view kind, std::string_view key, std::string_view body) override;

  Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key) override;

  Result<std::vector<std::pair<std::string, std::string>>> ListDocs(std::string_view kind) override;

  Status DeleteDoc(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM doc WHERE kind=? AND key=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    return StepDone(s);
  }

  Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                      std::string_view body) override;

  Result<std::optional<std::string>> GetPersonDoc(std::string_view kind, std::string_view key,
                                                  int64_t person_pk) override;

  Status ForEachPersonDoc(std::string_view kind, std::string_view key,
                          const std::function<Status(int64_t, std::string_view)>& visit) override;

  Status DeletePersonDocs(std::string_view kind, std::string_view key) override {
    RETURN_IF_ERROR(RequireTx());
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM person_doc WHERE kind=? AND key=?"));
    BindText(s, 1, kind);
    BindText(s, 2, key);
    return StepDone(s);
  }

  Status ForEachIndexEntry(uint8_t kind,
                           const std::function<Status(ByteSpan, int64_t)>& visit) override;

  Status AppendAuditEntry(uint64_t seq, ByteSpan data) override;

  Result<uint64_t> CountAuditEntries() override {
    // seq is dense from 0, so the next seq is max+1 (an index lookup, not a scan).
    ASSIGN_OR_RETURN(int64_t n, QueryInt64("SELECT coalesce(max(seq)+1,0) FROM audit_entry"));
    return static_cast<uint64_t>(n);
  }

  Status ForEachAuditEntry(uint64_t from,
                           const std::function<Status(uint64_t, ByteSpan)>& visit) override;

  Status PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override;

  Status ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override;

  Result<uint64_t> DeleteAuditNodesFrom(uint64_t size) override;

  Status DeleteCheckpoint(uint64_t size) override;

  Result<std::optional<Bytes>> GetAuditNode(uint32_t level, uint64_t index) override;

  Status PutCheckpoint(const CheckpointRow& row) override;

  Result<std::optional<CheckpointRow>> LatestCheckpoint() override;

  Result<std::vector<CheckpointRow>> ListCheckpoints() override;

  Result<bool> PurgeResidue(bool vacuum) override;

  SchemaVersions schema_versions() const override { return versions_; }
  // SQLite has one writer at a time: the note waits for the lock like any
  // change (file vaults note refusals in a file beside them instead).
  Status PutNote(std::string_view kind, std::string_view key, std::string_view body) override {
    RETURN_IF_ERROR(Begin());
    Status st = PutDoc(kind, key, body);
    if (st) return Commit();
    Rollback();
    return st;
  }

  Status ForEachMeta(const std::function<Status(std::string_view, ByteSpan)>& visit) override;
  Status ForEachIndexEntryOfEveryKind(
      const std::function<Status(uint8_t, ByteSpan, int64_t)>& visit) override;
  Status ForEachDoc(const std::function<Status(std::string_view, std::string_view,
                                               std::string_view)>& visit) override;
  Status ForEachPersonDocOfEveryKind(
      const std::function<Status(std::string_view, std::string_view, int64_t, std::string_view)>&
          visit) override;
  Status ForEachAuditNode(
      const std::function<Status(uint32_t, uint64_t, ByteSpan)>& visit) override;
  Status InsertDatasetWithId(const DatasetRow& row) override;
  Status InsertRecordWithId(const RecordRow& row) override;
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
  static std::string WriteLockHolder(const std::string& path);

  // " (custos import)": the program and the words of its command line that
  // name a subcommand (lower-case words before the first option or file),
  // never the rest, which may hold an ID number.
  static std::string DescribeProcess(long pid);

  Error StorageError(int rc) const;

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

  // Exec for the transaction statements run many times a second (a
  // server's reads): prepared once.
  Status ExecCached(const char* sql) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? Ok() : Check(rc);
  }

  Status RequireTx() const {
    if (!in_tx_) return Fail(Internal("write outside a transaction"));
    return Ok();
  }

  // Cached prepared statement, reset and with bindings cleared.
  Result<sqlite3_stmt*> Prepare(const char* sql);

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
  Result<int64_t> QueryInt64(const char* sql);
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

  static PersonRow PersonFrom(sqlite3_stmt* s);
  Result<std::optional<PersonRow>> ReadPerson(sqlite3_stmt* s) {
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return std::optional<PersonRow>();
    PersonRow p = PersonFrom(s);
    sqlite3_reset(s);
    return std::optional<PersonRow>(std::move(p));
  }

  Result<int> UserVersion();
  SchemaVersions versions_;
  // Inserts a dataset with its id, or the next (id 0); returns the id.
  Result<int64_t> InsertDatasetRow(const DatasetRow& row);

  // Steps a statement of its own (not cached: the visitor may use the
  // cache) through every row.
  Status ForEachRow(const char* sql, const std::function<Status(sqlite3_stmt*)>& visit);

  Status Migrate();

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
                                   std::string_view tail);

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
    for (size_t i = 0; i < 8; ++i)
      out[kBucketKeySize + i] = static_cast<uint8_t>(pk >> (56 - 8 * i));
  }
  // A bucket's blob is whole entries of that bucket in strictly rising order.
  static Status CheckBucket(int64_t bucket, ByteSpan entries);
  Result<Bytes> ReadBucket(int64_t bucket);
  Status PutBucket(int64_t bucket, ByteSpan entries);
  // Takes the entries of `removals` out of their buckets and empties it.
  Status RemoveMacEntries(std::vector<PendingIndex>& removals);

  // Sorts `pending` in MAC order, merges it into mac_bucket and empties it.
  // A large batch (an import's, at commit) is sorted in two halves on two
  // threads and merged as it is written; buckets are written 64 per
  // statement, and read first only if the table had any.
  Status WriteMacEntries(std::vector<PendingIndex>& pending);

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
                                   const std::function<Status(uint8_t, ByteSpan)>& visit);

  Status ForEachPersonIndexRow(const char* sql,
                               const std::function<Status(int64_t, ByteSpan)>& visit);

  // Appends entries to their people's person_index rows: one row per
  // person, up to 64 people per statement.
  Status WritePersonEntries(std::vector<PendingIndex>& pending);

  // The rows of the blind_index table (schema versions 1 and 2).
  Result<std::vector<PendingIndex>> ReadBlindIndexTable();

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

  Status BeginWrite(std::chrono::milliseconds wait);

  // kUnavailable for a write lock another process holds, naming it.
  Error Busy(std::chrono::milliseconds waited) const;

  sqlite3* db_;
  std::string path_;
  std::chrono::milliseconds lock_wait_;
  int64_t mmap_bytes_ = 0;
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

}  // namespace custos::store::sqlite_internal

#endif  // CUSTOS_STORE_SQLITE_SQLITE_STORE_INTERNAL_H_
