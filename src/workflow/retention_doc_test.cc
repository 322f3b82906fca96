#include "workflow/retention_doc.h"

#include <gtest/gtest.h>

#include "workflow/destruction_doc.h"

namespace custos::workflow {
namespace {

TEST(RetentionDocTest, BindingRoundTripsWithADateOrAField) {
  BindingDoc b;
  b.rule = "tax-records";
  b.dataset = "crm";
  b.fields = {"姓名", "银行卡号"};
  b.start_date = Date{2026, 3, 1};
  b.citation = "c";
  b.catalogue_version = "2026.1";
  b.applied_at = "2026-11-27T08:00:00Z";
  b.people = 7;
  auto back = ParseBindingDoc("tax-records@crm", SerializeBindingDoc(b));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->fields, b.fields);
  ASSERT_TRUE(back->start_date);
  EXPECT_EQ(FormatIsoDate(*back->start_date), "2026-03-01");
  EXPECT_EQ(back->people, 7u);
  b.start_date.reset();
  b.start_field = "开户日期";
  back = ParseBindingDoc("tax-records@crm", SerializeBindingDoc(b));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->start_date);
  EXPECT_EQ(back->start_field, "开户日期");
}

TEST(RetentionDocTest, DamageNamesTheDocument) {
  auto no_fields = ParseBindingDoc("r@d", R"({"rule":"r","dataset":"d","start":{"field":"f"}})");
  ASSERT_FALSE(no_fields);
  EXPECT_EQ(no_fields.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(no_fields.error().message().find("retention-binding 'r@d' is damaged"),
            std::string::npos);
  auto expiry = ParseExpiry("r@d", R"({"expiry":"2026-02-30"})");
  ASSERT_FALSE(expiry);
  EXPECT_EQ(expiry.error().code(), ErrorCode::kDataLoss);
  auto newer = ParseExpiry("r@d", R"({"v":9,"expiry":"2026-02-03"})");
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code(), ErrorCode::kFailedPrecondition);
  auto catalogue = ParseStoredCatalogue(R"({"catalogue":{"format":"nope"}})");
  ASSERT_FALSE(catalogue);
  EXPECT_EQ(catalogue.error().code(), ErrorCode::kDataLoss);
}

TEST(RetentionDocTest, StoredCatalogueKeepsTheRulesAndTheirChineseCitations) {
  StoredCatalogue c{"2026-11-27T08:00:00Z", "shipped-default", policy::DefaultCatalogue()};
  auto back = ParseStoredCatalogue(SerializeStoredCatalogue(c));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->catalogue.canonical_json, c.catalogue.canonical_json);
  const policy::Rule* tax = back->catalogue.Find("tax-records");
  ASSERT_NE(tax, nullptr);
  EXPECT_EQ(policy::CitationZh(*tax), "《中华人民共和国税收征收管理法实施细则》第二十九条第二款");
  // A rule stored before citation_zh existed takes the shipped one when its
  // citation is the shipped one, and its own citation otherwise.
  policy::Rule old = *tax;
  old.citation_zh.clear();
  EXPECT_EQ(policy::CitationZh(old), tax->citation_zh);
  old.citation = "another text";
  EXPECT_EQ(policy::CitationZh(old), "another text");
}

TEST(DestructionDocTest, VersionOneBatchesAreReadWithWhatTheyRecorded) {
  const std::string v1 = R"({"id":"D1","state":"done","trigger":"branch-closure",
    "legal_basis":"PIPL Art. 47","today":"2026-11-27","approver":"a","supervisors":["b","c"],
    "executor":"e","created_at":"2026-11-27T08:00:00Z","purged_at":"2026-11-27T08:01:00Z",
    "plan":{"today":"2026-11-27","catalogue_version":"2026.1",
            "people":{"total":2,"destroyed":1,"retained":1,"rewritten":0},
            "fields_removed_from_retained":0,"datasets":[],
            "transfers":[{"id":"T1","state":"closed","receipt":"abc"}],"blockers":[]},
    "checkpoint_before":{"size":1,"note":"n"},"checkpoint_after":{"size":2,"note":"m"},
    "progress":{"chunks":1,"people_destroyed":1,"people_rewritten":0,"fields_removed":0},
    "verification":{"people_left_to_destroy":0,"fields_left_to_remove":0,
                    "wal_bytes_after_purge":0,"vacuum":true,"secure_delete":true,
                    "audit_log_verified_entries":9}})";
  auto b = ParseDestructionBatch("D1", v1);
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(b->state, DestructionState::kDone);
  ASSERT_TRUE(b->verification);
  EXPECT_EQ(b->verification->audit_entries_verified, 9u);
  EXPECT_TRUE(b->verification->scanned.empty());
  EXPECT_TRUE(b->progress.keys_destroyed.empty());
  ASSERT_EQ(b->plan.transfers.size(), 1u);
  EXPECT_EQ(b->plan.transfers[0].receipt_sha256, "abc");
  // Round trip as version 2.
  auto again = ParseDestructionBatch("D1", SerializeDestructionBatch(*b));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->verification->audit_entries_verified, 9u);
  auto bad = ParseDestructionBatch("D1", R"({"v":2,"id":"D1","state":"exploded"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
}

TEST(DestructionDocTest, MediaRoundTrip) {
  MediaDoc m;
  m.id = "HDD-1";
  m.kind = "disk";
  m.state = MediaState::kDestroyed;
  m.method = "shred";
  m.executor = "x";
  m.witnesses = {"a", "b"};
  auto back = ParseMediaDoc("HDD-1", SerializeMediaDoc(m));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->state, MediaState::kDestroyed);
  EXPECT_EQ(back->witnesses, m.witnesses);
  auto bad = ParseMediaDoc("HDD-1", R"({"id":"HDD-1","kind":"disk","state":"lost"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace custos::workflow
