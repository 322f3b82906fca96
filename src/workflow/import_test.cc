#include "workflow/import.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/test_util.h"
#include "workflow/people.h"
#include "workflow/sample.h"
#include "workflow/test_vault.h"

namespace custos::workflow {
namespace {

using custos::testing::TempDir;
using custos::testing::WriteText;

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = testing::NewVault(dir_);
    ASSERT_NE(vault_, nullptr);
  }
  ImportOptions Options(const std::string& name) {
    ImportOptions o;
    o.dataset = name;
    o.today = {2026, 11, 27};
    return o;
  }
  TempDir dir_;
  std::unique_ptr<vault::Vault> vault_;
};

TEST_F(ImportTest, GroupsByIdThenByMobileAndName) {
  std::string csv =
      "\xEF\xBB\xBF姓名,身份证号,手机号,备注\r\n"
      "张三明,11010519491231002X,13812345678,a\r\n"
      "张三明,11010519491231002X,13812345678,b\r\n"   // same ID: same person
      "李四,,13900001111,c\r\n"
      "李四,,139 0000 1111,d\r\n"                     // same mobile + name
      "王五,,13900001111,e\r\n";                      // same mobile, other name
  WriteText(dir_.File("a.csv"), csv);
  auto r = ImportFile(*vault_, dir_.File("a.csv"), Options("crm"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->rows, 5u);
  EXPECT_EQ(r->people, 3u);
  EXPECT_EQ(r->new_people, 3u);
  ASSERT_EQ(r->columns.size(), 4u);
  EXPECT_EQ(r->columns[1].type, detect::PiiType::kCnResidentId);
  EXPECT_TRUE(r->columns[1].sensitive);
  EXPECT_EQ(r->encoding, "utf-8");

  PersonSelector by_id;
  by_id.id_number = "11010519491231002x";  // lower-case x still finds them
  auto p = ResolvePerson(*vault_, by_id);
  ASSERT_TRUE(p) << p.error().ToString();
  auto d = vault_->Read(*p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->fields.size(), 8u);

  PersonSelector by_mobile;
  by_mobile.mobile = "+86 139-0000-1111";
  auto many = ResolvePerson(*vault_, by_mobile);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(ImportTest, SecondDatasetJoinsExistingPeople) {
  WriteText(dir_.File("a.csv"), "姓名,身份证号\n张三明,11010519491231002X\n");
  WriteText(dir_.File("b.csv"), "身份证号,余额\n11010519491231002X,5.00\n44030519900101123X,1\n");
  ASSERT_TRUE(ImportFile(*vault_, dir_.File("a.csv"), Options("a")));
  auto r = ImportFile(*vault_, dir_.File("b.csv"), Options("b"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->people, 2u);
  EXPECT_EQ(r->new_people, 1u);
  EXPECT_EQ(*vault_->CountPeople(), 2u);
}

// The file's hash, computed beside the import, is in the report and stored
// with the dataset; a missing file is named.
TEST_F(ImportTest, RecordsTheFileSha256WithTheDataset) {
  WriteText(dir_.File("a.csv"), "姓名,身份证号\n张三明,11010519491231002X\n");
  const std::string want = "c8460234a120a9c8ea9cdd37fe0e54754796c6458af08b9c12d9f1de54b73bba";
  auto r = ImportFile(*vault_, dir_.File("a.csv"), Options("a"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->sha256, want);
  auto datasets = vault_->store_for_testing().ListDatasets();
  ASSERT_TRUE(datasets);
  ASSERT_EQ(datasets->size(), 1u);
  EXPECT_EQ((*datasets)[0].source_sha256, want);

  auto missing = ImportFile(*vault_, dir_.File("nowhere.csv"), Options("b"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nowhere.csv"), std::string::npos);
}

TEST_F(ImportTest, ADatasetNameTakenByAnotherFileIsRefused) {
  WriteText(dir_.File("a.csv"), "姓名,身份证号\n张三明,11010519491231002X\n");
  WriteText(dir_.File("b.csv"), "姓名,身份证号\n李四,44030519900101123X\n");
  ASSERT_TRUE(ImportFile(*vault_, dir_.File("a.csv"), Options("a")));
  auto again = ImportFile(*vault_, dir_.File("b.csv"), Options("a"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().message().find("another file"), std::string::npos);
}

// A second run of an import that completed (the first was killed after its
// commit, say) changes nothing and says so.
TEST_F(ImportTest, TheSameFileIntoItsOwnDatasetAgainIsAlreadyImported) {
  WriteText(dir_.File("a.csv"), "姓名,身份证号\n张三明,11010519491231002X\n李四,44030519900101123X\n");
  auto first = ImportFile(*vault_, dir_.File("a.csv"), Options("a"));
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->already_imported);
  const uint64_t entries = vault_->audit().size();
  auto again = ImportFile(*vault_, dir_.File("a.csv"), Options("a"));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again->already_imported);
  EXPECT_EQ(again->rows, 2u);
  EXPECT_EQ(again->people, 2u);
  EXPECT_EQ(again->sha256, first->sha256);
  EXPECT_EQ(*vault_->CountPeople(), 2u);
  EXPECT_EQ(vault_->audit().size(), entries);  // nothing recorded: nothing happened
}

TEST_F(ImportTest, HeaderOnlyFileIsRefused) {
  WriteText(dir_.File("h.csv"), "姓名,身份证号\r\n");
  auto r = ImportFile(*vault_, dir_.File("h.csv"), Options("h"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("h.csv"), std::string::npos);
}

TEST_F(ImportTest, FileWithoutHeaderIsRefusedWithoutEchoingIt) {
  WriteText(dir_.File("nh.csv"), "张三明,11010519491231002X,13812345678\n李四,44030519900101123X,13900001111\n");
  auto r = ImportFile(*vault_, dir_.File("nh.csv"), Options("nh"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("column 2"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find("11010519491231002X"), std::string::npos);
  EXPECT_EQ(*vault_->CountPeople(), 0u);
}

TEST_F(ImportTest, BadRowLeavesNothingImported) {
  std::string csv = "姓名,身份证号\n";
  for (int i = 0; i < 3000; ++i) csv += "张三明,11010519491231002X\n";
  csv += "李四,1,extra\n";  // ragged row after the classification sample
  WriteText(dir_.File("bad.csv"), csv);
  auto r = ImportFile(*vault_, dir_.File("bad.csv"), Options("bad"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("3002"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find("李四"), std::string::npos);
  EXPECT_EQ(*vault_->CountPeople(), 0u);
  EXPECT_TRUE(vault_->store_for_testing().ListDatasets()->empty());
}

TEST_F(ImportTest, SampleImportsWithEveryPersonFindable) {
  std::ostringstream out;
  SampleOptions so;
  so.rows = 500;
  so.seed = 3;
  so.today = {2026, 11, 27};
  ASSERT_TRUE(WriteSampleCsv(so, out));
  WriteText(dir_.File("s.csv"), out.str());
  auto r = ImportFile(*vault_, dir_.File("s.csv"), Options("crm"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->rows, 500u);
  EXPECT_LT(r->people, 500u);  // some people are on two rows
  EXPECT_GT(r->people, 450u);
  std::map<std::string, detect::PiiType> want = {
      {"姓名", detect::PiiType::kPersonName},   {"身份证号", detect::PiiType::kCnResidentId},
      {"手机号", detect::PiiType::kCnMobile},   {"固定电话", detect::PiiType::kCnLandline},
      {"电子邮箱", detect::PiiType::kEmail},    {"银行卡号", detect::PiiType::kBankCard},
      {"联系地址", detect::PiiType::kAddress},  {"开户日期", detect::PiiType::kDate},
      {"账户余额", detect::PiiType::kAmount},   {"备注", detect::PiiType::kFreeText},
      {"客户编号", detect::PiiType::kOther},    {"性别", detect::PiiType::kOther},
      {"开户行", detect::PiiType::kOther},      {"风险等级", detect::PiiType::kOther}};
  for (const auto& c : r->columns) {
    auto it = want.find(c.name);
    if (it == want.end()) continue;
    EXPECT_EQ(detect::PiiTypeName(c.type), detect::PiiTypeName(it->second)) << c.name;
  }
}

}  // namespace
}  // namespace custos::workflow
