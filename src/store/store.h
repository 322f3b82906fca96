// Store: the one interface between the vault and its storage.
//
// Everything persisted goes through here, so a second backend (PostgreSQL)
// passes the same conformance suite (store_conformance_test.cc). Nothing that
// reaches a Store is plaintext personal data: persons are opaque ids, fields
// are ciphertext, lookups are keyed MACs.
//
// Transactions are explicit: Begin() ... Commit() or Rollback(). Every
// mutating call REQUIRES an open transaction. Reads may run inside or outside
// one; outside, each call sees the latest committed state, and a read that
// must see one state across several calls opens a read transaction
// (BeginRead/EndRead, or ReadSnapshot below).
//
// Several processes may open one store. Writers take turns: Begin() waits
// for another process's write transaction up to the lock wait
// (StoreOptions), then fails with kUnavailable naming what holds the store.
// Readers never wait for writers and never fail because one is active.
//
// Thread safety: a Store is used by one thread at a time.
#ifndef CUSTOS_STORE_STORE_H_
#define CUSTOS_STORE_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace custos::store {

// A person (data subject): an internal number and the data key, wrapped. The
// id users see is derived from pk by the vault (crypto::IdCipher), so it
// needs no column and no index.
struct PersonRow {
  int64_t pk = 0;      // chosen by the vault, never reused
  Bytes wrapped_key;   // data key sealed under the KEK
  uint32_t kek_version = 0;
  int64_t created_at = 0;
};

struct DatasetRow {
  int64_t id = 0;            // assigned by InsertDataset
  std::string name;
  std::string schema_json;   // columns: name, detected type, sensitivity
  std::string source_sha256; // hex SHA-256 of the imported file
  std::string source_format; // csv, jsonl, xlsx
  int64_t imported_at = 0;
  uint64_t rows = 0;
  uint64_t people = 0;
};

// A record's id is (person pk << 24) | n, n counting that person's records
// from 0, so a person's records are adjacent and need no secondary index.
inline constexpr int kRecordShift = 24;

struct RecordRow {
  int64_t id = 0;
  int64_t person_pk = 0;  // id >> kRecordShift
  int64_t dataset_id = 0;
  Bytes body;  // encrypted record, docs/formats/field-ciphertext.md
};

// A record as a bulk scan passes it to its visitor.
struct RecordView {
  int64_t id = 0;
  int64_t dataset_id = 0;
  ByteSpan body;  // valid only during the visit
};

// A signed checkpoint of the audit log (docs/formats/checkpoint.md).
struct CheckpointRow {
  uint64_t size = 0;
  std::string note;  // the whole signed note
  int64_t created_at = 0;
};

// How a connection to a store behaves towards other processes.
struct StoreOptions {
  // How long Begin() waits for another process's write transaction.
  std::chrono::milliseconds lock_wait{30000};
  // Bytes of the file read through a memory map instead of read(2) (0: none).
  // For a long-lived server whose many connections see each other's commits:
  // each commit drops every other connection's page cache, and the re-reads
  // then cost no copy.
  int64_t mmap_bytes = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Write transaction, exclusive among all connections of all processes.
  // Waits up to the lock wait for another writer, then fails with
  // kUnavailable naming the process that holds the store where the backend
  // can tell. kInternal if a transaction (read or write) is already open.
  virtual Status Begin() = 0;
  // Fails with kUnavailable at once, without waiting, if another writer
  // holds the store (for work that may as well happen later).
  virtual Status TryBegin() = 0;
  virtual Status Commit() = 0;
  // Safe to call with no open transaction.
  virtual void Rollback() = 0;

  // Read transaction: every read until EndRead() sees one committed state,
  // whatever other connections commit meanwhile. Never waits for writers.
  // Calls nest (counted); inside a write transaction they cost nothing.
  // REQUIRES: Begin() is not called while a read transaction is open.
  virtual Status BeginRead() = 0;
  virtual void EndRead() = 0;

  virtual Result<std::optional<Bytes>> GetMeta(std::string_view key) = 0;
  virtual Status PutMeta(std::string_view key, ByteSpan value) = 0;

  // kAlreadyExists if row.pk is taken.
  virtual Status InsertPerson(const PersonRow& row) = 0;
  virtual Result<std::optional<PersonRow>> GetPerson(int64_t pk) = 0;
  virtual Result<uint64_t> CountPersons() = 0;
  // Visits persons in pk order; stops at the first error the visitor returns.
  virtual Status ForEachPerson(const std::function<Status(const PersonRow&)>& visit) = 0;
  // Every person's pk, ascending (without reading their keys).
  virtual Result<std::vector<int64_t>> ListPersonPks() = 0;
  virtual Status UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) = 0;
  // Deletes the person, their records and index entries. kNotFound if absent.
  virtual Status DeletePerson(int64_t pk) = 0;

  // Deletes every person NOT in `keep`, with their records, index entries
  // and per-person state, in bulk: the cost grows with what is kept, not
  // with what is deleted (a branch's destruction deletes nearly everyone).
  // Returns the number of persons deleted.
  virtual Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep) = 0;

  // Fills row.id. kAlreadyExists if a dataset of that name exists.
  virtual Status InsertDataset(DatasetRow& row) = 0;
  virtual Status UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) = 0;
  // The source file's SHA-256 (hex), when it is known only at the end.
  virtual Status UpdateDatasetSource(int64_t id, std::string_view source_sha256) = 0;
  // Replaces the dataset's schema (its columns), e.g. with counts known only
  // once every row is in. kNotFound if there is no such dataset.
  virtual Status UpdateDatasetSchema(int64_t id, std::string_view schema_json) = 0;
  virtual Result<std::vector<DatasetRow>> ListDatasets() = 0;

  // Appends a record to a person's records; returns its id. kFailedPrecondition
  // if the person already has 2^24 records.
  virtual Result<int64_t> InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) = 0;
  virtual Result<std::vector<RecordRow>> RecordsOf(int64_t person_pk) = 0;
  // The pks of persons with at least one record of the dataset, ascending,
  // each once: one scan of the records, not a lookup per person.
  virtual Result<std::vector<int64_t>> ListPersonPksInDataset(int64_t dataset_id) = 0;
  // Visits every person in pk order with all of their records in id order
  // (none for a person without records), for bulk reads: one forward scan of
  // persons and one of records, merged, instead of lookups per person. The
  // row and the views are valid only during the visit. Stops at the first
  // error the visitor returns. REQUIRES: the visitor does not write to the
  // store.
  virtual Status ForEachPersonWithRecords(
      const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) = 0;

  // Blind index: (kind, mac) -> person. Duplicate entries are ignored.
  virtual Status InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) = 0;
  virtual Result<std::vector<int64_t>> FindByIndex(uint8_t kind, ByteSpan mac) = 0;
  // Visits every entry of one kind (for an import's in-memory lookup table).
  virtual Status ForEachIndexEntry(uint8_t kind,
                                   const std::function<Status(ByteSpan mac, int64_t person_pk)>& visit) = 0;

  // Rewrites one record (e.g. without destroyed fields) or deletes it.
  // kNotFound if there is no such record.
  virtual Status UpdateRecord(int64_t record_id, ByteSpan body) = 0;
  virtual Status DeleteRecord(int64_t record_id) = 0;

  // Workflow documents: small JSON texts that hold no personal data
  // (recipients, transfers, retention rules, destruction batches, media
  // records...), keyed by (kind, key). Put inserts or replaces.
  virtual Status PutDoc(std::string_view kind, std::string_view key, std::string_view body) = 0;
  virtual Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key) = 0;
  // (key, body) pairs of a kind in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListDocs(std::string_view kind) = 0;
  virtual Status DeleteDoc(std::string_view kind, std::string_view key) = 0;
  // Writes one document at once, outside any transaction and (where the
  // backend can) without waiting for the write lock: notes of a process
  // that could not open the vault (a wrong key), which a long import must
  // not keep out. Nothing else may use it. REQUIRES: no open transaction.
  virtual Status PutNote(std::string_view kind, std::string_view key, std::string_view body) = 0;

  // Per-person workflow state (a transfer response, a retention binding...):
  // JSON keyed by (kind, key, person). Survives DeletePerson only if the
  // caller wants it to: DeletePerson removes a person's state too.
  virtual Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                              std::string_view body) = 0;
  virtual Result<std::optional<std::string>> GetPersonDoc(std::string_view kind,
                                                          std::string_view key,
                                                          int64_t person_pk) = 0;
  // Visits (person, body) for one (kind, key) in person order.
  virtual Status ForEachPersonDoc(
      std::string_view kind, std::string_view key,
      const std::function<Status(int64_t person_pk, std::string_view body)>& visit) = 0;
  virtual Status DeletePersonDocs(std::string_view kind, std::string_view key) = 0;

  // Audit log storage (src/tlog). Entries are append-only: AppendAuditEntry
  // REQUIRES seq == CountAuditEntries(). Nodes are the hashes of complete
  // subtrees: level 0 holds leaf hashes, (level, index) covers leaves
  // [index << level, (index + 1) << level).
  virtual Status AppendAuditEntry(uint64_t seq, ByteSpan data) = 0;
  virtual Result<uint64_t> CountAuditEntries() = 0;
  // Visits entries with seq >= from in order; stops at the visitor's first error.
  virtual Status ForEachAuditEntry(uint64_t from,
                                   const std::function<Status(uint64_t, ByteSpan)>& visit) = 0;
  virtual Status PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) = 0;
  virtual Result<std::optional<Bytes>> GetAuditNode(uint32_t level, uint64_t index) = 0;
  // Inserts or replaces a node: only for re-deriving a damaged tree from
  // its entries (AuditLog::Repair); appends use PutAuditNode.
  virtual Status ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) = 0;
  // Deletes the nodes that cover any leaf at or past `size` (left behind
  // by entries lost from the end; AuditLog::Repair). Returns how many.
  virtual Result<uint64_t> DeleteAuditNodesFrom(uint64_t size) = 0;
  // kAlreadyExists if a checkpoint of that size exists.
  virtual Status PutCheckpoint(const CheckpointRow& row) = 0;
  // Removes the checkpoint of that size (kNotFound if none): only for
  // retiring a checkpoint that no longer matches the entries, which the
  // caller keeps and records (AuditLog::Repair).
  virtual Status DeleteCheckpoint(uint64_t size) = 0;
  virtual Result<std::optional<CheckpointRow>> LatestCheckpoint() = 0;
  virtual Result<std::vector<CheckpointRow>> ListCheckpoints() = 0;

  // Copying a whole store (CopyStore below): every row as it is, ids
  // included, in key order.
  virtual Status ForEachMeta(
      const std::function<Status(std::string_view key, ByteSpan value)>& visit) = 0;
  virtual Status ForEachIndexEntryOfEveryKind(
      const std::function<Status(uint8_t kind, ByteSpan mac, int64_t person_pk)>& visit) = 0;
  virtual Status ForEachDoc(const std::function<Status(std::string_view kind, std::string_view key,
                                                       std::string_view body)>& visit) = 0;
  virtual Status ForEachPersonDocOfEveryKind(
      const std::function<Status(std::string_view kind, std::string_view key, int64_t person_pk,
                                 std::string_view body)>& visit) = 0;
  virtual Status ForEachAuditNode(
      const std::function<Status(uint32_t level, uint64_t index, ByteSpan hash)>& visit) = 0;
  // Inserts a dataset or a record with the id it has (kAlreadyExists if the
  // id, or the dataset's name, is taken); later InsertDataset calls go on
  // after the highest id.
  virtual Status InsertDatasetWithId(const DatasetRow& row) = 0;
  virtual Status InsertRecordWithId(const RecordRow& row) = 0;

  // Removes residue of deleted data from the files around the store (for
  // SQLite: checkpoint and truncate the WAL; `vacuum` also rebuilds the main
  // file). Returns false when another connection kept it from finishing
  // after waiting up to the lock wait (a reader of an older state, a
  // writer); errors only for I/O. REQUIRES: no open transaction.
  virtual Result<bool> PurgeResidue(bool vacuum) = 0;

  // Files that make up this store, for residue scans (main file, WAL, ...).
  virtual std::vector<std::string> Files() const = 0;

  // What keeps deleted data from lingering, read back from the connection
  // (not what was asked for): whether freed space is overwritten with zeros,
  // and the journal mode ("wal", ...).
  struct ResidueSettings {
    bool zeroes_freed_space = false;
    std::string journal_mode;
  };
  virtual Result<ResidueSettings> ReadResidueSettings() = 0;

  // The schema's version as this connection found it (0: created it) and as
  // it is now: opening runs the migrations a newer build needs (custos
  // migrate reports them).
  struct SchemaVersions {
    int found = 0;
    int now = 0;
  };
  virtual SchemaVersions schema_versions() const = 0;
};

// For backends: kFailedPrecondition when a vault's schema (`found`) is newer
// than this build reads (`supported`), naming `where`.
Status CheckSchemaNotNewer(const std::string& where, int found, int supported);

// One read transaction for a scope (BeginRead in the constructor, EndRead in
// the destructor). Check ok() (or status()) before relying on it.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Store& store) : store_(store), status_(store.BeginRead()) {}
  ~ReadSnapshot() {
    if (status_) store_.EndRead();
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  const Status& status() const { return status_; }

 private:
  Store& store_;
  Status status_;
};

// The embedded default: one SQLite file. Create fails with kAlreadyExists if
// the file exists; Open fails with kNotFound if it does not, kDataLoss if it
// is not a Custos vault or is damaged, kFailedPrecondition if its schema is
// newer than this build.
Result<std::unique_ptr<Store>> CreateSqliteStore(const std::string& path,
                                                 const StoreOptions& options = {});
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options = {});

// A vault in a PostgreSQL database (docs/postgresql.md): `uri` in libpq's
// syntax (postgresql://..., with sslmode, a password file or a service
// file). The vault is the schema "custos" of that database. Create fails
// with kAlreadyExists if the database holds one; Open fails with kNotFound
// if the database or the vault is missing, kDataLoss if the schema is
// damaged, kFailedPrecondition if it is newer than this build; both fail
// with kUnavailable when the server cannot be reached.
Result<std::unique_ptr<Store>> CreatePgStore(const std::string& uri,
                                             const StoreOptions& options = {});
Result<std::unique_ptr<Store>> OpenPgStore(const std::string& uri,
                                           const StoreOptions& options = {});
// Whether --vault names a PostgreSQL database rather than a file.
bool IsPostgresUri(std::string_view vault);

// The store `vault` names: a PostgreSQL database for a postgresql:// (or
// postgres://) URI, else a SQLite file.
Result<std::unique_ptr<Store>> CreateStore(const std::string& vault,
                                           const StoreOptions& options = {});
Result<std::unique_ptr<Store>> OpenStore(const std::string& vault,
                                         const StoreOptions& options = {});
// What CopyStore copied, by table.
struct CopyCounts {
  uint64_t meta = 0, persons = 0, datasets = 0, records = 0, index_entries = 0, docs = 0,
           person_docs = 0, audit_entries = 0, audit_nodes = 0, checkpoints = 0;
};
// Copies every row of `from` into `to` (a store just created, in an open
// write transaction the caller commits). Reads `from` as it is: the caller
// keeps writers out (a write transaction on it) for a consistent copy.
// `progress` (may be empty) hears of each person copied.
Result<CopyCounts> CopyStore(Store& from, Store& to,
                             const std::function<void(uint64_t persons)>& progress = {});

// Undoes a CreateStore whose vault was never finished (nobody else can have
// used it): removes the file and its companions, or the database's schema.
// Takes the store to close it first.
Status DiscardNewStore(std::unique_ptr<Store> store, const std::string& vault);

}  // namespace custos::store

#endif  // CUSTOS_STORE_STORE_H_
