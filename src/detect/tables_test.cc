#include "detect/tables.h"

#include <gtest/gtest.h>

#include "detect/classify.h"
#include "detect/validators.h"

namespace custos::detect {
namespace {

// Ordinary surnames a short list missed (the 萧, 酆, 狄), compound
// ones, and words that are no surname.
TEST(Surnames, TheTableKnowsSingleAndCompoundSurnames) {
  for (const char* name : {"萧红", "酆雨", "狄仁杰", "肖战", "付笛", "闫妮", "欧阳娜娜", "司马光",
                           "诸葛亮", "上官婉儿", "端木蕻良", "第五伦", "单田芳", "覃海"}) {
    EXPECT_TRUE(StartsWithSurname(name)) << name;
    EXPECT_TRUE(LooksLikeName(name)) << name;
  }
  for (const char* word : {"我们", "这个", "的确"}) {
    EXPECT_FALSE(StartsWithSurname(word)) << word;
  }
}

struct CardCase {
  const char* number;
  CardCheck::Status status;
  const char* scheme;
};

class CardIssuerTest : public ::testing::TestWithParam<CardCase> {};

TEST_P(CardIssuerTest, ChecksLuhnAndNamesTheScheme) {
  const CardCase& c = GetParam();
  const CardCheck got = CheckBankCard(c.number);
  EXPECT_EQ(got.status, c.status) << c.number;
  EXPECT_EQ(got.scheme, c.scheme) << c.number;
  EXPECT_EQ(NormalizeBankCard(c.number).has_value(), c.status == CardCheck::Status::kValid);
}

// Luhn-valid test numbers of each scheme (the networks' published test PANs
// where there are some, else a prefix with a computed check digit).
INSTANTIATE_TEST_SUITE_P(
    Schemes, CardIssuerTest,
    ::testing::Values(CardCase{"4111111111111111", CardCheck::Status::kValid, "visa"},
                      CardCase{"5555555555554444", CardCheck::Status::kValid, "mastercard"},
                      CardCase{"2223000048400011", CardCheck::Status::kValid, "mastercard"},
                      CardCase{"378282246310005", CardCheck::Status::kValid, "amex"},
                      CardCase{"6011111111111117", CardCheck::Status::kValid, "discover"},
                      CardCase{"6445644564456445", CardCheck::Status::kValid, "discover"},
                      CardCase{"30569309025904", CardCheck::Status::kValid, "diners"},
                      CardCase{"36227206271667", CardCheck::Status::kValid, "diners"},
                      CardCase{"3530111333300000", CardCheck::Status::kValid, "jcb"},
                      CardCase{"6222021234567890128", CardCheck::Status::kValid, "unionpay"},
                      CardCase{"6759649826438453", CardCheck::Status::kValid, "maestro"},
                      CardCase{"9558801001114990390", CardCheck::Status::kValid, "china_domestic"},
                      // Luhn-valid, of no known range: valid, issuer unknown.
                      CardCase{"1234567812345670", CardCheck::Status::kUnknownIssuer, ""},
                      CardCase{"4111111111111112", CardCheck::Status::kLuhn, "visa"},
                      CardCase{"411111111111", CardCheck::Status::kInvalid, ""},
                      CardCase{"6.22202E+18", CardCheck::Status::kInvalid, ""}));

TEST(DigitsLost, NumbersASpreadsheetStoredLoseTheirSixteenthDigit) {
  // The card: 16 digits whose last became 0, Luhn-valid by chance or not.
  EXPECT_EQ(CheckDigitsLost("6217007898470800", /*number_cell=*/true, false),
            DigitsLost::kNumberCell);
  EXPECT_EQ(CheckDigitsLost("6217007898470800", false, /*converted_column=*/true),
            DigitsLost::kTrailingZeros);
  EXPECT_EQ(CheckDigitsLost("110105194912310000", false, true), DigitsLost::kTrailingZeros);
  EXPECT_EQ(CheckDigitsLost("110105194912310021", true, false), DigitsLost::kNumberCell);
  EXPECT_EQ(CheckDigitsLost("1.10105E+17", false, false), DigitsLost::kScientific);
  // Intact: fewer than 16 digits, a digit past the 15th that is not 0, text
  // in a column that is not mostly digits, or an X.
  EXPECT_EQ(CheckDigitsLost("13812345678", true, true), DigitsLost::kNo);
  EXPECT_EQ(CheckDigitsLost("6217007898470812", false, true), DigitsLost::kNo);
  EXPECT_EQ(CheckDigitsLost("6217007898470800", false, false), DigitsLost::kNo);
  EXPECT_EQ(CheckDigitsLost("11010519491231002X", false, true), DigitsLost::kNo);
}

}  // namespace
}  // namespace custos::detect
