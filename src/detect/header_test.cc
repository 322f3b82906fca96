#include "detect/header.h"

#include <gtest/gtest.h>

namespace custos::detect {
namespace {

const Date kToday{2026, 12, 1};

struct RowCase {
  const char* name;
  std::vector<std::string> cells;
  bool data;
  std::vector<bool> passes;  // when !data
};

class HeaderRowTest : public ::testing::TestWithParam<RowCase> {};

TEST_P(HeaderRowTest, JudgesTheRow) {
  const RowCase& c = GetParam();
  const HeaderVerdict v = JudgeHeaderRow(c.cells, kToday);
  EXPECT_EQ(v.row_is_data, c.data) << c.name;
  if (c.data) {
    EXPECT_TRUE(v.data_column.has_value());
    for (size_t i = 0; i < c.cells.size(); ++i) {
      EXPECT_FALSE(v.passes[i]) << c.name << " cell " << i;
      EXPECT_EQ(ColumnNameFor(v, c.cells, i), "column_" + std::to_string(i + 1));
    }
  } else {
    EXPECT_EQ(v.passes, c.passes) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, HeaderRowTest,
    ::testing::Values(
        RowCase{"ChineseCrmHeader",
                {"客户编号", "姓名", "性别", "身份证号", "手机号", "银行卡号", "开户行", "联系地址",
                 "开户日期", "账户余额", "客户经理", "风险等级", "备注"},
                false,
                {true, true, true, true, true, true, true, true, true, true, true, true, true}},
        RowCase{"EnglishHeader", {"name", "mobile", "id_no", "balance"}, false,
                {true, true, true, true}},
        // The file: no ID, mobile or e-mail column, and no header.
        RowCase{"HeaderlessWithoutIdentifierColumns",
                {"张伟", "男", "6222021234567890128", "北京市朝阳区建国路88号1单元101室", "1200.50"},
                true,
                {}},
        RowCase{"HeaderlessNameGenderAmount", {"王芳", "女", "3500.00"}, true, {}},
        RowCase{"HeaderlessWithAnIdNumber", {"11010519491231002X", "客户"}, true, {}},
        RowCase{"ALongDigitRun", {"姓名", "账号", "000123456789"}, true, {}},
        // One cell that reads as a name in an otherwise plain header: that
        // cell is not shown, the others are.
        RowCase{"OneNameLikeCell", {"客户编号", "张伟", "开户日期"}, false, {true, false, true}},
        RowCase{"ASmallNumberIsAHeaderOfItsOwn", {"姓名", "2023"}, false, {true, false}}),
    [](const ::testing::TestParamInfo<RowCase>& p) { return std::string(p.param.name); });

TEST(ColumnNames, DuplicatesAreRefusedNamingBothPositions) {
  const std::vector<std::string> names = {"姓名", "手机号", "姓名"};
  const HeaderVerdict v = JudgeHeaderRow(names, kToday);
  auto st = CheckDistinctColumnNames(names, v, "a.csv");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message(),
            "a.csv: columns 1 and 3 have the same name '姓名'; give every column a name of its own");
  // A duplicate that is a value is named by position only.
  const std::vector<std::string> values = {"张伟", "客户", "张伟"};
  const HeaderVerdict dv = JudgeHeaderRow(values, kToday);
  auto hidden = CheckDistinctColumnNames(values, dv, "b.csv");
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().message().find("张伟"), std::string::npos) << hidden.error().message();
  EXPECT_TRUE(CheckDistinctColumnNames({"a", "b"}, JudgeHeaderRow({"a", "b"}, kToday), "c.csv"));
}

}  // namespace
}  // namespace custos::detect
