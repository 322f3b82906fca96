#include "detect/validators.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace custos::detect {
namespace {

// Names each instantiated case after its `name` member.
template <typename C>
std::string CaseName(const testing::TestParamInfo<C>& param_info) {
  return param_info.param.name;
}

// Every ID test is judged on this day, so "future" is stable.
constexpr Date kToday{2025, 6, 1};

// ---- NormalizeWidth ----

struct WidthCase {
  std::string name;
  std::string input;
  std::string expected;
};

class NormalizeWidthTest : public testing::TestWithParam<WidthCase> {};

TEST_P(NormalizeWidthTest, Normalizes) {
  EXPECT_EQ(NormalizeWidth(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    All, NormalizeWidthTest,
    testing::Values(WidthCase{"Ascii", "abc", "abc"}, WidthCase{"FullWidthDigits", "１２３", "123"},
                    WidthCase{"FullWidthPunctuationAndLetters", "Ａ＠ｂ．ｃｏｍ～！", "A@b.com~!"},
                    WidthCase{"IdeographicSpaceTrimmed",
                              "\xE3\x80\x80"
                              "abc"
                              "\xE3\x80\x80",
                              "abc"},
                    WidthCase{"AsciiWhitespaceTrimmed", "\t x y \r\n", "x y"},
                    WidthCase{"HanKeptFullWidthCommaNarrowed", " 张三，你好 ", "张三,你好"},
                    WidthCase{"TruncatedSequenceKept", "a\xEF\xBC", "a\xEF\xBC"},
                    WidthCase{"Empty", "", ""}),
    CaseName<WidthCase>);

// ---- Resident ID ----

struct IdCase {
  std::string name;
  std::string input;
  IdStatus status;
  std::string normalized;  // expected IdInfo::normalized
  Date birth;              // expected IdInfo::birth ({} when not parsed)
};

class ResidentIdTest : public testing::TestWithParam<IdCase> {};

TEST_P(ResidentIdTest, Checks) {
  const IdCase& c = GetParam();
  IdInfo info = CheckResidentId(c.input, kToday);
  EXPECT_EQ(info.status, c.status);
  EXPECT_EQ(info.normalized, c.normalized);
  EXPECT_EQ(info.birth, c.birth);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ResidentIdTest,
    testing::Values(
        // The GB 11643-1999 worked example.
        IdCase{"StandardExample",
               "11010519491231002X",
               IdStatus::kValid,
               "11010519491231002X",
               {1949, 12, 31}},
        IdCase{"LowerCaseX",
               "11010519491231002x",
               IdStatus::kValid,
               "11010519491231002X",
               {1949, 12, 31}},
        IdCase{"SurroundingSpaces",
               "  11010519491231002X\t",
               IdStatus::kValid,
               "11010519491231002X",
               {1949, 12, 31}},
        IdCase{"GroupingSpaces",
               "110105 19491231 002X",
               IdStatus::kValid,
               "11010519491231002X",
               {1949, 12, 31}},
        IdCase{"FullWidth",
               "１１０１０５１９４９１２３１００２Ｘ",
               IdStatus::kValid,
               "11010519491231002X",
               {1949, 12, 31}},
        IdCase{"DigitCheck",
               "110101199003074477",
               IdStatus::kValid,
               "110101199003074477",
               {1990, 3, 7}},
        IdCase{"XCheckShenzhen",
               "44030519900101123X",
               IdStatus::kValid,
               "44030519900101123X",
               {1990, 1, 1}},
        IdCase{"LeapDay2000",
               "440305200002291232",
               IdStatus::kValid,
               "440305200002291232",
               {2000, 2, 29}},
        IdCase{"BornToday",
               "110105202506010010",
               IdStatus::kValid,
               "110105202506010010",
               {2025, 6, 1}},
        IdCase{"HongKongCode",
               "810000198001010022",
               IdStatus::kValid,
               "810000198001010022",
               {1980, 1, 1}},
        IdCase{
            "Legacy15", "110105491231002", IdStatus::kLegacy15, "110105491231002", {1949, 12, 31}}),
    CaseName<IdCase>);

// One case per invalid kind (and the interesting variants of it).
INSTANTIATE_TEST_SUITE_P(
    Invalid, ResidentIdTest,
    testing::Values(
        IdCase{"Empty", "", IdStatus::kBadLength, "", {}},
        IdCase{"TooShort", "1101051949123100", IdStatus::kBadLength, "", {}},
        IdCase{"TooLong", "11010519491231002X1", IdStatus::kBadLength, "", {}},
        IdCase{"LetterInBody", "1101051949123A002X", IdStatus::kBadCharacter, "", {}},
        IdCase{"WrongLastLetter", "11010519491231002Y", IdStatus::kBadCharacter, "", {}},
        IdCase{"XNotLast", "1101051949123100X2", IdStatus::kBadCharacter, "", {}},
        IdCase{"XInLegacy", "11010549123100X", IdStatus::kBadCharacter, "", {}},
        IdCase{"UnknownRegion99",
               "990105194912310023",
               IdStatus::kUnknownRegion,
               "990105194912310023",
               {}},
        IdCase{"UnknownRegion00",
               "000105194912310024",
               IdStatus::kUnknownRegion,
               "000105194912310024",
               {}},
        IdCase{"Feb30", "11010519900230001X", IdStatus::kBadBirthDate, "11010519900230001X", {}},
        IdCase{"Month13", "110105199013010018", IdStatus::kBadBirthDate, "110105199013010018", {}},
        IdCase{
            "Feb29In1900", "110105190002290017", IdStatus::kBadBirthDate, "110105190002290017", {}},
        IdCase{"Year0849", "110105084912310022", IdStatus::kBadBirthDate, "110105084912310022", {}},
        IdCase{"LegacyFeb30", "110105490230002", IdStatus::kBadBirthDate, "110105490230002", {}},
        IdCase{"FutureBirth",
               "11010520300101001X",
               IdStatus::kFutureBirthDate,
               "11010520300101001X",
               {2030, 1, 1}},
        IdCase{"Tomorrow",
               "110105202506020011",
               IdStatus::kFutureBirthDate,
               "110105202506020011",
               {2025, 6, 2}},
        IdCase{"WrongCheckDigit",
               "110105194912310021",
               IdStatus::kBadCheckChar,
               "110105194912310021",
               {1949, 12, 31}},
        IdCase{"ScientificNotation", "1.10105E+17", IdStatus::kScientificNotation, "", {}},
        IdCase{"ScientificLowerCase", " 4.40305e+17 ", IdStatus::kScientificNotation, "", {}}),
    CaseName<IdCase>);

TEST(ResidentIdCheckChar, MatchesStandardExamples) {
  EXPECT_EQ(ResidentIdCheckChar("11010519491231002"), 'X');
  EXPECT_EQ(ResidentIdCheckChar("11010119900307447"), '7');
  EXPECT_EQ(ResidentIdCheckChar("44030520000229123"), '2');
}

TEST(ResidentIdCheckChar, OutsidePreconditionIsNul) {
  EXPECT_EQ(ResidentIdCheckChar("1101051949123100"), '\0');
  EXPECT_EQ(ResidentIdCheckChar("1101051949123100A"), '\0');
}

struct UpgradeCase {
  std::string name;
  std::string id15;
  std::string id18;
};

class UpgradeLegacyIdTest : public testing::TestWithParam<UpgradeCase> {};

TEST_P(UpgradeLegacyIdTest, Upgrades) {
  const UpgradeCase& c = GetParam();
  ASSERT_EQ(CheckResidentId(c.id15, kToday).status, IdStatus::kLegacy15);
  std::string upgraded = UpgradeLegacyId(c.id15);
  EXPECT_EQ(upgraded, c.id18);
  EXPECT_EQ(CheckResidentId(upgraded, kToday).status, IdStatus::kValid);
}

INSTANTIATE_TEST_SUITE_P(
    All, UpgradeLegacyIdTest,
    testing::Values(UpgradeCase{"StandardExample", "110105491231002", "11010519491231002X"},
                    UpgradeCase{"Shenzhen", "440305900101123", "44030519900101123X"},
                    UpgradeCase{"FullWidthSpaced", " ４４０３０５９００１０１１２３ ",
                                "44030519900101123X"}),
    CaseName<UpgradeCase>);

TEST(UpgradeLegacyId, BrokenPreconditionGivesEmpty) {
  EXPECT_EQ(UpgradeLegacyId("11010519491231002X"), "");
  EXPECT_EQ(UpgradeLegacyId("11010549123100X"), "");
}

struct ScientificCase {
  std::string input;
  bool expected;
};

class ScientificNotationTest : public testing::TestWithParam<ScientificCase> {};

TEST_P(ScientificNotationTest, Detects) {
  EXPECT_EQ(IsScientificNotation(GetParam().input), GetParam().expected) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    All, ScientificNotationTest,
    testing::Values(ScientificCase{"1.10105E+17", true}, ScientificCase{"1.10105e+17", true},
                    ScientificCase{"6.22202E+18", true}, ScientificCase{"1E+17", true},
                    ScientificCase{"1.1E17", true}, ScientificCase{" 4.40305E+17 ", true},
                    ScientificCase{"11010519491231002X", false}, ScientificCase{"1.10105", false},
                    ScientificCase{"E+17", false}, ScientificCase{"1.E+17", false},
                    ScientificCase{"1.1E+", false}, ScientificCase{"1.1E-17", false},
                    ScientificCase{"", false}));

// ---- USCC ----

struct UsccCase {
  std::string name;
  std::string input;
  bool valid;
};

class UsccTest : public testing::TestWithParam<UsccCase> {};

TEST_P(UsccTest, Validates) { EXPECT_EQ(IsValidUscc(GetParam().input), GetParam().valid); }

INSTANTIATE_TEST_SUITE_P(
    All, UsccTest,
    testing::Values(UsccCase{"Fuzhou", "91350100M000100Y43", true},
                    UsccCase{"Shenzhen", "91440300708461136T", true},
                    UsccCase{"LetterCheck", "9144030071526726XG", true},
                    UsccCase{"LowerCaseAndSpaces", " 91350100m000100y43 ", true},
                    UsccCase{"FullWidth", "９１３５０１００Ｍ０００１００Ｙ４３", true},
                    UsccCase{"WrongCheck", "91350100M000100Y44", false},
                    UsccCase{"ForbiddenLetterI", "91350100I000100Y43", false},
                    UsccCase{"ForbiddenLetterInCheck", "91350100M000100Y4O", false},
                    UsccCase{"LetterInDivisionCode", "9135010AM000100Y43", false},
                    UsccCase{"TooShort", "91350100M000100Y4", false},
                    UsccCase{"TooLong", "91350100M000100Y431", false},
                    UsccCase{"Empty", "", false}),
    CaseName<UsccCase>);

TEST(UsccCheckChar, ComputesOrRejects) {
  EXPECT_EQ(UsccCheckChar("91350100M000100Y4"), '3');
  EXPECT_EQ(UsccCheckChar("9144030071526726X"), 'G');
  EXPECT_EQ(UsccCheckChar("9135010OM000100Y4"), '\0');  // O is not in the alphabet
  EXPECT_EQ(UsccCheckChar("91350100m000100Y4"), '\0');  // lower case is the caller's job
  EXPECT_EQ(UsccCheckChar("91350100M000100Y"), '\0');
}

// ---- Bank cards ----

struct LuhnCase {
  std::string digits;
  bool valid;
};

class LuhnTest : public testing::TestWithParam<LuhnCase> {};

TEST_P(LuhnTest, Checks) { EXPECT_EQ(LuhnValid(GetParam().digits), GetParam().valid); }

INSTANTIATE_TEST_SUITE_P(
    All, LuhnTest,
    testing::Values(LuhnCase{"79927398713", true}, LuhnCase{"79927398710", false},
                    LuhnCase{"4111111111111111", true}, LuhnCase{"6222020200112347", true},
                    LuhnCase{"6222020200112345679", true}, LuhnCase{"6222020200112345678", false},
                    LuhnCase{"0", true}, LuhnCase{"", false},
                    LuhnCase{"4111 1111 1111 1111", false}));

TEST(LuhnCheckDigit, CompletesANumberThatPasses) {
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
  EXPECT_EQ(LuhnCheckDigit("411111111111111"), '1');
  EXPECT_EQ(LuhnCheckDigit("622202020011234"), '7');
  EXPECT_EQ(LuhnCheckDigit(""), '0');
  EXPECT_EQ(LuhnCheckDigit("4111 1111"), '\0');
  for (const std::string body : {"62220202001123456", "12345", "999999999999999999"}) {
    EXPECT_TRUE(LuhnValid(body + LuhnCheckDigit(body))) << body;
  }
}

struct CardCase {
  std::string name;
  std::string input;
  std::optional<std::string> expected;
};

class NormalizeBankCardTest : public testing::TestWithParam<CardCase> {};

TEST_P(NormalizeBankCardTest, Normalizes) {
  EXPECT_EQ(NormalizeBankCard(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, NormalizeBankCardTest,
    testing::Values(CardCase{"UnionPay16", "6222020200112347", "6222020200112347"},
                    CardCase{"UnionPay19", "6222020200112345679", "6222020200112345679"},
                    CardCase{"UnionPayCmb16", "6225881234567898", "6225881234567898"},
                    CardCase{"Spaces", " 6222 0202 0011 2345 679 ", "6222020200112345679"},
                    CardCase{"Dashes", "6222-0202-0011-2347", "6222020200112347"},
                    CardCase{"FullWidth", "６２２２０２０２００１１２３４７", "6222020200112347"},
                    CardCase{"Visa", "4111111111111111", "4111111111111111"},
                    CardCase{"Mastercard", "5555555555554444", "5555555555554444"},
                    CardCase{"Mastercard2Series", "2221000000000009", "2221000000000009"},
                    CardCase{"Amex", "378282246310005", "378282246310005"},
                    CardCase{"Jcb", "3530111333300000", "3530111333300000"}),
    CaseName<CardCase>);

INSTANTIATE_TEST_SUITE_P(Invalid, NormalizeBankCardTest,
                         testing::Values(CardCase{"LuhnFails", "6222020200112345678", std::nullopt},
                                         CardCase{"UnknownScheme", "7999999999999999",
                                                  std::nullopt},
                                         CardCase{"TooShort", "1234567890128", std::nullopt},
                                         CardCase{"TooShortUnionPay", "622202020011", std::nullopt},
                                         CardCase{"TooLong", "62220202001123456790", std::nullopt},
                                         CardCase{"Letter", "622202020011234A", std::nullopt},
                                         CardCase{"Empty", "", std::nullopt}),
                         CaseName<CardCase>);

// ---- Mobiles ----

struct PhoneCase {
  std::string name;
  std::string input;
  std::optional<std::string> expected;
};

class NormalizeMobileTest : public testing::TestWithParam<PhoneCase> {};

TEST_P(NormalizeMobileTest, Normalizes) {
  EXPECT_EQ(NormalizeMobile(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, NormalizeMobileTest,
    testing::Values(PhoneCase{"Plain", "13812345678", "13812345678"},
                    PhoneCase{"Prefix19", "19912345678", "19912345678"},
                    PhoneCase{"PlusSpaces", "+86 138 1234 5678", "13812345678"},
                    PhoneCase{"PlusNoSpace", "+8613812345678", "13812345678"},
                    PhoneCase{"DoubleZero", "0086-138-1234-5678", "13812345678"},
                    PhoneCase{"BareCountryCode", "8613812345678", "13812345678"},
                    PhoneCase{"Dashes", "138-1234-5678", "13812345678"},
                    PhoneCase{"Parentheses", "(+86)13812345678", "13812345678"},
                    PhoneCase{"FullWidth", "１３８１２３４５６７８", "13812345678"},
                    PhoneCase{"FullWidthPlus", "＋８６　１３８１２３４５６７８", "13812345678"},
                    PhoneCase{"Trimmed", " 13812345678\t", "13812345678"}),
    CaseName<PhoneCase>);

INSTANTIATE_TEST_SUITE_P(Invalid, NormalizeMobileTest,
                         testing::Values(PhoneCase{"SecondDigit2", "12812345678", std::nullopt},
                                         PhoneCase{"FirstDigitNot1", "23812345678", std::nullopt},
                                         PhoneCase{"TenDigits", "1381234567", std::nullopt},
                                         PhoneCase{"TwelveDigits", "138123456789", std::nullopt},
                                         PhoneCase{"Letter", "1381234567a", std::nullopt},
                                         PhoneCase{"OtherCountry", "+87 13812345678", std::nullopt},
                                         PhoneCase{"Landline", "010-12345678", std::nullopt},
                                         PhoneCase{"Empty", "", std::nullopt}),
                         CaseName<PhoneCase>);

// ---- Landlines ----

class NormalizeLandlineTest : public testing::TestWithParam<PhoneCase> {};

TEST_P(NormalizeLandlineTest, Normalizes) {
  EXPECT_EQ(NormalizeLandline(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, NormalizeLandlineTest,
    testing::Values(PhoneCase{"Beijing", "010-12345678", "010-12345678"},
                    PhoneCase{"ShenzhenParentheses", "(0755)8888 8888", "0755-88888888"},
                    PhoneCase{"ShanghaiSpaces", "021 6432 1234", "021-64321234"},
                    PhoneCase{"SevenDigitLocal", "0571-8765432", "0571-8765432"},
                    PhoneCase{"NoSeparator3", "01012345678", "010-12345678"},
                    PhoneCase{"NoSeparator4", "075588888888", "0755-88888888"},
                    PhoneCase{"PlusNoTrunkZero", "+86 10 12345678", "010-12345678"},
                    PhoneCase{"PlusDashes", "+86-755-88888888", "0755-88888888"},
                    PhoneCase{"PlusTrunkZeroInParentheses", "+86 (0)21 64321234", "021-64321234"},
                    PhoneCase{"DoubleZero", "0086 21 64321234", "021-64321234"},
                    PhoneCase{"FullWidth", "０１０－１２３４５６７８", "010-12345678"}),
    CaseName<PhoneCase>);

INSTANTIATE_TEST_SUITE_P(
    Invalid, NormalizeLandlineTest,
    testing::Values(PhoneCase{"Mobile", "13812345678", std::nullopt},
                    PhoneCase{"MobileWithTrunkZero", "013812345678", std::nullopt},
                    PhoneCase{"ShortLocalFor3DigitArea", "010-1234567", std::nullopt},
                    PhoneCase{"LocalTooShort", "0755-123456", std::nullopt},
                    PhoneCase{"LocalTooLong", "0755-123456789", std::nullopt},
                    PhoneCase{"LocalStartsWith0", "010-02345678", std::nullopt},
                    PhoneCase{"InternationalPrefix", "00-12345678", std::nullopt},
                    PhoneCase{"Extension", "010-12345678-123", std::nullopt},
                    PhoneCase{"Letter", "010-1234a678", std::nullopt},
                    PhoneCase{"OtherCountry", "+1 212 5550100", std::nullopt},
                    PhoneCase{"Empty", "", std::nullopt}),
    CaseName<PhoneCase>);

// ---- E-mail ----

class NormalizeEmailTest : public testing::TestWithParam<PhoneCase> {};

TEST_P(NormalizeEmailTest, Normalizes) {
  EXPECT_EQ(NormalizeEmail(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, NormalizeEmailTest,
    testing::Values(PhoneCase{"Plain", "zhangsan@qq.com", "zhangsan@qq.com"},
                    PhoneCase{"QqNumber", "12345678@qq.com", "12345678@qq.com"},
                    PhoneCase{"UpperCase", "Zhang.San@QQ.COM", "zhang.san@qq.com"},
                    PhoneCase{"PlusTagTrimmed", " user+tag@163.com ", "user+tag@163.com"},
                    PhoneCase{"SubDomains", "a_b-c@mail.example.com.cn",
                              "a_b-c@mail.example.com.cn"},
                    PhoneCase{"FullWidth", "ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "zhang@qq.com"},
                    PhoneCase{"PunycodeTld", "li@example.xn--fiqs8s", "li@example.xn--fiqs8s"}),
    CaseName<PhoneCase>);

INSTANTIATE_TEST_SUITE_P(Invalid, NormalizeEmailTest,
                         testing::Values(PhoneCase{"NoAt", "zhangsan", std::nullopt},
                                         PhoneCase{"NoLocal", "@qq.com", std::nullopt},
                                         PhoneCase{"NoDomain", "zhang@", std::nullopt},
                                         PhoneCase{"TwoAts", "zhang@@qq.com", std::nullopt},
                                         PhoneCase{"NoTld", "zhang@qq", std::nullopt},
                                         PhoneCase{"DoubleDot", "zhang..san@qq.com", std::nullopt},
                                         PhoneCase{"LeadingDot", ".zhang@qq.com", std::nullopt},
                                         PhoneCase{"HyphenLabel", "zhang@-qq.com", std::nullopt},
                                         PhoneCase{"EmptyLabel", "zhang@qq..com", std::nullopt},
                                         PhoneCase{"Space", "zhang san@qq.com", std::nullopt},
                                         PhoneCase{"ShortTld", "zhang@qq.c", std::nullopt},
                                         PhoneCase{"NumericTld", "zhang@qq.123", std::nullopt},
                                         PhoneCase{"ChineseLocal", "张三@qq.com", std::nullopt},
                                         PhoneCase{"Empty", "", std::nullopt}),
                         CaseName<PhoneCase>);

}  // namespace
}  // namespace custos::detect
