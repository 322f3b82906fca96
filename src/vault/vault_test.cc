#include "vault/vault.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "base/test_util.h"
#include "crypto/aead.h"
#include "store/pg_test_cluster.h"
#include "vault/test_v1_keys.h"

namespace custos::vault {
namespace {

using custos::testing::Slurp;
using custos::testing::TempDir;
using custos::testing::TestOnPostgres;
using custos::testing::TestVaultLocation;

// For tests of the vault file itself (its bytes, tampering through sqlite3):
// the PostgreSQL run covers the same behaviour elsewhere or has no file.
#define SQLITE_FILE_TEST() \
  if (TestOnPostgres()) GTEST_SKIP() << "a test of the vault file: SQLite only"

Bytes AsBytesOf(std::string_view s) { return Bytes(s.begin(), s.end()); }

KeySource KeyFile(const std::string& path) {
  KeySource k;
  k.kind = KeySource::Kind::kKeyFile;
  k.key_file = path;
  return k;
}

DatasetSpec Spec(const std::string& name) {
  DatasetSpec s;
  s.name = name;
  s.columns = {{"name", "person_name", false},
               {"id", "cn_resident_id", true},
               {"mobile", "cn_mobile", false},
               {"note", "free_text", false}};
  s.source_sha256 = std::string(64, '0');
  s.source_format = "csv";
  return s;
}

// Imports rows; returns the person ids created, in order.
std::vector<PersonId> ImportRows(Vault& v, const std::string& dataset,
                                 const std::vector<std::vector<std::string>>& rows) {
  auto batch = v.BeginImport(Spec(dataset));
  EXPECT_TRUE(batch) << batch.error().ToString();
  for (const auto& r : rows) {
    RowIdentity who;
    who.resident_id = r[1];
    who.mobile = r[2];
    EXPECT_TRUE((*batch)->AddRow(who, r));
  }
  EXPECT_TRUE((*batch)->Commit(v.MakeEvent("import")));
  std::vector<PersonId> ids;
  for (const auto& r : rows) {
    auto found = v.Find(IndexKind::kResidentId, r[1]);
    EXPECT_TRUE(found);
    if (found && !found->empty() &&
        std::find(ids.begin(), ids.end(), found->front()) == ids.end()) {
      ids.push_back(found->front());
    }
  }
  return ids;
}

const std::vector<std::vector<std::string>> kRows = {
    {"张三明", "11010519491231002X", "13812345678", "老客户 CANARY-NOTE-1"},
    {"李四", "44030519900101123X", "13900001111", ""},
    {"张三明", "11010519491231002X", "13812345678", "second account"},
};

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = dir_.File("k.key");
    path_ = TestVaultLocation(dir_.File("v.vault"));
    auto v = Vault::Create(path_, KeyFile(key_));
    ASSERT_TRUE(v) << v.error().ToString();
    vault_ = std::move(*v);
  }
  TempDir dir_;
  std::string key_, path_;
  std::unique_ptr<Vault> vault_;
};

TEST_F(VaultTest, CreatesKeyFileWithMode0600) {
  struct stat st {};
  ASSERT_EQ(::stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
}

TEST_F(VaultTest, CreateRefusesExistingVault) {
  auto again = Vault::Create(path_, KeyFile(key_));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(VaultTest, GroupsRowsOfOnePersonAndReadsBack) {
  auto ids = ImportRows(*vault_, "crm", kRows);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(*vault_->CountPeople(), 2u);
  auto d = vault_->Read(ids[0]);
  ASSERT_TRUE(d) << d.error().ToString();
  // Two records of four, three and four non-empty fields.
  EXPECT_EQ(d->fields.size(), 8u);
  EXPECT_EQ(d->fields[0].field, "name");
  EXPECT_EQ(d->fields[0].value, "张三明");
  EXPECT_EQ(d->fields[1].type, "cn_resident_id");
  EXPECT_TRUE(d->fields[1].sensitive);
  auto by_mobile = vault_->Find(IndexKind::kMobile, "13900001111");
  ASSERT_TRUE(by_mobile);
  ASSERT_EQ(by_mobile->size(), 1u);
  EXPECT_EQ(by_mobile->front(), ids[1]);
}

// Rows are encrypted on the importing thread or on the store thread; a
// person's later rows, chunks apart, need their key read back from the
// open transaction. Every path must give the same readable records.
class ImportSealingTest : public VaultTest,
                          public ::testing::WithParamInterface<ImportBatch::Sealing> {};

TEST_P(ImportSealingTest, InterleavedRowsOfManyPeopleReadBack) {
  constexpr int kPeople = 1500, kRounds = 3;  // rows of one person 1500 rows apart
  auto batch = vault_->BeginImport(Spec("crm"));
  ASSERT_TRUE(batch) << batch.error().ToString();
  (*batch)->set_sealing(GetParam());
  auto id_of = [](int p) {
    std::string id = "1101051980010" + std::to_string(10000 + p).substr(1);  // 17 digits
    return id + "X";  // not a valid check digit: the vault does not validate
  };
  for (int round = 0; round < kRounds; ++round) {
    for (int p = 0; p < kPeople; ++p) {
      RowIdentity who;
      who.resident_id = id_of(p);
      std::vector<std::string> row = {"name" + std::to_string(p), id_of(p), "",
                                      "round " + std::to_string(round)};
      ASSERT_TRUE((*batch)->AddRow(who, row));
    }
  }
  EXPECT_EQ((*batch)->new_people(), uint64_t{kPeople});
  ASSERT_TRUE((*batch)->Commit(vault_->MakeEvent("import")));
  EXPECT_EQ(*vault_->CountPeople(), uint64_t{kPeople});
  for (int p : {0, 1, 733, kPeople - 1}) {
    auto found = vault_->Find(IndexKind::kResidentId, id_of(p));
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u);
    auto d = vault_->Read(found->front());
    ASSERT_TRUE(d) << d.error().ToString();
    std::vector<std::string> notes;
    for (const auto& f : d->fields) {
      ASSERT_TRUE(f.status) << f.status.error().ToString();
      if (f.field == "note") notes.push_back(f.value);
      if (f.field == "name") {
        EXPECT_EQ(f.value, "name" + std::to_string(p));
      }
    }
    EXPECT_EQ(notes, (std::vector<std::string>{"round 0", "round 1", "round 2"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ImportSealingTest,
                         ::testing::Values(ImportBatch::Sealing::kAdaptive,
                                           ImportBatch::Sealing::kCaller,
                                           ImportBatch::Sealing::kWriter));

// With a grouping map of 64 slots a shard (11,520 MACs in memory), an
// import of 15,000 people spills it to disk many times; people on rows far
// apart are still one person, and a second import finds every earlier
// person through the spilled entries it loads.
TEST_F(VaultTest, ImportGroupsPeopleThroughASpilledMap) {
  constexpr int kPeople = 15000;
  vault_->set_group_map_shard_slots_for_testing(64);
  auto id_of = [](int p) { return "2201" + std::to_string(10000000000000 + p) + "X"; };
  auto mobile_of = [](int p) { return std::to_string(13000000000 + p); };
  auto import = [&](const std::string& dataset, int rounds) {
    auto batch = vault_->BeginImport(Spec(dataset));
    EXPECT_TRUE(batch) << batch.error().ToString();
    if (!batch) return std::unique_ptr<ImportBatch>();
    for (int round = 0; round < rounds; ++round) {
      for (int p = 0; p < kPeople; ++p) {
        RowIdentity who;
        // Odd people have an ID number; even ones a mobile and a name.
        if (p % 2) {
          who.resident_id = id_of(p);
        } else {
          who.mobile = mobile_of(p);
          who.name = "n" + std::to_string(p);
        }
        std::vector<std::string> row = {who.name, who.resident_id, who.mobile,
                                        "round " + std::to_string(round)};
        EXPECT_TRUE((*batch)->AddRow(who, row));
      }
    }
    return std::move(*batch);
  };
  auto first = import("crm", 2);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->new_people(), uint64_t{kPeople});
  EXPECT_EQ(first->people_touched(), uint64_t{kPeople});
  ASSERT_TRUE(first->Commit(vault_->MakeEvent("import")));
  first.reset();
  auto second = import("more", 1);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->new_people(), 0u);
  EXPECT_EQ(second->people_touched(), uint64_t{kPeople});
  ASSERT_TRUE(second->Commit(vault_->MakeEvent("import")));
  EXPECT_EQ(*vault_->CountPeople(), uint64_t{kPeople});
  for (int p : {0, 1, 7777, kPeople - 1}) {
    auto found = p % 2 ? vault_->Find(IndexKind::kResidentId, id_of(p))
                       : vault_->Find(IndexKind::kMobile, mobile_of(p));
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u) << p;
    auto d = vault_->Read(found->front());
    ASSERT_TRUE(d) << d.error().ToString();
    // Non-empty fields (ID and note, or name, mobile and note) x (2 + 1 rows).
    EXPECT_EQ(d->fields.size(), p % 2 ? 6u : 9u) << p;
  }
}

TEST_F(VaultTest, ImportRefusesPastThePersonNumberLimitAndKeepsNothing) {
  {
    auto batch = vault_->BeginImport(Spec("crm"));
    ASSERT_TRUE(batch);
    RowIdentity who;
    who.resident_id = kRows[0][1];
    ASSERT_TRUE((*batch)->AddRow(who, kRows[0]));
    ASSERT_TRUE((*batch)->Commit(vault_->MakeEvent("import")));
  }
  // Person numbers come from a counter in the vault: put it at the limit.
  Bytes next;
  AppendU64BE(next, uint64_t{0xffffffff} + 1);
  ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test"), [&](tlog::Event&) {
    return vault_->store_for_testing().PutMeta("next_person_pk", next);
  }));
  auto batch = vault_->BeginImport(Spec("more"));
  ASSERT_TRUE(batch);
  RowIdentity who;
  who.resident_id = kRows[1][1];
  auto st = (*batch)->AddRow(who, kRows[1]);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
  batch->reset();  // rolled back
  EXPECT_EQ(*vault_->CountPeople(), 1u);
  EXPECT_EQ(vault_->store_for_testing().ListDatasets()->size(), 1u);
  // The vault is usable afterwards.
  auto again = vault_->BeginImport(Spec("more"));
  ASSERT_TRUE(again) << again.error().ToString();
}

TEST_F(VaultTest, NoPlaintextInVaultFiles) {
  SQLITE_FILE_TEST();
  ImportRows(*vault_, "crm", kRows);
  vault_.reset();
  std::string all = custos::testing::SlurpTree(dir_.path());
  for (const char* canary : {"张三明", "11010519491231002X", "13812345678", "CANARY-NOTE-1",
                             "44030519900101123X"}) {
    EXPECT_EQ(all.find(canary), std::string::npos) << canary;
  }
}

TEST_F(VaultTest, WrongKeyFileIsUnauthenticatedAndChangesNothing) {
  SQLITE_FILE_TEST();
  ImportRows(*vault_, "crm", kRows);
  vault_.reset();
  std::string before = Slurp(path_);
  std::string other = dir_.File("other.key");
  auto created = CreateKeyFile(other);
  ASSERT_TRUE(created);
  auto v = Vault::Open(path_, KeyFile(other));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(v.error().message().find("ANY"), std::string::npos);
  EXPECT_EQ(Slurp(path_), before);
}

TEST_F(VaultTest, WorldReadableKeyFileIsRefused) {
  vault_.reset();
  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(v.error().message().find("chmod 600"), std::string::npos);
}

TEST_F(VaultTest, MissingKeyFileIsNotFound) {
  vault_.reset();
  auto v = Vault::Open(path_, KeyFile(dir_.File("nope.key")));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kNotFound);
}

TEST_F(VaultTest, PassphraseVaultNeedsPassphrase) {
  ::setenv("CUSTOS_TEST_PASS", "correct horse battery", 1);
  KeySource pass;
  pass.kind = KeySource::Kind::kPassphrase;
  pass.passphrase_env = "CUSTOS_TEST_PASS";
  std::string p2 = TestVaultLocation(dir_.File("p.vault"));
  {
    auto v = Vault::Create(p2, pass);
    ASSERT_TRUE(v) << v.error().ToString();
  }
  ASSERT_TRUE(Vault::Open(p2, pass));
  ::setenv("CUSTOS_TEST_PASS", "wrong horse battery", 1);
  auto bad = Vault::Open(p2, pass);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUnauthenticated);
  auto with_file = Vault::Open(p2, KeyFile(key_));
  ASSERT_FALSE(with_file);
  EXPECT_EQ(with_file.error().code(), ErrorCode::kUnauthenticated);
  ::setenv("CUSTOS_TEST_PASS", "short", 1);
  auto too_short = Vault::Open(p2, pass);
  ASSERT_FALSE(too_short);
  EXPECT_EQ(too_short.error().code(), ErrorCode::kInvalidArgument);
  ::unsetenv("CUSTOS_TEST_PASS");
}

// Flips one byte inside the ciphertext of the first record's second field.
void FlipByteInFirstRecord(const std::string& path, int field_index) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, body FROM record ORDER BY id LIMIT 1", -1, &s,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  int64_t id = sqlite3_column_int64(s, 0);
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, 1));
  Bytes body(p, p + sqlite3_column_bytes(s, 1));
  sqlite3_finalize(s);
  // Walk the layout (docs/formats/field-ciphertext.md) to the wanted field.
  // Walk the layout (docs/formats/field-ciphertext.md): fields here have
  // one-byte positions and lengths.
  size_t prefix = body[1] == 1 ? 8 : 20;
  size_t at = 6 + prefix + 2;
  for (int i = 0; i < field_index; ++i) at += 2 + body[at + 1];
  body[at + 2 + 1] ^= 0x01;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE record SET body=? WHERE id=?", -1, &s, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(s, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, id);
  ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(VaultTest, FlippedCiphertextByteFailsOnlyThatField) {
  SQLITE_FILE_TEST();
  auto ids = ImportRows(*vault_, "crm", kRows);
  vault_.reset();
  FlipByteInFirstRecord(path_, 1);
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v);
  auto d = (*v)->Read(ids[0]);
  ASSERT_TRUE(d);
  int failed = 0;
  for (const auto& f : d->fields) {
    if (!f.status) {
      ++failed;
      EXPECT_EQ(f.field, "id");
      EXPECT_EQ(f.status.error().code(), ErrorCode::kDataLoss);
      EXPECT_NE(f.status.error().message().find(ids[0].ToString()), std::string::npos);
      EXPECT_NE(f.status.error().message().find("'id'"), std::string::npos);
    } else {
      EXPECT_FALSE(f.value.empty());
    }
  }
  EXPECT_EQ(failed, 1);
}

TEST_F(VaultTest, CiphertextMovedToAnotherPersonFailsToOpen) {
  SQLITE_FILE_TEST();
  auto ids = ImportRows(*vault_, "crm", {kRows[0], kRows[1]});
  vault_.reset();
  // Give person 2's record the body of person 1's record. Different keys and
  // different associated data: nothing opens.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE record SET body=(SELECT body FROM record ORDER BY id LIMIT 1) "
                         "WHERE id=(SELECT id FROM record ORDER BY id LIMIT 1 OFFSET 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v);
  auto d = (*v)->Read(ids[1]);
  ASSERT_TRUE(d);
  ASSERT_FALSE(d->fields.empty());
  for (const auto& f : d->fields) EXPECT_FALSE(f.status) << f.field;
}

// ---- ReadSelected: the bulk read ----

// (pk, "dataset.field=value" per selected field) of a bulk read.
struct Got {
  int64_t pk;
  std::vector<std::string> fields;
  size_t damaged;
};

std::vector<Got> ReadAllSelected(Vault& v, const Selection& sel, Status* status = nullptr) {
  std::vector<Got> out;
  // The visitor may run beside the scan, so it does not use the vault: the
  // ids are checked after the read.
  std::vector<std::pair<int64_t, PersonId>> ids;
  Status st = v.ReadSelected(sel, [&](const SelectedPerson& p) -> Status {
    ids.emplace_back(p.pk, p.id);
    Got g{p.pk, {}, p.damaged_records.size()};
    uint64_t last_record = 0;
    for (const auto& f : p.fields) {
      EXPECT_GE(f.record, last_record);
      last_record = f.record;
      g.fields.push_back(f.dataset->name + "." + f.dataset->columns[f.position].name + "=" +
                         (f.status ? f.value : "FAILED"));
    }
    out.push_back(std::move(g));
    return Ok();
  });
  for (const auto& [pk, id] : ids) EXPECT_EQ(id, v.IdOf(pk));
  if (status != nullptr) {
    *status = st;
  } else {
    EXPECT_TRUE(st) << st.error().ToString();
  }
  return out;
}

// What Read gives for the same selection, for comparison.
Got ReadOne(Vault& v, int64_t pk, const std::vector<std::string>& fields, const std::string& dataset) {
  auto d = v.Read(v.IdOf(pk));
  EXPECT_TRUE(d);
  Got g{pk, {}, d->damaged_records.size()};
  for (const auto& f : d->fields) {
    if (std::find(fields.begin(), fields.end(), f.field) == fields.end()) continue;
    if (!dataset.empty() && f.dataset != dataset) continue;
    g.fields.push_back(f.dataset + "." + f.field + "=" + (f.status ? f.value : "FAILED"));
  }
  return g;
}

class ReadSelectedTest : public VaultTest, public ::testing::WithParamInterface<int> {};

// Many people (several batches), two datasets, some people left out: the
// same fields, values and order as Read, on any number of workers.
// Imports `people` people into "crm" and every third of them into "loans"
// too (several batches of a bulk read), and returns their pks in order.
std::vector<int64_t> ImportManyPeople(Vault& v, int people) {
  auto id_of = [](int p) { return "1101051980010" + std::to_string(10000 + p).substr(1) + "X"; };
  for (const char* dataset : {"crm", "loans"}) {
    auto batch = v.BeginImport(Spec(dataset));
    EXPECT_TRUE(batch);
    if (!batch) return {};
    for (int p = 0; p < people; ++p) {
      if (std::string(dataset) == "loans" && p % 3 != 0) continue;
      RowIdentity who;
      who.resident_id = id_of(p);
      EXPECT_TRUE((*batch)->AddRow(who, {"name" + std::to_string(p), id_of(p),
                                         p % 5 ? "1380000" + std::to_string(1000 + p % 9000) : "",
                                         std::string(dataset) + " note " + std::to_string(p)}));
    }
    EXPECT_TRUE((*batch)->Commit(v.MakeEvent("import")));
  }
  std::vector<int64_t> all;
  EXPECT_TRUE(v.store_for_testing().ForEachPerson([&](const store::PersonRow& r) -> Status {
    all.push_back(r.pk);
    return Ok();
  }));
  return all;
}

TEST_P(ReadSelectedTest, MatchesReadOnAnyNumberOfWorkers) {
  constexpr int kPeople = 2600;
  const std::vector<int64_t> all = ImportManyPeople(*vault_, kPeople);
  ASSERT_EQ(all.size(), size_t{kPeople});
  Selection sel;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 7 != 3) sel.people.push_back(all[i]);
  }
  sel.fields = {"mobile", "note"};
  sel.workers = GetParam();
  for (const std::string dataset : {"", "loans"}) {
    sel.dataset = dataset;
    auto got = ReadAllSelected(*vault_, sel);
    ASSERT_EQ(got.size(), sel.people.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].pk, sel.people[i]);
      if (i % 97 == 0 || i + 1 == got.size()) {
        Got want = ReadOne(*vault_, sel.people[i], sel.fields, dataset);
        EXPECT_EQ(got[i].fields, want.fields) << i;
      }
    }
    EXPECT_EQ(got[0].fields.size(), dataset.empty() ? 2u : 1u);  // person 0: no mobile, two notes
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, ReadSelectedTest, ::testing::Values(0, 1, 3));

// What a batch stage made of one batch, on whichever thread ran it.
struct BatchSummary {
  std::vector<int64_t> pks;
  size_t fields = 0;
};

class ReadSelectedBatchesTest : public VaultTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    const std::vector<int64_t> all = ImportManyPeople(*vault_, 2600);
    ASSERT_EQ(all.size(), 2600u);
    for (size_t i = 0; i < all.size(); ++i) {
      if (i % 7 != 3) sel_.people.push_back(all[i]);
    }
    sel_.fields = {"mobile", "note"};
    sel_.workers = GetParam();
  }

  // Summarizes each batch; fails (kDataLoss) at the person `fail_at`.
  static Status Summarize(std::vector<SelectedPerson>& people, BatchSummary& out,
                          int64_t fail_at = -1) {
    for (const SelectedPerson& p : people) {
      if (p.pk == fail_at) return Fail(DataLoss("person " + std::to_string(p.pk)));
      out.pks.push_back(p.pk);
      out.fields += p.fields.size();
    }
    return Ok();
  }

  Selection sel_;
};

// Every person once, batches consumed in pk order, the same fields as a
// per-person read.
TEST_P(ReadSelectedBatchesTest, ConsumesEveryBatchInOrder) {
  std::vector<int64_t> seen;
  size_t fields = 0, batches = 0;
  Status st = vault_->ReadSelectedBatches<BatchSummary>(
      sel_,
      [](std::vector<SelectedPerson>& people, BatchSummary& out) { return Summarize(people, out); },
      [&](BatchSummary& b) -> Status {
        EXPECT_FALSE(b.pks.empty());
        seen.insert(seen.end(), b.pks.begin(), b.pks.end());
        fields += b.fields;
        ++batches;
        return Ok();
      });
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(seen, sel_.people);
  EXPECT_GT(batches, 1u);
  size_t want_fields = 0;
  for (const Got& g : ReadAllSelected(*vault_, sel_)) want_fields += g.fields.size();
  EXPECT_EQ(fields, want_fields);
}

// A batch stage's error stops the read and comes back; the batches before
// the failing person's were consumed, in order, and none after.
TEST_P(ReadSelectedBatchesTest, PrepareErrorStopsAtItsBatch) {
  const int64_t fail_at = sel_.people[1500];
  std::vector<int64_t> seen;
  Status st = vault_->ReadSelectedBatches<BatchSummary>(
      sel_,
      [fail_at](std::vector<SelectedPerson>& people, BatchSummary& out) {
        return Summarize(people, out, fail_at);
      },
      [&](BatchSummary& b) -> Status {
        seen.insert(seen.end(), b.pks.begin(), b.pks.end());
        return Ok();
      });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(st.error().message(), "person " + std::to_string(fail_at));
  ASSERT_FALSE(seen.empty());
  EXPECT_LT(seen.size(), 1500u);
  EXPECT_TRUE(std::equal(seen.begin(), seen.end(), sel_.people.begin()));
}

TEST_P(ReadSelectedBatchesTest, ConsumeErrorStopsTheRead) {
  int consumed = 0;
  Status st = vault_->ReadSelectedBatches<BatchSummary>(
      sel_,
      [](std::vector<SelectedPerson>& people, BatchSummary& out) { return Summarize(people, out); },
      [&](BatchSummary&) -> Status {
        ++consumed;
        return consumed == 2 ? Fail(Unavailable("disk full")) : Ok();
      });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(consumed, 2);
}

INSTANTIATE_TEST_SUITE_P(Workers, ReadSelectedBatchesTest, ::testing::Values(0, 1, 3));

TEST_F(VaultTest, ReadSelectedOpensOnlySelectedFields) {
  SQLITE_FILE_TEST();
  auto ids = ImportRows(*vault_, "crm", kRows);
  vault_.reset();
  FlipByteInFirstRecord(path_, 1);  // the first person's first "id"
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v);
  Selection sel;
  sel.people = {*(*v)->PkOf(ids[0]), *(*v)->PkOf(ids[1])};
  sel.fields = {"name", "mobile"};
  auto got = ReadAllSelected(**v, sel);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].fields, (std::vector<std::string>{"crm.name=张三明", "crm.mobile=13812345678",
                                                     "crm.name=张三明", "crm.mobile=13812345678"}));
  EXPECT_EQ(got[1].fields, (std::vector<std::string>{"crm.name=李四", "crm.mobile=13900001111"}));
  // Selecting the damaged field reports it, naming person and field.
  sel.fields = {"id"};
  Status st = (*v)->ReadSelected(sel, [&](const SelectedPerson& p) -> Status {
    if (p.id == ids[0]) {
      EXPECT_FALSE(p.fields[0].status);
      EXPECT_EQ(p.fields[0].status.error().code(), ErrorCode::kDataLoss);
      EXPECT_NE(p.fields[0].status.error().message().find("'id'"), std::string::npos);
      EXPECT_TRUE(p.fields[1].status);
    }
    return Ok();
  });
  EXPECT_TRUE(st);
}

TEST_F(VaultTest, ReadSelectedErrors) {
  auto ids = ImportRows(*vault_, "crm", kRows);
  const int64_t a = *vault_->PkOf(ids[0]), b = *vault_->PkOf(ids[1]);
  Selection sel;
  sel.fields = {"name"};
  for (int workers : {0, 2}) {
    sel.workers = workers;
    // A person not in the vault (before, between or after the others).
    for (const auto& people : std::vector<std::vector<int64_t>>{{a, b + 5}, {a, a + 1, b}, {b + 100}}) {
      sel.people = people;
      Status st = Ok();
      ReadAllSelected(*vault_, sel, &st);
      ASSERT_FALSE(st);
      EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
    }
    // The visitor's error comes back, and stops the read.
    sel.people = {a, b};
    int visits = 0;
    Status st = vault_->ReadSelected(sel, [&](const SelectedPerson&) -> Status {
      ++visits;
      return Fail(Unavailable("disk full"));
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(visits, 1);
    // Nobody selected: no visit.
    sel.people = {};
    EXPECT_TRUE(ReadAllSelected(*vault_, sel).empty());
  }
  // A damaged wrapped key fails the read (as Read does): tampered with in
  // the file.
  if (TestOnPostgres()) return;
  vault_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE person SET wrapped_key=zeroblob(72) WHERE pk=" + std::to_string(b)).c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v);
  sel.people = {a, b};
  for (int workers : {0, 2}) {
    sel.workers = workers;
    Status st = Ok();
    ReadAllSelected(**v, sel, &st);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  }
}

TEST_F(VaultTest, RotationRewrapsAndRetiresTheOldKey) {
  auto ids = ImportRows(*vault_, "crm", kRows);
  std::string new_key = dir_.File("new.key");
  auto n = vault_->RotateKek(KeyFile(new_key));
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(n->rewrapped, 2u);
  EXPECT_TRUE(n->purge.purged);
  vault_.reset();
  auto old = Vault::Open(path_, KeyFile(key_));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kUnauthenticated);
  auto v = Vault::Open(path_, KeyFile(new_key));
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ((*v)->kek_version(), 2u);
  auto d = (*v)->Read(ids[0]);
  ASSERT_TRUE(d);
  for (const auto& f : d->fields) EXPECT_TRUE(f.status);
  // The blind index survives rotation.
  auto found = (*v)->Find(IndexKind::kResidentId, "11010519491231002X");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), 1u);
}

// Vaults made before the v2 key format hold v1 keys (XChaCha20-Poly1305
// under the KEK). They still open, in a single read and a bulk read, and a
// rotation re-wraps them in v2. The v1 keys are made here from the v2 ones
// with the KEK from the key file, as docs/formats/field-ciphertext.md says.
TEST_F(VaultTest, KeysWrappedInVersionOneStillOpenAndRotateToVersionTwo) {
  SQLITE_FILE_TEST();
  auto ids = ImportRows(*vault_, "crm", kRows);
  ASSERT_EQ(ids.size(), 2u);
  std::vector<std::string> before;
  std::vector<int64_t> pks;
  for (const auto& id : ids) {
    auto d = vault_->Read(id);
    ASSERT_TRUE(d);
    std::string all;
    for (const auto& f : d->fields) all += f.field + "=" + f.value + ";";
    before.push_back(all);
    auto pk = vault_->PkOf(id);
    ASSERT_TRUE(pk);
    pks.push_back(*pk);
  }
  vault_.reset();

  std::vector<std::pair<int64_t, PersonId>> people;
  for (size_t i = 0; i < ids.size(); ++i) people.emplace_back(pks[i], ids[i]);
  testing::RewrapKeysToV1(path_, key_, people);
  if (HasFatalFailure()) return;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto blob = [&](const std::string& sql) { return testing::SqlBlob(db, sql); };
  // Such a vault was of format 1; opening it marks it 2, so that older
  // builds refuse it rather than take its v2 keys for damage.
  EXPECT_EQ(blob("SELECT value FROM meta WHERE key='format'"), AsBytesOf("custos-vault-2"));
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value=CAST('custos-vault-1' AS BLOB) WHERE key='format'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v) << v.error().ToString();
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(blob("SELECT value FROM meta WHERE key='format'"), AsBytesOf("custos-vault-2"));
  sqlite3_close(db);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = (*v)->Read(ids[i]);
    ASSERT_TRUE(d) << d.error().ToString();
    std::string all;
    for (const auto& f : d->fields) all += f.field + "=" + f.value + ";";
    EXPECT_EQ(all, before[i]);
  }
  Selection sel;
  sel.people = pks;
  sel.fields = {"姓名"};
  for (int workers : {0, 2}) {
    sel.workers = workers;
    Status st = Ok();
    auto read = ReadAllSelected(**v, sel, &st);
    ASSERT_TRUE(st) << st.error().ToString();
    ASSERT_EQ(read.size(), 2u);
  }
  const std::string new_key = dir_.File("new.key");
  auto n = (*v)->RotateKek(KeyFile(new_key));
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(n->rewrapped, 2u);
  v->reset();
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  for (int64_t pk : pks) {
    EXPECT_EQ(blob("SELECT wrapped_key FROM person WHERE pk=" + std::to_string(pk)).size(),
              crypto::KeyWrap::kV2Size);
  }
  sqlite3_close(db);
  auto rotated = Vault::Open(path_, KeyFile(new_key));
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = (*rotated)->Read(ids[i]);
    ASSERT_TRUE(d);
    std::string all;
    for (const auto& f : d->fields) all += f.field + "=" + f.value + ";";
    EXPECT_EQ(all, before[i]);
  }
}

TEST_F(VaultTest, RotateToTheSameKeyIsRefused) {
  auto st = vault_->RotateKek(KeyFile(key_));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(VaultTest, ForgetLeavesNoTrace) {
  SQLITE_FILE_TEST();
  auto ids = ImportRows(*vault_, "crm", kRows);
  // Capture the person's wrapped key and a record body before forgetting.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT wrapped_key FROM person WHERE pk=?", -1, &s, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(s, 1, *vault_->PkOf(ids[0]));
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  std::string wrapped(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                      static_cast<size_t>(sqlite3_column_bytes(s, 0)));
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT body FROM record ORDER BY id LIMIT 1", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  std::string body(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 0)));
  sqlite3_finalize(s);
  sqlite3_close(db);

  auto forgot = vault_->Forget(ids[0]);
  ASSERT_TRUE(forgot) << forgot.error().ToString();
  EXPECT_TRUE(forgot->purge.purged);
  auto gone = vault_->Read(ids[0]);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  auto again = vault_->Forget(ids[0]);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(vault_->Find(IndexKind::kResidentId, "11010519491231002X")->empty());
  EXPECT_TRUE(vault_->Read(ids[1]));
  vault_.reset();
  std::string all = custos::testing::SlurpTree(dir_.path());
  EXPECT_EQ(all.find(wrapped), std::string::npos);
  EXPECT_EQ(all.find(body.substr(6, 40)), std::string::npos);
}

TEST_F(VaultTest, ForeignPersonIdIsNotFound) {
  ImportRows(*vault_, "crm", kRows);
  auto foreign = *PersonId::FromBytes(Bytes(16, 0x5C));
  auto r = vault_->Read(foreign);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST(PersonIdTest, ParseErrors) {
  EXPECT_EQ(PersonId::Parse("abc").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(PersonId::Parse(std::string(32, 'g')).error().code(), ErrorCode::kInvalidArgument);
  auto id = *PersonId::FromBytes(Bytes(16, 0xAB));
  auto back = PersonId::Parse(id.ToString());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, id);
  EXPECT_EQ(PersonId::FromBytes(Bytes(15, 1)).error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace custos::vault

// ---- Several processes on one vault (here: two Vault objects, two
// connections, as two processes would have) ----

namespace custos::vault {
namespace {

class SharedVaultTest : public VaultTest {
 protected:
  std::unique_ptr<Vault> Second(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    OpenOptions o;
    o.lock_wait = wait;
    auto v = Vault::Open(path_, KeyFile(key_), "second", o);
    EXPECT_TRUE(v) << v.error().ToString();
    return v ? std::move(*v) : nullptr;
  }
  Status VerifyAudit(Vault& v) {
    return tlog::VerifyLog(v.store_for_testing(), v.audit().verifier_key()).map([](tlog::VerifyReport) {});
  }
  // How many audit entries of `v` have this action.
  static uint64_t CountAction(Vault& v, std::string_view action) {
    const std::string member = "\"action\":\"" + std::string(action) + "\"";
    uint64_t n = 0;
    EXPECT_TRUE(v.store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) -> Status {
      n += AsChars(d).find(member) != std::string_view::npos;
      return Ok();
    }));
    return n;
  }
};

// Regression: each process kept the audit frontier it read when it opened
// the vault, so the second to append overwrote (or collided with) the
// first's entry. Every change now re-reads it under the write lock.
TEST_F(SharedVaultTest, InterleavedChangesAllReachTheLog) {
  auto other = Second();
  ASSERT_TRUE(other);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(vault_->Record(vault_->MakeEvent("test.first")));
    ASSERT_TRUE(other->Record(other->MakeEvent("test.second")));
  }
  // An import opened before the other's records still appends after them.
  ImportRows(*other, "crm", kRows);
  ASSERT_TRUE(vault_->Record(vault_->MakeEvent("test.first")));
  auto report = tlog::VerifyLog(vault_->store_for_testing(), vault_->audit().verifier_key());
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->entries, 1u + 10u + 1u + 1u);  // init, records, import, record
  EXPECT_TRUE(VerifyAudit(*other));
}

TEST_F(SharedVaultTest, AWriterWaitsThenFailsUnavailableAndReadersCarryOn) {
  ImportRows(*vault_, "crm", kRows);
  auto other = Second(std::chrono::milliseconds(200));
  ASSERT_TRUE(other);
  auto people = other->Find(IndexKind::kResidentId, "11010519491231002X");
  ASSERT_TRUE(people);
  ASSERT_EQ(people->size(), 1u);
  // A long change in the first: an import batch holds the write lock.
  auto batch = vault_->BeginImport(Spec("more"));
  ASSERT_TRUE(batch) << batch.error().ToString();
  // The other still reads, and verifies the log...
  auto read = other->Read(people->front());
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_TRUE(VerifyAudit(*other));
  // ...but its change waits, then fails with unavailable, naming the holder.
  auto busy = other->Record(other->MakeEvent("test.busy"));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(busy.error().message().find("is busy"), std::string::npos) << busy.error().message();
  ASSERT_TRUE((*batch)->Commit(vault_->MakeEvent("import")));
  batch->reset();
  ASSERT_TRUE(other->Record(other->MakeEvent("test.after")));
  EXPECT_TRUE(VerifyAudit(*vault_));
}

TEST_F(SharedVaultTest, AKeyRotatedByAnotherProcessIsUnauthenticatedNotDataLoss) {
  auto ids = ImportRows(*vault_, "crm", kRows);
  auto other = Second();
  ASSERT_TRUE(other);
  auto rotated = other->RotateKek(KeyFile(dir_.File("new.key")));
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  auto read = vault_->Read(ids[0]);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kUnauthenticated);
  auto write = vault_->Record(vault_->MakeEvent("test.stale-key"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(write.error().message().find("rotated"), std::string::npos);
  EXPECT_TRUE(VerifyAudit(*other));
}

TEST_F(SharedVaultTest, ForgettingTheSamePersonTwiceAtOnceLogsItOnce) {
  auto ids = ImportRows(*vault_, "crm", kRows);
  auto other = Second();
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->Forget(ids[0]));
  auto second = vault_->Forget(ids[0]);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(CountAction(*vault_, "person.forget"), 1u);
}

// The refused-attempt notes are written by whoever could not open the vault:
// nothing in them is authenticated, so the log takes a count and a keyed
// hash, never their text.
TEST_F(SharedVaultTest, PlantedRefusalNotesEnterTheLogAsACountOnly) {
  SQLITE_FILE_TEST();
  vault_.reset();
  ASSERT_TRUE(NoteRefusedAttempt(path_, "mallory", "show", "wrong key or passphrase"));
  {
    std::ofstream planted(path_ + ".refused", std::ios::app);
    planted << "{\"time\":1,\"actor\":\"110105194912310021\",\"command\":\"CANARY-CMD\","
               "\"reason\":\"13812345678\"}\nnot even json 11010519491231002X\n";
  }
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(path_ + ".refused"));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".refused.folding"));
  std::string log;
  ASSERT_TRUE((*v)->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) -> Status {
    log += std::string(AsChars(d)) + "\n";
    return Ok();
  }));
  EXPECT_NE(log.find("\"vault.refused\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"attempts\":2,\"unreadable_notes\":1"), std::string::npos) << log;
  for (const char* canary : {"110105194912310021", "11010519491231002X", "13812345678",
                             "CANARY-CMD", "mallory"}) {
    EXPECT_EQ(log.find(canary), std::string::npos) << canary;
  }
  // Opened again: folded once only.
  v->reset();
  auto again = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(again);
  EXPECT_EQ(CountAction(**again, "vault.refused"), 1u);
}

// A fold whose process died after committing but before removing the
// claimed notes: the next open recognises them by their keyed hash.
TEST_F(SharedVaultTest, ClaimedNotesAlreadyFoldedAreNotFoldedTwice) {
  SQLITE_FILE_TEST();
  vault_.reset();
  ASSERT_TRUE(NoteRefusedAttempt(path_, "x", "show", "wrong key or passphrase"));
  const std::string notes = Slurp(path_ + ".refused");
  {
    auto v = Vault::Open(path_, KeyFile(key_));
    ASSERT_TRUE(v);
  }
  {
    std::ofstream claimed(path_ + ".refused.folding");
    claimed << notes;
  }
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".refused.folding"));
  EXPECT_EQ(CountAction(**v, "vault.refused"), 1u);
}

}  // namespace
}  // namespace custos::vault

namespace custos::vault {
namespace {

// A vault in PostgreSQL has no file beside it: a refused attempt is noted
// as a document of its schema, folded at the next open as a count and a
// keyed hash, and removed in the same transaction.
TEST_F(SharedVaultTest, RefusalNotesOfADatabaseVaultAreFoldedOnce) {
  if (!TestOnPostgres()) GTEST_SKIP() << "a vault in PostgreSQL";
  // Noted while another process holds the write lock (a long import): the
  // note does not wait for it.
  auto writer = Second();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->store_for_testing().Begin());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(NoteRefusedAttempt(path_, "mallory", "show", "wrong key or passphrase"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  writer->store_for_testing().Rollback();
  writer.reset();
  vault_.reset();
  ASSERT_TRUE(NoteRefusedAttempt(path_, "CANARY-ACTOR", "find", "13812345678"));
  auto v = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(v) << v.error().ToString();
  auto left = (*v)->store_for_testing().ListDocs("refused_attempt");
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  std::string log;
  ASSERT_TRUE((*v)->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) -> Status {
    log += std::string(AsChars(d)) + "\n";
    return Ok();
  }));
  EXPECT_NE(log.find("\"attempts\":2,\"unreadable_notes\":0"), std::string::npos) << log;
  for (const char* canary : {"mallory", "CANARY-ACTOR", "13812345678"}) {
    EXPECT_EQ(log.find(canary), std::string::npos) << canary;
  }
  v->reset();
  auto again = Vault::Open(path_, KeyFile(key_));
  ASSERT_TRUE(again);
  EXPECT_EQ(CountAction(**again, "vault.refused"), 1u);
  EXPECT_TRUE(VerifyAudit(**again));
}

// A copy of the vault, to a file and back: the same people,
// readable with the same key, one history in both logs, and the original
// read-only afterwards.
TEST_F(SharedVaultTest, CopyToAFileAndBackKeepsEveryoneAndOneHistory) {
  const std::vector<PersonId> imported = ImportRows(*vault_, "crm", kRows);
  ASSERT_EQ(imported.size(), 2u);
  // From the database run: to a file and back. From the file run: to
  // another file and back (the database run covers both directions).
  const std::string there = dir_.File("there.vault");
  auto report = vault_->CopyTo(there, KeyFile(key_));
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->counts.persons, 2u);
  EXPECT_EQ(report->counts.records, 3u);
  EXPECT_EQ(report->destination_audit_size, report->source_audit_size + 2);

  // The original takes no more changes, and says where the vault went.
  auto changed =
      vault_->Transact(vault_->MakeEvent("test.after"), [](tlog::Event&) { return Ok(); });
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(changed.error().message().find(there), std::string::npos) << changed.error().message();
  EXPECT_TRUE(VerifyAudit(*vault_));
  auto again = vault_->CopyTo(dir_.File("again.vault"), KeyFile(key_));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("again.vault")));

  auto copy = Vault::Open(there, KeyFile(key_));
  ASSERT_TRUE(copy) << copy.error().ToString();
  EXPECT_EQ((*copy)->IdHex(), vault_->IdHex());
  EXPECT_TRUE(VerifyAudit(**copy));
  EXPECT_EQ(CountAction(**copy, "vault.copy"), 1u);
  EXPECT_EQ(CountAction(**copy, "vault.copied"), 1u);
  EXPECT_EQ(CountAction(*vault_, "vault.copy"), 1u);
  EXPECT_EQ(CountAction(*vault_, "vault.copied"), 0u);
  // The original's log is a prefix of the copy's: every entry the same.
  std::vector<Bytes> here, copied;
  ASSERT_TRUE(vault_->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) {
    here.emplace_back(d.begin(), d.end());
    return Ok();
  }));
  ASSERT_TRUE((*copy)->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) {
    copied.emplace_back(d.begin(), d.end());
    return Ok();
  }));
  ASSERT_EQ(copied.size(), here.size() + 1);
  EXPECT_TRUE(std::equal(here.begin(), here.end(), copied.begin()));
  auto found = (*copy)->Find(IndexKind::kResidentId, "11010519491231002X");
  ASSERT_TRUE(found);
  ASSERT_EQ(*found, std::vector<PersonId>{imported[0]});
  auto person = (*copy)->Read(imported[0]);
  ASSERT_TRUE(person) << person.error().ToString();
  bool note = false;
  for (const FieldValue& f : person->fields) note |= f.value == "老客户 CANARY-NOTE-1";
  EXPECT_TRUE(note);

  // And back to this test's backend, from the copy.
  const std::string back = TestVaultLocation(dir_.File("back.vault"));
  auto home = (*copy)->CopyTo(back, KeyFile(key_));
  ASSERT_TRUE(home) << home.error().ToString();
  auto returned = Vault::Open(back, KeyFile(key_));
  ASSERT_TRUE(returned);
  EXPECT_TRUE(VerifyAudit(**returned));
  EXPECT_EQ(*(*returned)->CountPeople(), 2u);
  ASSERT_TRUE((*returned)->Transact((*returned)->MakeEvent("test.after"),
                                    [](tlog::Event&) { return Ok(); }));
}

// A copy whose source never recorded the move (the copy stopped between
// the two commits) takes no change; once the source has the move's token,
// the copy takes changes again by itself.
TEST_F(SharedVaultTest, ACopyTakesChangesOnlyOnceItsSourceRecordedTheMove) {
  ImportRows(*vault_, "crm", kRows);
  const std::string there = dir_.File("there.vault");
  ASSERT_TRUE(vault_->CopyTo(there, KeyFile(key_)));
  auto token = vault_->store_for_testing().GetMeta("move_token");
  ASSERT_TRUE(token && *token && (*token)->size() == 32);
  auto copy = Vault::Open(there, KeyFile(key_));
  ASSERT_TRUE(copy);
  auto mark = [&](const std::string& t) {
    auto& s = (*copy)->store_for_testing();
    ASSERT_TRUE(s.Begin());
    ASSERT_TRUE(s.PutMeta("copy_pending", AsBytesOf(t + "\n" + path_)));
    ASSERT_TRUE(s.Commit());
  };
  mark(std::string(32, '0'));
  auto refused = (*copy)->Transact((*copy)->MakeEvent("test.after"), [](tlog::Event&) { return Ok(); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("unfinished copy of " + path_), std::string::npos)
      << refused.error().message();
  mark(std::string(AsChars(**token)));
  ASSERT_TRUE((*copy)->Transact((*copy)->MakeEvent("test.after"), [](tlog::Event&) { return Ok(); }));
  EXPECT_TRUE((*(*copy)->store_for_testing().GetMeta("copy_pending"))->empty());
  EXPECT_TRUE(VerifyAudit(**copy));
}

// A copy onto an existing vault is refused and leaves that vault as it was.
TEST_F(SharedVaultTest, CopyOntoAnExistingVaultIsRefusedAndChangesNothing) {
  const std::string other = TestVaultLocation(dir_.File("other.vault"));
  auto made = Vault::Create(other, KeyFile(dir_.File("other.key")));
  ASSERT_TRUE(made);
  const std::string other_id = (*made)->IdHex();
  made->reset();
  auto r = vault_->CopyTo(other, KeyFile(key_));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  auto still = Vault::Open(other, KeyFile(dir_.File("other.key")));
  ASSERT_TRUE(still) << still.error().ToString();
  EXPECT_EQ((*still)->IdHex(), other_id);
  // And this vault carries on: the refused copy recorded nothing.
  EXPECT_EQ(CountAction(*vault_, "vault.copy"), 0u);
  ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.after"), [](tlog::Event&) { return Ok(); }));
}

}  // namespace
}  // namespace custos::vault
