#include "detect/classify.h"

#include <gtest/gtest.h>

namespace custos::detect {
namespace {

const Date kToday{2026, 11, 27};

struct Case {
  const char* name;
  const char* header;
  std::vector<std::string> values;
  PiiType want;
};

class ClassifyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyTest, TypesTheColumn) {
  const Case& c = GetParam();
  ColumnClassifier cl({c.header}, kToday);
  for (const auto& v : c.values) cl.Observe({v});
  auto g = cl.Guess();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(PiiTypeName(g[0].type), PiiTypeName(c.want)) << c.name;
  EXPECT_EQ(g[0].sensitive, IsSensitiveType(c.want));
  EXPECT_GT(g[0].confidence, 0.0);
  EXPECT_LE(g[0].confidence, 1.0);
}

const std::vector<std::string> kIds = {"11010519491231002X", "44030519900101123X",
                                       "110101200501010017", "11010519491231002X"};

INSTANTIATE_TEST_SUITE_P(
    Columns, ClassifyTest,
    ::testing::Values(
        Case{"IdByHeader", "身份证号", kIds, PiiType::kCnResidentId},
        Case{"IdMeaninglessHeader", "字段7", kIds, PiiType::kCnResidentId},
        Case{"IdMisleadingHeader", "备注", kIds, PiiType::kCnResidentId},
        Case{"IdDestroyedByExcel", "证件号码", {"1.10105E+17", "4.40305E+17", "11010519491231002X"},
             PiiType::kCnResidentId},
        Case{"Mobile", "手机号", {"13812345678", "+86 139 0000 1111", "15900001111"},
             PiiType::kCnMobile},
        Case{"MobileNoHeader", "c3", {"13812345678", "13900001111", "15900001111"},
             PiiType::kCnMobile},
        Case{"Landline", "固定电话", {"010-62345678", "(0755)8888 8888", ""}, PiiType::kCnLandline},
        Case{"Email", "Email", {"a@qq.com", "b.c@163.com", "x_y@gmail.com"}, PiiType::kEmail},
        Case{"EmailNoHeader", "col", {"a@qq.com", "b.c@163.com", "x_y@gmail.com"}, PiiType::kEmail},
        Case{"Name", "姓名", {"张三", "欧阳娜娜", "李四光"}, PiiType::kPersonName},
        Case{"NameNoHeader", "x", {"张三", "欧阳娜娜", "李四光", "王五"}, PiiType::kPersonName},
        Case{"Address", "联系地址", {"北京市朝阳区建国路88号", "广东省深圳市南山区科技园1栋"},
             PiiType::kAddress},
        Case{"Uscc", "统一社会信用代码", {"91350100M000100Y43", "91440300708461136T"},
             PiiType::kUscc},
        Case{"Date", "开户日期", {"2019-03-04", "2020/1/5", "2021年3月4日"}, PiiType::kDate},
        Case{"Amount", "账户余额", {"12345.67", "0.00", "-5.5", "1,000.00"}, PiiType::kAmount},
        Case{"Notes", "备注", {"老客户，偏好理财产品", "", "已电话联系确认地址无误，下次回访"},
             PiiType::kFreeText},
        Case{"CustomerCode", "客户编号", {"KH00012345", "KH00012346", "KH00012347"},
             PiiType::kOther},
        Case{"Gender", "性别", {"男", "女", "男"}, PiiType::kOther},
        Case{"BankName", "开户行", {"中国工商银行北京分行", "招商银行上海市分行"}, PiiType::kOther},
        Case{"RiskLevel", "风险等级", {"R1", "R3", "R5"}, PiiType::kOther},
        Case{"EmptyColumnUsesHeader", "手机号码", {"", ""}, PiiType::kCnMobile}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(HeaderHintTest, ChineseAndEnglish) {
  EXPECT_EQ(HeaderHint("身份证号码"), PiiType::kCnResidentId);
  EXPECT_EQ(HeaderHint("Mobile Phone"), PiiType::kCnMobile);
  EXPECT_EQ(HeaderHint("customer_name"), PiiType::kPersonName);
  EXPECT_EQ(HeaderHint("bank_name"), PiiType::kOther);
  EXPECT_EQ(HeaderHint("  备注 "), PiiType::kFreeText);
  EXPECT_EQ(HeaderHint("客户编号"), PiiType::kOther);
}

}  // namespace
}  // namespace custos::detect
