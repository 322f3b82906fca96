// The SQLite store: persons, datasets, records and blind-index lookups.
#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store_internal.h"

namespace custos::store::sqlite_internal {

Status SqliteStore::InsertPerson(const PersonRow& row) {
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

Result<std::vector<int64_t>> SqliteStore::ListPersonPks() {
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

Status SqliteStore::ForEachPerson(const std::function<Status(const PersonRow&)>& visit) {
  // A dedicated statement: the visitor may use the cached ones.
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
      db_, "SELECT pk,wrapped_key,kek_version,created_at FROM person ORDER BY pk", -1, &raw,
      nullptr)));
  Stmt s(raw);
  for (;;) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) return Ok();
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    RETURN_IF_ERROR(visit(PersonFrom(raw)));
  }
}

Status SqliteStore::UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) {
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

Status SqliteStore::DeletePerson(int64_t pk) {
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
    ASSIGN_OR_RETURN(sqlite3_stmt * q,
                     Prepare("SELECT entries FROM person_index WHERE person_pk=?"));
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
  for (const char* sql :
       {"DELETE FROM person_index WHERE person_pk=?", "DELETE FROM person_doc WHERE person_pk=?"}) {
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

Result<uint64_t> SqliteStore::DeletePersonsExcept(const std::vector<int64_t>& keep) {
  RETURN_IF_ERROR(RequireTx());
  RETURN_IF_ERROR(FlushIndex());
  ForgetRecordHints();
  // Copy what is kept aside (temp_store=MEMORY: no temporary file), empty
  // the tables (SQLite's truncate optimization frees whole pages instead of
  // deleting row by row) and put the kept rows back.
  RETURN_IF_ERROR(
      Exec("DROP TABLE IF EXISTS temp.custos_keep;"
           "CREATE TEMP TABLE custos_keep(pk INTEGER PRIMARY KEY);"));
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT OR IGNORE INTO temp.custos_keep(pk) VALUES(?)"));
    for (int64_t pk : keep) {
      sqlite3_bind_int64(s, 1, pk);
      RETURN_IF_ERROR(StepDone(s));
    }
  }
  ASSIGN_OR_RETURN(uint64_t before, CountPersons());
  RETURN_IF_ERROR(Exec(
      "CREATE TEMP TABLE custos_keep_person AS SELECT * FROM person WHERE pk IN temp.custos_keep;"
      "CREATE TEMP TABLE custos_keep_record AS SELECT * FROM record WHERE (id >> 24) IN "
      "temp.custos_keep;"
      "CREATE TEMP TABLE custos_keep_index AS SELECT * FROM person_index "
      "WHERE person_pk IN temp.custos_keep;"
      "CREATE TEMP TABLE custos_keep_doc AS SELECT * FROM person_doc WHERE person_pk IN "
      "temp.custos_keep;"
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
      "SELECT person_pk, entries FROM temp.custos_keep_index", [&](int64_t pk, ByteSpan entries) {
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

Status SqliteStore::InsertDataset(DatasetRow& row) {
  row.id = 0;
  ASSIGN_OR_RETURN(row.id, InsertDatasetRow(row));
  return Ok();
}

Status SqliteStore::InsertDatasetWithId(const DatasetRow& row) {
  if (row.id <= 0) return Fail(Internal("a dataset id must be positive"));
  return InsertDatasetRow(row).map([](int64_t) {});
}

Result<int64_t> SqliteStore::InsertDatasetRow(const DatasetRow& row) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO dataset(id,name,schema_json,source_sha256,source_format,"
                           "imported_at,rows,people) VALUES(?,?,?,?,?,?,?,?)"));
  if (row.id == 0) {
    sqlite3_bind_null(s, 1);  // the next rowid
  } else {
    sqlite3_bind_int64(s, 1, row.id);
  }
  BindText(s, 2, row.name);
  BindText(s, 3, row.schema_json);
  BindText(s, 4, row.source_sha256);
  BindText(s, 5, row.source_format);
  sqlite3_bind_int64(s, 6, row.imported_at);
  sqlite3_bind_int64(s, 7, static_cast<int64_t>(row.rows));
  sqlite3_bind_int64(s, 8, static_cast<int64_t>(row.people));
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return Fail(AlreadyExists(row.id == 0 ? "a dataset named '" + row.name + "' already exists"
                                          : "dataset " + std::to_string(row.id) + " ('" + row.name +
                                                "') already exists"));
  }
  if (rc != SQLITE_DONE) return Fail(StorageError(rc));
  return sqlite3_last_insert_rowid(db_);
}

Status SqliteStore::UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET rows=?, people=? WHERE id=?"));
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(rows));
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(people));
  sqlite3_bind_int64(s, 3, id);
  return StepDone(s);
}

Status SqliteStore::UpdateDatasetSource(int64_t id, std::string_view source_sha256) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET source_sha256=? WHERE id=?"));
  BindText(s, 1, source_sha256);
  sqlite3_bind_int64(s, 2, id);
  RETURN_IF_ERROR(StepDone(s));
  if (sqlite3_changes(db_) != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
  return Ok();
}

Status SqliteStore::UpdateDatasetSchema(int64_t id, std::string_view schema_json) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE dataset SET schema_json=? WHERE id=?"));
  BindText(s, 1, schema_json);
  sqlite3_bind_int64(s, 2, id);
  RETURN_IF_ERROR(StepDone(s));
  if (sqlite3_changes(db_) != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
  return Ok();
}

Result<std::vector<DatasetRow>> SqliteStore::ListDatasets() {
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

Result<int64_t> SqliteStore::InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) {
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
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("INSERT INTO record(id,dataset,body) VALUES(?,?,?)"));
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

Result<std::vector<int64_t>> SqliteStore::ListPersonPksInDataset(int64_t dataset_id) {
  // Record ids are (person pk << kRecordShift) | n, in rowid order: the
  // persons come out ascending, each person's records together.
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("SELECT id FROM record WHERE dataset = ? ORDER BY id"));
  sqlite3_bind_int64(s, 1, dataset_id);
  std::vector<int64_t> pks;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step(s));
    if (!row) return pks;
    const int64_t pk = sqlite3_column_int64(s, 0) >> kRecordShift;
    if (pks.empty() || pks.back() != pk) pks.push_back(pk);
  }
}

Result<std::vector<RecordRow>> SqliteStore::RecordsOf(int64_t person_pk) {
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

Status SqliteStore::ForEachPersonWithRecords(
    const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) {
  // Dedicated statements, stepped in lockstep: both tables are B-trees in
  // the order wanted (record ids are (pk << 24) | n), so this is a merge
  // join of two sequential scans, not a lookup per person.
  sqlite3_stmt* raw_people = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(
      db_, "SELECT pk,wrapped_key,kek_version,created_at FROM person ORDER BY pk", -1, &raw_people,
      nullptr)));
  Stmt people(raw_people);
  sqlite3_stmt* raw_records = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, "SELECT id,dataset,body FROM record ORDER BY id",
                                           -1, &raw_records, nullptr)));
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
    for (const At& a : at)
      views.push_back({a.id, a.dataset_id, ByteSpan(bodies).subspan(a.offset, a.size)});
    RETURN_IF_ERROR(visit(person, views));
  }
}

Status SqliteStore::InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) {
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

Result<std::vector<int64_t>> SqliteStore::FindByIndex(uint8_t kind, ByteSpan mac) {
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

Status SqliteStore::UpdateRecord(int64_t record_id, ByteSpan body) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("UPDATE record SET body=? WHERE id=?"));
  BindBlob(s, 1, body);
  sqlite3_bind_int64(s, 2, record_id);
  RETURN_IF_ERROR(StepDone(s));
  if (sqlite3_changes(db_) != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
  return Ok();
}

Status SqliteStore::DeleteRecord(int64_t record_id) {
  RETURN_IF_ERROR(RequireTx());
  ForgetRecordHints();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("DELETE FROM record WHERE id=?"));
  sqlite3_bind_int64(s, 1, record_id);
  RETURN_IF_ERROR(StepDone(s));
  if (sqlite3_changes(db_) != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
  return Ok();
}

}  // namespace custos::store::sqlite_internal
