// The PostgreSQL store's class, shared by the files that implement it:
// pg_store.cc (opening, schema and migrations, transactions, the write
// lock), pg_people.cc (persons, datasets, records, the blind index),
// pg_docs.cc (documents, the audit log's tables, residue). Internal to
// src/store/pg.
#ifndef CUSTOS_STORE_PG_PG_STORE_INTERNAL_H_
#define CUSTOS_STORE_PG_PG_STORE_INTERNAL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/pg/pg_conn.h"
#include "store/store.h"

namespace custos::store::pg_internal {

// Blind-index MACs are this long (store/store.h: InsertIndex).
inline constexpr size_t kIndexMacSize = 16;

class PgStore final : public Store {
 public:
  PgStore(std::unique_ptr<Conn> conn, const StoreOptions& options)
      : conn_(std::move(conn)), lock_wait_(options.lock_wait) {}
  ~PgStore() override { Rollback(); }

  // Creates the schema (kAlreadyExists if the database holds a vault).
  Status Initialize();

  Status CheckSchema();

  Status Begin() override { return BeginWrite(lock_wait_); }
  Status TryBegin() override { return BeginWrite(std::chrono::milliseconds(0)); }

  Status Commit() override;

  void Rollback() override;

  Status BeginRead() override;
  void EndRead() override;

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override;
  Status PutMeta(std::string_view key, ByteSpan value) override;

  Status InsertPerson(const PersonRow& row) override;
  Result<std::optional<PersonRow>> GetPerson(int64_t pk) override;
  Result<uint64_t> CountPersons() override;
  Status ForEachPerson(const std::function<Status(const PersonRow&)>& visit) override;
  Result<std::vector<int64_t>> ListPersonPks() override;
  Status UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) override;
  Status DeletePerson(int64_t pk) override;
  Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep) override;

  Status InsertDataset(DatasetRow& row) override;
  Status UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) override;
  Status UpdateDatasetSource(int64_t id, std::string_view source_sha256) override;
  Status UpdateDatasetSchema(int64_t id, std::string_view schema_json) override;
  Result<std::vector<DatasetRow>> ListDatasets() override;

  Result<int64_t> InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) override;
  Result<std::vector<RecordRow>> RecordsOf(int64_t person_pk) override;
  Result<std::vector<int64_t>> ListPersonPksInDataset(int64_t dataset_id) override;
  Status ForEachPersonWithRecords(
      const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) override;

  Status InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) override;
  Result<std::vector<int64_t>> FindByIndex(uint8_t kind, ByteSpan mac) override;
  Status ForEachIndexEntry(uint8_t kind,
                           const std::function<Status(ByteSpan, int64_t)>& visit) override;

  Status UpdateRecord(int64_t record_id, ByteSpan body) override;
  Status DeleteRecord(int64_t record_id) override;

  Status PutDoc(std::string_view kind, std::string_view key, std::string_view body) override;
  Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListDocs(std::string_view kind) override;
  Status DeleteDoc(std::string_view kind, std::string_view key) override;

  Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                      std::string_view body) override;
  Result<std::optional<std::string>> GetPersonDoc(std::string_view kind, std::string_view key,
                                                  int64_t person_pk) override;
  Status ForEachPersonDoc(std::string_view kind, std::string_view key,
                          const std::function<Status(int64_t, std::string_view)>& visit) override;
  Status DeletePersonDocs(std::string_view kind, std::string_view key) override;

  Status AppendAuditEntry(uint64_t seq, ByteSpan data) override;
  Result<uint64_t> CountAuditEntries() override;
  Status ForEachAuditEntry(uint64_t from,
                           const std::function<Status(uint64_t, ByteSpan)>& visit) override;
  Status PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override;
  Result<std::optional<Bytes>> GetAuditNode(uint32_t level, uint64_t index) override;
  Status ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) override;
  Result<uint64_t> DeleteAuditNodesFrom(uint64_t size) override;
  Status PutCheckpoint(const CheckpointRow& row) override;
  Status DeleteCheckpoint(uint64_t size) override;
  Result<std::optional<CheckpointRow>> LatestCheckpoint() override;
  Result<std::vector<CheckpointRow>> ListCheckpoints() override;

  // Deleted rows stay in the tables' pages until VACUUM reclaims them; a
  // plain VACUUM (not FULL) takes no lock that stops readers or writers.
  Result<bool> PurgeResidue(bool vacuum) override;
  std::vector<std::string> Files() const override { return {}; }
  Result<ResidueSettings> ReadResidueSettings() override;
  SchemaVersions schema_versions() const override { return versions_; }
  Status PutNote(std::string_view kind, std::string_view key, std::string_view body) override;

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

 private:
  Status RequireTx() const {
    if (!in_tx_) return Fail(Internal("write outside a transaction"));
    return Ok();
  }

  Status BeginWrite(std::chrono::milliseconds wait);

  // Who holds the write lock, for messages: "PostgreSQL session 1234
  // (custos serve)", from pg_locks (an advisory lock on a bigint key is
  // (classid, objid) = (high, low) 32 bits, objsubid 1).
  Error Busy(std::chrono::milliseconds waited);

  // Bulk writes (pg_bulk.cc): what is held back goes out before anything
  // reads or changes persons, records or the index, and at commit.
  Status Flush();
  Status FlushRows();
  Status FlushIndex();
  Status StageIndex();
  void ForgetHeld();
  void HoldRecord(int64_t id, int64_t dataset_id, ByteSpan body);
  // The id the person's next record takes.
  Result<int64_t> NextRecordId(int64_t person_pk);

  // Whether the database holds the schema "custos" (after quieting the
  // server's notices for this connection).
  Result<bool> HasSchema();

  Result<int> Version();

  Status Migrate();

  Status UpdateDataset(const char* sql, int64_t id, std::string_view value);
  // Inserts a dataset with its id, or the next (id 0); returns the id.
  Result<int64_t> InsertDatasetRow(const DatasetRow& row);

  Result<std::vector<int64_t>> Ints(const char* sql, const Params& params);

  Result<std::vector<CheckpointRow>> Checkpoints(const char* sql);

  // Visits every row of a query through a cursor, 5,000 rows at a time
  // (in the open transaction, or a read snapshot of its own).
  Status ForEachRow(const char* sql, const Params& params,
                    const std::function<Status(const Rows&, int)>& visit);

  static PersonRow PersonAt(const Rows& r, int i);

  std::unique_ptr<Conn> conn_;
  std::chrono::milliseconds lock_wait_;
  bool in_tx_ = false;
  int read_depth_ = 0;
  SchemaVersions versions_;
  uint64_t cursors_ = 0;  // names each ForEachRow cursor
  std::optional<uint64_t> audit_size_;
  // Index entries not yet sent (COPY binary rows), and whether some wait
  // in the session's staging table (StageIndex).
  std::string held_index_;
  bool staged_index_ = false;
  // Persons and records of this write transaction not yet sent (COPY).
  std::vector<PersonRow> held_persons_;
  std::unordered_map<int64_t, size_t> held_person_at_;  // pk -> index in held_persons_
  std::string held_records_;                            // COPY binary rows
  size_t held_bytes_ = 0;
  // The highest pk when this transaction first added a person: persons
  // above it are new, and have no records but those counted below.
  std::optional<int64_t> max_pk_;
  int64_t last_held_pk_ = 0;
  std::unordered_map<int64_t, int64_t> next_record_;  // person -> next record id
};

}  // namespace custos::store::pg_internal

#endif  // CUSTOS_STORE_PG_PG_STORE_INTERNAL_H_
