// SQLite backend of the Store interface.
//
// One file per vault, WAL journal, secure_delete on (freed content is zeroed,
// so deleted ciphertext and wrapped keys do not linger in free pages), and a
// schema versioned by PRAGMA user_version with forward-only migrations.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/sqlite/sqlite_store_internal.h"
#include "store/store.h"

namespace custos::store {
namespace {

constexpr int kSchemaVersion = 3;

// Forward-only migrations: kMigrations[i] takes the schema from version i to i+1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE person (
  pk          INTEGER PRIMARY KEY,
  wrapped_key BLOB NOT NULL,
  kek_version INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE dataset (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  schema_json   TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  source_format TEXT NOT NULL,
  imported_at   INTEGER NOT NULL,
  rows          INTEGER NOT NULL,
  people        INTEGER NOT NULL
);
CREATE TABLE record (
  id        INTEGER PRIMARY KEY,  -- (person pk << 24) | n
  dataset   INTEGER NOT NULL,
  body      BLOB NOT NULL
);
CREATE TABLE blind_index (
  kind      INTEGER NOT NULL,
  mac       BLOB NOT NULL,
  person_pk INTEGER NOT NULL,
  PRIMARY KEY (kind, mac, person_pk)
) WITHOUT ROWID;
CREATE INDEX blind_index_by_person ON blind_index(person_pk);
CREATE TABLE doc (
  kind TEXT NOT NULL,
  key  TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE person_doc (
  kind      TEXT NOT NULL,
  key       TEXT NOT NULL,
  person_pk INTEGER NOT NULL,
  body      TEXT NOT NULL,
  PRIMARY KEY (kind, key, person_pk)
) WITHOUT ROWID;
CREATE INDEX person_doc_by_person ON person_doc(person_pk);
CREATE TABLE audit_entry (
  seq  INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE audit_node (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE audit_checkpoint (
  size       INTEGER PRIMARY KEY,
  note       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql",
    // v2: a person's index entries as one row of their own instead of a
    // secondary index, so that an import writes the MAC tree in MAC order
    // and the person rows in person order (see SqliteStore::InsertIndex).
    // entries = (kind(1) || mac(16))*; filled from blind_index by
    // FillPersonIndex.
    R"sql(
CREATE TABLE person_index (
  person_pk INTEGER PRIMARY KEY,
  entries   BLOB NOT NULL
);
DROP INDEX blind_index_by_person;
)sql",
    // v3: the MAC tree as buckets (by the MAC's first two bytes), each one
    // blob of sorted entries, instead of a B-tree row per entry. An import's
    // million entries were as many INSERT steps at commit, most of its
    // serial work; now they are tens of thousands of blobs. entries =
    // (mac(16) || kind(1) || person_pk(8, big-endian))*, in byte order, no
    // duplicates; filled from blind_index by FillMacBuckets, which drops it.
    R"sql(
CREATE TABLE mac_bucket (
  bucket  INTEGER PRIMARY KEY,
  entries BLOB NOT NULL
);
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

}  // namespace

namespace sqlite_internal {

Status SqliteStore::Configure() {
  // First: preparing the pragmas below reads the schema, which can meet
  // another connection's lock for a moment (a WAL being checkpointed or
  // removed as its last connection closes); without a busy handler that
  // moment was an error ("database is locked") for a mere reader.
  SetBusyTimeout(lock_wait_);
  // secure_delete: deleted content is overwritten with zeros.
  // synchronous=FULL: a committed transaction survives power loss.
  // temp_store=MEMORY: no temporary files beside the vault.
  const std::string pragmas =
      "PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
      "PRAGMA cache_size=-16384; PRAGMA mmap_size=" +
      std::to_string(mmap_bytes_) + ";";
  return Exec(pragmas.c_str());
}

Result<std::string> SqliteStore::JournalMode(const char* pragma) {
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, pragma, -1, &raw, nullptr)));
  Stmt s(raw);
  int rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return Fail(StorageError(rc));
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  return std::string(text == nullptr ? "" : text);
}

Status SqliteStore::CheckSchema() {
  ASSIGN_OR_RETURN(int version, UserVersion());
  if (version == 0) return Fail(DataLoss(path_ + " is not a Custos vault"));
  RETURN_IF_ERROR(CheckSchemaNotNewer(path_, version, kSchemaVersion));
  versions_ = {version, version};
  if (version < kSchemaVersion) RETURN_IF_ERROR(Migrate());
  versions_.now = kSchemaVersion;
  return Ok();
}

Status SqliteStore::Commit() {
  if (!in_tx_) return Fail(Internal("no open transaction"));
  Status st = FlushIndex();
  if (st) st = ExecCached("COMMIT");
  ReleasePendingIndex();
  if (!st) {
    Rollback();
    return st;
  }
  in_tx_ = false;
  return Ok();
}

void SqliteStore::Rollback() {
  ForgetRecordHints();
  ReleasePendingIndex();
  if (!in_tx_) return;
  (void)Exec("ROLLBACK");
  in_tx_ = false;
  tx_audit_size_.reset();
}

Result<std::optional<Bytes>> SqliteStore::GetMeta(std::string_view key) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT value FROM meta WHERE key=?"));
  BindText(s, 1, key);
  ASSIGN_OR_RETURN(bool row, Step(s));
  if (!row) return std::optional<Bytes>();
  Bytes value = ColumnBlob(s, 0);
  sqlite3_reset(s);  // an open read cursor would block checkpoints
  return std::optional<Bytes>(std::move(value));
}

Status SqliteStore::PutMeta(std::string_view key, ByteSpan value) {
  RETURN_IF_ERROR(RequireTx());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO meta(key,value) VALUES(?,?) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value"));
  BindText(s, 1, key);
  BindBlob(s, 2, value);
  return StepDone(s);
}

std::string SqliteStore::WriteLockHolder(const std::string& path) {
  struct stat shm {};
  if (::stat((path + "-shm").c_str(), &shm) != 0) return "";
  FILE* f = std::fopen("/proc/locks", "re");
  if (f == nullptr) return "";
  long pid = 0;
  char line[256];
  while (pid == 0 && std::fgets(line, sizeof line, f) != nullptr) {
    // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 120 120"
    char cls[16], mode[16], access[16];
    long owner = 0;
    unsigned maj = 0, min = 0;
    unsigned long long ino = 0;
    char start[24], end[24];
    if (std::sscanf(line, "%*[^:]: %15s %15s %15s %ld %x:%x:%llu %23s %23s", cls, mode, access,
                    &owner, &maj, &min, &ino, start, end) != 9) {
      continue;
    }
    if (std::strcmp(cls, "POSIX") != 0 || std::strcmp(access, "WRITE") != 0) continue;
    if (ino != shm.st_ino || maj != major(shm.st_dev) || min != minor(shm.st_dev)) continue;
    const long long first = std::atoll(start);
    const long long last = std::strcmp(end, "EOF") == 0 ? INT64_MAX : std::atoll(end);
    if (first <= 120 && 120 <= last && owner > 0) pid = owner;
  }
  std::fclose(f);
  if (pid == 0) return "";
  return "process " + std::to_string(pid) + DescribeProcess(pid);
}

std::string SqliteStore::DescribeProcess(long pid) {
  std::string cmdline;
  if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), "re")) {
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    cmdline.assign(buf, n);
  }
  std::vector<std::string> words;
  for (size_t pos = 0; pos < cmdline.size() && words.size() < 4;) {
    size_t nul = cmdline.find('\0', pos);
    if (nul == std::string::npos) nul = cmdline.size();
    words.push_back(cmdline.substr(pos, nul - pos));
    pos = nul + 1;
  }
  if (words.empty()) return "";
  std::string out = words[0].substr(words[0].rfind('/') + 1);
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    const bool word = !w.empty() && w.size() <= 20 && std::all_of(w.begin(), w.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '-';
    }) && w[0] != '-';
    if (!word) break;
    out += " " + w;
  }
  return " (" + out + ")";
}

Error SqliteStore::StorageError(int rc) const {
  std::string msg = path_ + ": " + sqlite3_errstr(rc);
  const char* detail = sqlite3_errmsg(db_);
  if (detail && std::strcmp(detail, sqlite3_errstr(rc)) != 0)
    msg += std::string(" (") + detail + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(msg + ": the vault is in use by another process");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(msg);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Unavailable(msg);
    case SQLITE_CONSTRAINT:
      return AlreadyExists(msg);
    default:
      return Internal(msg);
  }
}

Result<sqlite3_stmt*> SqliteStore::Prepare(const char* sql) {
  auto it = stmts_.find(sql);
  if (it == stmts_.end()) {
    sqlite3_stmt* raw = nullptr;
    RETURN_IF_ERROR(
        Check(sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr)));
    it = stmts_.emplace(sql, Stmt(raw)).first;
  }
  sqlite3_stmt* s = it->second.get();
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

Result<int64_t> SqliteStore::QueryInt64(const char* sql) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, Step(s));
  if (!row) return int64_t{0};
  const int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return v;
}

PersonRow SqliteStore::PersonFrom(sqlite3_stmt* s) {
  PersonRow p;
  p.pk = sqlite3_column_int64(s, 0);
  p.wrapped_key = ColumnBlob(s, 1);
  p.kek_version = static_cast<uint32_t>(sqlite3_column_int64(s, 2));
  p.created_at = sqlite3_column_int64(s, 3);
  return p;
}

Result<int> SqliteStore::UserVersion() {
  sqlite3_stmt* raw = nullptr;
  RETURN_IF_ERROR(Check(sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &raw, nullptr)));
  Stmt s(raw);
  int rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return Fail(StorageError(rc));
  return sqlite3_column_int(raw, 0);
}

Status SqliteStore::Migrate() {
  for (;;) {
    RETURN_IF_ERROR(Begin());
    // Read under the write lock: another process may have migrated.
    Result<int> current = UserVersion();
    if (!current) {
      Rollback();
      return Fail(current.error());
    }
    const int version = *current;
    if (version >= kSchemaVersion) {
      Rollback();
      return Ok();
    }
    Status st = Exec(kMigrations[version]);
    if (st && version + 1 == 2) st = FillPersonIndex();
    if (st && version + 1 == 3) st = FillMacBuckets();
    if (st) {
      std::string pragma = "PRAGMA user_version=" + std::to_string(version + 1);
      st = Exec(pragma.c_str());
    }
    if (!st) {
      Rollback();
      return st;
    }
    RETURN_IF_ERROR(Commit());
  }
}

Status SqliteStore::BeginWrite(std::chrono::milliseconds wait) {
  if (in_tx_ || read_depth_ > 0) return Fail(Internal("transaction already open"));
  ForgetRecordHints();
  if (wait != lock_wait_) SetBusyTimeout(wait);
  const auto started = std::chrono::steady_clock::now();
  int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (wait != lock_wait_) SetBusyTimeout(lock_wait_);
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) != SQLITE_BUSY) return Fail(StorageError(rc));
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return Fail(Busy(waited));
  }
  in_tx_ = true;
  tx_audit_size_.reset();
  return Ok();
}

Error SqliteStore::Busy(std::chrono::milliseconds waited) const {
  std::string holder = WriteLockHolder(path_);
  std::string msg = "the vault " + path_ +
                    " is busy: " + (holder.empty() ? std::string("another process") : holder) +
                    " is writing to it";
  if (waited.count() >= 1000) {
    msg += "; gave up after waiting " + std::to_string(waited.count() / 1000) +
           " s (--wait SECONDS to wait longer)";
  }
  return Unavailable(msg);
}

}  // namespace sqlite_internal

namespace {

using sqlite_internal::SqliteStore;

Result<sqlite3*> OpenDb(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": " + sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Fail(Unavailable("cannot open vault " + msg));
  }
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace

Result<std::unique_ptr<Store>> CreateSqliteStore(const std::string& path,
                                                 const StoreOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Fail(AlreadyExists("vault file already exists: " + path));
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  auto store = std::make_unique<SqliteStore>(db, path, options);
  ::chmod(path.c_str(), 0600);
  RETURN_IF_ERROR(store->Configure());
  RETURN_IF_ERROR(store->Initialize());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail(NotFound("no vault at " + path));
  if (!S_ISREG(st.st_mode)) {
    return Fail(InvalidArgument(path + " is not a file; a vault is one SQLite file"));
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenDb(path, SQLITE_OPEN_READWRITE));
  auto store = std::make_unique<SqliteStore>(db, path, options);
  RETURN_IF_ERROR(store->Configure());
  RETURN_IF_ERROR(store->CheckSchema());
  store->RestoreWal();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace custos::store
