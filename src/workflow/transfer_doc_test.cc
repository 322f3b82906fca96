#include "workflow/transfer_doc.h"

#include <gtest/gtest.h>

namespace custos::workflow {
namespace {

TEST(TransferDocTest, RoundTripsEveryMember) {
  TransferDoc d;
  d.plan.id = "T1";
  d.plan.recipient = "ho";
  d.plan.mode = TransferMode::kArt23;
  d.plan.purpose = "继续提供账户服务";
  d.plan.method = "电子化";
  d.plan.fields = {"姓名", "手机号"};
  d.plan.dataset = "crm";
  d.plan.approved_by = "CPO";
  d.plan.processor_name = "分公司";
  d.plan.processor_contact = "010";
  d.plan.contract = {{"scope", "x"}, {"retention", "五年"}};
  d.state = TransferState::kPackaged;
  d.created_at = "2026-12-01T00:00:00Z";
  d.notices.push_back({"2026-12-01T01:00:00Z", "sms", 10, 2, std::string(64, 'a')});
  PackageRecord p;
  p.manifest_sha256 = std::string(64, 'b');
  p.created_at = "2026-12-02T00:00:00Z";
  p.people = 8;
  p.records = 9;
  p.withheld_frozen = {{"手机号", 1}};
  p.damaged = {{"卡号", 2}};
  p.out = "/x/T1.tar";
  d.package = p;
  auto back = ParseTransferDoc("T1", SerializeTransferDoc(d));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(SerializeTransferDoc(*back), SerializeTransferDoc(d));
  EXPECT_EQ(back->state, TransferState::kPackaged);
  EXPECT_EQ(back->plan.mode, TransferMode::kArt23);
  EXPECT_EQ(back->package->damaged.at("卡号"), 2u);
}

struct BadCase {
  const char* name;
  const char* body;
  ErrorCode code;
  const char* says;
};

class TransferDocBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(TransferDocBadTest, IsRefusedNamingTheDocument) {
  const BadCase& c = GetParam();
  auto r = ParseTransferDoc("T9", c.body);
  ASSERT_FALSE(r) << c.name;
  EXPECT_EQ(r.error().code(), c.code) << c.name;
  EXPECT_NE(r.error().message().find("transfer 'T9'"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find(c.says), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TransferDocBadTest,
    ::testing::Values(
        BadCase{"NotJson", "{", ErrorCode::kDataLoss, "not a JSON object"},
        BadCase{"NoState",
                R"({"id":"T9","recipient":"r","mode":"art22","purpose":"p","contract":{}})",
                ErrorCode::kDataLoss, "no state"},
        BadCase{"UnknownState",
                R"({"id":"T9","recipient":"r","mode":"art22","purpose":"p","state":"lost"})",
                ErrorCode::kDataLoss, "unknown mode or state"},
        BadCase{"FieldsNotStrings",
                R"({"id":"T9","recipient":"r","mode":"art22","purpose":"p","state":"planned","fields":[1]})",
                ErrorCode::kDataLoss, "fields holds a non-string"},
        BadCase{"PackagedWithoutPackage",
                R"({"id":"T9","recipient":"r","mode":"art22","purpose":"p","state":"packaged"})",
                ErrorCode::kDataLoss, "without its package"},
        BadCase{"NewerVersion", R"({"v":2})", ErrorCode::kFailedPrecondition, "newer version"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });

TEST(TransferDocTest, DocumentsWithoutAVersionAreVersionOne) {
  auto r = ParseTransferDoc(
      "T1", R"({"id":"T1","recipient":"r","mode":"head-office","purpose":"p","state":"noticed"})");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->state, TransferState::kNoticed);
}

TEST(TransferDocTest, PersonDocuments) {
  ResponseDoc resp;
  resp.response = Response::kWithdraw;
  resp.time = "2026-12-01T02:00:00Z";
  resp.guardian_consent = true;
  resp.line = 7;
  resp.evidence_sealed = "AAAA";
  auto back = ParseResponseDoc(SerializeResponseDoc(resp));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->response, Response::kWithdraw);
  EXPECT_EQ(back->evidence_sealed, "AAAA");
  EXPECT_EQ(ParseResponseWord(" 反对 "), Response::kObject);
  EXPECT_EQ(ParseResponseWord("CONSENT"), Response::kConsent);
  EXPECT_FALSE(ParseResponseWord("maybe"));
  auto bad = ParseResponseDoc(R"({"response":"maybe","time":"x"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
  auto set = IncludedSet::Of({1, 2, 3, 7, 9, 10});
  auto again = IncludedSet::FromDoc("T1", set.ToDoc("abc"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->people(), 6u);
  EXPECT_TRUE(again->Contains(7));
  EXPECT_FALSE(again->Contains(8));
  auto legacy = ParseLegacyIncludedDoc("T1", R"({"manifest_sha256":"abc"})");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->manifest_sha256, "abc");
  auto damaged = ParseLegacyIncludedDoc("T1", R"({"manifest":"abc"})");
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(damaged.error().message().find("transfer.included 'T1'"), std::string::npos);
}

}  // namespace
}  // namespace custos::workflow
