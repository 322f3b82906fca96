#include "workflow/retention.h"

#include <gtest/gtest.h>

#include "base/test_util.h"
#include "workflow/import.h"
#include "workflow/people.h"
#include "workflow/test_vault.h"

namespace custos::workflow {
namespace {

using custos::testing::TempDir;
using custos::testing::WriteText;

// Three people; 开户日期 is the start field.
const char kCsv[] =
    "姓名,身份证号,手机号,电子邮箱,银行卡号,开户日期\n"
    "张三明,11010519491231002X,13812345678,zhang@example.com,6222020200112233445,2020-03-05\n"
    "李四光,,13900001111,li@example.com,6222020200112233446,2024/7/1\n"
    "王五福,,13700002222,wang@example.com,6222020200112233447,\n";

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = testing::NewVault(dir_);
    ASSERT_NE(vault_, nullptr);
    WriteText(dir_.File("a.csv"), kCsv);
    ImportOptions o;
    o.dataset = "crm";
    o.today = {2026, 11, 27};
    auto r = ImportFile(*vault_, dir_.File("a.csv"), o);
    ASSERT_TRUE(r) << r.error().ToString();
  }
  int64_t PkByMobile(const std::string& mobile) {
    auto ids = vault_->Find(vault::IndexKind::kMobile, mobile);
    EXPECT_TRUE(ids && ids->size() == 1);
    return *vault_->PkOf((*ids)[0]);
  }
  uint64_t AuditSize() { return vault_->audit().size(); }

  TempDir dir_;
  std::unique_ptr<vault::Vault> vault_;
  const Date today_{2026, 11, 27};
};

TEST_F(RetentionTest, RulesAreStoredOnFirstUseOnly) {
  uint64_t before = AuditSize();
  auto c = LoadRules(*vault_);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->version, policy::DefaultCatalogue().version);
  EXPECT_EQ(AuditSize(), before + 1);  // retention.rules
  ASSERT_TRUE(LoadRules(*vault_));
  EXPECT_EQ(AuditSize(), before + 1);
  auto doc = vault_->store_for_testing().GetDoc("retention-catalogue", "current");
  ASSERT_TRUE(doc && *doc);
  EXPECT_NE(doc->value().find(c->version), std::string::npos);
}

TEST_F(RetentionTest, EditedRulesFileReplacesTheStoredCatalogue) {
  ASSERT_TRUE(LoadRules(*vault_));
  WriteText(dir_.File("rules.json"),
            R"({"format":"custos-retention-rules","version":"local-2","rules":[{"id":"tax-records",)"
            R"("title":"t","citation":"税收征收管理法实施细则 Art. 29 ¶2","status":"V",)"
            R"("start_event":"end_of_accounting_year","period_years":10}]})");
  auto c = LoadRules(*vault_, dir_.File("rules.json"));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->version, "local-2");
  auto again = LoadRules(*vault_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version, "local-2");
  WriteText(dir_.File("bad.json"), "{\"format\":\"custos-retention-rules\"}");
  auto bad = LoadRules(*vault_, dir_.File("bad.json"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  auto missing = LoadRules(*vault_, dir_.File("missing.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(RetentionTest, ApplyStoresEachPersonsExpiry) {
  ApplyOptions a;
  a.rule = "accounting-vouchers-books";
  a.dataset = "crm";
  a.fields = {"姓名", "银行卡号"};
  a.start_field = "开户日期";
  auto r = ApplyRetention(*vault_, a, today_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->people, 3u);
  EXPECT_EQ(r->start_unknown, 1u);  // 王五福 has no date: counted from today
  EXPECT_EQ(r->earliest_expiry, "2051-01-01");
  EXPECT_EQ(r->latest_expiry, "2057-01-01");
  auto frozen = FrozenFields(*vault_, PkByMobile("13812345678"), today_);
  ASSERT_TRUE(frozen);
  ASSERT_EQ(frozen->size(), 2u);
  EXPECT_EQ((*frozen)[0].until, "2051-01-01");
  EXPECT_TRUE(*IsFrozen(*vault_, PkByMobile("13812345678"), "crm", "银行卡号", today_));
  EXPECT_FALSE(*IsFrozen(*vault_, PkByMobile("13812345678"), "crm", "手机号", today_));
  // Expired on its expiry day.
  EXPECT_FALSE(*IsFrozen(*vault_, PkByMobile("13812345678"), "crm", "银行卡号", Date{2051, 1, 1}));
}

struct BadApply {
  const char* name;
  const char* rule;
  const char* dataset;
  std::vector<std::string> fields;
  bool start_date;
  const char* start_field;
  ErrorCode code;
};

class BadApplyTest : public RetentionTest, public ::testing::WithParamInterface<BadApply> {};

TEST_P(BadApplyTest, FailsWithExactCode) {
  const BadApply& c = GetParam();
  ApplyOptions a;
  a.rule = c.rule;
  a.dataset = c.dataset;
  a.fields = c.fields;
  if (c.start_date) a.start_date = Date{2025, 1, 1};
  a.start_field = c.start_field;
  auto r = ApplyRetention(*vault_, a, today_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), c.code) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    All, BadApplyTest,
    ::testing::Values(
        BadApply{"unknown_rule", "no-such-rule", "crm", {"姓名"}, true, "", ErrorCode::kNotFound},
        BadApply{"unknown_dataset", "tax-records", "nope", {"姓名"}, true, "", ErrorCode::kNotFound},
        BadApply{"unknown_field", "tax-records", "crm", {"工资"}, true, "", ErrorCode::kInvalidArgument},
        BadApply{"no_fields", "tax-records", "crm", {}, true, "", ErrorCode::kInvalidArgument},
        BadApply{"both_starts", "tax-records", "crm", {"姓名"}, true, "开户日期", ErrorCode::kInvalidArgument},
        BadApply{"no_start", "tax-records", "crm", {"姓名"}, false, "", ErrorCode::kInvalidArgument},
        BadApply{"unknown_start_field", "tax-records", "crm", {"姓名"}, false, "日期",
                 ErrorCode::kInvalidArgument}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST_F(RetentionTest, FrozenReadNeedsALegalGroundAndIsRecorded) {
  ApplyOptions a;
  a.rule = "tax-records";
  a.dataset = "crm";
  a.fields = {"银行卡号"};
  a.start_date = Date{2025, 6, 30};
  ASSERT_TRUE(ApplyRetention(*vault_, a, today_));
  auto ids = vault_->Find(vault::IndexKind::kMobile, "13900001111");
  ASSERT_TRUE(ids && ids->size() == 1);
  uint64_t before = AuditSize();
  Status refused = CheckFrozenRead(*vault_, (*ids)[0], "", today_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(AuditSize(), before + 1);
  ASSERT_TRUE(CheckFrozenRead(*vault_, (*ids)[0], "tax audit 2027-01", today_));
  EXPECT_EQ(AuditSize(), before + 2);
  // After expiry (2036-01-01) nothing is frozen and nothing extra is recorded.
  ASSERT_TRUE(CheckFrozenRead(*vault_, (*ids)[0], "", Date{2036, 1, 1}));
  EXPECT_EQ(AuditSize(), before + 2);
}

}  // namespace
}  // namespace custos::workflow
