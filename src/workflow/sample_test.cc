#include "workflow/sample.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "detect/validators.h"

namespace custos::workflow {
namespace {

// Names each instantiated case after its `name` member.
template <typename C>
std::string CaseName(const testing::TestParamInfo<C>& param_info) {
  return param_info.param.name;
}

constexpr Date kToday{2025, 6, 1};

using Record = std::vector<std::string>;

// A strict RFC 4180 reader for what WriteSampleCsv promises: records end in
// CRLF, an LF is allowed only inside quotes. Fails the test otherwise.
std::vector<Record> ParseCsv(std::string_view text) {
  std::vector<Record> records;
  Record record;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "quote inside an unquoted field at " << i;
      quoted = was_quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at " << i;
      ++i;
      record.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      records.push_back(std::move(record));
      record.clear();
    } else {
      EXPECT_NE(c, '\n') << "bare LF outside quotes at " << i;
      field.push_back(c);
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  EXPECT_TRUE(record.empty() && field.empty()) << "last record lacks CRLF";
  return records;
}

std::string Generate(uint64_t rows, uint64_t seed, Date today = kToday) {
  std::ostringstream out;
  Status st = WriteSampleCsv({rows, seed, today}, out);
  EXPECT_TRUE(st.has_value()) << st.error().ToString();
  return out.str();
}

// The data records of a generated file, after checking the BOM and header.
std::vector<Record> GenerateRecords(uint64_t rows, uint64_t seed, Date today = kToday) {
  const std::string text = Generate(rows, seed, today);
  EXPECT_EQ(text.substr(0, 3), "\xEF\xBB\xBF");
  std::vector<Record> records = ParseCsv(std::string_view(text).substr(3));
  EXPECT_FALSE(records.empty());
  if (records.empty()) return records;
  const std::span<const std::string_view> columns = SampleColumns();
  EXPECT_EQ(records[0], Record(columns.begin(), columns.end()));
  records.erase(records.begin());
  return records;
}

enum Column {
  kCode,
  kName,
  kSex,
  kId,
  kMobile,
  kLandline,
  kEmail,
  kCard,
  kBranch,
  kAddress,
  kOpened,
  kBalance,
  kManager,
  kRisk,
  kNote,
  kColumnCount,
};

TEST(SampleColumnsTest, FifteenChineseHeaders) {
  ASSERT_EQ(SampleColumns().size(), 15u);
  EXPECT_EQ(SampleColumns()[kCode], "客户编号");
  EXPECT_EQ(SampleColumns()[kId], "身份证号");
  EXPECT_EQ(SampleColumns()[kNote], "备注");
}

// ---- Row count ----

struct CountCase {
  uint64_t rows;
};

class SampleRowCountTest : public testing::TestWithParam<CountCase> {};

TEST_P(SampleRowCountTest, WritesExactlyTheRowsAsked) {
  EXPECT_EQ(GenerateRecords(GetParam().rows, 7).size(), GetParam().rows);
}

INSTANTIATE_TEST_SUITE_P(All, SampleRowCountTest,
                         testing::Values(CountCase{0}, CountCase{1}, CountCase{2}, CountCase{7},
                                         CountCase{1000}, CountCase{12345}));

TEST(SampleTest, EmptyFileIsBomAndHeader) {
  const std::string text = Generate(0, 1);
  EXPECT_EQ(text,
            "\xEF\xBB\xBF"
            "客户编号,姓名,性别,身份证号,手机号,固定电话,电子邮箱,银行卡号,开户行,联系地址,"
            "开户日期,账户余额,客户经理,风险等级,备注\r\n");
}

// ---- Determinism ----

TEST(SampleTest, SameOptionsSameBytes) { EXPECT_EQ(Generate(3000, 42), Generate(3000, 42)); }

TEST(SampleTest, OtherSeedOtherData) { EXPECT_NE(Generate(100, 42), Generate(100, 43)); }

// ---- Validity of every row ----

class SampleValidityTest : public testing::TestWithParam<Date> {};

TEST_P(SampleValidityTest, EveryValuePassesItsValidator) {
  const Date today = GetParam();
  const std::vector<Record> records = GenerateRecords(20000, 2024, today);
  ASSERT_EQ(records.size(), 20000u);
  std::set<std::string> codes, cards;
  bool quoted_note = false;
  for (const Record& r : records) {
    ASSERT_EQ(r.size(), static_cast<size_t>(kColumnCount));
    EXPECT_TRUE(codes.insert(r[kCode]).second) << r[kCode];
    EXPECT_EQ(r[kCode].substr(0, 2), "KH");

    const detect::IdInfo id = detect::CheckResidentId(r[kId], today);
    ASSERT_EQ(id.status, detect::IdStatus::kValid) << r[kId];
    EXPECT_EQ(id.normalized, r[kId]);
    const bool odd = (r[kId][16] - '0') % 2 == 1;
    EXPECT_EQ(r[kSex], odd ? "男" : "女") << r[kId];

    EXPECT_TRUE(detect::NormalizeMobile(r[kMobile]).has_value()) << r[kMobile];
    std::optional<std::string> card = detect::NormalizeBankCard(r[kCard]);
    ASSERT_TRUE(card.has_value()) << r[kCard];
    EXPECT_TRUE(card->size() == 16 || card->size() == 19) << r[kCard];
    EXPECT_EQ(card->substr(0, 2), "62");
    EXPECT_TRUE(cards.insert(*card).second) << "card repeated: " << r[kCard];
    if (!r[kLandline].empty()) {
      EXPECT_TRUE(detect::NormalizeLandline(r[kLandline]).has_value()) << r[kLandline];
    }
    if (!r[kEmail].empty()) {
      EXPECT_TRUE(detect::NormalizeEmail(r[kEmail]).has_value()) << r[kEmail];
    }

    Result<Date> opened = ParseIsoDate(r[kOpened]);
    ASSERT_TRUE(opened.has_value()) << r[kOpened];
    EXPECT_LE(*opened, today);
    EXPECT_GE(*opened, id.birth);
    EXPECT_NE(r[kBalance].find('.'), std::string::npos);
    EXPECT_TRUE(r[kRisk].size() == 2 && r[kRisk][0] == 'R' && r[kRisk][1] >= '1' &&
                r[kRisk][1] <= '5')
        << r[kRisk];
    EXPECT_FALSE(r[kName].empty());
    EXPECT_FALSE(r[kBranch].empty());
    EXPECT_FALSE(r[kAddress].empty());
    EXPECT_FALSE(r[kManager].empty());
    if (r[kNote].find_first_of(",\"\n") != std::string::npos) quoted_note = true;
  }
  EXPECT_TRUE(quoted_note) << "no note exercised RFC 4180 quoting";
}

// An ordinary day, a leap day, and New Year's Day.
INSTANTIATE_TEST_SUITE_P(Days, SampleValidityTest,
                         testing::Values(kToday, Date{2024, 2, 29}, Date{2030, 1, 1}));

// ---- People: minors, duplicates, uniqueness ----

TEST(SampleTest, MinorsAndSecondAccountsOccur) {
  const std::vector<Record> records = GenerateRecords(50000, 99);
  std::map<std::string, std::vector<size_t>> rows_by_id;
  for (size_t i = 0; i < records.size(); ++i) rows_by_id[records[i][kId]].push_back(i);

  size_t minors = 0, twice = 0;
  std::set<std::string> mobiles, emails;
  for (const auto& [id, rows] : rows_by_id) {
    ASSERT_LE(rows.size(), 2u) << "an ID on more than two rows";
    const Record& first = records[rows[0]];
    const detect::IdInfo info = detect::CheckResidentId(id, kToday);
    const int age = AgeOn(info.birth, kToday);
    EXPECT_LT(age, 90);
    if (age < 14) ++minors;
    // Distinct people never share an identifier.
    EXPECT_TRUE(mobiles.insert(*detect::NormalizeMobile(first[kMobile])).second);
    if (!first[kEmail].empty()) {
      EXPECT_TRUE(emails.insert(first[kEmail]).second) << first[kEmail];
    }
    if (rows.size() == 2) {
      ++twice;
      const Record& second = records[rows[1]];
      EXPECT_LE(rows[1] - rows[0], 5u + 8u);
      for (Column c : {kName, kSex, kMobile, kLandline, kEmail, kAddress}) {
        EXPECT_EQ(first[c], second[c]) << "column " << c << " of " << id;
      }
      EXPECT_NE(first[kCode], second[kCode]);
      EXPECT_NE(first[kCard], second[kCard]);
    }
  }
  const double people = static_cast<double>(rows_by_id.size());
  EXPECT_EQ(rows_by_id.size() + twice, records.size());
  EXPECT_GT(minors / people, 0.02);
  EXPECT_LT(minors / people, 0.04);
  EXPECT_GT(twice / people, 0.01);
  EXPECT_LT(twice / people, 0.03);
}

TEST(SampleTest, SomeNotesCarryTheirPersonsIdentifiers) {
  const std::vector<Record> records = GenerateRecords(20000, 5);
  size_t with_identifier = 0, empty = 0;
  for (const Record& r : records) {
    const std::string& note = r[kNote];
    if (note.empty()) ++empty;
    const std::string mobile = *detect::NormalizeMobile(r[kMobile]);
    const std::string dashed =
        mobile.substr(0, 3) + "-" + mobile.substr(3, 4) + "-" + mobile.substr(7);
    if (note.find(mobile) != std::string::npos || note.find(dashed) != std::string::npos ||
        note.find(r[kId]) != std::string::npos ||
        (!r[kEmail].empty() && note.find(r[kEmail]) != std::string::npos) ||
        (!r[kLandline].empty() && note.find(r[kLandline]) != std::string::npos)) {
      ++with_identifier;
    }
  }
  const double n = static_cast<double>(records.size());
  EXPECT_GT(with_identifier / n, 0.07);
  EXPECT_LT(with_identifier / n, 0.13);
  EXPECT_GT(empty / n, 0.45);
}

// ---- Errors ----

struct OptionsCase {
  std::string name;
  SampleOptions options;
};

class SampleInvalidOptionsTest : public testing::TestWithParam<OptionsCase> {};

TEST_P(SampleInvalidOptionsTest, IsInvalidArgumentAndWritesNothing) {
  std::ostringstream out;
  Status st = WriteSampleCsv(GetParam().options, out);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(out.str().empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, SampleInvalidOptionsTest,
    testing::Values(OptionsCase{"TodayUnset", {10, 1, Date{}}},
                    OptionsCase{"TodayFeb30", {10, 1, Date{2025, 2, 30}}},
                    OptionsCase{"TodayBefore2000", {10, 1, Date{1999, 12, 31}}},
                    OptionsCase{"TooManyRows", {kMaxSampleRows + 1, 1, kToday}}),
    CaseName<OptionsCase>);

TEST(SampleTest, FailedStreamIsUnavailable) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  Status st = WriteSampleCsv({10, 1, kToday}, out);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace custos::workflow
