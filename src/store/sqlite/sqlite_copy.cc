// The SQLite store: every row as it is, for copying a whole store
// (store::CopyStore).
#include <string>

#include "store/sqlite/sqlite_store_internal.h"

namespace custos::store::sqlite_internal {

Status SqliteStore::ForEachRow(const char* sql, const std::function<Status(sqlite3_stmt*)>& visit) {
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr)));
  Stmt s(raw);
  for (;;) {
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) return Ok();
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    RETURN_IF_ERROR(visit(raw));
  }
}

namespace {
std::string_view TextAt(sqlite3_stmt* s, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string_view();
}
ByteSpan BlobAt(sqlite3_stmt* s, int i) {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, i));
  return p ? ByteSpan(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : ByteSpan();
}
}  // namespace

Status SqliteStore::ForEachMeta(const std::function<Status(std::string_view, ByteSpan)>& visit) {
  return ForEachRow("SELECT key,value FROM meta ORDER BY key",
                    [&](sqlite3_stmt* s) { return visit(TextAt(s, 0), BlobAt(s, 1)); });
}

Status SqliteStore::ForEachIndexEntryOfEveryKind(
    const std::function<Status(uint8_t, ByteSpan, int64_t)>& visit) {
  RETURN_IF_ERROR(FlushIndex());
  return ForEachRow("SELECT bucket,entries FROM mac_bucket ORDER BY bucket",
                    [&](sqlite3_stmt* s) -> Status {
                      const ByteSpan entries = BlobAt(s, 1);
                      RETURN_IF_ERROR(CheckBucket(sqlite3_column_int64(s, 0), entries));
                      for (size_t at = 0; at < entries.size(); at += kBucketEntrySize) {
                        const uint8_t* e = entries.data() + at;
                        RETURN_IF_ERROR(visit(e[kIndexMacSize], entries.subspan(at, kIndexMacSize),
                                              static_cast<int64_t>(ReadU64BE(e + kBucketKeySize))));
                      }
                      return Ok();
                    });
}

Status SqliteStore::ForEachDoc(
    const std::function<Status(std::string_view, std::string_view, std::string_view)>& visit) {
  return ForEachRow("SELECT kind,key,body FROM doc ORDER BY kind,key", [&](sqlite3_stmt* s) {
    return visit(TextAt(s, 0), TextAt(s, 1), TextAt(s, 2));
  });
}

Status SqliteStore::ForEachPersonDocOfEveryKind(
    const std::function<Status(std::string_view, std::string_view, int64_t, std::string_view)>&
        visit) {
  return ForEachRow("SELECT kind,key,person_pk,body FROM person_doc ORDER BY kind,key,person_pk",
                    [&](sqlite3_stmt* s) {
                      return visit(TextAt(s, 0), TextAt(s, 1), sqlite3_column_int64(s, 2),
                                   TextAt(s, 3));
                    });
}

Status SqliteStore::ForEachAuditNode(
    const std::function<Status(uint32_t, uint64_t, ByteSpan)>& visit) {
  return ForEachRow("SELECT level,idx,hash FROM audit_node ORDER BY level,idx",
                    [&](sqlite3_stmt* s) {
                      return visit(static_cast<uint32_t>(sqlite3_column_int64(s, 0)),
                                   static_cast<uint64_t>(sqlite3_column_int64(s, 1)), BlobAt(s, 2));
                    });
}

Status SqliteStore::InsertRecordWithId(const RecordRow& row) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("INSERT INTO record(id,dataset,body) VALUES(?,?,?)"));
  sqlite3_bind_int64(s, 1, row.id);
  sqlite3_bind_int64(s, 2, row.dataset_id);
  BindBlob(s, 3, row.body);
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return Fail(AlreadyExists("record " + std::to_string(row.id) + " already exists"));
  }
  if (rc != SQLITE_DONE) return Fail(StorageError(rc));
  // InsertRecord's shortcuts assume it wrote the person's last record.
  last_record_person_ = 0;
  last_inserted_person_ = 0;
  return Ok();
}

}  // namespace custos::store::sqlite_internal
