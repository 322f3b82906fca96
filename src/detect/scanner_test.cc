#include "detect/scanner.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "detect/region_codes.h"
#include "detect/validators.h"

namespace custos::detect {
namespace {

constexpr Date kToday{2025, 6, 1};

// ---- Value makers (deterministic given the generator) ----

std::string Digits(std::mt19937_64& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
  return s;
}

char LuhnDigit(std::string_view body) {
  int sum = 0;
  bool twice = true;
  for (size_t i = body.size(); i-- > 0;) {
    int d = body[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string TwoDigits(int v) { return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)}; }

std::string ValidId(std::mt19937_64& rng) {
  const auto counties = Counties();
  std::string id(counties[rng() % counties.size()].code);
  const int year = 1930 + static_cast<int>(rng() % 90);
  id += std::to_string(year) + TwoDigits(1 + static_cast<int>(rng() % 12)) +
        TwoDigits(1 + static_cast<int>(rng() % 28));
  id += Digits(rng, 3);
  id.push_back(ResidentIdCheckChar(id));
  if (id.back() == 'X' && rng() % 2 == 0) id.back() = 'x';
  return id;
}

std::string LegacyId(std::mt19937_64& rng) {
  const auto counties = Counties();
  std::string id(counties[rng() % counties.size()].code);
  id += TwoDigits(30 + static_cast<int>(rng() % 60)) + TwoDigits(1 + static_cast<int>(rng() % 12)) +
        TwoDigits(1 + static_cast<int>(rng() % 28)) + Digits(rng, 3);
  return id;
}

std::string Mobile(std::mt19937_64& rng) {
  std::string m = "1";
  m.push_back(static_cast<char>('3' + rng() % 7));
  m += Digits(rng, 9);
  switch (rng() % 6) {
    case 0: return m.substr(0, 3) + "-" + m.substr(3, 4) + "-" + m.substr(7);
    case 1: return m.substr(0, 3) + " " + m.substr(3, 4) + " " + m.substr(7);
    case 2: return "+86 " + m;
    case 3: return "+86" + m;
    case 4: return "0086-" + m.substr(0, 3) + "-" + m.substr(3, 4) + "-" + m.substr(7);
    default: return m;
  }
}

std::string Card(std::mt19937_64& rng) {
  // UnionPay cards of 16 or 19 digits; Visa and Mastercard of 16.
  static const char* kBins[] = {"622202", "622848", "621700", "622588", "456351", "524091"};
  const size_t bin = rng() % 6;
  const size_t length = bin < 4 && rng() % 2 == 0 ? 19 : 16;
  std::string c = kBins[bin];
  c += Digits(rng, length - 7);
  c.push_back(LuhnDigit(c));
  if (rng() % 3 == 0) {
    const char sep = rng() % 2 == 0 ? ' ' : '-';
    std::string g;
    for (size_t i = 0; i < c.size(); ++i) {
      if (i > 0 && i % 4 == 0) g.push_back(sep);
      g.push_back(c[i]);
    }
    return g;
  }
  return c;
}

std::string Landline(std::mt19937_64& rng) {
  static const char* kAreas[] = {"010", "021", "0755", "0571", "027", "0898"};
  const std::string area = kAreas[rng() % 6];
  const size_t local_len = area.size() == 3 ? 8 : 7 + rng() % 2;
  std::string local(1, static_cast<char>('2' + rng() % 7));
  local += Digits(rng, local_len - 1);
  switch (rng() % 4) {
    case 0: return "(" + area + ")" + local.substr(0, local_len - 4) + " " + local.substr(local_len - 4);
    case 1: return area + " " + local;
    case 2: return area + local;
    default: return area + "-" + local;
  }
}

std::string Email(std::mt19937_64& rng) {
  static const char* kLocal[] = {"zhang.san", "li_si88", "wangwu", "u2024", "a.b-c", "QQ12345"};
  static const char* kDomains[] = {"qq.com", "163.com", "example.com.cn", "mail.sina.com"};
  return std::string(kLocal[rng() % 6]) + std::to_string(rng() % 1000) + "@" + kDomains[rng() % 4];
}

std::string Uscc(std::mt19937_64& rng) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  std::string s = "91";
  s += Digits(rng, 6);
  for (int i = 0; i < 9; ++i) s.push_back(kAlphabet[rng() % kAlphabet.size()]);
  s.push_back(UsccCheckChar(s));
  return s;
}

// Values that look close to personal data but are not (or are only under
// some boundaries): long digit runs, bad check characters, stray letters.
std::string NearMiss(std::mt19937_64& rng) {
  switch (rng() % 7) {
    case 0: return Digits(rng, 1 + rng() % 25);
    case 1: {
      std::string id = ValidId(rng);
      id.back() = id.back() == '0' ? '1' : '0';
      return id;
    }
    case 2: return Digits(rng, 2) + ValidId(rng);  // an ID inside a longer run
    case 3: return ValidId(rng) + Digits(rng, 1);
    case 4: return "1.10105E+17";
    case 5: return "KH" + Digits(rng, 8);
    default: return Mobile(rng) + Digits(rng, 1);
  }
}

std::string Filler(std::mt19937_64& rng) {
  static const char* kPieces[] = {
      "客户", "联系", "电话", "身份证", "号码", "备注", "已核实", "无误", "请回电", "卡号",
      "，",   "。",   "：",   "；",     "、",   "（",   "）",     " ",    ",",      ".",
      ":",    ";",    "(",    ")",      "-",    "+",    "@",      "/",    "#",      "\n",
      "x",    "X",    "abc",  "Tel",    "ID",   "No.",  "０",     "１",   "\xE3\x80\x80"};
  return kPieces[rng() % (sizeof kPieces / sizeof kPieces[0])];
}

std::string Piece(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0: return ValidId(rng);
    case 1: return LegacyId(rng);
    case 2: return Mobile(rng);
    case 3: return Card(rng);
    case 4: return Landline(rng);
    case 5: return Email(rng);
    case 6: return Uscc(rng);
    case 7: return NearMiss(rng);
    default: return Filler(rng);
  }
}

std::string Describe(const std::vector<TextMatch>& ms) {
  std::string s;
  for (const auto& m : ms) {
    s += std::string(PiiTypeName(m.type)) + "[" + std::to_string(m.begin) + "," +
         std::to_string(m.end) + ") ";
  }
  return s;
}

class ScannerTest : public testing::Test {
 protected:
  void SetUp() override {
    auto s = TextScanner::Create(kToday);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    scanner_ = std::move(*s);
    auto scratch = scanner_->NewScratch();
    ASSERT_TRUE(scratch.has_value());
    scratch_.emplace(std::move(*scratch));
  }

  std::vector<TextMatch> Scan(std::string_view text) {
    std::vector<TextMatch> out;
    Status st = scanner_->Scan(text, *scratch_, out);
    EXPECT_TRUE(st.has_value());
    return out;
  }

  std::unique_ptr<TextScanner> scanner_;
  std::optional<TextScanner::Scratch> scratch_;
};

// ---- Known cases ----

struct Case {
  std::string name;
  std::string text;
  std::string value;  // the one expected match ("" for none)
  PiiType type = PiiType::kOther;
};

std::vector<Case> KnownCases() {
  const std::string id = "11010519491231002X";
  return {
      {"IdInChinese", "核对身份证" + id + "无误", id, PiiType::kCnResidentId},
      {"IdLowerX", "身份证11010519491231002x。", "11010519491231002x", PiiType::kCnResidentId},
      {"IdBadCheckChar", "身份证110105194912310021", "", PiiType::kOther},
      {"IdInsideLongerRun", "流水号99" + id.substr(0, 17) + "1", "", PiiType::kOther},
      {"IdFollowedByDigit", "号码1101051949123100231", "", PiiType::kOther},
      {"IdFutureBirth", "身份证110105209912310011", "", PiiType::kOther},
      {"LegacyId", "旧证号110105491231002，", "110105491231002", PiiType::kCnResidentId},
      {"Mobile", "已电话联系13812345678确认地址", "13812345678", PiiType::kCnMobile},
      {"MobileDashes", "客户新留手机138-1234-5678", "138-1234-5678", PiiType::kCnMobile},
      {"MobileSpaces", "手机 138 1234 5678。", "138 1234 5678", PiiType::kCnMobile},
      {"MobilePlus86", "电话+86 13812345678", "+86 13812345678", PiiType::kCnMobile},
      {"MobilePlus86Joined", "电话+8613812345678", "+8613812345678", PiiType::kCnMobile},
      {"Mobile0086", "0086-138-1234-5678 call", "0086-138-1234-5678", PiiType::kCnMobile},
      {"MobileTooLong", "138123456789", "", PiiType::kOther},
      {"MobileBadSegment", "12812345678", "", PiiType::kOther},
      {"Landline", "办公电话0755-12345678，工作日联系", "0755-12345678", PiiType::kCnLandline},
      {"LandlineParen", "办公电话(0755)1234 5678，工作日", "(0755)1234 5678",
       PiiType::kCnLandline},
      {"Beijing", "电话010 87654321", "010 87654321", PiiType::kCnLandline},
      {"Email", "对账单发送至zhang.san@qq.com。", "zhang.san@qq.com", PiiType::kEmail},
      {"EmailTrailingDot", "mail li@163.com.", "li@163.com", PiiType::kEmail},
      {"EmailNoTld", "user@localhost", "", PiiType::kOther},
      {"EmailAfterMobile", "13812345678@qq.com", "13812345678@qq.com", PiiType::kEmail},
      {"Scientific", "证号1.10105E+17", "", PiiType::kOther},
  };
}

class KnownCaseTest : public ScannerTest, public testing::WithParamInterface<Case> {};

TEST_P(KnownCaseTest, FindsExactlyTheValue) {
  const Case& c = GetParam();
  const std::vector<TextMatch> got = Scan(c.text);
  EXPECT_EQ(got, ReferenceScan(c.text, kToday));
  if (c.value.empty()) {
    EXPECT_TRUE(got.empty()) << Describe(got);
    return;
  }
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  const size_t at = c.text.find(c.value);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(got[0].type, c.type);
  EXPECT_EQ(got[0].begin, at);
  EXPECT_EQ(got[0].end, at + c.value.size());
}

INSTANTIATE_TEST_SUITE_P(All, KnownCaseTest, testing::ValuesIn(KnownCases()),
                         [](const testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST_F(ScannerTest, GansuIdThatIsAlsoLuhnValidIsAnId) {
  // Region 62 (Gansu) is also the UnionPay prefix: the ID number wins.
  std::mt19937_64 rng(5);
  int checked = 0;
  for (int i = 0; i < 100000 && checked < 20; ++i) {
    std::string id = "620102" + std::to_string(1950 + i % 50) + "0101" + Digits(rng, 3);
    id.push_back(ResidentIdCheckChar(id));
    if (id.back() == 'X' || !NormalizeBankCard(id)) continue;
    ++checked;
    const auto got = Scan("身份证" + id + "。");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].type, PiiType::kCnResidentId);
  }
  EXPECT_EQ(checked, 20);
}

TEST_F(ScannerTest, GroupedCardIsOneMatchNotTwo) {
  std::string c = "6222021234567890" "12";
  c.push_back(LuhnDigit(c));
  const std::string grouped = c.substr(0, 4) + " " + c.substr(4, 4) + " " + c.substr(8, 4) + " " +
                              c.substr(12, 4) + " " + c.substr(16);
  const std::string text = "卡号" + grouped + "。";
  const auto got = Scan(text);
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].type, PiiType::kBankCard);
  EXPECT_EQ(got[0].end - got[0].begin, grouped.size());
}

TEST_F(ScannerTest, EmailFarIntoTheTextIsFound) {
  // Debian's vectorscan lost an e-mail ~64 bytes into the buffer under
  // HS_FLAG_SINGLEMATCH; check well past that offset, many times.
  for (size_t pad = 0; pad < 300; pad += 7) {
    std::string text(pad, 'a');
    text += " 客户邮箱zhang.san@qq.com，电话13812345678";
    const auto got = Scan(text);
    ASSERT_EQ(got.size(), 2u) << "pad " << pad << ": " << Describe(got);
    EXPECT_EQ(got[0].type, PiiType::kEmail);
    EXPECT_EQ(got[1].type, PiiType::kCnMobile);
  }
}

TEST_F(ScannerTest, UsccIsFound) {
  std::mt19937_64 rng(3);
  const std::string u = Uscc(rng);
  const auto got = Scan("统一社会信用代码：" + u + "。");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, PiiType::kUscc);
  EXPECT_TRUE(Scan("代码X" + u).empty());  // touches a letter
}

TEST_F(ScannerTest, UsccWithOnlySixDigitsIsFound) {
  // The shortest text a shape can hide in: the scanner's quick rejection
  // (fewer than 10 digits, no '@') must still let this through.
  std::string u = "AB110105CDEFGHJKL";
  u.push_back(UsccCheckChar(u));
  ASSERT_TRUE(IsValidUscc(u));
  const auto got = Scan(u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, PiiType::kUscc);
  EXPECT_EQ(got, ReferenceScan(u, kToday));
  EXPECT_TRUE(Scan("KH00021972").empty());
}

TEST_F(ScannerTest, EmptyAndPlainTextHaveNoMatches) {
  EXPECT_TRUE(Scan("").empty());
  EXPECT_TRUE(Scan("老客户，偏好理财产品").empty());
  EXPECT_EQ(MatchTypes({}), 0u);
}

// ---- Differential: vectorscan against the reference on generated text ----

TEST_F(ScannerTest, AgreesWithReferenceOnGeneratedText) {
  std::mt19937_64 rng(20251127);
  size_t matches = 0, far = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string text;
    const size_t target = rng() % 700;
    while (text.size() < target) text += rng() % 3 == 0 ? Piece(rng) : Filler(rng);
    const std::vector<TextMatch> got = Scan(text);
    const std::vector<TextMatch> want = ReferenceScan(text, kToday);
    ASSERT_EQ(got, want) << "round " << round << "\nvectorscan: " << Describe(got)
                         << "\nreference:  " << Describe(want);
    matches += got.size();
    for (const auto& m : got) far += m.begin > 64 ? 1 : 0;
  }
  // The generator must actually exercise the scanner, far into the buffer.
  EXPECT_GT(matches, 1000u);
  EXPECT_GT(far, 500u);
}

TEST_F(ScannerTest, PlantedValuesAreFoundBetweenCjkAndPunctuation) {
  std::mt19937_64 rng(7);
  const char* kLeft[] = {"客户", "，", "：", "（", " ", "\n", "号"};
  const char* kRight[] = {"无误", "。", "）", "，", " ", "\n", "；"};
  for (int round = 0; round < 2000; ++round) {
    PiiType type;
    std::string value;
    switch (round % 7) {
      case 0: value = ValidId(rng); type = PiiType::kCnResidentId; break;
      case 1: value = LegacyId(rng); type = PiiType::kCnResidentId; break;
      case 2: value = Mobile(rng); type = PiiType::kCnMobile; break;
      case 3: value = Card(rng); type = PiiType::kBankCard; break;
      case 4: value = Landline(rng); type = PiiType::kCnLandline; break;
      case 5: value = Email(rng); type = PiiType::kEmail; break;
      default: value = Uscc(rng); type = PiiType::kUscc; break;
    }
    std::string prefix;
    const size_t pad = rng() % 200;
    while (prefix.size() < pad) prefix += "备注";
    prefix += kLeft[rng() % 7];
    const std::string text = prefix + value + kRight[rng() % 7] + "其他";
    const auto got = Scan(text);
    // A legacy ID or a card number can be a valid value of another type too
    // (e.g. a Luhn-valid number that is also a legacy ID); the span is what
    // must be found, and for unambiguous types the type as well.
    ASSERT_EQ(got.size(), 1u) << "round " << round << ": " << Describe(got);
    EXPECT_EQ(got[0].begin, prefix.size()) << "round " << round;
    EXPECT_EQ(got[0].end, prefix.size() + value.size()) << "round " << round;
    if (type != PiiType::kBankCard && type != PiiType::kCnResidentId) {
      EXPECT_EQ(got[0].type, type) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace custos::detect
