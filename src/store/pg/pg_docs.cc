// The PostgreSQL store: workflow documents, the audit log's tables and
// residue (pg_store_internal.h).
#include <string>
#include <vector>

#include "store/pg/pg_store_internal.h"

namespace custos::store::pg_internal {

Status PgStore::PutDoc(std::string_view kind, std::string_view key, std::string_view body) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run(
      "INSERT INTO custos.doc(kind,key,body) VALUES($1,$2,$3) "
      "ON CONFLICT (kind,key) DO UPDATE SET body=excluded.body",
      Params().Text(kind).Text(key).Text(body));
}

Result<std::optional<std::string>> PgStore::GetDoc(std::string_view kind, std::string_view key) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT body FROM custos.doc WHERE kind=$1 AND key=$2",
                                        Params().Text(kind).Text(key)));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

Result<std::vector<std::pair<std::string, std::string>>> PgStore::ListDocs(std::string_view kind) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT key,body FROM custos.doc WHERE kind=$1 ORDER BY "
                                        "key COLLATE \"C\"",
                                        Params().Text(kind)));
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1));
  return out;
}

Status PgStore::PutNote(std::string_view kind, std::string_view key, std::string_view body) {
  if (in_tx_ || read_depth_ > 0) return Fail(Internal("PutNote inside a transaction"));
  // One statement, committed by itself, without the advisory lock: writers
  // of the vault never read these rows but under the lock (FoldRefusedDocs).
  return conn_->Run(
      "INSERT INTO custos.doc(kind,key,body) VALUES($1,$2,$3) ON CONFLICT (kind,key) DO NOTHING",
      Params().Text(kind).Text(key).Text(body));
}

Status PgStore::DeleteDoc(std::string_view kind, std::string_view key) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run("DELETE FROM custos.doc WHERE kind=$1 AND key=$2",
                    Params().Text(kind).Text(key));
}

Status PgStore::PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                             std::string_view body) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run(
      "INSERT INTO custos.person_doc(kind,key,person_pk,body) VALUES($1,$2,$3,$4) "
      "ON CONFLICT (kind,key,person_pk) DO UPDATE SET body=excluded.body",
      Params().Text(kind).Text(key).Int(person_pk).Text(body));
}

Result<std::optional<std::string>> PgStore::GetPersonDoc(std::string_view kind,
                                                         std::string_view key, int64_t person_pk) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT body FROM custos.person_doc WHERE kind=$1 AND "
                                        "key=$2 AND person_pk=$3",
                                        Params().Text(kind).Text(key).Int(person_pk)));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

Status PgStore::ForEachPersonDoc(std::string_view kind, std::string_view key,
                                 const std::function<Status(int64_t, std::string_view)>& visit) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT person_pk,body FROM custos.person_doc WHERE "
                                        "kind=$1 AND key=$2 ORDER BY person_pk",
                                        Params().Text(kind).Text(key)));
  for (int i = 0; i < r.size(); ++i) RETURN_IF_ERROR(visit(r.Int(i, 0), r.Text(i, 1)));
  return Ok();
}

Status PgStore::DeletePersonDocs(std::string_view kind, std::string_view key) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run("DELETE FROM custos.person_doc WHERE kind=$1 AND key=$2",
                    Params().Text(kind).Text(key));
}

Status PgStore::AppendAuditEntry(uint64_t seq, ByteSpan data) {
  RETURN_IF_ERROR(RequireTx());
  // Under the write lock nobody else appends: the size is read once.
  if (!audit_size_) {
    ASSIGN_OR_RETURN(uint64_t n, CountAuditEntries());
    audit_size_ = n;
  }
  if (seq != *audit_size_) {
    return Fail(Internal("audit entry " + std::to_string(seq) + " appended at size " +
                         std::to_string(*audit_size_)));
  }
  RETURN_IF_ERROR(conn_->Run("INSERT INTO custos.audit_entry(seq,data) VALUES($1,$2)",
                             Params().Int(static_cast<int64_t>(seq)).Blob(data)));
  ++*audit_size_;
  return Ok();
}

Result<uint64_t> PgStore::CountAuditEntries() {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT coalesce(max(seq)+1,0) FROM custos.audit_entry"));
  return static_cast<uint64_t>(r.Int(0, 0));
}

Status PgStore::ForEachAuditEntry(uint64_t from,
                                  const std::function<Status(uint64_t, ByteSpan)>& visit) {
  // In slices of entries: a log of millions is never one result.
  int64_t next = static_cast<int64_t>(from);
  for (;;) {
    ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT seq,data FROM custos.audit_entry WHERE seq "
                                          ">= $1 ORDER BY seq LIMIT 10000",
                                          Params().Int(next)));
    for (int i = 0; i < r.size(); ++i) {
      RETURN_IF_ERROR(visit(static_cast<uint64_t>(r.Int(i, 0)), r.View(i, 1)));
    }
    if (r.size() < 10000) return Ok();
    next = r.Int(r.size() - 1, 0) + 1;
  }
}

Status PgStore::PutAuditNode(uint32_t level, uint64_t index, ByteSpan hash) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r,
                   conn_->Query("INSERT INTO custos.audit_node(level,idx,hash) "
                                "VALUES($1::int8::int4,$2,$3) ON CONFLICT DO NOTHING "
                                "RETURNING idx",
                                Params().Int(level).Int(static_cast<int64_t>(index)).Blob(hash)));
  if (r.size() != 1) {
    return Fail(AlreadyExists("audit node (" + std::to_string(level) + ", " +
                              std::to_string(index) + ") exists"));
  }
  return Ok();
}

Result<std::optional<Bytes>> PgStore::GetAuditNode(uint32_t level, uint64_t index) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query("SELECT hash FROM custos.audit_node WHERE "
                                        "level=$1::int8::int4 AND idx=$2",
                                        Params().Int(level).Int(static_cast<int64_t>(index))));
  if (r.size() == 0) return std::optional<Bytes>();
  return std::optional<Bytes>(r.Blob(0, 0));
}

Status PgStore::ReplaceAuditNode(uint32_t level, uint64_t index, ByteSpan hash) {
  RETURN_IF_ERROR(RequireTx());
  return conn_->Run(
      "INSERT INTO custos.audit_node(level,idx,hash) VALUES($1::int8::int4,$2,$3) "
      "ON CONFLICT (level,idx) DO UPDATE SET hash=excluded.hash",
      Params().Int(level).Int(static_cast<int64_t>(index)).Blob(hash));
}

Result<uint64_t> PgStore::DeleteAuditNodesFrom(uint64_t size) {
  RETURN_IF_ERROR(RequireTx());
  // Node (level, idx) covers leaves [idx << level, (idx + 1) << level).
  ASSIGN_OR_RETURN(Rows r, conn_->Query("WITH gone AS (DELETE FROM custos.audit_node WHERE "
                                        "((idx + 1) << level) > $1 RETURNING 1) SELECT count(*) "
                                        "FROM gone",
                                        Params().Int(static_cast<int64_t>(size))));
  return static_cast<uint64_t>(r.Int(0, 0));
}

Status PgStore::PutCheckpoint(const CheckpointRow& row) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(
      Rows r, conn_->Query(
                  "INSERT INTO custos.audit_checkpoint(size,note,created_at) "
                  "VALUES($1,$2,$3) ON CONFLICT DO NOTHING RETURNING size",
                  Params().Int(static_cast<int64_t>(row.size)).Text(row.note).Int(row.created_at)));
  if (r.size() != 1) {
    return Fail(AlreadyExists("a checkpoint of size " + std::to_string(row.size) + " exists"));
  }
  return Ok();
}

Status PgStore::DeleteCheckpoint(uint64_t size) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(Rows r, conn_->Query("DELETE FROM custos.audit_checkpoint WHERE size=$1 "
                                        "RETURNING size",
                                        Params().Int(static_cast<int64_t>(size))));
  if (r.size() != 1) return Fail(NotFound("no checkpoint of size " + std::to_string(size)));
  return Ok();
}

Result<std::optional<CheckpointRow>> PgStore::LatestCheckpoint() {
  ASSIGN_OR_RETURN(std::vector<CheckpointRow> all,
                   Checkpoints("SELECT size,note,created_at FROM custos.audit_checkpoint "
                               "ORDER BY size DESC LIMIT 1"));
  if (all.empty()) return std::optional<CheckpointRow>();
  return std::optional<CheckpointRow>(std::move(all[0]));
}

Result<std::vector<CheckpointRow>> PgStore::ListCheckpoints() {
  return Checkpoints("SELECT size,note,created_at FROM custos.audit_checkpoint ORDER BY size");
}

Result<bool> PgStore::PurgeResidue(bool vacuum) {
  if (in_tx_ || read_depth_ > 0) return Fail(Internal("PurgeResidue inside a transaction"));
  // VACUUM keeps what another session's snapshot may still see, and does
  // not say so: a snapshot held elsewhere means the purge cannot finish.
  ASSIGN_OR_RETURN(Rows held, conn_->Query("SELECT count(*) FROM pg_stat_activity WHERE "
                                           "datname = current_database() AND pid <> "
                                           "pg_backend_pid() AND backend_xmin IS NOT NULL"));
  if (held.Int(0, 0) > 0) return false;
  const char* tables[] = {"person", "record", "blind_index", "person_doc", "doc", "dataset"};
  for (const char* t : tables) {
    RETURN_IF_ERROR(
        conn_->Exec(std::string(vacuum ? "VACUUM (FULL) custos." : "VACUUM custos.") + t));
  }
  return true;
}

Result<Store::ResidueSettings> PgStore::ReadResidueSettings() {
  ResidueSettings r;
  r.zeroes_freed_space = false;  // PostgreSQL reclaims space by VACUUM, never zeroes it
  r.journal_mode = "postgresql";
  return r;
}

Result<std::vector<CheckpointRow>> PgStore::Checkpoints(const char* sql) {
  ASSIGN_OR_RETURN(Rows r, conn_->Query(sql));
  std::vector<CheckpointRow> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({static_cast<uint64_t>(r.Int(i, 0)), r.Text(i, 1), r.Int(i, 2)});
  }
  return out;
}

}  // namespace custos::store::pg_internal
