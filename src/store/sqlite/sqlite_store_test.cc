// What only the SQLite backend promises: its file layout, its journal modes
// and its migrations.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "store/store.h"

namespace custos::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-sqlite-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "v.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs one query on a connection of its own; returns the first column of
  // the first row as text ("" if none).
  std::string Query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }

  static PersonRow Person(int64_t pk) {
    PersonRow p;
    p.pk = pk;
    p.wrapped_key = Bytes(72, 7);
    p.kek_version = 1;
    p.created_at = 1700000000;
    return p;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, NewVaultUsesWalAndLargePages) {
  auto s = CreateSqliteStore(path_);
  ASSERT_TRUE(s) << s.error().ToString();
  s->reset();
  EXPECT_EQ(Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Query("PRAGMA page_size"), "65536");
}

// The write lock's holder is named (from /proc/locks), so that a user knows
// which command to wait for. Here the holder is this very process.
TEST_F(SqliteStoreTest, ABusyVaultNamesTheProcessThatHoldsIt) {
  auto s = CreateSqliteStore(path_);
  ASSERT_TRUE(s) << s.error().ToString();
  auto other = OpenSqliteStore(path_, StoreOptions{std::chrono::milliseconds(50)});
  ASSERT_TRUE(other) << other.error().ToString();
  ASSERT_TRUE((*s)->Begin());
  auto busy = (*other)->Begin();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(busy.error().message().find("process " + std::to_string(::getpid()) + " ("),
            std::string::npos)
      << busy.error().message();
  (*s)->Rollback();
}

// A vault an earlier version left in rollback-journal mode (it left WAL
// mode for large imports) is back in WAL mode once opened.
TEST_F(SqliteStoreTest, InterruptedBulkImportIsRolledBackAndWalRestoredAtOpen) {
  {
    auto s = CreateSqliteStore(path_);
    ASSERT_TRUE(s) << s.error().ToString();
    ASSERT_TRUE((*s)->Begin());
    ASSERT_TRUE((*s)->InsertPerson(Person(1)));
    ASSERT_TRUE((*s)->Commit());
  }
  // What a killed import leaves: the vault in rollback-journal mode.
  EXPECT_EQ(Query("PRAGMA journal_mode=DELETE"), "delete");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*(*s)->CountPersons(), 1u);
  s->reset();
  EXPECT_EQ(Query("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, ForgettingAPersonLeavesNoIndexRowOfTheirs) {
  auto s = CreateSqliteStore(path_);
  ASSERT_TRUE(s) << s.error().ToString();
  Store& store = **s;
  ASSERT_TRUE(store.Begin());
  ASSERT_TRUE(store.InsertPerson(Person(1)));
  ASSERT_TRUE(store.InsertPerson(Person(2)));
  ASSERT_TRUE(store.InsertIndex(1, Bytes(16, 0xA1), 1));
  ASSERT_TRUE(store.InsertIndex(2, Bytes(16, 0xA2), 1));
  ASSERT_TRUE(store.InsertIndex(2, Bytes(16, 0xA2), 2));  // a shared mobile
  ASSERT_TRUE(store.Commit());
  // A later entry of person 1 is appended to their row, which stays a blob.
  ASSERT_TRUE(store.Begin());
  ASSERT_TRUE(store.InsertIndex(3, Bytes(16, 0xA3), 1));
  ASSERT_TRUE(store.Commit());
  EXPECT_EQ(Query("SELECT typeof(entries) || length(entries) FROM person_index WHERE person_pk=1"),
            "blob51");
  EXPECT_EQ(*store.FindByIndex(3, Bytes(16, 0xA3)), std::vector<int64_t>{1});
  ASSERT_TRUE(store.Begin());
  ASSERT_TRUE(store.DeletePerson(1));
  ASSERT_TRUE(store.Commit());
  s->reset();
  // Only person 2's mobile is left: bucket a2a2, one 25-byte entry whose
  // last 8 bytes are the person.
  EXPECT_EQ(Query("SELECT group_concat(printf('%04x:', bucket) || hex(substr(entries, 18)), ' ') "
                  "FROM mac_bucket"),
            "a2a2:0000000000000002");
  EXPECT_EQ(Query("SELECT count(*) FROM person_index WHERE person_pk=1"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM person_index WHERE person_pk=2"), "1");
}

// A bucket of the MAC index that is not whole sorted entries of its own
// prefix is reported, not misread.
TEST_F(SqliteStoreTest, DamagedIndexBucketIsDataLoss) {
  {
    auto s = CreateSqliteStore(path_);
    ASSERT_TRUE(s) << s.error().ToString();
    ASSERT_TRUE((*s)->Begin());
    ASSERT_TRUE((*s)->InsertPerson(Person(1)));
    ASSERT_TRUE((*s)->InsertIndex(1, Bytes(16, 0xA1), 1));
    ASSERT_TRUE((*s)->Commit());
  }
  for (const char* damage : {"UPDATE mac_bucket SET entries = substr(entries, 1, 24)",
                             "UPDATE mac_bucket SET bucket = 7"}) {
    Query(damage);
    auto s = OpenSqliteStore(path_);
    ASSERT_TRUE(s) << s.error().ToString();
    Result<std::vector<int64_t>> found = (*s)->FindByIndex(1, Bytes(16, 0xA1));
    if (std::string(damage).find("bucket = 7") != std::string::npos) {
      // Moved to another bucket: not found where it belongs, and a full
      // scan finds it out of place.
      ASSERT_TRUE(found);
      EXPECT_TRUE(found->empty());
    } else {
      ASSERT_FALSE(found);
      EXPECT_EQ(found.error().code(), ErrorCode::kDataLoss);
    }
    Status scan = (*s)->ForEachIndexEntry(1, [](ByteSpan, int64_t) { return Ok(); });
    ASSERT_FALSE(scan);
    EXPECT_EQ(scan.error().code(), ErrorCode::kDataLoss);
  }
}

// A vault written by schema version 1 (one index table with a secondary
// index by person) opens, and its entries move into person_index and
// mac_bucket (versions 2 and 3).
TEST_F(SqliteStoreTest, MigratesSchemaVersion1) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE person (pk INTEGER PRIMARY KEY, wrapped_key BLOB NOT NULL,
  kek_version INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE dataset (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  schema_json TEXT NOT NULL, source_sha256 TEXT NOT NULL, source_format TEXT NOT NULL,
  imported_at INTEGER NOT NULL, rows INTEGER NOT NULL, people INTEGER NOT NULL);
CREATE TABLE record (id INTEGER PRIMARY KEY, dataset INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE blind_index (kind INTEGER NOT NULL, mac BLOB NOT NULL, person_pk INTEGER NOT NULL,
  PRIMARY KEY (kind, mac, person_pk)) WITHOUT ROWID;
CREATE INDEX blind_index_by_person ON blind_index(person_pk);
CREATE TABLE doc (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE person_doc (kind TEXT NOT NULL, key TEXT NOT NULL, person_pk INTEGER NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (kind, key, person_pk)) WITHOUT ROWID;
CREATE INDEX person_doc_by_person ON person_doc(person_pk);
CREATE TABLE audit_entry (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE audit_node (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE audit_checkpoint (size INTEGER PRIMARY KEY, note TEXT NOT NULL,
  created_at INTEGER NOT NULL);
INSERT INTO person VALUES (5, x'00', 1, 0), (6, x'00', 1, 0);
INSERT INTO blind_index VALUES (1, x'0102030405060708090a0b0c0d0e0f10', 5),
  (2, x'1112131415161718191a1b1c1d1e1f20', 5), (2, x'1112131415161718191a1b1c1d1e1f20', 6);
PRAGMA user_version=1;
)sql";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s) << s.error().ToString();
  Bytes mobile = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                  0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
  EXPECT_EQ(*(*s)->FindByIndex(2, mobile), (std::vector<int64_t>{5, 6}));
  ASSERT_TRUE((*s)->Begin());
  ASSERT_TRUE((*s)->DeletePerson(5));
  ASSERT_TRUE((*s)->Commit());
  EXPECT_EQ(*(*s)->FindByIndex(2, mobile), std::vector<int64_t>{6});
  s->reset();
  EXPECT_EQ(Query("PRAGMA user_version"), "3");
  EXPECT_EQ(Query("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'blind_index%'"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM person_index"), "1");
  EXPECT_EQ(Query("SELECT printf('%04x:', bucket) || hex(entries) FROM mac_bucket"),
            "1112:1112131415161718191A1B1C1D1E1F20020000000000000006");
}

}  // namespace
}  // namespace custos::store
