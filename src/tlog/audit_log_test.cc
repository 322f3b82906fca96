#include "tlog/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "base/test_util.h"

namespace custos::tlog {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("a.db");
    store_ = std::move(*store::CreateSqliteStore(path_));
    auto seed = crypto::SecretBytes::CopyOf(Bytes(32, 9));
    signer_.emplace(*crypto::Signer::FromSeed(seed));
    log_ = std::move(*AuditLog::Open(*store_, "custos.vault/test", *signer_));
  }
  // Appends n entries in one transaction with a checkpoint.
  void AppendBatch(int n, const std::string& action = "test.action") {
    ASSERT_TRUE(store_->Begin());
    for (int i = 0; i < n; ++i) {
      Event e;
      e.actor = "tester";
      e.action = action;
      e.objects = {{"i", i}};
      ASSERT_TRUE(log_->Append(e));
    }
    ASSERT_TRUE(log_->SignCheckpoint());
    ASSERT_TRUE(store_->Commit());
  }
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  Status Verify() { return VerifyLog(*store_, log_->verifier_key()).map([](VerifyReport) {}); }

  custos::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Store> store_;
  std::optional<crypto::Signer> signer_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, EntriesAreCanonicalAndParse) {
  Event e;
  e.actor = "张经理";
  e.action = "import";
  e.purpose = "";
  e.objects = {{"dataset", "crm"}, {"rows", 3}};
  std::string s = EncodeEntry(5, 0, e);
  EXPECT_EQ(s,
            "{\"v\":2,\"seq\":5,\"time\":\"1970-01-01T00:00:00Z\",\"actor\":\"张经理\","
            "\"via\":\"key\",\"action\":\"import\",\"purpose\":\"\",\"objects\":{\"dataset\":\"crm\",\"rows\":3},"
            "\"result\":\"ok\"}");
  auto parsed = ParseEntry(s);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->seq, 5u);
  EXPECT_EQ(parsed->event.actor, "张经理");
  EXPECT_EQ(parsed->event.via, "key");
  // Version 1 entries (before `via`) still parse, as key-holder entries.
  auto v1 = ParseEntry(
      "{\"v\":1,\"seq\":5,\"time\":\"1970-01-01T00:00:00Z\",\"actor\":\"a\",\"action\":\"import\","
      "\"purpose\":\"\",\"objects\":{},\"result\":\"ok\"}");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->event.via, "key");
  e.via = "password+totp";
  EXPECT_NE(EncodeEntry(5, 0, e).find("\"actor\":\"张经理\",\"via\":\"password+totp\","),
            std::string::npos);
  for (std::string bad : {std::string("{}"), s.substr(0, s.size() - 1), " " + s,
                          std::string("{\"seq\":5,\"v\":1}")}) {
    auto r = ParseEntry(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  }
}

TEST_F(AuditLogTest, StoredTreeMatchesRecomputedRootAndProves) {
  AppendBatch(3);
  AppendBatch(1);
  AppendBatch(10);
  ASSERT_EQ(log_->size(), 14u);
  auto report = VerifyLog(*store_, log_->verifier_key());
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->entries, 14u);
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(*log_->RootAt(14), report->root);
  for (uint64_t size : {1u, 4u, 13u, 14u}) {
    for (uint64_t i = 0; i < size; ++i) {
      auto p = log_->ProveInclusion(i, size);
      ASSERT_TRUE(p);
      ASSERT_TRUE(VerifyInclusion(i, size, p->leaf_hash, p->path, p->root));
    }
  }
  auto c = log_->ProveConsistency(4, 14);
  ASSERT_TRUE(c);
  EXPECT_TRUE(VerifyConsistency(4, 14, *log_->RootAt(4), *log_->RootAt(14), *c));
  // Reopening loads the same frontier.
  auto again = AuditLog::Open(*store_, "custos.vault/test", *signer_);
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->RootAt(14), report->root);
}

TEST_F(AuditLogTest, RollbackThenReloadKeepsTheTreeConsistent) {
  AppendBatch(2);
  ASSERT_TRUE(store_->Begin());
  Event e;
  e.action = "lost";
  ASSERT_TRUE(log_->Append(e));
  store_->Rollback();
  ASSERT_TRUE(log_->Reload());
  EXPECT_EQ(log_->size(), 2u);
  AppendBatch(1);
  EXPECT_TRUE(Verify());
}

// One test per kind of tampering, each detected and named.
TEST_F(AuditLogTest, EditedEntryIsNamed) {
  AppendBatch(5);
  Exec("UPDATE audit_entry SET data=replace(data,'\"i\":2','\"i\":7') WHERE seq=2");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().message().find("audit entry 2"), std::string::npos) << st.error().message();
}

TEST_F(AuditLogTest, EditedEntryAndLeafHashIsCaughtByTheCheckpoint) {
  AppendBatch(3);
  AppendBatch(3);
  Exec("UPDATE audit_entry SET data=replace(data,'\"i\":1','\"i\":8') WHERE seq=4");
  Exec("DELETE FROM audit_node WHERE level=0 AND idx=4");
  // Put back a leaf hash matching the edited entry, as a careful forger would.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT data FROM audit_entry WHERE seq=4", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  Hash h = LeafHash(ByteSpan(static_cast<const uint8_t*>(sqlite3_column_blob(s, 0)),
                             static_cast<size_t>(sqlite3_column_bytes(s, 0))));
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "INSERT INTO audit_node(level,idx,hash) VALUES(0,4,?)", -1, &s, nullptr);
  sqlite3_bind_blob(s, 1, h.data(), 32, SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("entries 3 to 5"), std::string::npos) << st.error().message();
}

TEST_F(AuditLogTest, DeletedEntryIsNamed) {
  AppendBatch(5);
  Exec("DELETE FROM audit_entry WHERE seq=3");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("position 3"), std::string::npos) << st.error().message();
}

TEST_F(AuditLogTest, SwappedEntriesAreNamed) {
  AppendBatch(5);
  Exec("UPDATE audit_entry SET seq=-1 WHERE seq=1; UPDATE audit_entry SET seq=1 WHERE seq=2;"
       "UPDATE audit_entry SET seq=2 WHERE seq=-1;");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("audit entry 1 says it is entry 2"), std::string::npos)
      << st.error().message();
}

TEST_F(AuditLogTest, TruncatedTailIsNamed) {
  AppendBatch(5);
  Exec("DELETE FROM audit_entry WHERE seq>=3");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("removed from the end"), std::string::npos)
      << st.error().message();
}

TEST_F(AuditLogTest, ReplacedCheckpointIsNamed) {
  AppendBatch(2);
  AppendBatch(2);
  // A checkpoint signed by another key replaces the first one.
  auto seed = crypto::SecretBytes::CopyOf(Bytes(32, 1));
  auto forger = *crypto::Signer::FromSeed(seed);
  std::string note = SignNote(FormatCheckpoint({"custos.vault/test", 2, *log_->RootAt(2)}),
                              "custos.vault/test", forger);
  Exec("UPDATE audit_checkpoint SET note='" + note + "' WHERE size=2");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("checkpoint at size 2"), std::string::npos)
      << st.error().message();
}

// Regression: entries appended without a checkpoint (by someone without the
// signing key) used to verify.
TEST_F(AuditLogTest, EntriesPastTheLastCheckpointAreNamed) {
  AppendBatch(3);
  ASSERT_TRUE(store_->Begin());
  Event e;
  e.action = "forged";
  ASSERT_TRUE(log_->Append(e));
  ASSERT_TRUE(log_->Append(e));
  ASSERT_TRUE(store_->Commit());
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().message().find("audit entries 3 to 4 are not covered"), std::string::npos)
      << st.error().message();
}

TEST_F(AuditLogTest, NoCheckpointAtAllIsNamed) {
  AppendBatch(2);
  Exec("DELETE FROM audit_checkpoint");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("audit entries 0 to 1 are not covered"), std::string::npos)
      << st.error().message();
}

// Regression: a damaged stored tree (which appends and proofs build on)
// verified as long as the entries were intact.
TEST_F(AuditLogTest, DamagedStoredTreeIsNamed) {
  AppendBatch(6);  // stored complete subtrees at size 6: (level 2, 0..3), (level 1, 4..5)
  Exec("UPDATE audit_node SET hash=zeroblob(32) WHERE level=1 AND idx=2");
  auto st = Verify();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().message().find("level 1, entries 4 to 5"), std::string::npos)
      << st.error().message();
}

TEST_F(AuditLogTest, EntryFormIsCheckedStrictly) {
  Event e;
  e.actor = "a b";  // whitespace inside strings is the string's
  e.purpose = "line\nbreak";
  std::string s = EncodeEntry(0, 0, e);
  ASSERT_TRUE(ParseEntry(s)) << s;
  const std::string good = s;
  for (std::string bad : {
           std::string("{\"v\":2, \"seq\":0}"),                       // whitespace between tokens
           std::string("{\"v\":2.0") + good.substr(6),                  // version not an integer
           std::string("{\"v\":3") + good.substr(6),                    // unknown version
           std::string("{\"v\":1") + good.substr(6),                    // v1 has no "via"
           std::string("{\"v\":0") + good.substr(6),                    // no version 0
           std::string("{\"v\":2,\"seq\":-1") + good.substr(good.find(",\"time\"")),
           good.substr(0, good.size() - 1) + ",\"extra\":1}",           // unknown member
           std::string("[") + good + "]",                              // not an object
           good + "\n",                                                // trailing newline
           std::string("{\"v\":2,\"seq\":0,\"time\":\"\xff\"") + good.substr(good.find(",\"actor\"")),
           good.substr(0, good.find(",\"via\"")) + ",\"via\":7" + good.substr(good.find(",\"action\"")),
       }) {
    auto r = ParseEntry(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << bad;
  }
}

TEST_F(AuditLogTest, RefusesToSignInconsistentCheckpoint) {
  AppendBatch(4);
  Exec("UPDATE audit_node SET hash=zeroblob(32) WHERE level=2 AND idx=0");
  ASSERT_TRUE(log_->Reload());
  ASSERT_TRUE(store_->Begin());
  Event e;
  e.action = "x";
  ASSERT_TRUE(log_->Append(e));
  auto st = log_->SignCheckpoint();
  store_->Rollback();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
}

TEST_F(AuditLogTest, ExportVerifiesLikeAnOutsideAuditor) {
  AppendBatch(6);
  std::string entries;
  ASSERT_TRUE(store_->ForEachAuditEntry(0, [&](uint64_t, ByteSpan d) -> Status {
    entries.append(AsChars(d));
    entries.push_back('\n');
    return Ok();
  }));
  auto cp = *store_->LatestCheckpoint();
  ASSERT_TRUE(cp);
  auto r = VerifyExport(cp->note, entries, log_->verifier_key());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->entries, 6u);
  auto truncated = VerifyExport(cp->note, entries.substr(0, entries.size() - 1), log_->verifier_key());
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace custos::tlog

// ---- Repair of a log an older defect broke ----

namespace custos::tlog {
namespace {

class AuditRepairTest : public AuditLogTest {
 protected:
  Result<AuditLog::RepairReport> Repair(bool dry_run = false) {
    RETURN_IF_ERROR(store_->Begin());
    Event base;
    base.actor = "custodian";
    auto r = log_->Repair(base, dry_run);
    if (!r || dry_run) {
      store_->Rollback();
      (void)log_->Reload();
      return r;
    }
    RETURN_IF_ERROR(store_->Commit());
    return r;
  }
  uint64_t Checkpoints() { return store_->ListCheckpoints()->size(); }
};

// What two processes did before each re-read the log under the write lock:
// one overwrote the other's entry at the same position.
TEST_F(AuditRepairTest, AnOverwrittenEntryIsRecordedAndTheTreeRederived) {
  AppendBatch(3);
  Event other;
  other.actor = "second-process";
  other.action = "person.read_clear";
  Exec("UPDATE audit_entry SET data='" + EncodeEntry(2, 1700000000, other) + "' WHERE seq=2");
  ASSERT_FALSE(Verify());
  auto dry = Repair(/*dry_run=*/true);
  ASSERT_TRUE(dry) << dry.error().ToString();
  EXPECT_TRUE(dry->changed());
  EXPECT_FALSE(dry->repair_entry);
  ASSERT_FALSE(Verify());  // a dry run wrote nothing
  auto r = Repair();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->entries, 3u);
  EXPECT_EQ(r->entries_changed, std::vector<uint64_t>{2});
  EXPECT_EQ(r->entries_changed_count, 1u);
  EXPECT_GE(r->nodes_rewritten, 1u);
  ASSERT_EQ(r->retired.size(), 1u);
  EXPECT_EQ(r->retired[0].size, 3u);
  EXPECT_EQ(r->retired[0].root.size(), 64u);
  ASSERT_TRUE(r->repair_entry);
  EXPECT_EQ(*r->repair_entry, 3u);
  // Verifies now, and says it was repaired.
  auto v = VerifyLog(*store_, log_->verifier_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->entries, 4u);
  EXPECT_EQ(v->repairs, std::vector<uint64_t>{3});
  // The repair entry names what it retired and what changed; the retired
  // checkpoint is kept verbatim.
  std::string repair_entry;
  ASSERT_TRUE(store_->ForEachAuditEntry(3, [&](uint64_t, ByteSpan d) -> Status {
    repair_entry = std::string(AsChars(d));
    return Ok();
  }));
  auto parsed = ParseEntry(repair_entry);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->event.action, "audit.repair");
  EXPECT_EQ(parsed->event.objects["entries_changed_after_logging"], nlohmann::json::array({2}));
  EXPECT_EQ(parsed->event.objects["retired_checkpoints"][0]["size"], 3);
  auto kept = store_->ListDocs("audit.retired_checkpoint");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_NE(kept->front().second.find("custos.vault/test"), std::string::npos);
  // The log goes on.
  AppendBatch(2);
  EXPECT_TRUE(Verify());
  // A second repair finds nothing.
  auto again = Repair();
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(again->changed());
  EXPECT_FALSE(again->repair_entry);
}

TEST_F(AuditRepairTest, EntriesLostFromTheEndAreRecordedAsLost) {
  AppendBatch(5);
  Exec("DELETE FROM audit_entry WHERE seq>=3");
  auto r = Repair();
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->retired.size(), 1u);
  EXPECT_NE(r->retired[0].reason.find("are lost"), std::string::npos) << r->retired[0].reason;
  EXPECT_GE(r->nodes_removed, 2u);  // the leaves of entries 3 and 4 at least
  EXPECT_TRUE(Verify());
  AppendBatch(3);  // appends at 4.. without colliding with stale nodes
  EXPECT_TRUE(Verify());
}

TEST_F(AuditRepairTest, AGapOrAMalformedEntryIsRefusedAndNothingChanges) {
  AppendBatch(5);
  Exec("DELETE FROM audit_entry WHERE seq=2");
  auto gap = Repair();
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(gap.error().message().find("audit entry 2 is missing"), std::string::npos)
      << gap.error().message();
  EXPECT_EQ(Checkpoints(), 1u);
  Exec("INSERT INTO audit_entry(seq,data) VALUES(2,'not json')");
  auto bad = Repair();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(bad.error().message().find("audit entry 2 cannot be repaired"), std::string::npos)
      << bad.error().message();
  EXPECT_EQ(Checkpoints(), 1u);
}

TEST_F(AuditRepairTest, AHealthyLogIsLeftAlone) {
  AppendBatch(4);
  AppendBatch(3);
  auto r = Repair();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(r->changed());
  EXPECT_EQ(r->entries, 7u);
  EXPECT_EQ(log_->size(), 7u);
  EXPECT_EQ(Checkpoints(), 2u);
}

}  // namespace
}  // namespace custos::tlog
