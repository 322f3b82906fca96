// The SQLite store: workflow documents, the audit log's tables, and the
// residue purge.
#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store_internal.h"

namespace custos::store::sqlite_internal {

Status SqliteStore::PutDoc(std::string_view kind, std::string_view key, std::string_view body) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO doc(kind,key,body) VALUES(?,?,?) "
                           "ON CONFLICT(kind,key) DO UPDATE SET body=excluded.body"));
  BindText(s, 1, kind);
  BindText(s, 2, key);
  BindText(s, 3, body);
  return StepDone(s);
}

Result<std::optional<std::string>> SqliteStore::GetDoc(std::string_view kind,
                                                       std::string_view key) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT body FROM doc WHERE kind=? AND key=?"));
  BindText(s, 1, kind);
  BindText(s, 2, key);
  ASSIGN_OR_RETURN(bool row, Step(s));
  if (!row) return std::optional<std::string>();
  std::string body = ColumnText(s, 0);
  sqlite3_reset(s);
  return std::optional<std::string>(std::move(body));
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::ListDocs(
    std::string_view kind) {
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

Status SqliteStore::PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                                 std::string_view body) {
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

Result<std::optional<std::string>> SqliteStore::GetPersonDoc(std::string_view kind,
                                                             std::string_view key,
                                                             int64_t person_pk) {
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

Status SqliteStore::ForEachPersonDoc(
    std::string_view kind, std::string_view key,
    const std::function<Status(int64_t, std::string_view)>& visit) {
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
      db_, "SELECT person_pk,body FROM person_doc WHERE kind=? AND key=? ORDER BY person_pk", -1,
      &raw, nullptr)));
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

Status SqliteStore::ForEachIndexEntry(uint8_t kind,
                                      const std::function<Status(ByteSpan, int64_t)>& visit) {
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

Status SqliteStore::AppendAuditEntry(uint64_t seq, ByteSpan data) {
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

Status SqliteStore::ForEachAuditEntry(uint64_t from,
                                      const std::function<Status(uint64_t, ByteSpan)>& visit) {
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

Status SqliteStore::PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO audit_node(level,idx,hash) VALUES(?,?,?)"));
  sqlite3_bind_int(s, 1, static_cast<int>(level));
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(index));
  BindBlob(s, 3, hash);
  return StepDone(s);
}

Status SqliteStore::ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO audit_node(level,idx,hash) VALUES(?,?,?) "
                           "ON CONFLICT(level,idx) DO UPDATE SET hash=excluded.hash"));
  sqlite3_bind_int(s, 1, static_cast<int>(level));
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(index));
  BindBlob(s, 3, hash);
  return StepDone(s);
}

Result<uint64_t> SqliteStore::DeleteAuditNodesFrom(uint64_t size) {
  RETURN_IF_ERROR(RequireTx());
  // Node (level, idx) covers leaves [idx << level, (idx + 1) << level).
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("DELETE FROM audit_node WHERE ((idx + 1) << level) > ?"));
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
  RETURN_IF_ERROR(StepDone(s));
  return static_cast<uint64_t>(sqlite3_changes(db_));
}

Status SqliteStore::DeleteCheckpoint(uint64_t size) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM audit_checkpoint WHERE size=?"));
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
  RETURN_IF_ERROR(StepDone(s));
  if (sqlite3_changes(db_) == 0) {
    return Fail(NotFound("no checkpoint of size " + std::to_string(size)));
  }
  return Ok();
}

Result<std::optional<Bytes>> SqliteStore::GetAuditNode(uint32_t level, uint64_t index) {
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

Status SqliteStore::PutCheckpoint(const CheckpointRow& row) {
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

Result<std::optional<CheckpointRow>> SqliteStore::LatestCheckpoint() {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT size,note,created_at FROM audit_checkpoint "
                                             "ORDER BY size DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, Step(s));
  if (!row) return std::optional<CheckpointRow>();
  CheckpointRow c = CheckpointFrom(s);
  sqlite3_reset(s);
  return std::optional<CheckpointRow>(std::move(c));
}

Result<std::vector<CheckpointRow>> SqliteStore::ListCheckpoints() {
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

Result<bool> SqliteStore::PurgeResidue(bool vacuum) {
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

}  // namespace custos::store::sqlite_internal
