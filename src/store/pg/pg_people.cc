// The PostgreSQL store: persons, datasets, records and the blind index
// (pg_store_internal.h).
#include <string>
#include <vector>

#include "store/pg/pg_store_internal.h"

namespace custos::store::pg_internal {

Result<uint64_t> PgStore::CountPersons() {
  RETURN_IF_ERROR(Flush());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT count(*) FROM custos.person"));
  return static_cast<uint64_t>(r.Int(0, 0));
}

Status PgStore::ForEachPerson(const std::function<Status(const PersonRow&)>& visit) {
  RETURN_IF_ERROR(Flush());
  return ForEachRow("SELECT pk,wrapped_key,kek_version,created_at FROM custos.person ORDER BY pk",
                    Params(), [&](const Rows& r, int i) { return visit(PersonAt(r, i)); });
}

Result<std::vector<int64_t>> PgStore::ListPersonPks() {
  RETURN_IF_ERROR(Flush());
  return Ints("SELECT pk FROM custos.person ORDER BY pk", Params());
}

Status PgStore::UpdatePersonKey(int64_t pk, ByteSpan wrapped_key, uint32_t kek_version) {
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("UPDATE custos.person SET wrapped_key=$1, kek_version=$2 "
                                        "WHERE pk=$3 RETURNING pk",
                                        Params().Blob(wrapped_key).Int(kek_version).Int(pk)));
  if (r.size() != 1) return Fail(NotFound("no person with that key"));
  return Ok();
}

Status PgStore::DeletePerson(int64_t pk) {
  RETURN_IF_ERROR(RequireTx());
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(conn_->Run("DELETE FROM custos.record WHERE id BETWEEN $1 AND $2",
                             Params().Int(pk << kRecordShift).Int(((pk + 1) << kRecordShift) - 1)));
  RETURN_IF_ERROR(
      conn_->Run("DELETE FROM custos.blind_index WHERE person_pk=$1", Params().Int(pk)));
  RETURN_IF_ERROR(conn_->Run("DELETE FROM custos.person_doc WHERE person_pk=$1", Params().Int(pk)));
  ASSIGN_OR_RETURN(
      Rows r, conn_->Query("DELETE FROM custos.person WHERE pk=$1 RETURNING pk", Params().Int(pk)));
  if (r.size() != 1) return Fail(NotFound("no such person"));
  return Ok();
}

Result<uint64_t> PgStore::DeletePersonsExcept(const std::vector<int64_t>& keep) {
  RETURN_IF_ERROR(RequireTx());
  RETURN_IF_ERROR(Flush());
  // The kept pks as one array parameter: bigint[] in text form.
  std::string array = "{";
  for (size_t i = 0; i < keep.size(); ++i) array += (i ? "," : "") + std::to_string(keep[i]);
  array += "}";
  const Params kept = Params().Text(array);
  RETURN_IF_ERROR(
      conn_->Run("DELETE FROM custos.record WHERE NOT ((id >> 24) = ANY ($1::bigint[]))", kept));
  RETURN_IF_ERROR(conn_->Run(
      "DELETE FROM custos.blind_index WHERE NOT (person_pk = ANY ($1::bigint[]))", kept));
  RETURN_IF_ERROR(
      conn_->Run("DELETE FROM custos.person_doc WHERE NOT (person_pk = ANY ($1::bigint[]))", kept));
  ASSIGN_OR_RETURN(Rows r,
                   conn_->Query("WITH gone AS (DELETE FROM custos.person WHERE NOT (pk = ANY "
                                "($1::bigint[])) RETURNING 1) SELECT count(*) FROM gone",
                                kept));
  return static_cast<uint64_t>(r.Int(0, 0));
}

Status PgStore::InsertDataset(DatasetRow& row) {
  row.id = 0;
  ASSIGN_OR_RETURN(row.id, InsertDatasetRow(row));
  return Ok();
}

Status PgStore::InsertDatasetWithId(const DatasetRow& row) {
  if (row.id <= 0) return Fail(Internal("a dataset id must be positive"));
  RETURN_IF_ERROR(InsertDatasetRow(row).map([](int64_t) {}));
  // The next InsertDataset goes on after this id.
  return conn_->Run(
      "SELECT setval(pg_get_serial_sequence('custos.dataset','id'), "
      "(SELECT max(id) FROM custos.dataset))");
}

Result<int64_t> PgStore::InsertDatasetRow(const DatasetRow& row) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(
      Rows r,
      conn_->Query("INSERT INTO custos.dataset(id,name,schema_json,source_sha256,source_format,"
                   "imported_at,rows,people) VALUES(CASE WHEN $1::int8 = 0 THEN "
                   "nextval(pg_get_serial_sequence('custos.dataset','id')) ELSE $1::int8 END,"
                   "$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING RETURNING id",
                   Params()
                       .Int(row.id)
                       .Text(row.name)
                       .Text(row.schema_json)
                       .Text(row.source_sha256)
                       .Text(row.source_format)
                       .Int(row.imported_at)
                       .Int(static_cast<int64_t>(row.rows))
                       .Int(static_cast<int64_t>(row.people))));
  if (r.size() != 1) {
    return Fail(AlreadyExists(row.id == 0 ? "a dataset named '" + row.name + "' already exists"
                                          : "dataset " + std::to_string(row.id) + " ('" + row.name +
                                                "') already exists"));
  }
  return r.Int(0, 0);
}

Status PgStore::UpdateDatasetCounts(int64_t id, uint64_t rows, uint64_t people) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run(
      "UPDATE custos.dataset SET rows=$1, people=$2 WHERE id=$3",
      Params().Int(static_cast<int64_t>(rows)).Int(static_cast<int64_t>(people)).Int(id));
}

Status PgStore::UpdateDatasetSource(int64_t id, std::string_view source_sha256) {
  return UpdateDataset("UPDATE custos.dataset SET source_sha256=$1 WHERE id=$2 RETURNING id", id,
                       source_sha256);
}

Status PgStore::UpdateDatasetSchema(int64_t id, std::string_view schema_json) {
  return UpdateDataset("UPDATE custos.dataset SET schema_json=$1 WHERE id=$2 RETURNING id", id,
                       schema_json);
}

Result<std::vector<DatasetRow>> PgStore::ListDatasets() {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT id,name,schema_json,source_sha256,source_format,"
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

Result<std::vector<RecordRow>> PgStore::RecordsOf(int64_t person_pk) {
  RETURN_IF_ERROR(Flush());
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

Result<std::vector<int64_t>> PgStore::ListPersonPksInDataset(int64_t dataset_id) {
  RETURN_IF_ERROR(Flush());
  return Ints("SELECT DISTINCT id >> 24 FROM custos.record WHERE dataset=$1 ORDER BY 1",
              Params().Int(dataset_id));
}

Status PgStore::ForEachPersonWithRecords(
    const std::function<Status(const PersonRow&, std::span<const RecordView>)>& visit) {
  RETURN_IF_ERROR(Flush());
  // Persons in pk order, each with their records: read in slices of
  // persons, so neither table is held whole in memory.
  int64_t after = 0;
  for (;;) {
    ASSIGN_OR_RETURN(Rows people, conn_->Query("SELECT pk,wrapped_key,kek_version,created_at FROM "
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

Result<std::vector<int64_t>> PgStore::FindByIndex(uint8_t kind, ByteSpan mac) {
  RETURN_IF_ERROR(Flush());
  return Ints(
      "SELECT person_pk FROM custos.blind_index WHERE kind=$1::int8::int2 AND mac=$2 "
      "ORDER BY person_pk",
      Params().Int(kind).Blob(mac));
}

Status PgStore::ForEachIndexEntry(uint8_t kind,
                                  const std::function<Status(ByteSpan, int64_t)>& visit) {
  RETURN_IF_ERROR(Flush());
  return ForEachRow(
      "SELECT mac,person_pk FROM custos.blind_index WHERE kind=$1::int8::int2 ORDER BY mac, "
      "person_pk",
      Params().Int(kind), [&](const Rows& r, int i) { return visit(r.View(i, 0), r.Int(i, 1)); });
}

Status PgStore::UpdateRecord(int64_t record_id, ByteSpan body) {
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("UPDATE custos.record SET body=$1 WHERE id=$2 "
                                        "RETURNING id",
                                        Params().Blob(body).Int(record_id)));
  if (r.size() != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
  return Ok();
}

Status PgStore::DeleteRecord(int64_t record_id) {
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("DELETE FROM custos.record WHERE id=$1 RETURNING id",
                                        Params().Int(record_id)));
  if (r.size() != 1) return Fail(NotFound("no record " + std::to_string(record_id)));
  return Ok();
}

Status PgStore::UpdateDataset(const char* sql, int64_t id, std::string_view value) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r, conn_->Query(sql, Params().Text(value).Int(id)));
  if (r.size() != 1) return Fail(NotFound("no dataset " + std::to_string(id)));
  return Ok();
}

Result<std::vector<int64_t>> PgStore::Ints(const char* sql, const Params& params) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query(sql, params));
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(r.Int(i, 0));
  return out;
}

PersonRow PgStore::PersonAt(const Rows& r, int i) {
  PersonRow p;
  p.pk = r.Int(i, 0);
  p.wrapped_key = r.Blob(i, 1);
  p.kek_version = static_cast<uint32_t>(r.Int(i, 2));
  p.created_at = r.Int(i, 3);
  return p;
}

}  // namespace custos::store::pg_internal
