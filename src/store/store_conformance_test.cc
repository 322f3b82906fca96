// The conformance suite every Store backend passes. Add a backend by adding
// a factory to kBackends.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "store/pg_test_cluster.h"
#include "store/store.h"

namespace custos::store {
namespace {

struct Backend {
  const char* name;
  // A store named by `path`: the file itself, or a database of its own.
  Result<std::unique_ptr<Store>> (*create)(const std::string& path, const StoreOptions&);
  Result<std::unique_ptr<Store>> (*open)(const std::string& path, const StoreOptions&);
  // Leaves at `path` something that is not a vault but looks like one.
  void (*make_garbage)(const std::string& path);
  // Whether the backend can run here (PostgreSQL: a test cluster).
  bool (*available)();
};

void JunkFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 4096; ++i) std::fputc(i * 7, f);
  std::fclose(f);
}

using custos::testing::PgAdminUri;
using custos::testing::PgDatabase;
using custos::testing::PgDatabaseFor;
using custos::testing::PgUri;

Result<std::unique_ptr<Store>> CreatePg(const std::string& path, const StoreOptions& o) {
  PgDatabase(path);
  return CreatePgStore(PgUri("custos_vault", PgDatabaseFor(path)), o);
}
Result<std::unique_ptr<Store>> OpenPg(const std::string& path, const StoreOptions& o) {
  return OpenPgStore(PgUri("custos_vault", PgDatabaseFor(path)), o);
}
void PgGarbage(const std::string& path) {
  PgDatabase(path);
  PGconn* c = PQconnectdb(PgUri("custos_vault", PgDatabaseFor(path)).c_str());
  PQclear(PQexec(c, "CREATE SCHEMA custos; CREATE TABLE custos.stuff (x int)"));
  PQfinish(c);
}

const Backend kBackends[] = {
    {"sqlite", &CreateSqliteStore, &OpenSqliteStore, &JunkFile, [] { return true; }},
    {"postgresql", &CreatePg, &OpenPg, &PgGarbage, [] { return !PgAdminUri().empty(); }},
};

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!GetParam().available()) {
      GTEST_SKIP() << GetParam().name
                   << ": no test cluster (ctest starts one: tests/pg_cluster.sh, "
                      "CUSTOS_TEST_PG_URI_FILE)";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "v.db").string();
    auto s = GetParam().create(path_, {});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static DatasetRow NewDataset(const std::string& name) {
    DatasetRow d;
    d.name = name;
    d.schema_json = "[]";
    return d;
  }
  PersonRow NewPerson(uint8_t tag) {
    PersonRow p;
    p.pk = tag;
    p.wrapped_key = Bytes(72, static_cast<uint8_t>(tag + 1));
    p.kek_version = 1;
    p.created_at = 1700000000;
    return p;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, CreateFailsWhenFileExists) {
  auto again = GetParam().create(path_, {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_P(StoreConformance, OpenMissingIsNotFound) {
  auto s = GetParam().open((dir_ / "missing.db").string(), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, OpenGarbageIsDataLoss) {
  std::string junk = (dir_ / "junk.db").string();
  GetParam().make_garbage(junk);
  auto s = GetParam().open(junk, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss);
}

TEST_P(StoreConformance, WritesNeedATransaction) {
  PersonRow p = NewPerson(1);
  auto st = store_->InsertPerson(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInternal);
}

TEST_P(StoreConformance, MetaRoundTripAndOverwrite) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->PutMeta("k", Bytes{1, 2, 3}));
  ASSERT_TRUE(store_->PutMeta("k", Bytes{4}));
  ASSERT_TRUE(store_->PutMeta("empty", Bytes{}));
  ASSERT_TRUE(store_->Commit());
  auto v = store_->GetMeta("k");
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, Bytes{4});
  auto e = store_->GetMeta("empty");
  ASSERT_TRUE(e && *e);
  EXPECT_TRUE((*e)->empty());
  auto missing = store_->GetMeta("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(StoreConformance, RollbackDiscardsEverything) {
  ASSERT_TRUE(store_->Begin());
  PersonRow p = NewPerson(1);
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->PutMeta("k", Bytes{1}));
  store_->Rollback();
  EXPECT_EQ(*store_->CountPersons(), 0u);
  EXPECT_FALSE(*store_->GetMeta("k"));
}

TEST_P(StoreConformance, PersonsRecordsIndexAndDelete) {
  ASSERT_TRUE(store_->Begin());
  PersonRow a = NewPerson(1), b = NewPerson(2);
  ASSERT_TRUE(store_->InsertPerson(a));
  ASSERT_TRUE(store_->InsertPerson(b));
  EXPECT_NE(a.pk, b.pk);
  PersonRow dup = NewPerson(1);
  auto st = store_->InsertPerson(dup);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);

  DatasetRow d = NewDataset("crm");
  ASSERT_TRUE(store_->InsertDataset(d));
  DatasetRow d2 = d;
  auto again = store_->InsertDataset(d2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  auto r1 = store_->InsertRecord(a.pk, d.id, Bytes{9, 9});
  auto r2 = store_->InsertRecord(a.pk, d.id, Bytes{8});
  auto r3 = store_->InsertRecord(b.pk, d.id, Bytes{7});
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(*r1, a.pk << kRecordShift);
  EXPECT_EQ(*r2, (a.pk << kRecordShift) + 1);
  EXPECT_EQ(*r3, b.pk << kRecordShift);
  Bytes mac(16, 0xAB);
  ASSERT_TRUE(store_->InsertIndex(1, mac, a.pk));
  ASSERT_TRUE(store_->InsertIndex(1, mac, a.pk));  // duplicate ignored
  ASSERT_TRUE(store_->InsertIndex(2, mac, b.pk));
  ASSERT_TRUE(store_->UpdateDatasetCounts(d.id, 3, 2));
  ASSERT_TRUE(store_->UpdateDatasetSource(d.id, std::string(64, 'e')));
  auto no_such = store_->UpdateDatasetSource(d.id + 1, std::string(64, 'e'));
  ASSERT_FALSE(no_such);
  EXPECT_EQ(no_such.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());

  auto recs = store_->RecordsOf(a.pk);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].body, (Bytes{9, 9}));
  auto found = store_->FindByIndex(1, mac);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, std::vector<int64_t>{a.pk});
  int entries = 0;
  ASSERT_TRUE(store_->ForEachIndexEntry(1, [&](ByteSpan m, int64_t pk) -> Status {
    EXPECT_EQ(Bytes(m.begin(), m.end()), mac);
    EXPECT_EQ(pk, a.pk);
    ++entries;
    return Ok();
  }));
  EXPECT_EQ(entries, 1);
  auto ds = store_->ListDatasets();
  ASSERT_TRUE(ds);
  ASSERT_EQ(ds->size(), 1u);
  EXPECT_EQ((*ds)[0].rows, 3u);
  EXPECT_EQ((*ds)[0].people, 2u);
  EXPECT_EQ((*ds)[0].source_sha256, std::string(64, 'e'));

  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(a.pk));
  auto gone = store_->DeletePerson(a.pk);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());
  EXPECT_TRUE(store_->RecordsOf(a.pk)->empty());
  EXPECT_TRUE(store_->FindByIndex(1, mac)->empty());
  EXPECT_FALSE(*store_->GetPerson(a.pk));
  EXPECT_TRUE(*store_->GetPerson(b.pk));
  EXPECT_EQ(store_->RecordsOf(b.pk)->size(), 1u);
  EXPECT_EQ(*store_->CountPersons(), 1u);
}

// Regression: a new person's second record, written after a record of an
// older person, got the new person's first record id (UNIQUE failure on a
// 20,000-row import whose duplicate rows interleave).
// Persons with records of a dataset: each once, ascending, whatever the
// order their records came in; another dataset's only its own.
TEST_P(StoreConformance, ListPersonPksInDataset) {
  ASSERT_TRUE(store_->Begin());
  PersonRow a = NewPerson(1), b = NewPerson(2), c = NewPerson(3);
  ASSERT_TRUE(store_->InsertPerson(a));
  ASSERT_TRUE(store_->InsertPerson(b));
  ASSERT_TRUE(store_->InsertPerson(c));
  DatasetRow crm = NewDataset("crm"), other = NewDataset("other");
  ASSERT_TRUE(store_->InsertDataset(crm));
  ASSERT_TRUE(store_->InsertDataset(other));
  ASSERT_TRUE(store_->InsertRecord(c.pk, crm.id, Bytes{1}));
  ASSERT_TRUE(store_->InsertRecord(a.pk, crm.id, Bytes{2}));
  ASSERT_TRUE(store_->InsertRecord(c.pk, other.id, Bytes{3}));
  ASSERT_TRUE(store_->InsertRecord(c.pk, crm.id, Bytes{4}));
  ASSERT_TRUE(store_->Commit());
  auto in_crm = store_->ListPersonPksInDataset(crm.id);
  ASSERT_TRUE(in_crm) << in_crm.error().ToString();
  EXPECT_EQ(*in_crm, (std::vector<int64_t>{std::min(a.pk, c.pk), std::max(a.pk, c.pk)}));
  auto in_other = store_->ListPersonPksInDataset(other.id);
  ASSERT_TRUE(in_other);
  EXPECT_EQ(*in_other, std::vector<int64_t>{c.pk});
  auto in_none = store_->ListPersonPksInDataset(other.id + 100);
  ASSERT_TRUE(in_none);
  EXPECT_TRUE(in_none->empty());
}

TEST_P(StoreConformance, NewPersonsLaterRecordAfterAnotherPersonsRecord) {
  ASSERT_TRUE(store_->Begin());
  PersonRow old_person = NewPerson(1), fresh = NewPerson(2);
  ASSERT_TRUE(store_->InsertPerson(old_person));
  DatasetRow d = NewDataset("crm");
  ASSERT_TRUE(store_->InsertDataset(d));
  ASSERT_TRUE(store_->InsertRecord(old_person.pk, d.id, Bytes{1}));
  ASSERT_TRUE(store_->InsertPerson(fresh));
  auto f1 = store_->InsertRecord(fresh.pk, d.id, Bytes{2});
  auto o2 = store_->InsertRecord(old_person.pk, d.id, Bytes{3});
  auto f2 = store_->InsertRecord(fresh.pk, d.id, Bytes{4});
  ASSERT_TRUE(f1 && o2 && f2) << (f2 ? "" : f2.error().ToString());
  EXPECT_EQ(*f1, fresh.pk << kRecordShift);
  EXPECT_EQ(*o2, (old_person.pk << kRecordShift) + 1);
  EXPECT_EQ(*f2, (fresh.pk << kRecordShift) + 1);
  ASSERT_TRUE(store_->Commit());
}

TEST_P(StoreConformance, DeletePersonsExceptKeepsOnlyThose) {
  ASSERT_TRUE(store_->Begin());
  DatasetRow d = NewDataset("crm");
  ASSERT_TRUE(store_->InsertDataset(d));
  std::vector<int64_t> pks;
  for (uint8_t i = 1; i <= 5; ++i) {
    PersonRow p = NewPerson(i);
    ASSERT_TRUE(store_->InsertPerson(p));
    pks.push_back(p.pk);
    ASSERT_TRUE(store_->InsertRecord(p.pk, d.id, Bytes{i}));
    ASSERT_TRUE(store_->InsertIndex(1, Bytes(16, i), p.pk));
    ASSERT_TRUE(store_->PutPersonDoc("k", "x", p.pk, "{}"));
  }
  auto n = store_->DeletePersonsExcept({pks[1], pks[3]});
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(*store_->CountPersons(), 2u);
  for (size_t i = 0; i < pks.size(); ++i) {
    bool kept = i == 1 || i == 3;
    EXPECT_EQ(store_->GetPerson(pks[i])->has_value(), kept);
    EXPECT_EQ(store_->RecordsOf(pks[i])->size(), kept ? 1u : 0u);
    EXPECT_EQ(store_->FindByIndex(1, Bytes(16, static_cast<uint8_t>(i + 1)))->size(), kept ? 1u : 0u);
    EXPECT_EQ(store_->GetPersonDoc("k", "x", pks[i])->has_value(), kept);
  }
  ASSERT_TRUE(store_->Commit());
  store_->Rollback();
  auto outside = store_->DeletePersonsExcept({});
  ASSERT_FALSE(outside);
}

// Index entries may be held back and written sorted (the SQLite store does):
// reads inside the transaction still see them, a rollback drops them, and a
// large batch with duplicates comes out whole.
TEST_P(StoreConformance, IndexEntriesAreReadableBeforeCommitAndGoneAfterRollback) {
  ASSERT_TRUE(store_->Begin());
  PersonRow p = NewPerson(1);
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->InsertIndex(3, Bytes(16, 0x11), p.pk));
  EXPECT_EQ(*store_->FindByIndex(3, Bytes(16, 0x11)), std::vector<int64_t>{p.pk});
  store_->Rollback();
  EXPECT_TRUE(store_->FindByIndex(3, Bytes(16, 0x11))->empty());
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->Commit());
  EXPECT_TRUE(store_->FindByIndex(3, Bytes(16, 0x11))->empty());
}

TEST_P(StoreConformance, ManyIndexEntriesWithDuplicatesAllArrive) {
  constexpr int kPeople = 40000;  // two entries each, and one duplicate each
  ASSERT_TRUE(store_->Begin());
  auto mac = [](int i, uint8_t salt) {
    Bytes m(16);
    for (int b = 0; b < 16; ++b) m[b] = static_cast<uint8_t>((i * 2654435761u) >> (b % 4 * 8)) ^ salt ^ b;
    m[12] = static_cast<uint8_t>(i >> 8);
    m[13] = static_cast<uint8_t>(i);
    return m;
  };
  for (int i = 1; i <= kPeople; ++i) {
    PersonRow p = NewPerson(1);
    p.pk = i;
    ASSERT_TRUE(store_->InsertPerson(p));
    ASSERT_TRUE(store_->InsertIndex(1, mac(i, 0), i));
    ASSERT_TRUE(store_->InsertIndex(2, mac(i, 0x5a), i));
    ASSERT_TRUE(store_->InsertIndex(1, mac(i, 0), i));
  }
  ASSERT_TRUE(store_->Commit());
  for (uint8_t kind : {1, 2}) {
    int entries = 0;
    int64_t sum = 0;
    ASSERT_TRUE(store_->ForEachIndexEntry(kind, [&](ByteSpan, int64_t pk) -> Status {
      ++entries;
      sum += pk;
      return Ok();
    }));
    EXPECT_EQ(entries, kPeople);
    EXPECT_EQ(sum, int64_t{kPeople} * (kPeople + 1) / 2);
  }
  for (int i : {1, 777, kPeople}) {
    EXPECT_EQ(*store_->FindByIndex(2, mac(i, 0x5a)), std::vector<int64_t>{i});
  }
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(777));
  ASSERT_TRUE(store_->Commit());
  EXPECT_TRUE(store_->FindByIndex(1, mac(777, 0))->empty());
  EXPECT_TRUE(store_->FindByIndex(2, mac(777, 0x5a))->empty());
  EXPECT_EQ(*store_->FindByIndex(1, mac(778, 0)), std::vector<int64_t>{778});
  // Many forgotten in one transaction; a lookup inside it already misses them.
  ASSERT_TRUE(store_->Begin());
  for (int i = 10000; i < 30000; ++i) ASSERT_TRUE(store_->DeletePerson(i));
  EXPECT_TRUE(store_->FindByIndex(2, mac(20000, 0x5a))->empty());
  ASSERT_TRUE(store_->DeletePerson(30000));
  ASSERT_TRUE(store_->Commit());
  for (uint8_t kind : {1, 2}) {
    int entries = 0;
    ASSERT_TRUE(store_->ForEachIndexEntry(kind, [&](ByteSpan, int64_t pk) -> Status {
      EXPECT_TRUE(pk < 10000 || pk > 30000) << pk;
      ++entries;
      return Ok();
    }));
    EXPECT_EQ(entries, kPeople - 20002);
  }
  EXPECT_TRUE(store_->FindByIndex(1, mac(30000, 0))->empty());
  EXPECT_EQ(*store_->FindByIndex(1, mac(9999, 0)), std::vector<int64_t>{9999});
  EXPECT_EQ(*store_->FindByIndex(2, mac(30001, 0x5a)), std::vector<int64_t>{30001});
}

// Entries of a later transaction join those already stored under MACs
// that share their first bytes: none lost, a repeated one kept once, people
// of one (kind, MAC) in pk order.
TEST_P(StoreConformance, IndexEntriesOfLaterTransactionsJoinEarlierOnes) {
  Bytes m = Bytes(16, 0x42), m2 = m;
  m2[15] = 0x43;
  ASSERT_TRUE(store_->Begin());
  for (int64_t pk : {1, 2, 3}) {
    PersonRow p = NewPerson(1);
    p.pk = pk;
    ASSERT_TRUE(store_->InsertPerson(p));
  }
  ASSERT_TRUE(store_->InsertIndex(1, m, 2));
  ASSERT_TRUE(store_->InsertIndex(2, m, 3));
  ASSERT_TRUE(store_->Commit());
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertIndex(1, m, 1));
  ASSERT_TRUE(store_->InsertIndex(1, m, 2));
  ASSERT_TRUE(store_->InsertIndex(1, m2, 3));
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(*store_->FindByIndex(1, m), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(*store_->FindByIndex(2, m), std::vector<int64_t>{3});
  EXPECT_EQ(*store_->FindByIndex(1, m2), std::vector<int64_t>{3});
  EXPECT_TRUE(store_->FindByIndex(2, m2)->empty());
  std::vector<int64_t> kind1;
  ASSERT_TRUE(store_->ForEachIndexEntry(1, [&](ByteSpan mac, int64_t pk) -> Status {
    EXPECT_EQ(mac.size(), 16u);
    kind1.push_back(pk);
    return Ok();
  }));
  EXPECT_EQ(kind1, (std::vector<int64_t>{1, 2, 3}));  // in MAC order, then by person
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(2));
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(*store_->FindByIndex(1, m), std::vector<int64_t>{1});
  EXPECT_EQ(*store_->FindByIndex(2, m), std::vector<int64_t>{3});
}

TEST_P(StoreConformance, TransactionCommitsAndRollsBack) {
  ASSERT_TRUE(store_->Begin());
  PersonRow a = NewPerson(1);
  ASSERT_TRUE(store_->InsertPerson(a));
  store_->Rollback();
  EXPECT_EQ(*store_->CountPersons(), 0u);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(a));
  auto twice = store_->Begin();
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kInternal);
  ASSERT_TRUE(store_->Commit());
  store_.reset();
  auto s = GetParam().open(path_, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*(*s)->CountPersons(), 1u);
}

TEST_P(StoreConformance, UpdateKeyAndIterate) {
  ASSERT_TRUE(store_->Begin());
  for (uint8_t i = 1; i <= 5; ++i) {
    PersonRow p = NewPerson(i);
    ASSERT_TRUE(store_->InsertPerson(p));
  }
  ASSERT_TRUE(store_->Commit());
  std::vector<int64_t> seen;
  ASSERT_TRUE(store_->ForEachPerson([&](const PersonRow& p) -> Status {
    seen.push_back(p.pk);
    return Ok();
  }));
  ASSERT_EQ(seen.size(), 5u);
  auto pks = store_->ListPersonPks();
  ASSERT_TRUE(pks) << pks.error().ToString();
  EXPECT_EQ(*pks, seen);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->UpdatePersonKey(seen[2], Bytes(72, 0xEE), 2));
  auto missing = store_->UpdatePersonKey(999999, Bytes(72, 0xEE), 2);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());
  auto p = store_->GetPerson(seen[2]);
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->kek_version, 2u);
  EXPECT_EQ((*p)->wrapped_key, Bytes(72, 0xEE));
  // A visitor's error stops the walk and comes back.
  int visits = 0;
  auto st = store_->ForEachPerson([&](const PersonRow&) -> Status {
    ++visits;
    return Fail(DataLoss("stop"));
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(visits, 1);
}

// The bulk scan: every person in pk order, each with exactly their records
// in id order, people without records included, a visitor's error stops it.
TEST_P(StoreConformance, ForEachPersonWithRecordsMergesBothScans) {
  ASSERT_TRUE(store_->Begin());
  DatasetRow d1 = NewDataset("crm"), d2 = NewDataset("loans");
  ASSERT_TRUE(store_->InsertDataset(d1));
  ASSERT_TRUE(store_->InsertDataset(d2));
  // Persons 1..6: 1 has none, 2 has three (two datasets), 3 has one, 4 none,
  // 5 has two written after 6's, 6 has one; 3 is deleted afterwards.
  for (uint8_t i = 1; i <= 6; ++i) {
    PersonRow p = NewPerson(i);
    ASSERT_TRUE(store_->InsertPerson(p));
  }
  ASSERT_TRUE(store_->InsertRecord(2, d1.id, Bytes{2, 0}));
  ASSERT_TRUE(store_->InsertRecord(2, d2.id, Bytes{2, 1, 1}));
  ASSERT_TRUE(store_->InsertRecord(3, d1.id, Bytes{3}));
  ASSERT_TRUE(store_->InsertRecord(6, d1.id, Bytes{6}));
  ASSERT_TRUE(store_->InsertRecord(2, d1.id, Bytes(5000, 0x22)));
  ASSERT_TRUE(store_->InsertRecord(5, d2.id, Bytes{5, 0}));
  ASSERT_TRUE(store_->InsertRecord(5, d1.id, Bytes{}));
  ASSERT_TRUE(store_->Commit());
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(3));
  ASSERT_TRUE(store_->Commit());

  struct Seen {
    int64_t pk;
    Bytes key;
    std::vector<std::tuple<int64_t, int64_t, Bytes>> records;
  };
  std::vector<Seen> seen;
  ASSERT_TRUE(store_->ForEachPersonWithRecords(
      [&](const PersonRow& p, std::span<const RecordView> recs) -> Status {
        Seen s{p.pk, p.wrapped_key, {}};
        for (const auto& r : recs) s.records.emplace_back(r.id, r.dataset_id, Bytes(r.body.begin(), r.body.end()));
        seen.push_back(std::move(s));
        return Ok();
      }));
  ASSERT_EQ(seen.size(), 5u);
  const std::vector<int64_t> pks = {1, 2, 4, 5, 6};
  for (size_t i = 0; i < pks.size(); ++i) {
    EXPECT_EQ(seen[i].pk, pks[i]);
    EXPECT_EQ(seen[i].key, NewPerson(static_cast<uint8_t>(pks[i])).wrapped_key);
  }
  EXPECT_TRUE(seen[0].records.empty());
  ASSERT_EQ(seen[1].records.size(), 3u);
  EXPECT_EQ(seen[1].records[0], std::make_tuple(int64_t{2} << kRecordShift, d1.id, Bytes{2, 0}));
  EXPECT_EQ(seen[1].records[1], std::make_tuple((int64_t{2} << kRecordShift) + 1, d2.id, Bytes{2, 1, 1}));
  EXPECT_EQ(seen[1].records[2], std::make_tuple((int64_t{2} << kRecordShift) + 2, d1.id, Bytes(5000, 0x22)));
  EXPECT_TRUE(seen[2].records.empty());
  ASSERT_EQ(seen[3].records.size(), 2u);
  EXPECT_EQ(seen[3].records[0], std::make_tuple(int64_t{5} << kRecordShift, d2.id, Bytes{5, 0}));
  EXPECT_EQ(seen[3].records[1], std::make_tuple((int64_t{5} << kRecordShift) + 1, d1.id, Bytes{}));
  ASSERT_EQ(seen[4].records.size(), 1u);
  EXPECT_EQ(std::get<2>(seen[4].records[0]), Bytes{6});

  int visits = 0;
  auto st = store_->ForEachPersonWithRecords([&](const PersonRow&, std::span<const RecordView>) -> Status {
    return ++visits == 2 ? Fail(DataLoss("stop")) : Ok();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(visits, 2);
}

TEST_P(StoreConformance, ReopenSeesCommittedData) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->PutMeta("k", Bytes{5}));
  ASSERT_TRUE(store_->Commit());
  store_.reset();
  auto s = GetParam().open(path_, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(**(*s)->GetMeta("k"), Bytes{5});
}

TEST_P(StoreConformance, PurgeResidueEmptiesTheLog) {
  ASSERT_TRUE(store_->Begin());
  PersonRow p = NewPerson(3);
  p.wrapped_key = Bytes(72, 0x5A);
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->Commit());
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(p.pk));
  ASSERT_TRUE(store_->Commit());
  auto purged = store_->PurgeResidue(false);
  ASSERT_TRUE(purged) << purged.error().ToString();
  ASSERT_TRUE(*purged);
  // No copy of the deleted wrapped key in any file of the store.
  std::string needle(72, '\x5A');
  for (const auto& f : store_->Files()) {
    if (!std::filesystem::exists(f)) continue;
    FILE* fp = std::fopen(f.c_str(), "rb");
    ASSERT_NE(fp, nullptr);
    std::string content;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) content.append(buf, n);
    std::fclose(fp);
    EXPECT_EQ(content.find(needle), std::string::npos) << f;
  }
}

// Regression: a single-row read left its cursor open, and the next purge
// failed with "table is locked".
TEST_P(StoreConformance, ReadsLeaveNoCursorBlockingPurge) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->PutMeta("k", Bytes{1}));
  PersonRow p = NewPerson(4);
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->Commit());
  ASSERT_TRUE(store_->GetMeta("k"));
  ASSERT_TRUE(store_->GetPerson(p.pk));
  ASSERT_TRUE(store_->CountPersons());
  auto st = store_->PurgeResidue(true);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_TRUE(*st);
}

// ---- Several connections (processes) on one store ----

// A second connection, as another process would open it, with a short lock
// wait so that the tests do not wait 30 s.
std::unique_ptr<Store> Second(const Backend& b, const std::string& path,
                              std::chrono::milliseconds wait) {
  auto s = b.open(path, StoreOptions{wait});
  EXPECT_TRUE(s) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

TEST_P(StoreConformance, AWriterWaitsForAnotherThenFailsUnavailable) {
  auto other = Second(GetParam(), path_, std::chrono::milliseconds(300));
  ASSERT_TRUE(other);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(1)));
  const auto started = std::chrono::steady_clock::now();
  auto busy = other->Begin();
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(busy.error().message().find("busy"), std::string::npos) << busy.error().message();
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  // Without waiting at all.
  auto tried = other->TryBegin();
  ASSERT_FALSE(tried);
  EXPECT_EQ(tried.error().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(store_->Commit());
  // Once the first is done, the second writes.
  ASSERT_TRUE(other->Begin());
  ASSERT_TRUE(other->InsertPerson(NewPerson(2)));
  ASSERT_TRUE(other->Commit());
  EXPECT_EQ(*store_->CountPersons(), 2u);
}

TEST_P(StoreConformance, ReadersNeverWaitForAWriter) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(1)));
  ASSERT_TRUE(store_->Commit());
  auto other = Second(GetParam(), path_, std::chrono::milliseconds(0));
  ASSERT_TRUE(other);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(2)));
  ASSERT_TRUE(store_->AppendAuditEntry(0, AsBytes(std::string("e"))));
  // The other connection reads the committed state, at once.
  auto n = other->CountPersons();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 1u);
  auto entries = other->CountAuditEntries();
  ASSERT_TRUE(entries) << entries.error().ToString();
  EXPECT_EQ(*entries, 0u);
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(*other->CountPersons(), 2u);
}

TEST_P(StoreConformance, AReadSnapshotSeesOneState) {
  auto other = Second(GetParam(), path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(other);
  {
    ReadSnapshot snapshot(*other);
    ASSERT_TRUE(snapshot.status());
    EXPECT_EQ(*other->CountPersons(), 0u);
    ASSERT_TRUE(store_->Begin());
    ASSERT_TRUE(store_->InsertPerson(NewPerson(1)));
    ASSERT_TRUE(store_->Commit());
    EXPECT_EQ(*other->CountPersons(), 0u);  // still the state it began with
    {
      ReadSnapshot nested(*other);  // nests, same state
      ASSERT_TRUE(nested.status());
      EXPECT_EQ(*other->CountPersons(), 0u);
    }
    EXPECT_EQ(*other->CountPersons(), 0u);
    // No write transaction inside a read transaction.
    auto write = other->Begin();
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().code(), ErrorCode::kInternal);
  }
  EXPECT_EQ(*other->CountPersons(), 1u);
  // A read transaction inside a write transaction costs nothing.
  ASSERT_TRUE(other->Begin());
  {
    ReadSnapshot inside(*other);
    ASSERT_TRUE(inside.status());
    ASSERT_TRUE(other->InsertPerson(NewPerson(2)));
  }
  ASSERT_TRUE(other->Commit());
  EXPECT_EQ(*store_->CountPersons(), 2u);
}

TEST_P(StoreConformance, PurgeThatAReaderBlocksReportsItInsteadOfFailing) {
  auto reader = Second(GetParam(), path_, std::chrono::milliseconds(100));
  ASSERT_TRUE(reader);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(1)));
  ASSERT_TRUE(store_->Commit());
  auto quick = GetParam().open(path_, StoreOptions{std::chrono::milliseconds(100)});
  ASSERT_TRUE(quick);
  {
    ReadSnapshot snapshot(*reader);
    ASSERT_TRUE(snapshot.status());
    ASSERT_TRUE(reader->CountPersons());  // the snapshot is taken
    ASSERT_TRUE((*quick)->Begin());
    ASSERT_TRUE((*quick)->DeletePerson(1));
    ASSERT_TRUE((*quick)->Commit());
    auto purged = (*quick)->PurgeResidue(false);
    ASSERT_TRUE(purged) << purged.error().ToString();
    EXPECT_FALSE(*purged);
  }
  auto purged = (*quick)->PurgeResidue(false);
  ASSERT_TRUE(purged) << purged.error().ToString();
  EXPECT_TRUE(*purged);
}

TEST_P(StoreConformance, DocsAndPersonDocs) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->PutDoc("transfer", "t1", "{\"a\":1}"));
  ASSERT_TRUE(store_->PutDoc("transfer", "t0", "{}"));
  ASSERT_TRUE(store_->PutDoc("transfer", "t1", "{\"a\":2}"));
  ASSERT_TRUE(store_->PutDoc("rule", "r", "{}"));
  PersonRow p = NewPerson(5), q = NewPerson(6);
  ASSERT_TRUE(store_->InsertPerson(p));
  ASSERT_TRUE(store_->InsertPerson(q));
  ASSERT_TRUE(store_->PutPersonDoc("response", "t1", q.pk, "consent"));
  ASSERT_TRUE(store_->PutPersonDoc("response", "t1", p.pk, "object"));
  ASSERT_TRUE(store_->PutPersonDoc("response", "t1", p.pk, "consent"));
  ASSERT_TRUE(store_->PutPersonDoc("response", "t2", p.pk, "x"));
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(**store_->GetDoc("transfer", "t1"), "{\"a\":2}");
  EXPECT_FALSE(*store_->GetDoc("transfer", "nope"));
  auto list = store_->ListDocs("transfer");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].first, "t0");
  EXPECT_EQ(**store_->GetPersonDoc("response", "t1", p.pk), "consent");
  std::vector<int64_t> seen;
  ASSERT_TRUE(store_->ForEachPersonDoc("response", "t1", [&](int64_t pk, std::string_view) -> Status {
    seen.push_back(pk);
    return Ok();
  }));
  EXPECT_EQ(seen, (std::vector<int64_t>{p.pk, q.pk}));
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeletePerson(p.pk));  // takes the person's state with it
  ASSERT_TRUE(store_->DeleteDoc("rule", "r"));
  ASSERT_TRUE(store_->DeletePersonDocs("response", "t2"));
  ASSERT_TRUE(store_->Commit());
  EXPECT_FALSE(*store_->GetPersonDoc("response", "t1", p.pk));
  EXPECT_TRUE(*store_->GetPersonDoc("response", "t1", q.pk));
  EXPECT_FALSE(*store_->GetDoc("rule", "r"));
}

TEST_P(StoreConformance, UpdateAndDeleteRecords) {
  ASSERT_TRUE(store_->Begin());
  PersonRow p = NewPerson(7);
  ASSERT_TRUE(store_->InsertPerson(p));
  DatasetRow d = NewDataset("x");
  ASSERT_TRUE(store_->InsertDataset(d));
  auto id = store_->InsertRecord(p.pk, d.id, Bytes{1, 2, 3});
  ASSERT_TRUE(id);
  ASSERT_TRUE(store_->UpdateRecord(*id, Bytes{4}));
  EXPECT_EQ(store_->UpdateRecord(*id + 1, Bytes{4}).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ((*store_->RecordsOf(p.pk))[0].body, Bytes{4});
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->DeleteRecord(*id));
  EXPECT_EQ(store_->DeleteRecord(*id).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());
  EXPECT_TRUE(store_->RecordsOf(p.pk)->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace custos::store

namespace custos::store {
namespace {

// What AuditLog::Repair needs of a backend: nodes replaced and removed past
// an end, checkpoints retired.
TEST_P(StoreConformance, AuditRepairPrimitives) {
  ASSERT_TRUE(store_->Begin());
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(store_->PutAuditNode(0, i, Bytes(32, uint8_t(i))));
  ASSERT_TRUE(store_->PutAuditNode(1, 0, Bytes(32, 10)));
  ASSERT_TRUE(store_->PutAuditNode(1, 1, Bytes(32, 11)));
  ASSERT_TRUE(store_->PutAuditNode(2, 0, Bytes(32, 20)));
  auto dup = store_->PutAuditNode(0, 1, Bytes(32, 1));
  ASSERT_FALSE(dup);  // appends never overwrite
  ASSERT_TRUE(store_->ReplaceAuditNode(0, 1, Bytes(32, 99)));
  ASSERT_TRUE(store_->ReplaceAuditNode(0, 7, Bytes(32, 77)));
  EXPECT_EQ(**store_->GetAuditNode(0, 1), Bytes(32, 99));
  // Leaves 3.. are gone: (0,3), (0,4), (0,7), (1,1) covers 2..3, (2,0) covers 0..3.
  auto removed = store_->DeleteAuditNodesFrom(3);
  ASSERT_TRUE(removed) << removed.error().ToString();
  EXPECT_EQ(*removed, 5u);
  EXPECT_TRUE(*store_->GetAuditNode(0, 2));
  EXPECT_TRUE(*store_->GetAuditNode(1, 0));
  EXPECT_FALSE(*store_->GetAuditNode(1, 1));
  EXPECT_FALSE(*store_->GetAuditNode(2, 0));
  ASSERT_TRUE(store_->PutCheckpoint({3, "note", 1}));
  ASSERT_TRUE(store_->PutCheckpoint({5, "note", 2}));
  ASSERT_TRUE(store_->DeleteCheckpoint(5));
  auto missing = store_->DeleteCheckpoint(5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ((*store_->LatestCheckpoint())->size, 3u);
}

}  // namespace
}  // namespace custos::store

namespace custos::store {
namespace {

// Everything a store holds, read through the copying visitors, as text.
std::string Dump(Store& s) {
  std::string out;
  auto hex = [](ByteSpan b) { return HexEncode(b); };
  EXPECT_TRUE(s.ForEachMeta([&](std::string_view k, ByteSpan v) {
    out += "meta " + std::string(k) + "=" + hex(v) + "\n";
    return Ok();
  }));
  auto datasets = s.ListDatasets();
  EXPECT_TRUE(datasets);
  for (const DatasetRow& d : *datasets) {
    out += "dataset " + std::to_string(d.id) + " " + d.name + " " + d.schema_json + " " +
           d.source_sha256 + " " + d.source_format + " " + std::to_string(d.imported_at) + " " +
           std::to_string(d.rows) + " " + std::to_string(d.people) + "\n";
  }
  EXPECT_TRUE(s.ForEachPersonWithRecords([&](const PersonRow& p, std::span<const RecordView> rs) {
    out += "person " + std::to_string(p.pk) + " " + hex(p.wrapped_key) + " " +
           std::to_string(p.kek_version) + " " + std::to_string(p.created_at) + "\n";
    for (const RecordView& r : rs) {
      out += " record " + std::to_string(r.id) + " " + std::to_string(r.dataset_id) + " " +
             hex(r.body) + "\n";
    }
    return Ok();
  }));
  EXPECT_TRUE(s.ForEachIndexEntryOfEveryKind([&](uint8_t kind, ByteSpan mac, int64_t pk) {
    out += "index " + std::to_string(kind) + " " + hex(mac) + " " + std::to_string(pk) + "\n";
    return Ok();
  }));
  EXPECT_TRUE(s.ForEachDoc([&](std::string_view kind, std::string_view key, std::string_view b) {
    out += "doc " + std::string(kind) + "/" + std::string(key) + "=" + std::string(b) + "\n";
    return Ok();
  }));
  EXPECT_TRUE(s.ForEachPersonDocOfEveryKind(
      [&](std::string_view kind, std::string_view key, int64_t pk, std::string_view b) {
        out += "pdoc " + std::string(kind) + "/" + std::string(key) + "/" + std::to_string(pk) +
               "=" + std::string(b) + "\n";
        return Ok();
      }));
  EXPECT_TRUE(s.ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) {
    out += "entry " + std::to_string(seq) + " " + hex(data) + "\n";
    return Ok();
  }));
  EXPECT_TRUE(s.ForEachAuditNode([&](uint32_t level, uint64_t index, ByteSpan h) {
    out += "node " + std::to_string(level) + "," + std::to_string(index) + " " + hex(h) + "\n";
    return Ok();
  }));
  auto cps = s.ListCheckpoints();
  EXPECT_TRUE(cps);
  for (const CheckpointRow& c : *cps) {
    out += "checkpoint " + std::to_string(c.size) + " " + c.note + " " +
           std::to_string(c.created_at) + "\n";
  }
  return out;
}

TEST_P(StoreConformance, CopyStoreToEitherBackendKeepsEveryRowAndId) {
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->PutMeta("format", Bytes{1, 2}));
  DatasetRow a = NewDataset("crm"), b = NewDataset("loans");
  ASSERT_TRUE(store_->InsertDataset(a));
  ASSERT_TRUE(store_->InsertDataset(b));
  for (uint8_t i = 1; i <= 3; ++i) ASSERT_TRUE(store_->InsertPerson(NewPerson(i)));
  auto r0 = store_->InsertRecord(1, a.id, Bytes{1});
  auto r1 = store_->InsertRecord(1, b.id, Bytes{2});
  auto r2 = store_->InsertRecord(1, a.id, Bytes{3});
  ASSERT_TRUE(r0 && r1 && r2 && store_->InsertRecord(3, b.id, Bytes{4}));
  ASSERT_TRUE(store_->DeleteRecord(*r1));  // a gap: ids must survive as they are
  ASSERT_TRUE(store_->InsertIndex(1, Bytes(16, 0xA1), 1));
  ASSERT_TRUE(store_->InsertIndex(7, Bytes(16, 0xB2), 3));
  ASSERT_TRUE(store_->PutDoc("transfer", "T1", R"({"v":1})"));
  ASSERT_TRUE(store_->PutDoc("media", "HDD", R"({"v":2})"));
  ASSERT_TRUE(store_->PutPersonDoc("retention", "tax@crm", 3, R"({"expiry":"2030-01-01"})"));
  for (uint64_t seq = 0; seq < 3; ++seq) {
    ASSERT_TRUE(store_->AppendAuditEntry(seq, Bytes{static_cast<uint8_t>(seq), 0x55}));
    ASSERT_TRUE(store_->PutAuditNode(0, seq, Bytes(32, static_cast<uint8_t>(seq))));
  }
  ASSERT_TRUE(store_->PutAuditNode(1, 0, Bytes(32, 0xEE)));
  ASSERT_TRUE(store_->PutCheckpoint({3, "note of three", 1700000003}));
  ASSERT_TRUE(store_->Commit());
  const std::string before = Dump(*store_);

  for (const Backend& to : kBackends) {
    if (!to.available()) continue;
    SCOPED_TRACE(std::string(GetParam().name) + " to " + to.name);
    const std::string path = (dir_ / (std::string("copy-") + to.name + ".db")).string();
    auto dest = to.create(path, {});
    ASSERT_TRUE(dest) << dest.error().ToString();
    ASSERT_TRUE((*dest)->Begin());
    uint64_t heard = 0;
    auto n = CopyStore(*store_, **dest, [&](uint64_t persons) { heard = persons; });
    ASSERT_TRUE(n) << n.error().ToString();
    ASSERT_TRUE((*dest)->Commit());
    EXPECT_EQ(n->persons, 3u);
    EXPECT_EQ(n->records, 3u);
    EXPECT_EQ(n->datasets, 2u);
    EXPECT_EQ(n->index_entries, 2u);
    EXPECT_EQ(n->docs, 2u);
    EXPECT_EQ(n->person_docs, 1u);
    EXPECT_EQ(n->audit_entries, 3u);
    EXPECT_EQ(n->audit_nodes, 4u);
    EXPECT_EQ(n->checkpoints, 1u);
    EXPECT_EQ(heard, 3u);
    EXPECT_EQ(Dump(**dest), before);
    // The copy goes on where the original stood: the next dataset and the
    // next record of a person take fresh ids.
    ASSERT_TRUE((*dest)->Begin());
    DatasetRow c = NewDataset("later");
    ASSERT_TRUE((*dest)->InsertDataset(c));
    EXPECT_GT(c.id, b.id);
    auto next = (*dest)->InsertRecord(1, c.id, Bytes{9});
    ASSERT_TRUE(next) << next.error().ToString();
    EXPECT_EQ(*next, *r2 + 1);
    auto taken = (*dest)->InsertRecordWithId({*r0, 1, a.id, Bytes{1}});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);
    (*dest)->Rollback();
  }
}

TEST_P(StoreConformance, SchemaVersionsSayWhatOpeningFound) {
  const Store::SchemaVersions created = store_->schema_versions();
  EXPECT_EQ(created.found, 0);
  EXPECT_GT(created.now, 0);
  store_.reset();
  auto again = GetParam().open(path_, {});
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ((*again)->schema_versions().found, created.now);
  EXPECT_EQ((*again)->schema_versions().now, created.now);
}

}  // namespace
}  // namespace custos::store

namespace custos::store {
namespace {

// The database's sessions of this test's store, ended by the cluster's
// superuser (a server restarted, a session terminated by an administrator).
void TerminateSessions(const std::string& path) {
  std::string error;
  ASSERT_TRUE(custos::testing::PgAdmin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
          PgDatabaseFor(path) + "' AND pid <> pg_backend_pid()",
      &error))
      << error;
}

TEST_P(StoreConformance, ALostConnectionFailsItsTransactionAndIsMadeAgainAfter) {
  if (std::string(GetParam().name) != "postgresql") GTEST_SKIP() << "a database connection";
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(1)));
  TerminateSessions(path_);
  // Inside the transaction: every statement fails, none runs outside it.
  auto st = store_->PutMeta("k", Bytes{1});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable) << st.error().ToString();
  auto committed = store_->Commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code(), ErrorCode::kUnavailable);
  // Between transactions: made again, and nothing of the lost one is there.
  auto n = store_->CountPersons();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(*store_->GetMeta("k"));
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertPerson(NewPerson(2)));
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(*store_->CountPersons(), 1u);
  // Lost while idle, then a read snapshot and a write: both made again.
  TerminateSessions(path_);
  {
    ReadSnapshot snapshot(*store_);
    ASSERT_TRUE(snapshot.status()) << snapshot.status().error().ToString();
    EXPECT_EQ(*store_->CountPersons(), 1u);
  }
  TerminateSessions(path_);
  ASSERT_TRUE(store_->Begin());
  ASSERT_TRUE(store_->InsertIndex(1, Bytes(16, 7), 2));
  ASSERT_TRUE(store_->Commit());
  EXPECT_EQ(*store_->FindByIndex(1, Bytes(16, 7)), std::vector<int64_t>{2});
}

}  // namespace
}  // namespace custos::store
