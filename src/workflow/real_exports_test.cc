// Exports as real systems and office suites write them, not as our own
// sample does: numbers a spreadsheet stored as numbers, code columns, cards
// of every scheme, surnames of the whole table, files without a header.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/test_util.h"
#include "detect/validators.h"
#include "ingest/xlsx_test_util.h"
#include "tlog/audit_log.h"
#include "workflow/import.h"
#include "workflow/inventory.h"
#include "workflow/test_vault.h"

namespace custos::workflow {
namespace {

using custos::testing::Slurp;
using custos::testing::SlurpTree;
using custos::testing::TempDir;
using custos::testing::WriteText;
using detect::PiiType;
using report::FindingKind;

const Date kToday{2026, 12, 1};

// A valid 18-character ID number born on `birth` (YYYYMMDD), sequence `seq`.
std::string IdNumber(const std::string& region, const std::string& birth, int seq) {
  char s[16];
  std::snprintf(s, sizeof s, "%03d", seq % 1000);
  const std::string first17 = region + birth + s;
  return first17 + detect::ResidentIdCheckChar(first17);
}

// `prefix` padded with `fill` digits to length - 1, then the Luhn digit.
std::string LuhnCard(const std::string& prefix, size_t length, char fill = '3') {
  std::string c = prefix;
  while (c.size() < length - 1) c.push_back(fill);
  for (char d = '0'; d <= '9'; ++d) {
    if (detect::LuhnValid(c + d)) return c + d;
  }
  return c + '0';
}

struct XCell {
  std::string text;
  bool number = false;  // written as a number cell (no type), else an inline string
};

// An XLSX workbook of one sheet with these rows (the first is the header).
std::string Workbook(const std::vector<std::vector<XCell>>& rows) {
  std::string data;
  for (size_t r = 0; r < rows.size(); ++r) {
    data += "<row r=\"" + std::to_string(r + 1) + "\">";
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string ref = std::string(1, static_cast<char>('A' + c)) + std::to_string(r + 1);
      const XCell& cell = rows[r][c];
      if (cell.number) {
        data += "<c r=\"" + ref + "\"><v>" + cell.text + "</v></c>";
      } else {
        data += "<c r=\"" + ref + "\" t=\"inlineStr\"><is><t>" + cell.text + "</t></is></c>";
      }
    }
    data += "</row>";
  }
  return ingest::testing::MakeZip(ingest::testing::WorkbookParts(data));
}

InventoryOptions Options() {
  InventoryOptions o;
  o.today = kToday;
  return o;
}

const report::Finding* Find(const report::InventoryReport& r, FindingKind kind, size_t column) {
  for (const auto& f : r.findings) {
    if (f.kind == kind && f.column == column) return &f;
  }
  return nullptr;
}

class RealExportsTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

// An office suite saved the ID and card columns as numbers: every such
// cell is damaged, whatever its checksum says, and counted once.
TEST_F(RealExportsTest, NumberCellsOfLongIdentifiersAreDamagedWhateverTheirChecksum) {
  std::vector<std::vector<XCell>> rows = {{{"姓名"}, {"身份证号"}, {"银行卡号"}}};
  for (int i = 0; i < 40; ++i) {
    rows.push_back({{"张伟"}, {IdNumber("110105", "19800101", i)}, {LuhnCard("622202", 19)}});
  }
  // Rows 41-43: numbers. A number cell holding an ID whose check character
  // happens to be right, one whose last digits became zeros, and the
  // issue's card, 6217007898470800 (16 digits, the last lost).
  const std::string lucky = IdNumber("110105", "19800101", 7);  // digits only? see below
  rows.push_back({{"王芳"}, {"110105198001010000", true}, {"6217007898470800", true}});
  rows.push_back({{"李娜"}, {lucky.back() == 'X' ? "110105198001010030" : lucky, true},
                  {LuhnCard("621700", 16), true}});
  rows.push_back({{"刘洋"}, {"1.10105198001011E+17", true}, {"6.2170078984708E+15", true}});
  const std::string path = dir_.File("office.xlsx");
  ASSERT_TRUE(WriteFileAtomic(path, Workbook(rows)));
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  const report::Finding* ids = Find(*r, FindingKind::kIdDigitsLost, 1);
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->count, 2u);
  EXPECT_EQ(ids->rows, (std::vector<uint64_t>{41, 42}));
  // Not also under the check findings.
  const report::Finding* bad = Find(*r, FindingKind::kIdBadCheckChar, 1);
  EXPECT_TRUE(bad == nullptr || std::find(bad->rows.begin(), bad->rows.end(), 41) == bad->rows.end());
  EXPECT_EQ(Find(*r, FindingKind::kIdScientificNotation, 1)->count, 1u);
  EXPECT_EQ(r->columns[1].valid, 40u);
  EXPECT_EQ(r->columns[1].invalid, 3u);
  const report::Finding* cards = Find(*r, FindingKind::kBankCardDigitsLost, 2);
  ASSERT_NE(cards, nullptr);
  EXPECT_EQ(cards->count, 2u);
  EXPECT_EQ(Find(*r, FindingKind::kBankCardLuhn, 2), nullptr);
  EXPECT_EQ(r->columns[2].valid, 40u);
  // The data map tells how to export the column again, in Chinese.
  const std::string html = report::RenderDataMapHtml(*r, report::Lang::kZh);
  EXPECT_NE(html.find("设置单元格格式 → 文本"), std::string::npos);
}

// LibreOffice writes number cells with a three-digit exponent
// (1.1010519800101E+017): the exponent says how many digits the number had,
// so a column of 19-digit cards is a card column, not an ID column.
TEST_F(RealExportsTest, LibreOfficeNumberCellsAreTypedByTheirDigitCount) {
  std::vector<std::vector<XCell>> rows = {{{"姓名"}, {"身份证号"}, {"银行卡号"}}};
  for (int i = 0; i < 20; ++i) {
    rows.push_back({{"张伟"},
                    {"1.10105198001" + std::to_string(10 + i) + "E+017", true},
                    {"6.22202012345" + std::to_string(10 + i) + "E+018", true}});
  }
  const std::string path = dir_.File("lo.xlsx");
  ASSERT_TRUE(WriteFileAtomic(path, Workbook(rows)));
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->columns[1].type, PiiType::kCnResidentId);
  EXPECT_EQ(r->columns[2].type, PiiType::kBankCard);
  EXPECT_EQ(Find(*r, FindingKind::kIdScientificNotation, 1)->count, 20u);
  EXPECT_EQ(Find(*r, FindingKind::kBankCardScientificNotation, 2)->count, 20u);
  EXPECT_EQ(detect::ScientificIntegerDigits("1.1010519800101E+017"), 18);
  EXPECT_EQ(detect::ScientificIntegerDigits("6.22202E+18"), 19);
  EXPECT_EQ(detect::ScientificIntegerDigits("12345"), 0);
}

// A CSV saved from a spreadsheet whose card column was a number column:
// every 16-digit value ends in 0. A genuine column, where one card in ten
// ends in 0 by chance, is left alone.
TEST_F(RealExportsTest, ACsvColumnThatWentThroughANumberFormatIsDamaged) {
  std::string csv = "姓名,卡号,另一卡号\n";
  for (int i = 0; i < 30; ++i) {
    std::string genuine = LuhnCard("62220" + std::to_string(10 + i), 16, static_cast<char>('0' + i % 10));
    std::string converted = genuine.substr(0, 15) + "0";
    csv += "张伟," + converted + "," + genuine + "\n";
  }
  const std::string path = dir_.File("converted.csv");
  WriteText(path, csv);
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  const report::Finding* lost = Find(*r, FindingKind::kBankCardDigitsLost, 1);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->count, 30u);
  EXPECT_EQ(Find(*r, FindingKind::kBankCardDigitsLost, 2), nullptr);
  EXPECT_EQ(r->columns[2].invalid, 0u);
}

// A bank's export: integer codes and a padded customer number are not
// money; a balance with decimals and an amount by its header are.
TEST_F(RealExportsTest, CodeColumnsAreNotTypedAsAmounts) {
  std::string csv = "客户号,性别代码,婚姻状况,学历,职业,居住状况,证件类型代码,网点号,柜员号,账户余额,交易金额\n";
  for (int i = 0; i < 200; ++i) {
    char customer[16];
    std::snprintf(customer, sizeof customer, "%012d", 1000 + i * 37);
    csv += std::string(customer) + "," + std::to_string(i % 2) + "," + std::to_string(1 + i % 4) +
           "," + std::to_string(1 + i % 7) + "," + std::to_string(10 + i % 12) + "," +
           std::to_string(1 + i % 3) + "," + std::to_string(1 + i % 5) + ",0" +
           std::to_string(101 + i % 3) + "," + std::to_string(8001 + i % 9) + "," +
           std::to_string(1000 + i * 13) + "." + std::to_string(10 + i % 90) + "," +
           std::to_string(50 + i * 7) + "\n";
  }
  const std::string path = dir_.File("bank.csv");
  WriteText(path, csv);
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  for (size_t c = 0; c < 9; ++c) {
    EXPECT_NE(r->columns[c].type, PiiType::kAmount) << r->columns[c].name;
  }
  EXPECT_EQ(r->columns[9].type, PiiType::kAmount);
  EXPECT_EQ(r->columns[10].type, PiiType::kAmount);  // 金额 says so
}

// Luhn-valid cards of real schemes are valid; a number of no known issuer
// is valid too, with a note, never "invalid".
TEST_F(RealExportsTest, CardsOfEverySchemeAreValid) {
  const std::vector<std::string> cards = {
      LuhnCard("6011", 16), LuhnCard("644", 16),   LuhnCard("65", 16),   LuhnCard("36", 14),
      LuhnCard("300", 14),  LuhnCard("38", 14),    LuhnCard("2221", 16), LuhnCard("2720", 16),
      LuhnCard("6759", 16), LuhnCard("9558", 19),  LuhnCard("95599", 19), LuhnCard("4", 16),
      LuhnCard("62", 19),   LuhnCard("3528", 16)};
  std::string csv = "姓名,银行卡号\n";
  for (const auto& c : cards) csv += "张伟," + c + "\n";
  csv += "张伟," + LuhnCard("70", 16) + "\n";  // no known issuer
  const std::string path = dir_.File("cards.csv");
  WriteText(path, csv);
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->columns[1].type, PiiType::kBankCard);
  EXPECT_EQ(r->columns[1].invalid, 0u);
  EXPECT_EQ(r->columns[1].valid, cards.size() + 1);
  EXPECT_EQ(Find(*r, FindingKind::kBankCardInvalid, 1), nullptr);
  const report::Finding* unknown = Find(*r, FindingKind::kBankCardUnknownIssuer, 1);
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ(unknown->rows, std::vector<uint64_t>{cards.size() + 1});
}

TEST_F(RealExportsTest, OrdinarySurnamesAreRecognised) {
  std::string csv = "姓名,手机号\n";
  for (const char* n : {"萧峰", "酆红", "狄青", "肖战", "付强", "闫妮", "覃海", "佘诗曼", "冼星海",
                        "粟裕", "晁盖", "欧阳修", "司马光", "上官云", "诸葛明"}) {
    csv += std::string(n) + ",13812345678\n";
  }
  const std::string path = dir_.File("names.csv");
  WriteText(path, csv);
  auto r = RunInventory(path, Options());
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->columns[0].type, PiiType::kPersonName);
  EXPECT_EQ(r->columns[0].invalid, 0u);
  EXPECT_EQ(Find(*r, FindingKind::kNameUnrecognized, 0), nullptr);
}

class RealExportsImportTest : public RealExportsTest {
 protected:
  void SetUp() override {
    vault_ = testing::NewVault(dir_);
    ASSERT_NE(vault_, nullptr);
  }
  ImportOptions Options(const std::string& name) {
    ImportOptions o;
    o.dataset = name;
    o.today = kToday;
    return o;
  }
  std::unique_ptr<vault::Vault> vault_;
};

// The file: no header row, and no ID, mobile or e-mail column. Its
// first person must not become the columns' names: refused, nothing stored,
// no value anywhere in the vault's files.
TEST_F(RealExportsImportTest, AHeaderlessFileIsRefusedAndLeavesNoValueAnywhere) {
  const std::string path = dir_.File("noheader.csv");
  WriteText(path,
            "萧金丝雀,男,6222021234567890128,北京市朝阳区建国路88号1单元101室,1200.50\n"
            "李娜,女,6222021234567890136,上海市浦东新区世纪大道100号2栋301室,88.00\n");
  auto r = ImportFile(*vault_, path, Options("crm"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("the first row looks like data"), std::string::npos);
  for (const char* canary : {"萧金丝雀", "6222021234567890128", "建国路"}) {
    EXPECT_EQ(r.error().message().find(canary), std::string::npos);
  }
  EXPECT_TRUE(vault_->store_for_testing().ListDatasets()->empty());
  vault_.reset();
  const std::string all = Slurp(dir_.File("v.vault")) + Slurp(dir_.File("v.vault-wal"));
  for (const char* canary : {"萧金丝雀", "6222021234567890128", "建国路"}) {
    EXPECT_EQ(all.find(canary), std::string::npos) << canary;
  }
}

TEST_F(RealExportsImportTest, DuplicateColumnNamesAreRefusedNamingBoth) {
  const std::string path = dir_.File("dup.csv");
  WriteText(path, "姓名,身份证号,姓名\n张伟,11010519491231002X,张伟\n");
  auto r = ImportFile(*vault_, path, Options("crm"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("columns 1 and 3 have the same name '姓名'"), std::string::npos)
      << r.error().message();
}

// Damaged values are imported as they are, marked: the read says so, the
// dataset counts them, and the audit entry counts them (no value).
TEST_F(RealExportsImportTest, DamagedValuesAreImportedMarked) {
  std::vector<std::vector<XCell>> rows = {{{"姓名"}, {"身份证号"}, {"银行卡号"}}};
  for (int i = 0; i < 10; ++i) {
    rows.push_back({{"张伟"}, {IdNumber("110105", "19800101", i)}, {LuhnCard("622202", 19)}});
  }
  rows.push_back({{"王芳"}, {IdNumber("110105", "19900101", 1)}, {"6217007898470800", true}});
  const std::string path = dir_.File("office.xlsx");
  ASSERT_TRUE(WriteFileAtomic(path, Workbook(rows)));
  auto r = ImportFile(*vault_, path, Options("crm"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->damaged.size(), 3u);
  EXPECT_EQ(r->damaged[2], 1u);
  EXPECT_EQ(r->damaged[1], 0u);
  auto ids = vault_->Find(vault::IndexKind::kResidentId, IdNumber("110105", "19900101", 1));
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 1u);
  auto d = vault_->Read(ids->front());
  ASSERT_TRUE(d) << d.error().ToString();
  bool seen = false;
  for (const auto& f : d->fields) {
    if (f.field == "银行卡号") {
      seen = true;
      EXPECT_TRUE(f.damaged);
      EXPECT_EQ(f.value, "6217007898470800");
    } else {
      EXPECT_FALSE(f.damaged) << f.field;
    }
  }
  EXPECT_TRUE(seen);
  auto datasets = vault_->store_for_testing().ListDatasets();
  ASSERT_TRUE(datasets);
  EXPECT_NE(datasets->front().schema_json.find("\"damaged\":1"), std::string::npos);
  std::string log;
  ASSERT_TRUE(vault_->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan e) -> Status {
    log += std::string(AsChars(e));
    return Ok();
  }));
  EXPECT_NE(log.find("\"damaged_values\":{\"银行卡号\":1}"), std::string::npos) << log;
  EXPECT_EQ(log.find("6217007898470800"), std::string::npos);
}

}  // namespace
}  // namespace custos::workflow
