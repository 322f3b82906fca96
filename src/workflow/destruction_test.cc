#include "workflow/destruction.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/test_util.h"
#include "package/sshsig.h"
#include "store/pg_test_cluster.h"
#include "tlog/audit_log.h"
#include "vault/record_codec.h"
#include "vault/test_v1_keys.h"
#include "workflow/deregister.h"
#include "workflow/import.h"
#include "workflow/retention.h"
#include "workflow/transfer_doc.h"

namespace custos::workflow {
namespace {

using custos::testing::Slurp;
using custos::testing::TempDir;
using custos::testing::TestOnPostgres;
using custos::testing::WriteText;
using json = nlohmann::ordered_json;

struct Person {
  const char* name;
  const char* id;
  const char* mobile;
  const char* email;
  const char* card;
};

// 0 and 1 are retained (bank card and name, tax rule); the rest are destroyed.
const Person kPeople[] = {
    {"张三明", "11010519491231002X", "13812345678", "zhang@example.com", "6222020200112233445"},
    {"李四光", "", "13900001111", "li@example.com", "6222020200112233446"},
    {"王五福", "", "13700002222", "wang@example.com", "6222020200112233447"},
    {"赵六顺", "", "13600003333", "zhao@example.com", "6222020200112233448"},
    {"钱七喜", "", "13500004444", "qian@example.com", "6222020200112233449"},
    {"孙八达", "", "13400005555", "sun@example.com", "6222020200112233440"},
};
constexpr size_t kRetained = 2;

class DestructionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("vault"));
    Open(true);
  }
  void Open(bool create) {
    vault_.reset();
    vault::KeySource k;
    k.key_file = dir_.File("k.key");
    auto v = create ? vault::Vault::Create(Path(), k) : vault::Vault::Open(Path(), k);
    ASSERT_TRUE(v) << v.error().ToString();
    vault_ = std::move(*v);
    if (!create) return;
    std::string csv = "姓名,身份证号,手机号,电子邮箱,银行卡号\n";
    for (const auto& p : kPeople) {
      csv += std::string(p.name) + "," + p.id + "," + p.mobile + "," + p.email + "," + p.card + "\n";
    }
    WriteText(dir_.File("a.csv"), csv);
    ImportOptions o;
    o.dataset = "crm";
    o.today = today_;
    ASSERT_TRUE(ImportFile(*vault_, dir_.File("a.csv"), o));
  }
  std::string Path() const {
    return custos::testing::TestVaultLocation(dir_.File("vault/v.vault"));
  }
  int64_t Pk(size_t i) {
    auto ids = vault_->Find(vault::IndexKind::kMobile, kPeople[i].mobile);
    EXPECT_TRUE(ids && ids->size() == 1);
    return *vault_->PkOf((*ids)[0]);
  }
  void Retain() {
    ApplyOptions a;
    a.rule = "tax-records";
    a.dataset = "crm";
    a.fields = {"姓名", "银行卡号"};
    a.start_date = Date{2026, 3, 1};
    // Only people 0 and 1: bind, then drop the others' expiries.
    ASSERT_TRUE(ApplyRetention(*vault_, a, today_));
    ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.narrow"), [&](tlog::Event&) -> Status {
      for (size_t i = kRetained; i < std::size(kPeople); ++i) {
        int64_t pk = Pk(i);
        auto body = vault_->store_for_testing().GetPersonDoc("retention", "tax-records@crm", pk);
        if (!body || !*body) return Fail(Internal("no expiry"));
        // Rewrite to an expired date instead of deleting: expired retention.
        RETURN_IF_ERROR(vault_->store_for_testing().PutPersonDoc("retention", "tax-records@crm", pk,
                                                     R"({"expiry":"2020-01-01"})"));
      }
      return Ok();
    }));
  }
  // A transfer document in `state`, written through its codec.
  void PutTransfer(const std::string& id, TransferMode mode, TransferState state) {
    TransferDoc doc;
    doc.plan.id = id;
    doc.plan.recipient = "hq";
    doc.plan.mode = mode;
    doc.plan.purpose = "branch closure";
    doc.plan.method = "package";
    doc.plan.fields = {"姓名"};
    doc.plan.dataset = "crm";
    doc.plan.approved_by = "Head Wang";
    doc.state = state;
    doc.created_at = "2026-11-20T08:00:00Z";
    if (state >= TransferState::kPackaged) {
      doc.package = PackageRecord{};
      doc.package->manifest_sha256 = std::string(64, 'a');
    }
    if (state == TransferState::kClosed) {
      doc.closed_at = "2026-11-25T08:00:00Z";
      doc.receipt_sha256 = std::string(64, 'b');
    }
    ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.transfer"), [&](tlog::Event&) {
      return vault_->PutDoc(kTransferKind, id, SerializeTransferDoc(doc));
    }));
  }
  ExecuteOptions Exec() {
    ExecuteOptions e;
    e.approver = "Head Wang";
    e.supervisors = {"Archivist Li", "Accountant Zhou"};
    e.today = today_;
    e.chunk_people = 2;
    return e;
  }
  // What the vault's storage holds: its files, or a dump of its database
  // (where a bytea is hex: Contains looks for that too).
  std::string VaultBytes() {
    if (TestOnPostgres()) return custos::testing::PgDump(Path());
    std::string all;
    for (const auto& f : vault_->store_for_testing().Files()) all += Slurp(f);
    for (const char* extra : {".refused", "-journal"}) all += Slurp(Path() + extra);
    return all;
  }
  bool Contains(const std::string& hay, ByteSpan needle) {
    return hay.find(std::string(AsChars(needle))) != std::string::npos ||
           (TestOnPostgres() && hay.find(HexEncode(needle)) != std::string::npos);
  }

  TempDir dir_;
  std::unique_ptr<vault::Vault> vault_;
  const Date today_{2026, 11, 27};
};

TEST_F(DestructionTest, PlanCountsPerDatasetAndField) {
  Retain();
  auto p = PlanDestruction(*vault_, today_);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->people_total, 6u);
  EXPECT_EQ(p->people_destroyed, 4u);
  EXPECT_EQ(p->people_retained, 2u);
  EXPECT_EQ(p->people_rewritten, 2u);
  EXPECT_TRUE(p->blockers.empty());
  const json ds = PlanToJson(p->snapshot)["datasets"][0];
  EXPECT_EQ(ds["people"]["destroyed"], 4);
  for (const auto& f : ds["fields"]) {
    bool kept = f["field"] == "姓名" || f["field"] == "银行卡号";
    EXPECT_EQ(f["retained_people"], kept ? 2 : 0) << f.dump();
    EXPECT_EQ(f["destroyed_people"], kept ? 4 : 6) << f.dump();
    if (kept) {
      EXPECT_EQ(f["retained_by"][0]["until"], "2037-01-01");
    }
  }
}

TEST_F(DestructionTest, OpenTransferBlocks) {
  PutTransfer("T1", TransferMode::kHeadOffice, TransferState::kPackaged);
  auto p = PlanDestruction(*vault_, today_);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->blockers.size(), 1u);
  EXPECT_EQ(p->blockers[0].kind, BlockerKind::kTransferOpen);
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
  PutTransfer("T1", TransferMode::kHeadOffice, TransferState::kClosed);
  EXPECT_TRUE(ExecuteDestruction(*vault_, Exec()));
}

struct BadSignatories {
  const char* name;
  const char* approver;
  std::vector<std::string> supervisors;
};
class BadSignatoriesTest : public DestructionTest,
                           public ::testing::WithParamInterface<BadSignatories> {};
TEST_P(BadSignatoriesTest, IsInvalidArgument) {
  ExecuteOptions e = Exec();
  e.approver = GetParam().approver;
  e.supervisors = GetParam().supervisors;
  auto r = ExecuteDestruction(*vault_, e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*vault_->CountPeople(), 6u);
}
INSTANTIATE_TEST_SUITE_P(
    All, BadSignatoriesTest,
    ::testing::Values(BadSignatories{"no_approver", "", {"a", "b"}},
                      BadSignatories{"one_supervisor", "h", {"a"}},
                      BadSignatories{"three_supervisors", "h", {"a", "b", "c"}},
                      BadSignatories{"same_supervisor", "h", {"a", "a"}},
                      BadSignatories{"approver_supervises", "h", {"h", "b"}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

// Per-person chunks (the default for small batches) and the bulk path.
class NoTraceTest : public DestructionTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(NoTraceTest, LeavesNoTraceOfDestroyedDataAndKeepsFrozenFields) {
  const uint64_t bulk_min_people = GetParam();
  Retain();
  // Capture what must disappear: wrapped keys and record bodies of the
  // destroyed, and the ciphertext of each destroyed field of the retained.
  std::vector<Bytes> gone;
  std::vector<int64_t> retained_pks = {Pk(0), Pk(1)};
  for (size_t i = 0; i < std::size(kPeople); ++i) {
    int64_t pk = Pk(i);
    auto row = vault_->store_for_testing().GetPerson(pk);
    ASSERT_TRUE(row && *row);
    auto recs = vault_->store_for_testing().RecordsOf(pk);
    ASSERT_TRUE(recs);
    if (i >= kRetained) {
      gone.push_back((*row)->wrapped_key);
      for (auto& r : *recs) gone.push_back(r.body);
    } else {
      for (auto& r : *recs) {
        // Keep only the destroyed fields: 身份证号, 手机号, 电子邮箱.
        std::vector<bool> drop = {true, false, false, false, true};
        uint32_t n = 0;
        auto only = vault::DropRecordFields(r.body, drop, &n);
        ASSERT_TRUE(only);
        // Field entries start after the header (6 + 8 or 20 prefix + 2 count).
        size_t header = 6 + ((*only)[1] == 2 ? 20 : 8) + 2;
        ASSERT_GT(only->size(), header + 16);
        gone.push_back(Bytes(only->begin() + static_cast<std::ptrdiff_t>(header), only->end()));
      }
    }
  }
  ASSERT_TRUE(vault_->store_for_testing().PurgeResidue(false));
  std::string before = VaultBytes();
  for (const auto& g : gone) ASSERT_TRUE(Contains(before, g));

  ExecuteOptions e = Exec();
  e.bulk_min_people = bulk_min_people;
  auto r = ExecuteDestruction(*vault_, e);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->people_destroyed, 4u);
  EXPECT_EQ(r->people_rewritten, 2u);
  EXPECT_EQ(r->fields_removed, 2u * 2u + 1u);  // 张: ID, mobile, email; 李: mobile, email
  vault_.reset();
  Open(false);
  std::string after = TestOnPostgres() ? VaultBytes() : "";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.File("vault"))) {
    if (entry.is_regular_file()) after += Slurp(entry.path().string());
  }
  for (const auto& g : gone) EXPECT_FALSE(Contains(after, g));
  for (const auto& p : kPeople) {
    for (const char* v : {p.name, p.id, p.mobile, p.email, p.card}) {
      if (*v) {
        EXPECT_EQ(after.find(v), std::string::npos) << v;
      }
    }
  }
  EXPECT_EQ(*vault_->CountPeople(), kRetained);
  // The retained keep exactly the frozen fields, readable with a legal ground.
  for (size_t i = 0; i < kRetained; ++i) {
    vault::PersonId id = vault_->IdOf(retained_pks[i]);
    Status no_ground = CheckFrozenRead(*vault_, id, "", today_);
    ASSERT_FALSE(no_ground);
    EXPECT_EQ(no_ground.error().code(), ErrorCode::kPermissionDenied);
    ASSERT_TRUE(CheckFrozenRead(*vault_, id, "tax audit", today_));
    auto d = vault_->Read(id);
    ASSERT_TRUE(d) << d.error().ToString();
    ASSERT_EQ(d->fields.size(), 2u);
    EXPECT_EQ(d->fields[0].field, "姓名");
    EXPECT_EQ(d->fields[0].value, kPeople[i].name);
    EXPECT_EQ(d->fields[1].field, "银行卡号");
    EXPECT_EQ(d->fields[1].value, kPeople[i].card);
  }
  auto verified = tlog::VerifyLog(vault_->store_for_testing(), vault_->audit().verifier_key());
  EXPECT_TRUE(verified) << verified.error().ToString();
  auto again = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_done);
  EXPECT_EQ(again->id, r->id);
}

INSTANTIATE_TEST_SUITE_P(PerPersonAndBulk, NoTraceTest, ::testing::Values(100000u, 1u));

// A crash after each committed step: the re-run finishes the same batch and
// reaches the same final state as an uninterrupted run.
class InterruptTest : public DestructionTest, public ::testing::WithParamInterface<int> {};

TEST_P(InterruptTest, ReRunFinishesTheBatch) {
  Retain();
  ExecuteOptions e = Exec();
  int steps = 0;
  e.fault = [&](std::string_view) -> Status {
    if (++steps == GetParam()) return Fail(Unavailable("simulated crash"));
    return Ok();
  };
  auto first = ExecuteDestruction(*vault_, e);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  vault_.reset();
  Open(false);
  auto second = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(*vault_->CountPeople(), kRetained);
  auto batches = ListDestructions(*vault_);
  ASSERT_TRUE(batches);
  ASSERT_EQ(batches->size(), 1u);
  const DestructionBatch& batch = (*batches)[0];
  EXPECT_EQ(batch.state, DestructionState::kDone);
  EXPECT_EQ(batch.progress.people_destroyed, 4u);
  EXPECT_EQ(batch.progress.people_rewritten, 2u);
  EXPECT_EQ(batch.progress.fields_removed, 5u);
  // Every destroyed key counted once, whichever run destroyed it.
  EXPECT_EQ(batch.progress.keys_destroyed, (std::map<std::string, uint64_t>{{"AES-256-GCM", 4}}));
  auto verified = tlog::VerifyLog(vault_->store_for_testing(), vault_->audit().verifier_key());
  EXPECT_TRUE(verified) << verified.error().ToString();
  // destroy.chunk entries add up to the batch's counts.
  uint64_t destroyed = 0;
  ASSERT_TRUE(vault_->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan data) -> Status {
    auto entry = tlog::ParseEntry(AsChars(data));
    if (entry && entry->event.action == "destroy.chunk") {
      destroyed += entry->event.objects["people_destroyed"].get<uint64_t>();
    }
    return Ok();
  }));
  EXPECT_EQ(destroyed, 4u);
}

// Steps: planned, chunk 1..3 (4 destroyed + 2 rewritten, 2 per chunk), purged.
INSTANTIATE_TEST_SUITE_P(EveryStep, InterruptTest, ::testing::Range(1, 6));

TEST_F(DestructionTest, CertificateIsSignedCountsAgreeAndHoldsNoPersonalData) {
  Retain();
  auto plan = PlanDestruction(*vault_, today_);
  ASSERT_TRUE(plan);
  auto not_yet = IssueCertificate(*vault_, "", dir_.File("cert"), "zh");
  ASSERT_FALSE(not_yet);
  EXPECT_EQ(not_yet.error().code(), ErrorCode::kNotFound);
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(r);
  auto bad_lang = IssueCertificate(*vault_, r->id, dir_.File("cert"), "fr");
  ASSERT_FALSE(bad_lang);
  EXPECT_EQ(bad_lang.error().code(), ErrorCode::kInvalidArgument);
  auto c = IssueCertificate(*vault_, r->id, dir_.File("cert"), "zh");
  ASSERT_TRUE(c) << c.error().ToString();
  std::string text = Slurp(c->json_path);
  std::string sig = Slurp(c->sig_path);
  std::string html = Slurp(c->html_path);
  EXPECT_TRUE(package::SshSigVerify(sig, vault_->signer().public_key(), kCertificateNamespace,
                                    AsBytes(text)));
  auto wrong_ns = package::SshSigVerify(sig, vault_->signer().public_key(), "custos-receipt", AsBytes(text));
  ASSERT_FALSE(wrong_ns);
  EXPECT_EQ(wrong_ns.error().code(), ErrorCode::kDataLoss);
  json cert = json::parse(text);
  EXPECT_EQ(cert["destruction"], r->id);
  EXPECT_EQ(cert["people"]["destroyed"], plan->people_destroyed);
  EXPECT_EQ(cert["data"][0]["people"], plan->snapshot.datasets[0].people_destroyed);
  EXPECT_EQ(cert["supervisors"].size(), 2u);
  EXPECT_EQ(cert["retained"].size(), 2u);
  for (const auto& p : kPeople) {
    for (const char* v : {p.name, p.id, p.mobile, p.email, p.card}) {
      if (*v == 0) continue;
      EXPECT_EQ(text.find(v), std::string::npos) << v;
      EXPECT_EQ(html.find(v), std::string::npos) << v;
    }
  }
  EXPECT_NE(html.find("个人信息销毁记录"), std::string::npos);
  EXPECT_NE(html.find("size: A4"), std::string::npos);
  // With stock OpenSSH, when present.
  if (std::system("command -v ssh-keygen >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ssh-keygen";
  WriteText(dir_.File("allowed"), "custos " + cert["signing_key"].get<std::string>() + "\n");
  std::string cmd = "ssh-keygen -Y verify -f " + dir_.File("allowed") +
                    " -I custos -n custos-certificate -s " + c->sig_path + " < " + c->json_path +
                    " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST_F(DestructionTest, DeregisterCheckPassesOnlyAfterTheLastStep) {
  auto blockers = [&]() {
    auto r = CheckDeregistration(*vault_, today_);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->blockers.size() : 99u;
  };
  MediaRecord m;
  m.id = "HDD-001";
  m.kind = "disk";
  ASSERT_TRUE(RegisterMedia(*vault_, m));
  auto dup = RegisterMedia(*vault_, m);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  PutTransfer("T1", TransferMode::kArt23, TransferState::kNoticed);
  // Unresolved people, open transfer, its consents, medium, no destruction.
  EXPECT_EQ(blockers(), 5u);
  PutTransfer("T1", TransferMode::kArt23, TransferState::kClosed);
  EXPECT_EQ(blockers(), 3u);
  Retain();
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(r);
  // In PostgreSQL, also the cluster's WAL and the database's backups: the
  // owner's to delete and record.
  const size_t database_copies = TestOnPostgres() ? 2 : 0;
  EXPECT_EQ(blockers(), 2u + database_copies);  // medium, certificate
  m.method = "shred";
  m.executor = "Vendor staff";
  m.witnesses = {"Archivist Li", "Archivist Li"};
  auto same = RecordMediaDestruction(*vault_, m);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code(), ErrorCode::kInvalidArgument);
  m.witnesses = {"Archivist Li", "Accountant Zhou"};
  m.vendor_certificate = "C-9";
  auto no_vendor = RecordMediaDestruction(*vault_, m);
  ASSERT_FALSE(no_vendor);
  EXPECT_EQ(no_vendor.error().code(), ErrorCode::kInvalidArgument);
  m.vendor = "Shredders Ltd";
  ASSERT_TRUE(RecordMediaDestruction(*vault_, m));
  auto twice = RecordMediaDestruction(*vault_, m);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(blockers(), 1u + database_copies);
  ASSERT_TRUE(IssueCertificate(*vault_, "", dir_.File("cert"), "en"));
  EXPECT_EQ(blockers(), database_copies);
  for (const char* copy : {"-wal", "-backup"}) {
    if (!TestOnPostgres()) break;
    MediaRecord d;
    d.id = r->id + copy;
    d.kind = copy == std::string("-wal") ? "database-wal" : "database-backup";
    d.method = "delete";
    d.executor = "DBA Wang";
    d.witnesses = {"Archivist Li", "Accountant Zhou"};
    ASSERT_TRUE(RecordMediaDestruction(*vault_, d));
  }
  EXPECT_EQ(blockers(), 0u);
}

}  // namespace
}  // namespace custos::workflow

namespace custos::workflow {
namespace {

TEST_F(DestructionTest, UnansweredArt23ConsentsBlockBothCommands) {
  PutTransfer("T2", TransferMode::kArt23, TransferState::kNoticed);
  ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.response"), [&](tlog::Event&) {
    ResponseDoc consent;
    consent.response = Response::kConsent;
    consent.time = "2026-11-21T08:00:00Z";
    return vault_->PutPersonDoc(kResponseKind, "T2", Pk(0), SerializeResponseDoc(consent));
  }));
  const std::string want = "transfer T2: 5 separate-consent requests (PIPL Art. 23) are unanswered";
  auto plan = PlanDestruction(*vault_, today_);
  ASSERT_TRUE(plan) << plan.error().ToString();
  auto r = CheckDeregistration(*vault_, today_);
  ASSERT_TRUE(r) << r.error().ToString();
  for (const auto* list : {&plan->blockers, &r->blockers}) {
    bool found = false;
    for (const auto& b : *list) {
      found = found || (b.kind == BlockerKind::kConsentUnanswered && b.what == want);
    }
    EXPECT_TRUE(found);
  }
}

}  // namespace
}  // namespace custos::workflow

namespace custos::workflow {
namespace {

// Tokens of a page's text outside its tags, code and preformatted blocks.
std::vector<std::string> VisibleTokens(std::string html) {
  for (const char* block : {"code", "pre", "style", "title"}) {
    const std::string open = std::string("<") + block, close = std::string("</") + block + ">";
    for (size_t at; (at = html.find(open)) != std::string::npos;) {
      const size_t end = html.find(close, at);
      html.erase(at, end == std::string::npos ? std::string::npos : end + close.size() - at);
    }
  }
  std::string text;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
      text += ' ';
    }
    if (!in_tag) text += c;
    if (c == '>') in_tag = false;
  }
  std::vector<std::string> tokens;
  std::string t;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      t += c;
    } else if (!t.empty()) {
      tokens.push_back(t);
      t.clear();
    }
  }
  return tokens;
}

void CollectKeys(const json& j, std::set<std::string>& keys) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      keys.insert(k);
      CollectKeys(v, keys);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectKeys(v, keys);
  }
}

TEST_F(DestructionTest, ChineseCertificateIsChineseThroughoutAndEnglishIsComplete) {
  Retain();
  ExecuteOptions e = Exec();
  e.approver = "王主任";
  e.supervisors = {"李档案", "周会计"};
  auto r = ExecuteDestruction(*vault_, e);
  ASSERT_TRUE(r) << r.error().ToString();
  MediaRecord m;
  m.id = "HDD-001";
  m.kind = "disk";
  m.method = "shred";
  m.executor = "张师傅";
  m.witnesses = {"李档案", "周会计"};
  ASSERT_TRUE(RecordMediaDestruction(*vault_, m));
  auto zh = IssueCertificate(*vault_, r->id, dir_.File("zh"), "zh");
  ASSERT_TRUE(zh) << zh.error().ToString();
  const json cert = json::parse(Slurp(zh->json_path));
  std::set<std::string> keys;
  CollectKeys(cert, keys);
  const std::string html = Slurp(zh->html_path);
  // Data and proper names that stay as they are: ids, algorithm and file
  // names, dates, rule ids.
  std::set<std::string> allowed = {"AES-256-GCM", "XChaCha20-Poly1305", "SHA-256", "UTC", "crm",
                                   "HDD-001", "tax-records", "v.vault", "v.vault-wal",
                                   "v.vault-shm", "2026.1", r->id,
                                   // product and file names in the verification note
                                   "OpenSSH", "SSHSIG", "certificate.json",
                                   // the executor: the vault's actor, as opened here
                                   "unknown"};
  if (TestOnPostgres()) {
    // The database's names: product, schema, statements, the command, the
    // media ids of the cluster's copies.
    for (const char* t :
         {"PostgreSQL", "custos", "VACUUM", "FULL", "WAL", "Custos", "media", "record"}) {
      allowed.insert(t);
    }
    allowed.insert(r->id + "-wal");
    allowed.insert(r->id + "-backup");
  }
  for (const std::string& t : VisibleTokens(html)) {
    if (allowed.count(t) || std::all_of(t.begin(), t.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        })) {
      continue;
    }
    if (t.size() == 3 && t.back() == 'Z' && std::isdigit(static_cast<unsigned char>(t[0]))) continue;  // seconds of a time
    if (t.find_first_of("0123456789") != std::string::npos && t.find('T') != std::string::npos) continue;  // times
    ADD_FAILURE() << "English or a member name in the zh certificate: '" << t << "'";
  }
  for (const char* phrase :
       {"第四十七条第一款第（二）项", "《中华人民共和国税收征收管理法实施细则》第二十九条第二款",
        "密码学擦除", "硬盘", "粉碎", "AES-256-GCM 封装：4 个"}) {
    EXPECT_NE(html.find(phrase), std::string::npos) << phrase;
  }
  // What the purge checked: the file's residue scan, or what a database
  // leaves to its owner.
  for (const char* phrase : TestOnPostgres()
                                ? std::vector<const char*>{"Custos 之外的副本", "须由其所有者删除",
                                                           "未执行：数据库的文件属于数据库服务器"}
                                : std::vector<const char*>{"找到 0 个"}) {
    EXPECT_NE(html.find(phrase), std::string::npos) << phrase;
  }
  EXPECT_TRUE(keys.count("field_encryption"));  // the check above did look at member names
  auto en = IssueCertificate(*vault_, r->id, dir_.File("en"), "en");
  ASSERT_TRUE(en) << en.error().ToString();
  const std::string en_html = Slurp(en->html_path);
  for (const char* phrase :
       {"PIPL (Personal Information Protection Law of the PRC) Art. 47 ¶1 (2)",
        "No retention rule of catalogue version 2026.1", "cryptographic erasure",
        "AES-256-GCM wrapped: 4", "hard disk", "shredded", "Supervisor",
        TestOnPostgres() ? "their owner must delete them" : "found 0"}) {
    EXPECT_NE(en_html.find(phrase), std::string::npos) << phrase;
  }
  for (const char* zh_label : {"销毁", "保存", "监销人", "密钥"}) {
    EXPECT_EQ(en_html.find(zh_label), std::string::npos) << zh_label;
  }
}

TEST_F(DestructionTest, CertificateNamesTheKeyWrappingOfTheKeysDestroyed) {
  if (TestOnPostgres()) GTEST_SKIP() << "the residue scan of a vault file: SQLite only";
  // Two of the people to destroy hold keys wrapped the version 1 way.
  std::vector<std::pair<int64_t, vault::PersonId>> old_keys;
  for (size_t i : {2u, 3u}) old_keys.emplace_back(Pk(i), vault_->IdOf(Pk(i)));
  vault_.reset();
  vault::testing::RewrapKeysToV1(Path(), dir_.File("k.key"), old_keys);
  if (HasFatalFailure()) return;
  Open(false);
  Retain();
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(r) << r.error().ToString();
  auto c = IssueCertificate(*vault_, r->id, dir_.File("cert"), "zh");
  ASSERT_TRUE(c) << c.error().ToString();
  const json cert = json::parse(Slurp(c->json_path));
  EXPECT_EQ(cert["method"]["keys_destroyed"],
            (json{{"AES-256-GCM", 2}, {"XChaCha20-Poly1305", 2}}));
  EXPECT_EQ(cert["method"]["field_encryption"],
            std::string(crypto::FieldSuiteName(vault_->field_suite())));
  const std::string html = Slurp(c->html_path);
  EXPECT_NE(html.find("XChaCha20-Poly1305 封装：2 个"), std::string::npos);
  // What the purge read back and scanned.
  const json& v = cert["verification"];
  EXPECT_EQ(v["secure_delete"], true);
  EXPECT_EQ(v["journal_mode"], "wal");
  EXPECT_EQ(v["vacuumed"], true);
  EXPECT_EQ(v["wal_bytes_after"], 0);
  EXPECT_EQ(v["residue_scan"]["keys_looked_for"], 4);
  EXPECT_EQ(v["residue_scan"]["keys_destroyed"], 4);
  EXPECT_EQ(v["residue_scan"]["keys_found"], 0);
  ASSERT_FALSE(v["residue_scan"]["files"].empty());
  EXPECT_EQ(v["residue_scan"]["files"][0]["file"], "v.vault");
  EXPECT_GT(v["residue_scan"]["files"][0]["bytes"].get<uint64_t>(), 0u);
}

TEST_F(DestructionTest, ResidueOfADestroyedKeyStopsTheBatch) {
  if (TestOnPostgres()) GTEST_SKIP() << "the residue scan of a vault file: SQLite only";
  Retain();
  // A copy of a destroyed person's wrapped key left somewhere in the vault
  // (here: a workflow document), which crypto-shredding does not reach.
  auto row = vault_->store_for_testing().GetPerson(Pk(5));
  ASSERT_TRUE(row && *row);
  const Bytes key = (*row)->wrapped_key;
  ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.copy"), [&](tlog::Event&) {
    return vault_->PutDoc("test.copy", "k", std::string(AsChars(key)));
  }));
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.error().message().find("the residue scan found 1 of 4 destroyed keys"), std::string::npos)
      << r.error().message();
  auto batches = ListDestructions(*vault_);
  ASSERT_TRUE(batches);
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].state, DestructionState::kExecuting);
  EXPECT_FALSE(IssueCertificate(*vault_, "", dir_.File("cert"), "zh"));
}

// Each state that blocks: `destroy plan` names it when it blocks
// destruction, and `deregister check` names it, from the same documents.
struct BlockingState {
  const char* name;
  BlockerKind kind;
  bool blocks_destruction;
};
class BlockingStateTest : public DestructionTest,
                          public ::testing::WithParamInterface<BlockingState> {
 protected:
  // Sets up the state; everything else is resolved.
  void SetUpState() {
    const BlockerKind kind = GetParam().kind;
    if (kind != BlockerKind::kPeopleUnresolved) Retain();
    if (kind == BlockerKind::kTransferOpen) {
      PutTransfer("T1", TransferMode::kHeadOffice, TransferState::kPackaged);
    } else if (kind == BlockerKind::kConsentUnanswered) {
      PutTransfer("T1", TransferMode::kArt23, TransferState::kNoticed);
    }
    const bool destroy = kind != BlockerKind::kNoDestruction && kind != BlockerKind::kTransferOpen &&
                         kind != BlockerKind::kConsentUnanswered;
    if (destroy) {
      ExecuteOptions e = Exec();
      if (kind == BlockerKind::kDestructionUnfinished) {
        e.fault = [](std::string_view step) -> Status {
          return step == "chunk" ? Fail(Unavailable("stopped")) : Ok();
        };
      }
      (void)ExecuteDestruction(*vault_, e);
    }
    if (kind == BlockerKind::kPeopleUnresolved) {
      // People imported after the destruction, neither retained nor destroyed.
      WriteText(dir_.File("b.csv"), "姓名,手机号\n吴九,13300006666\n");
      ImportOptions o;
      o.dataset = "late";
      o.today = today_;
      ASSERT_TRUE(ImportFile(*vault_, dir_.File("b.csv"), o));
    }
    if (kind == BlockerKind::kFieldsUnretained) {
      // A retained person who keeps a name under a second rule, while the
      // binding of their bank card expires: the card must now go.
      ApplyOptions a;
      a.rule = "accounting-vouchers-books";
      a.dataset = "crm";
      a.fields = {"姓名"};
      a.start_date = Date{2026, 3, 1};
      ASSERT_TRUE(ApplyRetention(*vault_, a, today_));
      ASSERT_TRUE(vault_->Transact(vault_->MakeEvent("test.bind"), [&](tlog::Event&) {
        return vault_->PutPersonDoc("retention", "tax-records@crm", Pk(0), R"({"expiry":"2020-01-01"})");
      }));
    }
    if (kind == BlockerKind::kMediumNotDestroyed) {
      MediaRecord m;
      m.id = "TAPE-9";
      m.kind = "tape";
      ASSERT_TRUE(RegisterMedia(*vault_, m));
    }
    if (kind != BlockerKind::kNoCertificate && kind != BlockerKind::kNoDestruction &&
        kind != BlockerKind::kDestructionUnfinished && destroy) {
      ASSERT_TRUE(IssueCertificate(*vault_, "", dir_.File("cert"), "en"));
    }
  }
};

TEST_P(BlockingStateTest, BothCommandsNameIt) {
  SetUpState();
  if (HasFatalFailure()) return;
  const BlockingState& s = GetParam();
  auto plan = PlanDestruction(*vault_, today_);
  ASSERT_TRUE(plan) << plan.error().ToString();
  auto dereg = CheckDeregistration(*vault_, today_);
  ASSERT_TRUE(dereg) << dereg.error().ToString();
  auto has = [&](const std::vector<Blocker>& list) {
    return std::any_of(list.begin(), list.end(), [&](const Blocker& b) { return b.kind == s.kind; });
  };
  EXPECT_TRUE(has(dereg->blockers)) << s.name;
  EXPECT_EQ(has(plan->blockers), s.blocks_destruction) << s.name;
  // The plan's blockers are exactly what deregistration reports of them.
  for (const Blocker& b : plan->blockers) {
    EXPECT_TRUE(std::any_of(dereg->blockers.begin(), dereg->blockers.end(), [&](const Blocker& d) {
      return d.kind == b.kind && d.what == b.what;
    })) << b.what;
  }
  const json j = PlanToJson(plan->snapshot);
  bool in_json = false;
  for (const auto& b : j["blockers"]) in_json = in_json || b["kind"] == std::string(BlockerKindName(s.kind));
  EXPECT_EQ(in_json, s.blocks_destruction);
}

INSTANTIATE_TEST_SUITE_P(
    All, BlockingStateTest,
    ::testing::Values(BlockingState{"transfer_open", BlockerKind::kTransferOpen, true},
                      BlockingState{"consent_unanswered", BlockerKind::kConsentUnanswered, true},
                      BlockingState{"destruction_unfinished", BlockerKind::kDestructionUnfinished, false},
                      BlockingState{"people_unresolved", BlockerKind::kPeopleUnresolved, false},
                      BlockingState{"fields_unretained", BlockerKind::kFieldsUnretained, false},
                      BlockingState{"medium_not_destroyed", BlockerKind::kMediumNotDestroyed, false},
                      BlockingState{"no_destruction", BlockerKind::kNoDestruction, false},
                      BlockingState{"no_certificate", BlockerKind::kNoCertificate, false}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace custos::workflow

namespace custos::workflow {
namespace {

// A vault in PostgreSQL: the purge rewrites the tables, runs no file scan,
// and states what only the database's owner can delete, as two media that
// the certificate lists with their state.
TEST_F(DestructionTest, DatabaseVaultCertificateStatesWhatOnlyTheOwnerCanDelete) {
  if (!TestOnPostgres()) GTEST_SKIP() << "a vault in PostgreSQL";
  Retain();
  auto r = ExecuteDestruction(*vault_, Exec());
  ASSERT_TRUE(r) << r.error().ToString();
  auto c = IssueCertificate(*vault_, r->id, dir_.File("cert"), "en");
  ASSERT_TRUE(c) << c.error().ToString();
  const json cert = json::parse(Slurp(c->json_path));
  const json& v = cert["verification"];
  EXPECT_EQ(v["store"], "postgresql");
  EXPECT_EQ(v["vacuumed"], true);
  EXPECT_EQ(v["people_left"], 0);
  EXPECT_EQ(v["residue_scan"]["files"], json::array());
  EXPECT_EQ(v["residue_scan"]["keys_looked_for"], 0);
  EXPECT_EQ(v["outside_custos"], (json{r->id + "-wal", r->id + "-backup"}));
  ASSERT_EQ(cert["outside_custos"].size(), 2u);
  EXPECT_EQ(cert["outside_custos"][0]["kind"], "database-wal");
  EXPECT_EQ(cert["outside_custos"][0]["state"], "registered");
  const std::string html = Slurp(c->html_path);
  EXPECT_NE(html.find("not run: the database's files belong to its server"), std::string::npos);
  EXPECT_NE(html.find(r->id + "-wal (database WAL and archives): not yet recorded"),
            std::string::npos);
  // Recorded by the owner: the next certificate says so.
  MediaRecord d;
  d.id = r->id + "-wal";
  d.kind = "database-wal";
  d.method = "delete";
  d.executor = "DBA Wang";
  d.witnesses = {"Archivist Li", "Accountant Zhou"};
  ASSERT_TRUE(RecordMediaDestruction(*vault_, d));
  auto again = IssueCertificate(*vault_, r->id, dir_.File("cert2"), "en");
  ASSERT_TRUE(again) << again.error().ToString();
  const json cert2 = json::parse(Slurp(again->json_path));
  EXPECT_EQ(cert2["outside_custos"][0]["state"], "destroyed");
  EXPECT_EQ(cert2["outside_custos"][1]["state"], "registered");
  // The destroyed people's ciphertext is in no table.
  EXPECT_EQ(*vault_->CountPeople(), kRetained);
}

}  // namespace
}  // namespace custos::workflow
