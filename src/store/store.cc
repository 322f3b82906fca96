// Which backend a vault's name selects (store/store.h).
#include "store/store.h"

#include <unistd.h>

namespace custos::store {

Status DropPgVault(const std::string& uri);  // pg/pg_store.cc

Result<std::unique_ptr<Store>> CreateStore(const std::string& vault, const StoreOptions& options) {
  return IsPostgresUri(vault) ? CreatePgStore(vault, options) : CreateSqliteStore(vault, options);
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& vault, const StoreOptions& options) {
  return IsPostgresUri(vault) ? OpenPgStore(vault, options) : OpenSqliteStore(vault, options);
}

Status CheckSchemaNotNewer(const std::string& where, int found, int supported) {
  if (found <= supported) return Ok();
  return Fail(FailedPrecondition(where + " has schema version " + std::to_string(found) +
                                 "; this build of Custos reads up to " + std::to_string(supported) +
                                 ": upgrade Custos"));
}

Result<CopyCounts> CopyStore(Store& from, Store& to,
                             const std::function<void(uint64_t)>& progress) {
  CopyCounts n;
  RETURN_IF_ERROR(from.ForEachMeta([&](std::string_view key, ByteSpan value) {
    ++n.meta;
    return to.PutMeta(key, value);
  }));
  ASSIGN_OR_RETURN(std::vector<DatasetRow> datasets, from.ListDatasets());
  for (const DatasetRow& d : datasets) {
    RETURN_IF_ERROR(to.InsertDatasetWithId(d));
    ++n.datasets;
  }
  const Status persons = from.ForEachPersonWithRecords(
      [&](const PersonRow& p, std::span<const RecordView> records) -> Status {
        RETURN_IF_ERROR(to.InsertPerson(p));
        for (const RecordView& r : records) {
          RETURN_IF_ERROR(to.InsertRecordWithId(
              {r.id, r.id >> kRecordShift, r.dataset_id, Bytes(r.body.begin(), r.body.end())}));
          ++n.records;
        }
        if (++n.persons % 1000 == 0 && progress) progress(n.persons);
        return Ok();
      });
  RETURN_IF_ERROR(persons);
  if (progress) progress(n.persons);
  RETURN_IF_ERROR(from.ForEachIndexEntryOfEveryKind([&](uint8_t kind, ByteSpan mac, int64_t pk) {
    ++n.index_entries;
    return to.InsertIndex(kind, mac, pk);
  }));
  RETURN_IF_ERROR(
      from.ForEachDoc([&](std::string_view kind, std::string_view key, std::string_view body) {
        ++n.docs;
        return to.PutDoc(kind, key, body);
      }));
  RETURN_IF_ERROR(from.ForEachPersonDocOfEveryKind(
      [&](std::string_view kind, std::string_view key, int64_t pk, std::string_view body) {
        ++n.person_docs;
        return to.PutPersonDoc(kind, key, pk, body);
      }));
  RETURN_IF_ERROR(from.ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) {
    ++n.audit_entries;
    return to.AppendAuditEntry(seq, data);
  }));
  RETURN_IF_ERROR(from.ForEachAuditNode([&](uint32_t level, uint64_t index, ByteSpan hash) {
    ++n.audit_nodes;
    return to.PutAuditNode(level, index, hash);
  }));
  ASSIGN_OR_RETURN(std::vector<CheckpointRow> checkpoints, from.ListCheckpoints());
  for (const CheckpointRow& c : checkpoints) {
    RETURN_IF_ERROR(to.PutCheckpoint(c));
    ++n.checkpoints;
  }
  return n;
}

Status DiscardNewStore(std::unique_ptr<Store> store, const std::string& vault) {
  if (store) store->Rollback();
  store.reset();
  if (IsPostgresUri(vault)) return DropPgVault(vault);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((vault + suffix).c_str());
  return Ok();
}

}  // namespace custos::store
