#include "detect/mask.h"

#include <gtest/gtest.h>

#include <string>

#include "detect/types.h"

namespace custos::detect {
namespace {

// Names each instantiated case after its `name` member.
template <typename C>
std::string CaseName(const testing::TestParamInfo<C>& param_info) {
  return param_info.param.name;
}

struct Case {
  std::string name;
  PiiType type;
  std::string input;
  std::string expected;
};

class MaskValueTest : public testing::TestWithParam<Case> {};

TEST_P(MaskValueTest, Masks) {
  const Case& c = GetParam();
  EXPECT_EQ(MaskValue(c.type, c.input), c.expected);
}

// The examples written in mask.h, one per rule.
INSTANTIATE_TEST_SUITE_P(
    HeaderExamples, MaskValueTest,
    testing::Values(
        Case{"ResidentId", PiiType::kCnResidentId, "11010519491231002X", "110105********002X"},
        Case{"Mobile", PiiType::kCnMobile, "13812345678", "138****5678"},
        Case{"BankCard19", PiiType::kBankCard, "6222020200112341234", "622202*********1234"},
        Case{"NameOneChar", PiiType::kPersonName, "张", "*"},
        Case{"NameTwoChars", PiiType::kPersonName, "张三", "张*"},
        Case{"NameThreeChars", PiiType::kPersonName, "张三明", "张*明"},
        Case{"NameCompoundSurname", PiiType::kPersonName, "欧阳娜娜", "欧**娜"},
        Case{"Email", PiiType::kEmail, "zhangsan@qq.com", "z***@qq.com"},
        Case{"Landline3", PiiType::kCnLandline, "010-12345678", "010****78"},
        Case{"Landline4", PiiType::kCnLandline, "(0755)8888 8888", "0755****88"},
        Case{"Passport", PiiType::kPassport, "E12345678", "E*****678"},
        Case{"Address", PiiType::kAddress, "北京市朝阳区建国路88号", "北京市朝阳区****"},
        Case{"Uscc", PiiType::kUscc, "91350100M000100Y43", "9135**********0Y43"},
        Case{"FreeText", PiiType::kFreeText, "已电话联系13812345678确认地址",
             "[free text, 20 chars]"},
        Case{"Date", PiiType::kDate, "2024-01-01", "2024-01-01"},
        Case{"Amount", PiiType::kAmount, "12345.67", "12345.67"},
        Case{"Other", PiiType::kOther, "KH00012345", "KH00012345"}),
    CaseName<Case>);

// Values as spreadsheets hold them: the mask shows the canonical form.
INSTANTIATE_TEST_SUITE_P(
    MessyInput, MaskValueTest,
    testing::Values(
        Case{"MobileWithCountryCode", PiiType::kCnMobile, "+86 138 1234 5678", "138****5678"},
        Case{"MobileFullWidth", PiiType::kCnMobile, "１３８１２３４５６７８", "138****5678"},
        Case{"CardWithSpaces", PiiType::kBankCard, "6222 0202 0011 2347", "622202******2347"},
        Case{"IdLowerXSpaces", PiiType::kCnResidentId, " 11010519491231002x ",
             "110105********002x"},
        Case{"NameTrimmed", PiiType::kPersonName, " 李四 ", "李*"},
        Case{"EmailUpperCaseDomainKept", PiiType::kEmail, "Li.Si@163.COM", "L***@163.COM"},
        Case{"FreeTextCountsCodePoints", PiiType::kFreeText, "老客户，偏好理财产品",
             "[free text, 10 chars]"}),
    CaseName<Case>);

// Values too short or malformed for their rule must not leak what they hold.
INSTANTIATE_TEST_SUITE_P(
    Degenerate, MaskValueTest,
    testing::Values(Case{"EmptyName", PiiType::kPersonName, "", ""},
                    Case{"EmptyId", PiiType::kCnResidentId, "", ""},
                    Case{"ShortId", PiiType::kCnResidentId, "12345", "*****"},
                    Case{"ShortCard", PiiType::kBankCard, "6222020202", "**********"},
                    Case{"ShortMobile", PiiType::kCnMobile, "1381234", "*******"},
                    Case{"MalformedMobile", PiiType::kCnMobile, "138123456789", "138****6789"},
                    Case{"MalformedLandline", PiiType::kCnLandline, "12-34", "****34"},
                    Case{"ShortPassport", PiiType::kPassport, "E123", "****"},
                    Case{"ShortAddress", PiiType::kAddress, "朝阳区", "朝阳区****"},
                    Case{"EmailWithoutAt", PiiType::kEmail, "zhangsan", "z***"},
                    Case{"EmailWithoutLocal", PiiType::kEmail, "@qq.com", "***@qq.com"},
                    Case{"InvalidUtf8Name", PiiType::kPersonName, "\xFF\xFE", "\xEF\xBF\xBD*"},
                    Case{"TruncatedUtf8Name", PiiType::kPersonName, "张\xE4\xB8",
                         "张*\xEF\xBF\xBD"}),
    CaseName<Case>);

// ---- types.h ----

TEST(PiiTypeTest, NamesRoundTrip) {
  for (int i = 0; i < kPiiTypeCount; ++i) {
    auto t = static_cast<PiiType>(i);
    std::optional<PiiType> back = PiiTypeFromName(PiiTypeName(t));
    ASSERT_TRUE(back.has_value()) << PiiTypeName(t);
    EXPECT_EQ(*back, t);
  }
}

TEST(PiiTypeTest, NamesAreTheArchitectureVocabulary) {
  EXPECT_EQ(PiiTypeName(PiiType::kPersonName), "person_name");
  EXPECT_EQ(PiiTypeName(PiiType::kCnResidentId), "cn_resident_id");
  EXPECT_EQ(PiiTypeName(PiiType::kCnLandline), "cn_landline");
  EXPECT_EQ(PiiTypeName(PiiType::kFreeText), "free_text");
  EXPECT_EQ(PiiTypeName(PiiType::kOther), "other");
}

TEST(PiiTypeTest, UnknownNameIsNullopt) {
  EXPECT_EQ(PiiTypeFromName("phone"), std::nullopt);
  EXPECT_EQ(PiiTypeFromName("Person_Name"), std::nullopt);
  EXPECT_EQ(PiiTypeFromName(""), std::nullopt);
}

TEST(PiiTypeTest, SensitiveAndIdentifyingSets) {
  for (int i = 0; i < kPiiTypeCount; ++i) {
    auto t = static_cast<PiiType>(i);
    const bool sensitive =
        t == PiiType::kCnResidentId || t == PiiType::kPassport || t == PiiType::kBankCard;
    const bool identifying =
        t == PiiType::kCnResidentId || t == PiiType::kCnMobile || t == PiiType::kEmail;
    EXPECT_EQ(IsSensitiveType(t), sensitive) << PiiTypeName(t);
    EXPECT_EQ(IsIdentifyingType(t), identifying) << PiiTypeName(t);
  }
}

}  // namespace
}  // namespace custos::detect
