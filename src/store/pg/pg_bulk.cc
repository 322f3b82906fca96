// The PostgreSQL store's bulk writes: persons new to the vault and records
// are held back in the write transaction and sent with COPY (binary), a
// round trip per few thousand rows instead of one or two per row; index
// entries go many to a statement. Held-back rows are sent before anything
// reads or changes those tables, and at commit (pg_store_internal.h).
#include <endian.h>

#include <algorithm>
#include <string>

#include "store/pg/pg_store_internal.h"

namespace custos::store::pg_internal {
namespace {

// COPY's binary format: a signature, flags and header extension, then per
// row a field count and each field as length and bytes, then -1.
constexpr char kCopySignature[] = "PGCOPY\n\377\r\n";

void Put16(std::string& out, int16_t v) {
  const uint16_t be = htobe16(static_cast<uint16_t>(v));
  out.append(reinterpret_cast<const char*>(&be), 2);
}
void Put32(std::string& out, int32_t v) {
  const uint32_t be = htobe32(static_cast<uint32_t>(v));
  out.append(reinterpret_cast<const char*>(&be), 4);
}
void PutInt8(std::string& out, int64_t v) {
  Put32(out, 8);
  const uint64_t be = htobe64(static_cast<uint64_t>(v));
  out.append(reinterpret_cast<const char*>(&be), 8);
}
void PutBytes(std::string& out, ByteSpan v) {
  Put32(out, static_cast<int32_t>(v.size()));
  out.append(reinterpret_cast<const char*>(v.data()), v.size());
}
void StartCopy(std::string& out) {
  out.assign(kCopySignature, sizeof kCopySignature);  // with its final NUL
  Put32(out, 0);                                      // flags
  Put32(out, 0);                                      // header extension length
}

// Held-back bytes that make a COPY worth sending.
constexpr size_t kCopyBytes = size_t{8} << 20;

}  // namespace

Status PgStore::InsertPerson(const PersonRow& row) {
  RETURN_IF_ERROR(RequireTx());
  if (row.pk <= 0) return Fail(Internal("person pk must be positive"));
  if (!max_pk_) {
    ASSIGN_OR_RETURN(Rows m, conn_->Query("SELECT coalesce(max(pk),0) FROM custos.person"));
    max_pk_ = m.Int(0, 0);
    last_held_pk_ = *max_pk_;
  }
  // Past every person the vault has or holds back: it cannot collide (no
  // one else writes under the write lock), so it can wait for the COPY.
  if (row.pk > last_held_pk_) {
    held_person_at_[row.pk] = held_persons_.size();
    held_persons_.push_back(row);
    held_bytes_ += row.wrapped_key.size() + 40;
    last_held_pk_ = row.pk;
    if (held_bytes_ >= kCopyBytes) return FlushRows();
    return Ok();
  }
  // Out of order: the held persons go first, so that the table answers.
  // A collision is reported without an error, which would abort the
  // whole transaction in PostgreSQL (SQLite's callers go on after one).
  RETURN_IF_ERROR(FlushRows());
  ASSIGN_OR_RETURN(
      Rows r,
      conn_->Query(
          "INSERT INTO custos.person(pk,wrapped_key,kek_version,created_at) "
          "VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING pk",
          Params().Int(row.pk).Blob(row.wrapped_key).Int(row.kek_version).Int(row.created_at)));
  if (r.size() != 1) return Fail(AlreadyExists("person " + std::to_string(row.pk) + " exists"));
  return Ok();
}

Result<std::optional<PersonRow>> PgStore::GetPerson(int64_t pk) {
  // An import reads back the key of a person it added a chunk ago: from
  // what is held back, without sending it.
  if (auto it = held_person_at_.find(pk); it != held_person_at_.end()) {
    return std::optional<PersonRow>(held_persons_[it->second]);
  }
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT pk,wrapped_key,kek_version,created_at FROM "
                                        "custos.person WHERE pk=$1",
                                        Params().Int(pk)));
  if (r.size() == 0) return std::optional<PersonRow>();
  return std::optional<PersonRow>(PersonAt(r, 0));
}

Result<int64_t> PgStore::NextRecordId(int64_t person_pk) {
  if (auto it = next_record_.find(person_pk); it != next_record_.end()) return it->second;
  const int64_t lo = person_pk << kRecordShift, hi = ((person_pk + 1) << kRecordShift) - 1;
  // A person added in this transaction has no record but those written
  // through here, which next_record_ counts.
  if (max_pk_ && person_pk > *max_pk_) return lo;
  // Nothing of this person's is held back (it would be counted): the
  // table has every record of theirs.
  ASSIGN_OR_RETURN(Rows m, conn_->Query("SELECT max(id) FROM custos.record WHERE id BETWEEN $1 "
                                        "AND $2",
                                        Params().Int(lo).Int(hi)));
  return m.IsNull(0, 0) ? lo : m.Int(0, 0) + 1;
}

Result<int64_t> PgStore::InsertRecord(int64_t person_pk, int64_t dataset_id, ByteSpan body) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(const int64_t id, NextRecordId(person_pk));
  if (id > ((person_pk + 1) << kRecordShift) - 1) {
    return Fail(FailedPrecondition("a person cannot have more than 2^24 records"));
  }
  HoldRecord(id, dataset_id, body);
  next_record_[person_pk] = id + 1;
  if (held_bytes_ >= kCopyBytes) RETURN_IF_ERROR(FlushRows());
  return id;
}

Status PgStore::InsertRecordWithId(const RecordRow& row) {
  RETURN_IF_ERROR(RequireTx());
  const int64_t pk = row.id >> kRecordShift;
  // Past the person's last record written here (a copy writes them in
  // order): it cannot collide, so it can wait for the COPY.
  if (auto it = next_record_.find(pk);
      max_pk_ && pk > *max_pk_ && (it == next_record_.end() || row.id >= it->second)) {
    HoldRecord(row.id, row.dataset_id, row.body);
    next_record_[pk] = row.id + 1;
    if (held_bytes_ >= kCopyBytes) return FlushRows();
    return Ok();
  }
  RETURN_IF_ERROR(FlushRows());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("INSERT INTO custos.record(id,dataset,body) "
                                        "VALUES($1,$2,$3) ON CONFLICT DO NOTHING RETURNING id",
                                        Params().Int(row.id).Int(row.dataset_id).Blob(row.body)));
  if (r.size() != 1) {
    return Fail(AlreadyExists("record " + std::to_string(row.id) + " already exists"));
  }
  if (max_pk_ && pk > *max_pk_) {
    // A new person's count never goes back: held records may be past it.
    int64_t& next = next_record_[pk];
    next = std::max(next, row.id + 1);
  } else {
    next_record_.erase(pk);  // the table has it: asked again when needed
  }
  return Ok();
}

void PgStore::HoldRecord(int64_t id, int64_t dataset_id, ByteSpan body) {
  if (held_records_.empty()) StartCopy(held_records_);
  Put16(held_records_, 3);
  PutInt8(held_records_, id);
  PutInt8(held_records_, dataset_id);
  PutBytes(held_records_, body);
  held_bytes_ += body.size() + 30;
}

Status PgStore::FlushRows() {
  if (!held_persons_.empty()) {
    std::string data;
    StartCopy(data);
    for (const PersonRow& p : held_persons_) {
      Put16(data, 4);
      PutInt8(data, p.pk);
      PutBytes(data, p.wrapped_key);
      PutInt8(data, p.kek_version);
      PutInt8(data, p.created_at);
    }
    Put16(data, -1);
    held_persons_.clear();
    held_person_at_.clear();
    RETURN_IF_ERROR(conn_->CopyIn(
        "COPY custos.person(pk,wrapped_key,kek_version,created_at) FROM STDIN (FORMAT binary)",
        data));
  }
  if (!held_records_.empty()) {
    Put16(held_records_, -1);
    std::string data = std::move(held_records_);
    held_records_.clear();
    RETURN_IF_ERROR(
        conn_->CopyIn("COPY custos.record(id,dataset,body) FROM STDIN (FORMAT binary)", data));
  }
  held_bytes_ = 0;
  return Ok();
}

Status PgStore::InsertIndex(uint8_t kind, ByteSpan mac, int64_t person_pk) {
  RETURN_IF_ERROR(RequireTx());
  if (mac.size() != kIndexMacSize) {
    return Fail(InvalidArgument("a blind-index MAC is " + std::to_string(kIndexMacSize) +
                                " bytes, not " + std::to_string(mac.size())));
  }
  if (held_index_.empty()) StartCopy(held_index_);
  Put16(held_index_, 3);
  Put32(held_index_, 2);
  Put16(held_index_, kind);
  PutBytes(held_index_, mac);
  PutInt8(held_index_, person_pk);
  if (held_index_.size() >= kCopyBytes) return StageIndex();
  return Ok();
}

// Index entries go by COPY into a temporary table of this session, and
// from there into the index once, sorted, without the duplicates (an entry
// may come twice, or be there already): random single-row inserts into
// its B-tree, each checking for a conflict, were most of an import's time.
Status PgStore::StageIndex() {
  if (held_index_.empty()) return Ok();
  // Made in every transaction that stages (a round trip per staging): a
  // table made in a transaction rolled back, or on a connection made
  // again, is gone.
  RETURN_IF_ERROR(
      conn_->Exec("CREATE TEMP TABLE IF NOT EXISTS custos_index_in (kind smallint, mac bytea, "
                  "person_pk bigint) ON COMMIT DELETE ROWS"));
  Put16(held_index_, -1);
  std::string data = std::move(held_index_);
  held_index_.clear();
  RETURN_IF_ERROR(conn_->CopyIn("COPY custos_index_in FROM STDIN (FORMAT binary)", data));
  staged_index_ = true;
  return Ok();
}

Status PgStore::FlushIndex() {
  RETURN_IF_ERROR(StageIndex());
  if (!staged_index_) return Ok();
  staged_index_ = false;
  return conn_->Exec(
      "INSERT INTO custos.blind_index(kind,mac,person_pk) SELECT DISTINCT s.kind, s.mac, "
      "s.person_pk FROM custos_index_in s WHERE NOT EXISTS (SELECT 1 FROM custos.blind_index b "
      "WHERE b.kind = s.kind AND b.mac = s.mac AND b.person_pk = s.person_pk) ORDER BY 1, 2, 3; "
      "TRUNCATE custos_index_in");
}

Status PgStore::Flush() {
  RETURN_IF_ERROR(FlushRows());
  return FlushIndex();
}

void PgStore::ForgetHeld() {
  held_index_.clear();
  staged_index_ = false;
  held_persons_.clear();
  held_person_at_.clear();
  held_records_.clear();
  held_bytes_ = 0;
  next_record_.clear();
  max_pk_.reset();
  last_held_pk_ = 0;
}

}  // namespace custos::store::pg_internal
