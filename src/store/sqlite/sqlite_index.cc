// The SQLite store: blind-index entries gathered in a transaction and
// written in bulk at commit (mac_bucket by MAC, person_index by person).
#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store_internal.h"

namespace custos::store::sqlite_internal {

SqliteStore::MultiRowInsert SqliteStore::MakeInsert(std::string_view head, std::string_view row,
                                                    std::string_view tail) {
  MultiRowInsert sql{std::string(head), std::string(head)};
  for (size_t i = 0; i < kIndexRowsPerInsert; ++i) {
    if (i > 0) sql.many += ',';
    sql.many += row;
  }
  sql.many += tail;
  sql.one.append(row).append(tail);
  return sql;
}

Status SqliteStore::CheckBucket(int64_t bucket, ByteSpan entries) {
  auto damaged = [&] {
    return Fail(DataLoss("blind-index bucket " + std::to_string(bucket) + " is damaged"));
  };
  if (entries.size() % kBucketEntrySize != 0) return damaged();
  for (size_t at = 0; at < entries.size(); at += kBucketEntrySize) {
    const uint8_t* e = entries.data() + at;
    if ((int64_t{e[0]} << 8 | e[1]) != bucket) return damaged();
    if (at > 0 && std::memcmp(e - kBucketEntrySize, e, kBucketEntrySize) >= 0) return damaged();
  }
  return Ok();
}

Result<Bytes> SqliteStore::ReadBucket(int64_t bucket) {
  ASSIGN_OR_RETURN(sqlite3_stmt * q, Prepare("SELECT entries FROM mac_bucket WHERE bucket=?"));
  sqlite3_bind_int64(q, 1, bucket);
  ASSIGN_OR_RETURN(bool row, Step(q));
  Bytes entries = row ? ColumnBlob(q, 0) : Bytes();
  sqlite3_reset(q);
  RETURN_IF_ERROR(CheckBucket(bucket, entries));
  return entries;
}

Status SqliteStore::PutBucket(int64_t bucket, ByteSpan entries) {
  if (entries.empty()) {
    ASSIGN_OR_RETURN(sqlite3_stmt * d, Prepare("DELETE FROM mac_bucket WHERE bucket=?"));
    sqlite3_bind_int64(d, 1, bucket);
    return StepDone(d);
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT OR REPLACE INTO mac_bucket(bucket,entries) VALUES(?,?)"));
  sqlite3_bind_int64(s, 1, bucket);
  BindBlob(s, 2, entries);
  return StepDone(s);
}

Status SqliteStore::RemoveMacEntries(std::vector<PendingIndex>& removals) {
  std::sort(removals.begin(), removals.end(), ByMac);
  Bytes entries, kept;
  uint8_t key[kBucketEntrySize];
  for (size_t i = 0; i < removals.size();) {
    const int64_t bucket = BucketOf(removals[i]);
    ASSIGN_OR_RETURN(entries, ReadBucket(bucket));
    kept.clear();
    // Both in byte order: one pass.
    size_t at = 0;
    for (; i < removals.size() && BucketOf(removals[i]) == bucket; ++i) {
      EncodeBucketEntry(removals[i], key);
      for (; at < entries.size(); at += kBucketEntrySize) {
        const int c = std::memcmp(entries.data() + at, key, kBucketEntrySize);
        if (c >= 0) {
          if (c == 0) at += kBucketEntrySize;
          break;
        }
        kept.insert(kept.end(), entries.data() + at, entries.data() + at + kBucketEntrySize);
      }
    }
    kept.insert(kept.end(), entries.begin() + static_cast<ptrdiff_t>(at), entries.end());
    if (kept.size() != entries.size()) RETURN_IF_ERROR(PutBucket(bucket, kept));
  }
  removals.clear();
  return Ok();
}

Status SqliteStore::WriteMacEntries(std::vector<PendingIndex>& pending) {
  static const MultiRowInsert kSql =
      MakeInsert("INSERT OR REPLACE INTO mac_bucket(bucket,entries) VALUES", "(?,?)", "");
  const auto less = [](const PendingIndex& x, const PendingIndex& y) { return ByMac(x, y); };
  const auto mid = pending.begin() + static_cast<ptrdiff_t>(pending.size() / 2);
  if (pending.size() >= kParallelSortMin) {
    std::thread half([&] { std::sort(pending.begin(), mid, less); });
    std::sort(mid, pending.end(), less);
    half.join();
  } else {
    std::sort(pending.begin(), mid, less);
    std::sort(mid, pending.end(), less);
  }
  bool had_buckets = false;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * q, Prepare("SELECT EXISTS(SELECT 1 FROM mac_bucket)"));
    ASSIGN_OR_RETURN(bool row, Step(q));
    had_buckets = row && sqlite3_column_int(q, 0) != 0;
    sqlite3_reset(q);
  }
  // The buckets of one statement: their entries, one after another.
  struct Span {
    int64_t bucket;
    size_t at, size;
  };
  std::vector<Span> spans;
  spans.reserve(kIndexRowsPerInsert);
  Bytes blobs, fresh, old;
  auto write = [&]() -> Status {
    RETURN_IF_ERROR(InsertRows(kSql, spans.size(), [&](sqlite3_stmt* s, int j, size_t i) {
      sqlite3_bind_int64(s, 2 * j + 1, spans[i].bucket);
      sqlite3_bind_blob(s, 2 * j + 2, blobs.data() + spans[i].at, static_cast<int>(spans[i].size),
                        SQLITE_STATIC);
    }));
    spans.clear();
    blobs.clear();
    return Ok();
  };
  // Closes the bucket whose new entries are in `fresh`: merged with what
  // it held (duplicates once), appended to `blobs`.
  int64_t bucket = -1;
  auto close_bucket = [&]() -> Status {
    if (bucket < 0) return Ok();
    const size_t start = blobs.size();
    if (had_buckets) {
      ASSIGN_OR_RETURN(old, ReadBucket(bucket));
    }
    size_t i = 0, j = 0;
    while (i < old.size() || j < fresh.size()) {
      const int c = i == old.size() ? 1
                    : j == fresh.size()
                        ? -1
                        : std::memcmp(old.data() + i, fresh.data() + j, kBucketEntrySize);
      const uint8_t* e = c <= 0 ? old.data() + i : fresh.data() + j;
      blobs.insert(blobs.end(), e, e + kBucketEntrySize);
      if (c <= 0) i += kBucketEntrySize;
      if (c >= 0) j += kBucketEntrySize;
    }
    spans.push_back({bucket, start, blobs.size() - start});
    fresh.clear();
    old.clear();
    if (spans.size() == kIndexRowsPerInsert) return write();
    return Ok();
  };
  auto a = pending.begin(), b = mid;
  const PendingIndex* last = nullptr;
  while (a != mid || b != pending.end()) {
    const bool take_a = b == pending.end() || (a != mid && !less(*b, *a));
    const PendingIndex& e = take_a ? *a++ : *b++;
    if (last != nullptr && SameEntry(*last, e)) continue;
    last = &e;
    if (BucketOf(e) != bucket) {
      RETURN_IF_ERROR(close_bucket());
      bucket = BucketOf(e);
    }
    fresh.resize(fresh.size() + kBucketEntrySize);
    EncodeBucketEntry(e, fresh.data() + fresh.size() - kBucketEntrySize);
  }
  RETURN_IF_ERROR(close_bucket());
  RETURN_IF_ERROR(write());
  pending.clear();
  return Ok();
}

Status SqliteStore::ForEachPersonEntry(ByteSpan entries,
                                       const std::function<Status(uint8_t, ByteSpan)>& visit) {
  if (entries.size() % kPersonEntrySize != 0) {
    return Fail(DataLoss("a person's index entries are damaged"));
  }
  for (size_t at = 0; at < entries.size(); at += kPersonEntrySize) {
    RETURN_IF_ERROR(visit(entries[at], entries.subspan(at + 1, kIndexMacSize)));
  }
  return Ok();
}

Status SqliteStore::ForEachPersonIndexRow(const char* sql,
                                          const std::function<Status(int64_t, ByteSpan)>& visit) {
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr)));
  Stmt q(raw);
  for (;;) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) return Ok();
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
    const size_t n = p == nullptr ? 0 : static_cast<size_t>(sqlite3_column_bytes(raw, 1));
    RETURN_IF_ERROR(visit(sqlite3_column_int64(raw, 0), ByteSpan(p, n)));
  }
}

Status SqliteStore::WritePersonEntries(std::vector<PendingIndex>& pending) {
  std::sort(pending.begin(), pending.end(),
            [](const PendingIndex& a, const PendingIndex& b) { return ByPerson(a, b); });
  pending.erase(std::unique(pending.begin(), pending.end(), SameEntry), pending.end());
  static const MultiRowInsert kSql =
      MakeInsert("INSERT INTO person_index(person_pk,entries) VALUES", "(?,?)",
                 " ON CONFLICT(person_pk) DO UPDATE SET"
                 // || yields text: keep the column a blob.
                 " entries = CAST(entries || excluded.entries AS BLOB)");
  struct Group {
    int64_t pk;
    size_t offset, size;
  };
  Bytes blob;
  blob.reserve(pending.size() * kPersonEntrySize);
  std::vector<Group> groups;
  for (const PendingIndex& e : pending) {
    if (groups.empty() || groups.back().pk != e.person_pk) {
      groups.push_back({e.person_pk, blob.size(), 0});
    }
    blob.push_back(e.kind);
    blob.insert(blob.end(), e.mac, e.mac + kIndexMacSize);
    groups.back().size += kPersonEntrySize;
  }
  RETURN_IF_ERROR(InsertRows(kSql, groups.size(), [&](sqlite3_stmt* s, int j, size_t i) {
    sqlite3_bind_int64(s, 2 * j + 1, groups[i].pk);
    sqlite3_bind_blob(s, 2 * j + 2, blob.data() + groups[i].offset,
                      static_cast<int>(groups[i].size), SQLITE_STATIC);
  }));
  pending.clear();
  return Ok();
}

Result<std::vector<SqliteStore::PendingIndex>> SqliteStore::ReadBlindIndexTable() {
  std::vector<PendingIndex> all;
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(
      sqlite3_prepare_v2(db_, "SELECT kind, mac, person_pk FROM blind_index", -1, &raw, nullptr)));
  Stmt q(raw);
  for (;;) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) return all;
    if (rc != SQLITE_ROW) return Fail(StorageError(rc));
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 1));
    if (p == nullptr || sqlite3_column_bytes(raw, 1) != static_cast<int>(kIndexMacSize)) {
      return Fail(DataLoss("a blind-index entry is damaged"));
    }
    all.push_back(Entry(static_cast<uint8_t>(sqlite3_column_int(raw, 0)),
                        ByteSpan(p, kIndexMacSize), sqlite3_column_int64(raw, 2)));
  }
}

}  // namespace custos::store::sqlite_internal
