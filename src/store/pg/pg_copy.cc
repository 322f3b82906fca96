// The PostgreSQL store: every row as it is, for copying a whole store
// (store::CopyStore), read through a cursor so that no table is held whole.
#include <string>

#include "store/pg/pg_store_internal.h"

namespace custos::store::pg_internal {

Status PgStore::ForEachRow(const char* sql, const Params& params,
                           const std::function<Status(const Rows&, int)>& visit) {
  // A cursor lives in a transaction: a read snapshot of its own when the
  // caller has none.
  const bool own = !in_tx_ && read_depth_ == 0;
  if (own) RETURN_IF_ERROR(BeginRead());
  const std::string name = "custos_rows_" + std::to_string(++cursors_);
  Status st = conn_->Run(("DECLARE " + name + " NO SCROLL CURSOR FOR " + sql).c_str(), params);
  const std::string fetch = "FETCH 5000 FROM " + name;
  while (st) {
    auto rows = conn_->Query(fetch.c_str());
    if (!rows) {
      st = Fail(rows.error());
      break;
    }
    if (rows->size() == 0) break;
    for (int i = 0; i < rows->size() && st; ++i) st = visit(*rows, i);
  }
  if (st) st = conn_->Exec("CLOSE " + name);
  if (own) EndRead();
  return st;
}

Status PgStore::ForEachMeta(const std::function<Status(std::string_view, ByteSpan)>& visit) {
  return ForEachRow("SELECT key,value FROM custos.meta ORDER BY key COLLATE \"C\"", Params(),
                    [&](const Rows& r, int i) { return visit(r.Text(i, 0), r.View(i, 1)); });
}

Status PgStore::ForEachIndexEntryOfEveryKind(
    const std::function<Status(uint8_t, ByteSpan, int64_t)>& visit) {
  RETURN_IF_ERROR(Flush());
  return ForEachRow("SELECT kind,mac,person_pk FROM custos.blind_index ORDER BY kind,mac,person_pk",
                    Params(), [&](const Rows& r, int i) {
                      return visit(static_cast<uint8_t>(r.Int(i, 0)), r.View(i, 1), r.Int(i, 2));
                    });
}

Status PgStore::ForEachDoc(
    const std::function<Status(std::string_view, std::string_view, std::string_view)>& visit) {
  return ForEachRow(
      "SELECT kind,key,body FROM custos.doc ORDER BY kind COLLATE \"C\", key COLLATE \"C\"",
      Params(),
      [&](const Rows& r, int i) { return visit(r.Text(i, 0), r.Text(i, 1), r.Text(i, 2)); });
}

Status PgStore::ForEachPersonDocOfEveryKind(
    const std::function<Status(std::string_view, std::string_view, int64_t, std::string_view)>&
        visit) {
  return ForEachRow(
      "SELECT kind,key,person_pk,body FROM custos.person_doc ORDER BY kind COLLATE \"C\", key "
      "COLLATE \"C\", person_pk",
      Params(), [&](const Rows& r, int i) {
        return visit(r.Text(i, 0), r.Text(i, 1), r.Int(i, 2), r.Text(i, 3));
      });
}

Status PgStore::ForEachAuditNode(const std::function<Status(uint32_t, uint64_t, ByteSpan)>& visit) {
  return ForEachRow("SELECT level,idx,hash FROM custos.audit_node ORDER BY level,idx", Params(),
                    [&](const Rows& r, int i) {
                      return visit(static_cast<uint32_t>(r.Int(i, 0)),
                                   static_cast<uint64_t>(r.Int(i, 1)), r.View(i, 2));
                    });
}

}  // namespace custos::store::pg_internal
