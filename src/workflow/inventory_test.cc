#include "workflow/inventory.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/test_util.h"
#include "detect/classify.h"
#include "detect/scanner.h"
#include "detect/validators.h"
#include "workflow/sample.h"

namespace custos::workflow {
namespace {

using custos::testing::TempDir;
using custos::testing::WriteText;
using detect::PiiType;
using report::FindingKind;

constexpr Date kToday{2026, 11, 27};

using Record = std::vector<std::string>;

// RFC 4180 with CRLF records (LF allowed inside quotes), as WriteSampleCsv writes.
std::vector<Record> ParseCsv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Record> records;
  Record record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      ++i;
    } else {
      field.push_back(c);
    }
  }
  if (!field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::string ToCsv(const std::vector<Record>& records) {
  std::string out = "\xEF\xBB\xBF";
  for (const Record& r : records) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i > 0) out.push_back(',');
      const std::string& v = r[i];
      if (v.find_first_of(",\"\r\n") == std::string::npos) {
        out += v;
      } else {
        out.push_back('"');
        for (char c : v) {
          if (c == '"') out.push_back('"');
          out.push_back(c);
        }
        out.push_back('"');
      }
    }
    out += "\r\n";
  }
  return out;
}

std::vector<Record> Sample(uint64_t rows, uint64_t seed) {
  SampleOptions o;
  o.rows = rows;
  o.seed = seed;
  o.today = kToday;
  std::ostringstream out;
  EXPECT_TRUE(WriteSampleCsv(o, out).has_value());
  return ParseCsv(out.str());
}

InventoryOptions Options(unsigned threads = 0) {
  InventoryOptions o;
  o.today = kToday;
  o.threads = threads;
  return o;
}

const report::Finding* Find(const report::InventoryReport& r, FindingKind kind,
                            std::optional<size_t> column = std::nullopt) {
  for (const auto& f : r.findings) {
    if (f.kind == kind && f.column == column) return &f;
  }
  return nullptr;
}

// Sample columns (SampleColumns()).
constexpr size_t kName = 1, kSex = 2, kId = 3, kMobile = 4, kLandline = 5, kEmail = 6, kCard = 7,
                 kNote = 14;

// ---- A reference for the people figures: std::map over clear keys ----

struct Expected {
  uint64_t people = 0, minors = 0, several = 0, unidentified = 0, duplicates = 0;
  uint64_t same_id_names = 0, sex_mismatch = 0;
  std::vector<uint64_t> minor_rows, several_rows, duplicate_rows;
};

Expected Reference(const std::vector<Record>& records) {
  Expected e;
  std::map<std::string, std::pair<uint64_t, std::string>> ids;  // id -> person, name
  std::set<std::string> id_reported;
  std::map<std::string, uint64_t> mobile_names;
  std::set<std::vector<std::string>> rows;
  std::set<uint64_t> several;
  auto add = [](std::vector<uint64_t>& v, uint64_t row) {
    if (v.size() < report::kMaxFindingRows) v.push_back(row);
  };
  for (size_t i = 1; i < records.size(); ++i) {
    const Record& r = records[i];
    const uint64_t row = i;
    if (!rows.insert(r).second) {
      ++e.duplicates;
      add(e.duplicate_rows, row);
    }
    const detect::IdInfo info = detect::CheckResidentId(r[kId], kToday);
    std::string id;
    if (info.status == detect::IdStatus::kValid) id = info.normalized;
    if (info.status == detect::IdStatus::kLegacy15) id = detect::UpgradeLegacyId(info.normalized);
    const std::string name = detect::NormalizeWidth(r[kName]);
    const auto mobile = detect::NormalizeMobile(r[kMobile]);
    const std::string mn = mobile && !name.empty() ? *mobile + '\0' + name : "";
    uint64_t person;
    bool is_new = false;
    if (!id.empty()) {
      auto it = ids.find(id);
      if (it == ids.end()) {
        person = e.people++;
        is_new = true;
        ids[id] = {person, name};
        if (AgeOn(info.birth, kToday) < 14) {
          ++e.minors;
          add(e.minor_rows, row);
        }
      } else {
        person = it->second.first;
        if (it->second.second.empty()) {
          it->second.second = name;
        } else if (!name.empty() && name != it->second.second && id_reported.insert(id).second) {
          ++e.same_id_names;
        }
      }
      if (!mn.empty()) mobile_names.emplace(mn, person);
    } else if (!mn.empty()) {
      auto [it, inserted] = mobile_names.emplace(mn, e.people);
      if (inserted) {
        ++e.people;
        is_new = true;
      }
      person = it->second;
    } else {
      person = e.people++;
      is_new = true;
      ++e.unidentified;
    }
    if (!is_new && several.insert(person).second) {
      ++e.several;
      add(e.several_rows, row);
    }
    if (!id.empty() && (r[kSex] == "男" || r[kSex] == "女")) {
      const char seq = info.normalized[info.status == detect::IdStatus::kValid ? 16 : 14];
      const bool male = (seq - '0') % 2 == 1;
      if (male != (r[kSex] == "男")) ++e.sex_mismatch;
    }
  }
  return e;
}

std::string Flip(std::string id) {  // a wrong check character
  id.back() = id.back() == '0' ? '1' : '0';
  return id;
}

class InventoryTest : public ::testing::Test {
 protected:
  Result<report::InventoryReport> Run(const std::vector<Record>& records,
                                      const InventoryOptions& options = Options()) {
    WriteText(dir_.File("in.csv"), ToCsv(records));
    return RunInventory(dir_.File("in.csv"), options);
  }
  TempDir dir_;
};

TEST_F(InventoryTest, PlantedDefectsAreCountedWithTheirRows) {
  std::vector<Record> rec = Sample(5000, 11);
  ASSERT_EQ(rec.size(), 5001u);
  // Data row n is rec[n].
  rec[5][kId] = "4.40305E+17";
  rec[7][kId] = Flip(rec[7][kId]);
  rec[2500][kId] = Flip(rec[2500][kId]);  // after the classification sample
  rec[11][kId] = "110105199013010010";   // month 13
  rec[13][kId] = "110105209901010011";   // born in 2099
  rec[17][kId] = "990105194912310021";   // region 99
  rec[19][kId] = "110105491231002";      // legacy, valid
  rec[23][kId] = "1101051949123100";     // 16 characters
  rec[29][kMobile] = "12345";
  rec[4999][kMobile] = "1381234567";
  rec[31][kEmail] = "not-an-email";
  {
    std::string& card = rec[37][kCard];
    card.back() = card.back() == '9' ? '0' : static_cast<char>(card.back() + 1);
  }
  rec[41][kCard] = "6.21700E+18";
  rec[43][kLandline] = "12345";
  rec[47] = rec[46];  // an exact duplicate
  rec[59][kId] = rec[58][kId];
  rec[59][kName] = "司马金丝雀";  // also a canary: it must not appear in any output
  rec[61][kSex] = rec[61][kSex] == "男" ? "女" : "男";
  rec[53][kNote] = "核对身份证" + rec[100][kId] + "无误，卡号" + rec[100][kCard];
  // Odd values for the heuristic columns (judged as the classifier judges them).
  rec[71][kName] = "John Smith";
  rec[72][kName] = "阿依古丽·买买提";
  rec[73][kName] = "欧阳娜娜";
  rec[74][9] = "中国工商银行深圳分行";
  rec[75][9] = "深圳市南山区小区";
  rec[76][9] = "北京大道单元";
  rec[77][10] = "2026年2月30日";
  rec[78][10] = "２０２４－０１－０２";
  rec[79][11] = "￥1,234.50元";
  rec[80][11] = "12e3";

  auto r = Run(rec);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->rows, 5000u);
  EXPECT_EQ(r->format, "csv");
  EXPECT_EQ(r->encoding, "utf-8");
  EXPECT_EQ(r->sha256.size(), 64u);
  EXPECT_EQ(r->sample_rows, 2000u);
  ASSERT_EQ(r->columns.size(), 15u);
  EXPECT_EQ(r->columns[kId].type, PiiType::kCnResidentId);
  EXPECT_EQ(r->columns[kCard].type, PiiType::kBankCard);
  EXPECT_EQ(r->columns[kNote].type, PiiType::kFreeText);
  EXPECT_EQ(r->id_column, kId);
  EXPECT_EQ(r->mobile_column, kMobile);
  EXPECT_EQ(r->name_column, kName);

  auto expect_rows = [&](FindingKind kind, size_t column, std::vector<uint64_t> rows) {
    const report::Finding* f = Find(*r, kind, column);
    ASSERT_NE(f, nullptr) << report::FindingKindName(kind);
    EXPECT_EQ(f->count, rows.size()) << report::FindingKindName(kind);
    EXPECT_EQ(f->rows, rows) << report::FindingKindName(kind);
  };
  expect_rows(FindingKind::kIdScientificNotation, kId, {5});
  expect_rows(FindingKind::kIdBadCheckChar, kId, {7, 2500});
  expect_rows(FindingKind::kIdBadBirthDate, kId, {11});
  expect_rows(FindingKind::kIdFutureBirthDate, kId, {13});
  expect_rows(FindingKind::kIdUnknownRegion, kId, {17});
  expect_rows(FindingKind::kIdLegacy15, kId, {19});
  expect_rows(FindingKind::kIdBadLength, kId, {23});
  expect_rows(FindingKind::kMobileInvalid, kMobile, {29, 4999});
  expect_rows(FindingKind::kEmailInvalid, kEmail, {31});
  expect_rows(FindingKind::kBankCardLuhn, kCard, {37});
  expect_rows(FindingKind::kBankCardScientificNotation, kCard, {41});
  expect_rows(FindingKind::kLandlineInvalid, kLandline, {43});
  EXPECT_EQ(r->columns[kId].invalid, 7u);
  EXPECT_EQ(r->columns[kId].valid, 4993u);
  EXPECT_EQ(r->columns[kId].non_empty, 5000u);
  EXPECT_EQ(r->columns[kMobile].invalid, 2u);
  EXPECT_EQ(r->columns[kCard].invalid, 2u);
  EXPECT_EQ(r->columns[kCard].valid, 4998u);

  // Heuristic columns: valid exactly where the classifier's value test says so.
  for (size_t c = 0; c < r->columns.size(); ++c) {
    const PiiType t = r->columns[c].type;
    if (t != PiiType::kPersonName && t != PiiType::kAddress && t != PiiType::kDate &&
        t != PiiType::kAmount) {
      continue;
    }
    uint64_t valid = 0;
    for (size_t i = 1; i < rec.size(); ++i) {
      if (detect::ClassifyValue(rec[i][c], kToday).valid & (1u << static_cast<unsigned>(t))) ++valid;
    }
    EXPECT_EQ(r->columns[c].valid, valid) << "column " << c;
    EXPECT_EQ(r->columns[c].valid + r->columns[c].invalid, r->columns[c].non_empty);
  }
  // John Smith; the 7-character minority name; 司马金丝雀 (5 characters).
  EXPECT_EQ(r->columns[kName].invalid, 3u);
  EXPECT_EQ(r->columns[9].invalid, 1u);  // the bank branch; 小区 and 大道+单元 count as markers
  EXPECT_EQ(r->columns[10].invalid, 1u);  // 30 February; the full-width date is fine
  EXPECT_EQ(r->columns[11].invalid, 1u);

  // People, minors, duplicates: against the std::map reference.
  const Expected e = Reference(rec);
  EXPECT_EQ(r->people, e.people);
  EXPECT_EQ(r->minors, e.minors);
  EXPECT_GT(e.minors, 50u);  // the sample has ~3% minors
  EXPECT_EQ(r->people_on_several_rows, e.several);
  EXPECT_EQ(r->rows_without_person_key, e.unidentified);
  EXPECT_EQ(r->people_with_sensitive, r->people);  // everyone has an ID or card value
  const report::Finding* minors = Find(*r, FindingKind::kMinorUnder14);
  ASSERT_NE(minors, nullptr);
  EXPECT_EQ(minors->count, e.minors);
  EXPECT_EQ(minors->rows, e.minor_rows);
  const report::Finding* several = Find(*r, FindingKind::kPersonMultipleRows);
  ASSERT_NE(several, nullptr);
  EXPECT_EQ(several->rows, e.several_rows);
  const report::Finding* dup = Find(*r, FindingKind::kDuplicateRows);
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->count, 1u);
  EXPECT_EQ(dup->rows, std::vector<uint64_t>{47});
  EXPECT_EQ(e.duplicates, 1u);
  const report::Finding* names = Find(*r, FindingKind::kSameIdDifferentNames);
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->count, e.same_id_names);
  EXPECT_EQ(names->rows, std::vector<uint64_t>{59});
  const report::Finding* sex = Find(*r, FindingKind::kSexMismatchId);
  ASSERT_NE(sex, nullptr);
  EXPECT_EQ(sex->count, e.sex_mismatch);
  EXPECT_GE(sex->count, 1u);

  // Free text: against the reference scanner, value by value.
  uint64_t with_pii = 0, with_sensitive = 0;
  std::array<uint64_t, detect::kPiiTypeCount> contains{};
  std::vector<uint64_t> first_rows;
  for (size_t i = 1; i < rec.size(); ++i) {
    const auto matches = detect::ReferenceScan(detect::NormalizeWidth(rec[i][kNote]), kToday);
    const uint32_t types = detect::MatchTypes(matches);
    if (types == 0) continue;
    ++with_pii;
    if (first_rows.size() < 10) first_rows.push_back(i);
    if (types & (1u << static_cast<unsigned>(PiiType::kCnResidentId) |
                 1u << static_cast<unsigned>(PiiType::kBankCard))) {
      ++with_sensitive;
    }
    for (int t = 0; t < detect::kPiiTypeCount; ++t) {
      if (types & (1u << t)) ++contains[static_cast<size_t>(t)];
    }
  }
  const report::ColumnInventory& note = r->columns[kNote];
  EXPECT_TRUE(note.scanned);
  EXPECT_GT(with_pii, 300u);  // ~10% of notes carry an identifier
  EXPECT_EQ(note.values_with_pii, with_pii);
  EXPECT_EQ(note.values_with_sensitive_pii, with_sensitive);
  EXPECT_EQ(note.contains, contains);
  EXPECT_GT(note.contains[static_cast<size_t>(PiiType::kCnMobile)], 0u);
  EXPECT_GT(note.contains[static_cast<size_t>(PiiType::kEmail)], 0u);
  EXPECT_GT(note.contains[static_cast<size_t>(PiiType::kCnLandline)], 0u);
  EXPECT_GT(note.contains[static_cast<size_t>(PiiType::kCnResidentId)], 0u);
  EXPECT_EQ(note.contains[static_cast<size_t>(PiiType::kBankCard)], 1u);  // row 53 only
  const report::Finding* free = Find(*r, FindingKind::kFreeTextContainsPii, kNote);
  ASSERT_NE(free, nullptr);
  EXPECT_EQ(free->count, with_pii);
  EXPECT_EQ(free->rows, first_rows);
  const report::Finding* sensitive = Find(*r, FindingKind::kSensitiveColumnInFreeText, kNote);
  ASSERT_NE(sensitive, nullptr);
  EXPECT_EQ(sensitive->count, with_sensitive);

  // Nothing from the file's values reaches any rendering.
  const std::string outputs = report::RenderDataMapJson(*r) +
                              report::RenderDataMapText(*r, report::Lang::kZh) +
                              report::RenderDataMapText(*r, report::Lang::kEn) +
                              report::RenderDataMapHtml(*r, report::Lang::kZh) +
                              report::RenderDataMapHtml(*r, report::Lang::kEn);
  EXPECT_EQ(outputs.find("司马金丝雀"), std::string::npos);
  for (size_t i = 1; i < 600; ++i) {
    for (size_t c : {kId, kMobile, kEmail, kCard, kLandline}) {
      if (rec[i][c].size() < 8) continue;  // "12345" is not a canary
      ASSERT_EQ(outputs.find(rec[i][c]), std::string::npos) << "row " << i << " column " << c;
    }
  }
}

TEST_F(InventoryTest, SameReportWhateverTheNumberOfThreads) {
  const std::vector<Record> rec = Sample(9000, 3);
  auto one = Run(rec, Options(1));
  auto three = Run(rec, Options(3));
  ASSERT_TRUE(one.has_value()) << one.error().ToString();
  ASSERT_TRUE(three.has_value()) << three.error().ToString();
  three->generated_at = one->generated_at;
  EXPECT_EQ(report::RenderDataMapJson(*one), report::RenderDataMapJson(*three));
  EXPECT_EQ(one->rows, 9000u);
}

// Tables of 1,024 slots (716 keys in memory) spill to disk many times over
// 20,000 rows: the report is the one the in-memory tables give, and matches
// the reference, with duplicates and repeated people thousands of rows apart.
TEST_F(InventoryTest, SameReportWhenThePeopleTablesSpill) {
  std::vector<Record> rec = Sample(20000, 5);
  rec[19500] = rec[10];                 // an exact duplicate far from its first
  rec[19600][kId] = rec[20][kId];       // the same ID far apart, another name
  rec[19600][kName] = "欧阳金丝雀";
  rec[19700][kId] = rec[30][kId];       // the same person far apart
  rec[19700][kName] = rec[30][kName];
  InventoryOptions small = Options();
  small.max_table_slots = 1024;
  auto spilled = Run(rec, small);
  auto in_memory = Run(rec);
  ASSERT_TRUE(spilled.has_value()) << spilled.error().ToString();
  ASSERT_TRUE(in_memory.has_value()) << in_memory.error().ToString();
  spilled->generated_at = in_memory->generated_at;
  EXPECT_EQ(report::RenderDataMapJson(*spilled), report::RenderDataMapJson(*in_memory));
  const Expected e = Reference(rec);
  EXPECT_EQ(spilled->people, e.people);
  EXPECT_EQ(spilled->people_on_several_rows, e.several);
  EXPECT_EQ(spilled->minors, e.minors);
  const report::Finding* dup = Find(*spilled, FindingKind::kDuplicateRows);
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->rows, e.duplicate_rows);
  EXPECT_EQ(dup->rows.back(), 19500u);
  const report::Finding* names = Find(*spilled, FindingKind::kSameIdDifferentNames);
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->count, e.same_id_names);
  EXPECT_GE(names->count, 1u);
}

TEST_F(InventoryTest, GroupsPeopleLikeImport) {
  const std::string legacy = "110105501231003";
  const std::string upgraded = detect::UpgradeLegacyId(legacy);
  std::string child = "11010520180101001";  // 8 years old on kToday
  child.push_back(detect::ResidentIdCheckChar(child));
  const std::vector<Record> rec = {
      {"姓名", "身份证号", "手机号", "备注"},
      {"张三明", "11010519491231002X", "13812345678", ""},
      {"张三明", "11010519491231002x", "138 1234 5678", ""},  // same ID (lower-case x)
      {"张三明", "", "+86 13812345678", ""},                  // same mobile and name: same person
      {"李四", "", "13900001111", ""},
      {"李四", "", "139-0000-1111", ""},  // same mobile and name
      {"王五", "", "13900001111", ""},    // same mobile, another name
      {"赵六", legacy, "", ""},
      {"赵六", upgraded, "", ""},  // the legacy number upgraded: same person
      {"", "", "", "无法识别"},                  // no key at all
      {"孙小", child, "13700000000", "未成年"},
      {"孙小", child, "13700000000", "未成年"},  // exact duplicate
      {"孙大", child, "13700000001", ""},        // same ID, another name
  };
  auto r = Run(rec);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->rows, 12u);
  EXPECT_EQ(r->people, 6u);  // 张三明, 李四, 王五, 赵六, the unknown, 孙小
  EXPECT_EQ(r->minors, 1u);
  EXPECT_EQ(r->people_on_several_rows, 4u);
  EXPECT_EQ(r->rows_without_person_key, 1u);
  const report::Finding* several = Find(*r, FindingKind::kPersonMultipleRows);
  ASSERT_NE(several, nullptr);
  EXPECT_EQ(several->rows, (std::vector<uint64_t>{2, 5, 8, 11}));
  const report::Finding* minors = Find(*r, FindingKind::kMinorUnder14);
  ASSERT_NE(minors, nullptr);
  EXPECT_EQ(minors->rows, std::vector<uint64_t>{10});
  const report::Finding* dup = Find(*r, FindingKind::kDuplicateRows);
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->rows, std::vector<uint64_t>{11});
  const report::Finding* names = Find(*r, FindingKind::kSameIdDifferentNames);
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->count, 1u);
  EXPECT_EQ(names->rows, std::vector<uint64_t>{12});
  const report::Finding* legacy_id = Find(*r, FindingKind::kIdLegacy15, 1);
  ASSERT_NE(legacy_id, nullptr);
  EXPECT_EQ(legacy_id->rows, std::vector<uint64_t>{7});
  // People with a sensitive value (an ID number) or under 14: 张三明, 赵六, 孙小.
  EXPECT_EQ(r->people_with_sensitive, 3u);
}

TEST_F(InventoryTest, HeaderThatIsDataIsHiddenAndReported) {
  const std::vector<Record> rec = {
      {"张三明", "11010519491231002X", "13812345678", "x"},
      {"李四", "44030519900101123X", "13900001111", ""},
  };
  auto r = Run(rec);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  // The whole row reads as data: every column is named by its position,
  // the name too.
  for (size_t c = 0; c < 4; ++c) EXPECT_EQ(r->columns[c].name, "column_" + std::to_string(c + 1));
  const report::Finding* f = Find(*r, FindingKind::kHeaderLooksLikeData, 1);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->count, 1u);
  EXPECT_TRUE(f->rows.empty());
  for (const std::string& out : {report::RenderDataMapJson(*r), report::RenderDataMapHtml(*r, report::Lang::kZh),
                                 report::RenderDataMapText(*r, report::Lang::kZh)}) {
    EXPECT_EQ(out.find("11010519491231002X"), std::string::npos);
    EXPECT_EQ(out.find("13812345678"), std::string::npos);
    EXPECT_EQ(out.find("张三明"), std::string::npos);
  }
}

TEST_F(InventoryTest, DuplicateColumnNamesAreRefused) {
  const std::string path = dir_.File("dup.csv");
  WriteText(path, "姓名,手机号,姓名\n张三,13812345678,张三\n");
  auto r = RunInventory(path, Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("columns 1 and 3 have the same name '姓名'"),
            std::string::npos)
      << r.error().message();
}

TEST_F(InventoryTest, EmptyColumnAndOtherColumnWithPii) {
  std::vector<Record> rec = {{"姓名", "手机号", "传真", "代码"}};
  for (int i = 0; i < 30; ++i) {
    rec.push_back({"张三明", "1381234567" + std::to_string(i % 10), "",
                   i == 20 ? "KH13912345678" : "KH-" + std::to_string(1000 + i)});
  }
  rec[25][3] = "转13912345678";
  auto r = Run(rec);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const report::Finding* empty = Find(*r, FindingKind::kEmptyColumn, 2);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->count, 30u);
  EXPECT_EQ(empty->rows.size(), 10u);
  EXPECT_EQ(r->columns[3].type, PiiType::kOther);
  const report::Finding* other = Find(*r, FindingKind::kOtherColumnContainsPii, 3);
  ASSERT_NE(other, nullptr);
  // "KH13912345678": the mobile touches letters, which is allowed (only digits are boundaries).
  EXPECT_EQ(other->rows, (std::vector<uint64_t>{21, 25}));
}

TEST_F(InventoryTest, HeaderOnlyFileIsAnEmptyInventory) {
  auto r = Run({{"姓名", "身份证号"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->rows, 0u);
  EXPECT_EQ(r->people, 0u);
  EXPECT_TRUE(r->findings.empty());
}

TEST_F(InventoryTest, MissingFileIsNotFound) {
  auto r = RunInventory(dir_.File("nope.csv"), Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST_F(InventoryTest, MalformedRowAfterTheSampleFailsWithItsLine) {
  std::vector<Record> rec = Sample(4000, 5);
  std::string csv = ToCsv(rec);
  csv += "KH1,\"unterminated\r\n";
  WriteText(dir_.File("bad.csv"), csv);
  auto r = RunInventory(dir_.File("bad.csv"), Options(2));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("bad.csv:"), std::string::npos) << r.error().message();
}

TEST_F(InventoryTest, ProgressReachesTheEnd) {
  const std::vector<Record> rec = Sample(3000, 9);
  InventoryOptions o = Options();
  uint64_t last = 0, total = 0;
  o.progress = [&](uint64_t done, uint64_t all) {
    EXPECT_GE(done, last);
    last = done;
    total = all;
  };
  auto r = Run(rec, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_GT(total, 0u);
  EXPECT_EQ(last, total);
}

}  // namespace
}  // namespace custos::workflow
