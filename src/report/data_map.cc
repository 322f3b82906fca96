#include "report/data_map.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <string>

namespace custos::report {
namespace {

using detect::PiiType;

// ---- Texts ----

struct Text {
  const char* zh;
  const char* en;
  const char* Get(Lang lang) const { return lang == Lang::kZh ? zh : en; }
};

struct KindInfo {
  FindingKind kind;
  const char* name;
  Severity severity;
  Text title;
  Text what;  // what it means
  Text todo;  // what to do about it
};

// Indexed by FindingKind; the static_assert below keeps the order honest.
constexpr KindInfo kKinds[] = {
    {FindingKind::kMinorUnder14, "minor_under_14", Severity::kHigh,
     {"不满十四周岁的未成年人", "Minors under 14"},
     {"按身份证号中的出生日期，在生成日不满十四周岁的人。其全部个人信息均为敏感个人信息（PIPL 第28条）。计数为人数。",
      "People under 14 on the day of the run, by the birth date in their ID number. All their "
      "personal information is sensitive (PIPL Art. 28). Counted in people."},
     {"确认已取得父母或其他监护人的同意，并按专门的处理规则处理（PIPL 第31条）；移交或销毁前单独列出并复核。",
      "Check that a parent's or guardian's consent is on record and that the special rules for "
      "minors apply (PIPL Art. 31); list these people separately before any transfer or "
      "destruction."}},
    {FindingKind::kHeaderLooksLikeData, "header_looks_like_data", Severity::kHigh,
     {"表头像是个人信息", "Header looks like personal data"},
     {"列名本身是身份证号、手机号等值：文件可能没有表头，第一行数据被当成了列名。本报告已把这些列名替换为 column_N。",
      "A column name is itself an ID number, mobile number or similar: the file probably has no "
      "header row and its first data row was taken as the header. This report shows such "
      "columns as column_N."},
     {"确认文件是否带表头；如没有，请加上表头后重新生成清单。",
      "Check whether the file has a header row; if not, add one and run the inventory again."}},
    {FindingKind::kSensitiveColumnInFreeText, "sensitive_column_in_free_text", Severity::kHigh,
     {"自由文本中含敏感个人信息", "Sensitive data inside free text"},
     {"备注等自由文本中写有身份证号或银行卡号（PIPL 第28条的敏感个人信息）。计数为含此类信息的值的个数。",
      "Notes or other free text hold resident ID or bank card numbers, which are sensitive "
      "personal information (PIPL Art. 28). Counted in values."},
     {"按敏感个人信息对待这些文本；能删除的从备注中删除，不能删除的与对应字段同等保护。",
      "Treat these texts as sensitive personal information: remove the numbers from the notes "
      "where possible, otherwise protect the notes like the ID and card columns."}},
    {FindingKind::kFreeTextContainsPii, "free_text_contains_pii", Severity::kWarning,
     {"自由文本中含个人信息", "Personal data inside free text"},
     {"备注等自由文本中写有手机号、电子邮箱、固定电话、证件号等。计数为含个人信息的值的个数；contains 列出类型。",
      "Notes or other free text hold mobile numbers, e-mail addresses, landlines, ID numbers and "
      "the like. Counted in values; the column's contains lists the types."},
     {"移交和销毁时把这些文本当作个人信息处理；清理不必要的内容（PIPL 第6条最小必要）。",
      "Handle these texts as personal information in any transfer or destruction, and clean out "
      "what is not needed (PIPL Art. 6, minimisation)."}},
    {FindingKind::kOtherColumnContainsPii, "other_column_contains_pii", Severity::kWarning,
     {"未识别类型的列中含个人信息", "Personal data inside an unclassified column"},
     {"类型为 other 的列中有值含手机号、证件号等。计数为值的个数。",
      "A column of type other has values holding mobile numbers, ID numbers or the like. "
      "Counted in values."},
     {"查明该列的用途，必要时把它当作个人信息列处理。",
      "Find out what the column is for and treat it as a personal-data column if need be."}},
    {FindingKind::kIdScientificNotation, "id_scientific_notation", Severity::kHigh,
     {"身份证号被 Excel 改成科学计数法", "ID numbers destroyed by Excel"},
     {"身份证号显示为 1.10105E+17 这样的科学计数法，后几位数字已丢失，无法从文件中恢复。",
      "ID numbers appear as 1.10105E+17: Excel turned them into numbers and their last digits "
      "are lost; they cannot be recovered from this file."},
     {"从源系统重新导出，导出前把该列设为文本；不要用 Excel 打开后另存。",
      "Export again from the source system with the column formatted as text; do not open and "
      "re-save the file in Excel."}},
    {FindingKind::kIdDigitsLost, "id_digits_lost", Severity::kHigh,
     {"身份证号被存成数字，末几位已丢失", "ID numbers stored as numbers: digits lost"},
     {"身份证号在表格中被存成了数字（单元格类型为数值，或导出的文本在第15位之后全为0）。数字最多保留15位有效数字，第16位起已变成0，即使看不出科学计数法、即使恰好通过校验也已损坏。计数为值的个数，这些值不再计入校验码等其他问题。",
      "ID numbers were stored as numbers (a number cell, or text that is all zeros past the "
      "15th digit in a column of digits): a number keeps 15 significant digits, so the 16th "
      "digit on is lost (written as 0), even with no exponent shown and even when the value "
      "happens to pass the check. Counted in values, not also under the check findings."},
     {"在源系统中把该列设为文本后重新导出（如导出为 Excel，先选中该列 → 设置单元格格式 → 文本，再导入或粘贴数据；已保存为数字的号码无法在表格中恢复，须从源系统重新取数）。不要用 Excel/WPS 打开后直接另存。",
      "Export the column again from the source system as text (in Excel or WPS: select the column, Format Cells, Text, then load the data again; a number already stored cannot be repaired in the spreadsheet). Do not open and re-save the file in a spreadsheet."}},
    {FindingKind::kIdBadCheckChar, "id_bad_check_char", Severity::kWarning,
     {"身份证号校验码错误", "ID check character wrong"},
     {"18 位身份证号的校验码不符（GB 11643，ISO 7064 MOD 11-2）：录入错误或号码不真实。",
      "The check character of an 18-character ID number is wrong (GB 11643, ISO 7064 MOD "
      "11-2): a typing error or a made-up number."},
     {"与证件或源系统核对后更正（PIPL 第8条：保证个人信息质量）。",
      "Check against the document or the source system and correct it (PIPL Art. 8, quality)."}},
    {FindingKind::kIdBadBirthDate, "id_bad_birth_date", Severity::kWarning,
     {"身份证号出生日期无效", "ID birth date impossible"},
     {"身份证号中的出生日期不是真实的日期。", "The birth date inside the ID number is not a real date."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kIdFutureBirthDate, "id_future_birth_date", Severity::kWarning,
     {"身份证号出生日期在未来", "ID birth date in the future"},
     {"身份证号中的出生日期晚于生成日。", "The birth date inside the ID number is after the day of the run."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kIdUnknownRegion, "id_unknown_region", Severity::kWarning,
     {"身份证号地区码无效", "ID region code unknown"},
     {"身份证号前两位不是省级行政区划代码（GB/T 2260）。",
      "The first two digits of the ID number are not a province-level division code (GB/T 2260)."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kIdBadCharacter, "id_bad_character", Severity::kWarning,
     {"身份证号含非法字符", "ID number has stray characters"},
     {"身份证号中有数字和末位 X 以外的字符，例如已脱敏的号码（*）或其他证件的号码。",
      "The ID number holds characters other than digits and a final X: a masked number (*), or "
      "another kind of document number."},
     {"确认该列是否混入了其他证件；脱敏号码无法用于核对身份。",
      "Check whether other documents were mixed into the column; masked numbers cannot identify "
      "anyone."}},
    {FindingKind::kIdBadLength, "id_bad_length", Severity::kWarning,
     {"身份证号长度错误", "ID number has the wrong length"},
     {"不是 18 位（也不是 15 位旧号）。", "Neither 18 characters nor a 15-digit legacy number."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kIdLegacy15, "id_legacy_15", Severity::kInfo,
     {"15 位旧身份证号", "15-digit legacy ID numbers"},
     {"1999 年以前的 15 位身份证号，可以按 GB 11643 换算为 18 位；清单按换算后的号码识别同一人。",
      "Legacy 15-digit ID numbers (before 1999). They convert to 18 characters under GB 11643; "
      "the inventory groups people by the converted number."},
     {"如需与其他系统比对，先换算为 18 位。", "Convert them to 18 characters before matching with other systems."}},
    {FindingKind::kSameIdDifferentNames, "same_id_different_names", Severity::kHigh,
     {"同一身份证号对应不同姓名", "One ID number, different names"},
     {"同一个身份证号出现在姓名不同的行上：录入错误、改名，或号码被他人使用。计数为身份证号的个数。",
      "One ID number appears on rows with different names: a typing error, a change of name, or "
      "a number used by someone else. Counted in ID numbers."},
     {"逐条核对（PIPL 第8条）；在核清之前不要据此合并或移交。",
      "Check each case (PIPL Art. 8); do not merge or transfer these records until it is clear "
      "who is who."}},
    {FindingKind::kSexMismatchId, "sex_mismatch_id", Severity::kWarning,
     {"性别与身份证号不符", "Sex column contradicts the ID number"},
     {"性别列与身份证号第 17 位（奇数为男，偶数为女）不一致。计数为行数。",
      "The sex column disagrees with the 17th digit of the ID number (odd: male, even: female). "
      "Counted in rows."},
     {"核对后更正其中一项。", "Check and correct one or the other."}},
    {FindingKind::kDuplicateRows, "duplicate_rows", Severity::kWarning,
     {"完全重复的行", "Exact duplicate rows"},
     {"与前面某行完全相同的行。计数为重复行（不含第一次出现）。",
      "Rows identical to an earlier row. Counted in rows, not counting the first occurrence."},
     {"确认导出是否重复；移交前去重。", "Find out why the export repeats rows; remove the duplicates before any transfer."}},
    {FindingKind::kPersonMultipleRows, "person_multiple_rows", Severity::kInfo,
     {"同一人出现在多行", "People on several rows"},
     {"同一人（相同的有效身份证号；无身份证号时相同的手机号和姓名）有多行记录，例如多个账户。计数为人数；行号为每人第二次出现的行。",
      "One person (same valid ID number; without one, same mobile and same name) has several "
      "rows, e.g. several accounts. Counted in people; the rows are where each person appears "
      "a second time."},
     {"通常无需处理；移交和销毁按人而不是按行进行。",
      "Usually nothing to do: transfers and destruction work per person, not per row."}},
    {FindingKind::kRowsWithoutPersonKey, "rows_without_person_key", Severity::kInfo,
     {"无法识别到人的行", "Rows that identify nobody"},
     {"既无有效身份证号、也无有效手机号加姓名的行：无法与其他行归为同一人，每行按一人计算，因此人数可能偏高。",
      "Rows with neither a valid ID number nor a valid mobile number with a name: they cannot be "
      "linked to other rows, so each counts as one person and the number of people may be too "
      "high."},
     {"核对这些行是否属于已有客户。", "Check whether these rows belong to known customers."}},
    {FindingKind::kMobileInvalid, "mobile_invalid", Severity::kWarning,
     {"手机号无效", "Invalid mobile numbers"},
     {"不是有效的大陆手机号（11 位，1[3-9] 开头，可带 +86）。",
      "Not a valid mainland mobile number (11 digits starting 1[3-9], optionally +86)."},
     {"核对后更正；可能是固话、境外号码或录入错误。",
      "Check and correct: it may be a landline, a foreign number or a typing error."}},
    {FindingKind::kLandlineInvalid, "landline_invalid", Severity::kWarning,
     {"固定电话无效", "Invalid landline numbers"},
     {"不是有效的大陆固定电话（区号 0 开头，号码 7–8 位），也不是手机号。",
      "Neither a valid mainland landline (area code starting with 0, 7-8 digit number) nor a "
      "mobile number."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kMobileInLandlineColumn, "mobile_in_landline_column", Severity::kInfo,
     {"固定电话列中是手机号", "Mobile numbers in the landline column"},
     {"固定电话列中的值是有效的手机号（计为有效）。", "Values of the landline column are valid mobile numbers (counted as valid)."},
     {"通常无需处理；检索和移交时注意该列也含手机号。",
      "Usually nothing to do; remember that the column holds mobiles when searching or "
      "transferring."}},
    {FindingKind::kEmailInvalid, "email_invalid", Severity::kWarning,
     {"电子邮箱无效", "Invalid e-mail addresses"},
     {"不是格式正确的电子邮箱地址。", "Not a well-formed e-mail address."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kBankCardScientificNotation, "bank_card_scientific_notation", Severity::kHigh,
     {"银行卡号被 Excel 改成科学计数法", "Card numbers destroyed by Excel"},
     {"银行卡号显示为 6.22202E+18 这样的科学计数法，后几位数字已丢失。",
      "Card numbers appear as 6.22202E+18: Excel turned them into numbers and their last "
      "digits are lost."},
     {"从源系统重新导出，导出前把该列设为文本。",
      "Export again from the source system with the column formatted as text."}},
    {FindingKind::kBankCardDigitsLost, "bank_card_digits_lost", Severity::kHigh,
     {"银行卡号被存成数字，末几位已丢失", "Card numbers stored as numbers: digits lost"},
     {"16 位以上的银行卡号在表格中被存成了数字（单元格类型为数值，或导出的文本在第15位之后全为0）。第16位起已变成0，例如 6217007898470800，即使恰好通过 Luhn 校验也已损坏。计数为值的个数，这些值不再计入 Luhn 等其他问题。",
      "Card numbers of 16 or more digits were stored as numbers (a number cell, or text that "
      "is all zeros past the 15th digit in a column of digits): the 16th digit on is lost "
      "(6217007898470800), even when the value happens to pass Luhn. Counted in values, not "
      "also under the Luhn findings."},
     {"在源系统中把该列设为文本后重新导出（如导出为 Excel，先选中该列 → 设置单元格格式 → 文本，再导入或粘贴数据；已保存为数字的号码无法在表格中恢复，须从源系统重新取数）。不要用 Excel/WPS 打开后直接另存。",
      "Export the column again from the source system as text (in Excel or WPS: select the column, Format Cells, Text, then load the data again; a number already stored cannot be repaired in the spreadsheet). Do not open and re-save the file in a spreadsheet."}},
    {FindingKind::kBankCardLuhn, "bank_card_luhn", Severity::kWarning,
     {"银行卡号未通过 Luhn 校验", "Card numbers fail the Luhn check"},
     {"13–19 位卡号未通过 Luhn 校验：录入错误，或被 Excel 截为 15 位有效数字（末尾变成 0）。少数早期卡号本身不满足 Luhn。",
      "13-19 digit card numbers that fail the Luhn check: a typing error, or Excel cut them to "
      "15 significant digits (trailing zeros). A few old card numbers never passed Luhn."},
     {"与核心系统核对；宜提示复核，不宜直接删除。",
      "Check against the core banking system; flag for review rather than delete."}},
    {FindingKind::kBankCardInvalid, "bank_card_invalid", Severity::kWarning,
     {"银行卡号无效", "Invalid card numbers"},
     {"不是 13–19 位数字。", "Not 13-19 digits."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kBankCardUnknownIssuer, "bank_card_unknown_issuer", Severity::kInfo,
     {"卡号前缀不属于已知卡组织", "Card numbers of an unknown issuer"},
     {"卡号长度与 Luhn 校验都正确，但前缀不在已知发卡机构（IIN）表中：多为专用卡或新号段。计为有效。",
      "Card numbers of the right length that pass Luhn, whose prefix is in no known issuer "
      "range (IIN table): usually a private-label card or a new range. Counted valid."},
     {"无需处理；如需确认，向发卡行核实。", "Nothing to do; ask the issuing bank if in doubt."}},
    {FindingKind::kNumberDigitsLost, "number_digits_lost", Severity::kHigh,
     {"长号码被存成数字，末几位已丢失", "Long numbers stored as numbers: digits lost"},
     {"账号等 16 位以上的号码在表格中被存成了数字（单元格类型为数值，或导出的文本在第15位之后全为0），第16位起已变成0。计数为值的个数。",
      "Account or other numbers of 16 or more digits were stored as numbers: the 16th digit on "
      "is lost. Counted in values."},
     {"在源系统中把该列设为文本后重新导出（如导出为 Excel，先选中该列 → 设置单元格格式 → 文本，再导入或粘贴数据；已保存为数字的号码无法在表格中恢复，须从源系统重新取数）。不要用 Excel/WPS 打开后直接另存。",
      "Export the column again from the source system as text (in Excel or WPS: select the column, Format Cells, Text, then load the data again; a number already stored cannot be repaired in the spreadsheet). Do not open and re-save the file in a spreadsheet."}},
    {FindingKind::kUsccBadCheckChar, "uscc_bad_check_char", Severity::kWarning,
     {"统一社会信用代码校验码错误", "USCC check character wrong"},
     {"18 位统一社会信用代码的校验码不符（GB 32100）。",
      "The check character of an 18-character Unified Social Credit Code is wrong (GB 32100)."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kUsccInvalid, "uscc_invalid", Severity::kWarning,
     {"统一社会信用代码无效", "Invalid USCC"},
     {"不是 18 位、或含代码字符集以外的字符。",
      "Not 18 characters, or characters outside the code's alphabet."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kPassportInvalid, "passport_invalid", Severity::kWarning,
     {"护照号格式不符", "Passport numbers of unknown form"},
     {"不符合中国护照号的格式（E/G + 8 位数字等），可能是外国护照或录入错误。",
      "Not the form of a Chinese passport number (E/G + 8 digits and similar): a foreign "
      "passport or a typing error."},
     {"核对；外国护照同样是敏感个人信息。", "Check them; foreign passports are sensitive personal information too."}},
    {FindingKind::kDateInvalid, "date_invalid", Severity::kInfo,
     {"日期无法解析", "Dates that do not parse"},
     {"不是可识别的日期（YYYY-MM-DD、YYYY/MM/DD、YYYY年M月D日、YYYYMMDD）。",
      "Not a recognised date (YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日, YYYYMMDD)."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kAmountInvalid, "amount_invalid", Severity::kInfo,
     {"金额无法解析", "Amounts that do not parse"},
     {"不是可识别的金额。", "Not a recognised amount."},
     {"核对后更正。", "Check and correct it."}},
    {FindingKind::kNameUnrecognized, "name_unrecognized", Severity::kInfo,
     {"姓名不像常见中文姓名", "Names of unusual form"},
     {"不是以常见姓氏开头的 2–4 个汉字：可能是少数民族或外国人姓名、单位名称或录入错误。",
      "Not 2-4 Chinese characters starting with a common surname: a minority or foreign name, an "
      "organisation, or a typing error."},
     {"抽查即可；这是启发式判断。", "Spot-check them; this is a heuristic."}},
    {FindingKind::kAddressUnrecognized, "address_unrecognized", Severity::kInfo,
     {"地址不像大陆地址", "Addresses of unusual form"},
     {"不像省市区街道门牌形式的地址（启发式判断）。",
      "Does not look like a province-city-street address (a heuristic)."},
     {"抽查即可。", "Spot-check them."}},
    {FindingKind::kEmptyColumn, "empty_column", Severity::kInfo,
     {"空列", "Empty columns"},
     {"该列没有任何值。计数为空值的个数（即行数）。", "The column has no values at all. Counted in empty values (all rows)."},
     {"确认是否需要该字段；不需要的字段不要移交（PIPL 第6条最小必要）。",
      "Decide whether the field is needed; do not transfer fields that are not (PIPL Art. 6, "
      "minimisation)."}},
};
static_assert(sizeof kKinds / sizeof kKinds[0] == kFindingKindCount, "one entry per kind");

constexpr bool KindsInOrder() {
  for (int i = 0; i < kFindingKindCount; ++i) {
    if (static_cast<int>(kKinds[i].kind) != i) return false;
  }
  return true;
}
static_assert(KindsInOrder(), "kKinds must follow the FindingKind order");

const KindInfo& Info(FindingKind kind) { return kKinds[static_cast<size_t>(kind)]; }

constexpr std::array<Text, detect::kPiiTypeCount> kTypeLabels = {{
    {"姓名", "person name"},
    {"居民身份证号", "resident ID number"},
    {"护照号", "passport number"},
    {"手机号", "mobile number"},
    {"固定电话", "landline"},
    {"电子邮箱", "e-mail"},
    {"银行卡号", "bank card number"},
    {"地址", "address"},
    {"统一社会信用代码", "USCC"},
    {"日期", "date"},
    {"金额", "amount"},
    {"自由文本", "free text"},
    {"其他", "other"},
}};

const char* TypeLabel(PiiType t, Lang lang) {
  return kTypeLabels[static_cast<size_t>(t)].Get(lang);
}

const char* SeverityLabel(Severity s, Lang lang) {
  switch (s) {
    case Severity::kHigh: return lang == Lang::kZh ? "高" : "high";
    case Severity::kWarning: return lang == Lang::kZh ? "注意" : "warning";
    case Severity::kInfo: return lang == Lang::kZh ? "提示" : "info";
  }
  return "";
}

// ---- Formatting helpers ----

// 1234567 -> "1,234,567".
std::string Count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string RowList(const std::vector<uint64_t>& rows, uint64_t count) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(rows[i]);
  }
  if (count > rows.size() && !rows.empty()) out += ", …";
  return out;
}

std::vector<PiiType> ContainedTypes(const ColumnInventory& c) {
  std::vector<PiiType> out;
  for (int i = 0; i < detect::kPiiTypeCount; ++i) {
    if (c.contains[static_cast<size_t>(i)] > 0) out.push_back(static_cast<PiiType>(i));
  }
  return out;
}

std::vector<std::string> SensitiveColumns(const InventoryReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.columns) {
    if (c.sensitive) out.push_back(c.name);
  }
  return out;
}

std::string ColumnName(const InventoryReport& r, const std::optional<size_t>& column) {
  if (!column || *column >= r.columns.size()) return "";
  return r.columns[*column].name;
}

// Control characters (C0, DEL, C1) would let a header move the cursor or
// recolour a terminal: shown as '?'.
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      out.push_back('?');
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Terminal columns a UTF-8 string occupies: East Asian wide characters count 2.
size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size()) {
      len = 4;
      cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu);
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      len = 3;
      cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu);
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      len = 2;
      cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
    }
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

std::string PadRight(const std::string& s, size_t width) {
  const size_t w = DisplayWidth(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}
std::string PadLeft(const std::string& s, size_t width) {
  const size_t w = DisplayWidth(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : Printable(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string ContainsList(const ColumnInventory& c, Lang lang, bool machine_names) {
  std::string out;
  for (PiiType t : ContainedTypes(c)) {
    if (!out.empty()) out += lang == Lang::kZh && !machine_names ? "、" : ", ";
    out += machine_names ? std::string(detect::PiiTypeName(t)) : TypeLabel(t, lang);
  }
  return out;
}

}  // namespace

Result<Lang> ParseLang(std::string_view name) {
  if (name == "zh" || name == "zh-CN" || name == "zh-cn" || name == "cn") return Lang::kZh;
  if (name == "en") return Lang::kEn;
  return Fail(InvalidArgument("unknown language '" + std::string(name) + "': use zh or en"));
}

std::string_view FindingKindName(FindingKind kind) { return Info(kind).name; }

std::optional<FindingKind> FindingKindFromName(std::string_view name) {
  for (const KindInfo& k : kKinds) {
    if (name == k.name) return k.kind;
  }
  return std::nullopt;
}

Severity FindingSeverity(FindingKind kind) { return Info(kind).severity; }

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kHigh: return "high";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

// ---- JSON ----

std::string RenderDataMapJson(const InventoryReport& r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema"] = "custos.inventory/1";
  j["file"] = r.file;
  j["format"] = r.format;
  j["encoding"] = r.encoding;
  j["sha256"] = r.sha256;
  j["bytes"] = r.bytes;
  j["generated_at"] = FormatRfc3339(r.generated_at);
  j["today"] = FormatIsoDate(r.today);
  j["sample_rows"] = r.sample_rows;
  j["rows"] = r.rows;
  j["people"] = r.people;
  j["minors"] = r.minors;
  j["people_with_sensitive"] = r.people_with_sensitive;
  j["people_on_several_rows"] = r.people_on_several_rows;
  j["rows_without_person_key"] = r.rows_without_person_key;
  ordered_json keys = ordered_json::object();
  auto key = [&](const char* name, const std::optional<size_t>& c) {
    keys[name] = c ? ordered_json(ColumnName(r, c)) : ordered_json(nullptr);
  };
  key("id", r.id_column);
  key("mobile", r.mobile_column);
  key("name", r.name_column);
  j["person_key_columns"] = keys;
  j["sensitive_columns"] = SensitiveColumns(r);

  ordered_json columns = ordered_json::array();
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    ordered_json col;
    col["index"] = i + 1;
    col["name"] = c.name;
    col["type"] = detect::PiiTypeName(c.type);
    col["sensitive"] = c.sensitive;
    // Two decimals: the sample's fraction, not a measurement to 1e-16.
    col["confidence"] = static_cast<double>(static_cast<int64_t>(c.confidence * 100 + 0.5)) / 100;
    col["non_empty"] = c.non_empty;
    col["empty"] = r.rows >= c.non_empty ? r.rows - c.non_empty : 0;
    col["valid"] = c.valid;
    col["invalid"] = c.invalid;
    if (c.scanned) {
      ordered_json contains = ordered_json::array();
      ordered_json counts = ordered_json::object();
      for (PiiType t : ContainedTypes(c)) {
        contains.push_back(detect::PiiTypeName(t));
        counts[std::string(detect::PiiTypeName(t))] = c.contains[static_cast<size_t>(t)];
      }
      col["contains"] = contains;
      col["contains_counts"] = counts;
      col["values_with_pii"] = c.values_with_pii;
      col["values_with_sensitive_pii"] = c.values_with_sensitive_pii;
    }
    columns.push_back(std::move(col));
  }
  j["columns"] = columns;

  ordered_json findings = ordered_json::array();
  for (const Finding& f : r.findings) {
    ordered_json o;
    o["kind"] = FindingKindName(f.kind);
    o["severity"] = SeverityName(FindingSeverity(f.kind));
    o["column"] = f.column ? ordered_json(ColumnName(r, f.column)) : ordered_json(nullptr);
    o["column_index"] = f.column ? ordered_json(*f.column + 1) : ordered_json(nullptr);
    o["count"] = f.count;
    o["rows"] = f.rows;
    findings.push_back(std::move(o));
  }
  j["findings"] = findings;
  // Invalid UTF-8 in a header must not throw: replace it.
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

// ---- Text ----

std::string RenderDataMapText(const InventoryReport& r, Lang lang) {
  const bool zh = lang == Lang::kZh;
  std::string out;
  out += zh ? "个人信息数据清单 (custos inventory)\n" : "Personal data inventory (custos inventory)\n";
  out += std::string(zh ? "  文件      " : "  file       ") + Printable(r.file) + "\n";
  out += std::string(zh ? "  SHA-256   " : "  SHA-256    ") + r.sha256 + "\n";
  out += std::string(zh ? "  格式      " : "  format     ") + r.format + ", " + r.encoding + ", " +
         Count(r.bytes) + (zh ? " 字节\n" : " bytes\n");
  out += std::string(zh ? "  生成时间  " : "  generated  ") + FormatRfc3339(r.generated_at) +
         (zh ? "（年龄按 " : " (ages on ") + FormatIsoDate(r.today) + (zh ? " 计算）\n" : ")\n");
  out += "\n";
  if (zh) {
    out += "  行数 " + Count(r.rows) + "   人数 " + Count(r.people) + "   不满14周岁 " +
           Count(r.minors) + "   含敏感信息的人 " + Count(r.people_with_sensitive) + "\n";
  } else {
    out += "  rows " + Count(r.rows) + "   people " + Count(r.people) + "   minors (<14) " +
           Count(r.minors) + "   people with sensitive data " + Count(r.people_with_sensitive) +
           "\n";
  }
  std::string sensitive;
  for (const auto& name : SensitiveColumns(r)) {
    if (!sensitive.empty()) sensitive += ", ";
    sensitive += Printable(name);
  }
  if (sensitive.empty()) sensitive = "-";
  out += std::string(zh ? "  敏感列（PIPL 第28条）: " : "  sensitive columns (PIPL Art. 28): ") +
         sensitive + "\n\n";

  // Columns.
  out += zh ? "列\n" : "Columns\n";
  size_t name_width = zh ? 4 : 4;
  for (const auto& c : r.columns) name_width = std::max(name_width, DisplayWidth(Printable(c.name)));
  name_width = std::min<size_t>(name_width, 24);
  out += "  " + PadLeft("#", 3) + "  " + PadRight(zh ? "列名" : "name", name_width) + "  " +
         PadRight(zh ? "类型" : "type", 15) + " " + PadLeft(zh ? "置信度" : "conf", 6) + " " +
         PadLeft(zh ? "非空" : "non-empty", 12) + " " + PadLeft(zh ? "有效" : "valid", 12) + " " +
         PadLeft(zh ? "无效" : "invalid", 10) + "  " + (zh ? "内含" : "contains") + "\n";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    std::string type(detect::PiiTypeName(c.type));
    if (c.sensitive) type += "*";
    std::string contains = c.scanned ? ContainsList(c, lang, true) : "";
    if (c.scanned && c.values_with_pii > 0) {
      contains += zh ? "（" + Count(c.values_with_pii) + " 个值）" : " (" + Count(c.values_with_pii) + " values)";
    }
    out += "  " + PadLeft(std::to_string(i + 1), 3) + "  " + PadRight(Printable(c.name), name_width) +
           "  " + PadRight(type, 15) + " " + PadLeft(Fixed2(c.confidence), 6) + " " +
           PadLeft(Count(c.non_empty), 12) + " " + PadLeft(Count(c.valid), 12) + " " +
           PadLeft(Count(c.invalid), 10) + (contains.empty() ? "" : "  " + contains) + "\n";
  }
  out += zh ? "  （* 敏感个人信息）\n\n" : "  (* sensitive personal information)\n\n";

  // Findings.
  out += zh ? "发现\n" : "Findings\n";
  if (r.findings.empty()) out += zh ? "  无\n" : "  none\n";
  for (const Finding& f : r.findings) {
    const KindInfo& info = Info(f.kind);
    std::string line = "  [" + std::string(SeverityLabel(info.severity, lang)) + "] " +
                       info.name + "  " + info.title.Get(lang);
    if (f.column) line += "  (" + Printable(ColumnName(r, f.column)) + ")";
    line += ": " + Count(f.count);
    out += line + "\n";
    if (!f.rows.empty()) {
      out += std::string(zh ? "      行: " : "      rows: ") + RowList(f.rows, f.count) + "\n";
    }
  }
  out += zh ? "\n说明与处理建议见 --format html；各项含义见 docs/inventory.md。\n"
            : "\nExplanations and what to do: --format html; every field: docs/inventory.md.\n";
  return out;
}

// ---- HTML ----

namespace {

constexpr const char* kCss = R"css(
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
  color:#1a1a1a;margin:2em auto;max-width:60em;padding:0 1em;line-height:1.5;font-size:14px}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.2em;border-bottom:2px solid #333;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#555;margin:0 0 1em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.3em .45em;vertical-align:top;text-align:left}
th{background:#eee}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:12em}
.sev-high{color:#fff;background:#b00020;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sev-warning{color:#000;background:#f2c200;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sev-info{color:#fff;background:#5a6b7b;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sens{font-weight:bold;color:#b00020}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.9em}
.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;word-break:break-all}
.note{color:#555;font-size:.9em}
footer{margin-top:2em;color:#555;font-size:.85em;border-top:1px solid #bbb;padding-top:.5em}
@page{size:A4;margin:15mm 12mm}
@media print{
  body{margin:0;max-width:none;font-size:9.5pt}
  h2{break-after:avoid;page-break-after:avoid}
  thead{display:table-header-group}
  tr,td,th{break-inside:avoid;page-break-inside:avoid}
  .sev-high,.sev-warning,.sev-info,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
)css";

void Row2(std::string& out, const std::string& key, const std::string& value_html) {
  out += "<tr><th>" + HtmlEscape(key) + "</th><td>" + value_html + "</td></tr>\n";
}

}  // namespace

std::string RenderDataMapHtml(const InventoryReport& r, Lang lang) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"" + T("zh-CN", "en") + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + T("个人信息数据清单", "Personal data inventory") + " — " + HtmlEscape(r.file) +
         "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  out += "<header>\n<h1>" + T("个人信息数据清单", "Personal data inventory") + "</h1>\n";
  out += "<p class=\"sub\">" +
         T("由 Custos 生成。本清单只含计数、类型和行号，不含任何个人信息的值。",
           "Made by Custos. This inventory holds counts, types and row numbers only, never a "
           "value of personal data.") +
         "</p>\n</header>\n";

  // Summary.
  out += "<section id=\"summary\">\n<h2>" + T("摘要", "Summary") + "</h2>\n<table class=\"kv\">\n";
  Row2(out, T("文件", "File"), "<span class=\"mono\">" + HtmlEscape(r.file) + "</span>");
  Row2(out, "SHA-256", "<span class=\"mono\">" + HtmlEscape(r.sha256) + "</span>");
  Row2(out, T("格式 / 编码", "Format / encoding"),
       HtmlEscape(r.format) + " / " + HtmlEscape(r.encoding) + ", " + Count(r.bytes) +
           T(" 字节", " bytes"));
  Row2(out, T("行数", "Rows"), Count(r.rows));
  Row2(out, T("人数", "People"),
       Count(r.people) + " <span class=\"note\">" +
           T("（同一有效身份证号为一人；无身份证号时，同一手机号且同一姓名为一人）",
             "(one valid ID number is one person; without one, the same mobile and name)") +
           "</span>");
  Row2(out, T("不满十四周岁", "Minors under 14"),
       "<span class=\"" + std::string(r.minors > 0 ? "sens" : "") + "\">" + Count(r.minors) +
           "</span> <span class=\"note\">" + T("（按身份证出生日期，截至 ", "(by ID birth date, on ") +
           FormatIsoDate(r.today) + T("）", ")") + "</span>");
  Row2(out, T("含敏感个人信息的人", "People with sensitive data"), Count(r.people_with_sensitive));
  Row2(out, T("多行的人", "People on several rows"), Count(r.people_on_several_rows));
  std::string sensitive;
  for (const auto& name : SensitiveColumns(r)) {
    if (!sensitive.empty()) sensitive += T("、", ", ");
    sensitive += "<span class=\"sens\">" + HtmlEscape(name) + "</span>";
  }
  Row2(out, T("敏感列（PIPL 第28条）", "Sensitive columns (PIPL Art. 28)"),
       sensitive.empty() ? "—" : sensitive);
  size_t high = 0;
  for (const Finding& f : r.findings) high += FindingSeverity(f.kind) == Severity::kHigh ? 1 : 0;
  Row2(out, T("发现", "Findings"),
       Count(r.findings.size()) + T("（其中高风险 ", " (") + Count(high) + T(" 项）", " high)"));
  Row2(out, T("生成时间", "Generated"), HtmlEscape(FormatRfc3339(r.generated_at)));
  out += "</table>\n</section>\n";

  // Columns.
  out += "<section id=\"columns\">\n<h2>" + T("列", "Columns") + "</h2>\n";
  out += "<p class=\"note\">" +
         (zh ? "类型由前 " + Count(r.sample_rows) + " 行推断；非空、有效、无效为全部行的计数。"
             : "Types are inferred from the first " + Count(r.sample_rows) +
                   " rows; non-empty, valid and invalid count all rows.") +
         "</p>\n";
  out += "<table>\n<thead><tr><th>#</th><th>" + T("列名", "Column") + "</th><th>" +
         T("类型", "Type") + "</th><th>" + T("敏感", "Sensitive") + "</th><th>" +
         T("置信度", "Confidence") + "</th><th>" + T("非空", "Non-empty") + "</th><th>" +
         T("有效", "Valid") + "</th><th>" + T("无效", "Invalid") + "</th><th>" +
         T("内含个人信息", "Personal data inside") + "</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    std::string contains = "—";
    if (c.scanned && c.values_with_pii > 0) {
      contains = HtmlEscape(ContainsList(c, lang, false)) + T("（", " (") + Count(c.values_with_pii) +
                 T(" 个值）", " values)");
    } else if (!c.scanned) {
      contains = "";
    }
    out += "<tr><td class=\"n\">" + std::to_string(i + 1) + "</td><td>" + HtmlEscape(c.name) +
           "</td><td>" + TypeLabel(c.type, lang) + " <code>" +
           std::string(detect::PiiTypeName(c.type)) + "</code></td><td>" +
           (c.sensitive ? "<span class=\"sens\">" + T("是", "yes") + "</span>" : T("否", "no")) +
           "</td><td class=\"n\">" + Fixed2(c.confidence) + "</td><td class=\"n\">" +
           Count(c.non_empty) + "</td><td class=\"n\">" + Count(c.valid) + "</td><td class=\"n\">" +
           Count(c.invalid) + "</td><td>" + contains + "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";

  // Findings.
  out += "<section id=\"findings\">\n<h2>" + T("发现的问题与处理建议", "Findings and what to do") +
         "</h2>\n";
  if (r.findings.empty()) {
    out += "<p>" + T("未发现问题。", "Nothing found.") + "</p>\n";
  } else {
    out += "<table>\n<thead><tr><th>" + T("级别", "Level") + "</th><th>" + T("问题", "Finding") +
           "</th><th>" + T("列", "Column") + "</th><th>" + T("数量", "Count") + "</th><th>" +
           T("前几行行号", "First rows") + "</th><th>" + T("说明", "What it means") + "</th><th>" +
           T("处理建议", "What to do") + "</th></tr></thead>\n<tbody>\n";
    for (const Finding& f : r.findings) {
      const KindInfo& info = Info(f.kind);
      out += "<tr><td><span class=\"sev-" + std::string(SeverityName(info.severity)) + "\">" +
             SeverityLabel(info.severity, lang) + "</span></td><td>" + info.title.Get(lang) +
             "<br><code>" + info.name + "</code></td><td>" +
             (f.column ? HtmlEscape(ColumnName(r, f.column)) : "—") + "</td><td class=\"n\">" +
             Count(f.count) + "</td><td>" + HtmlEscape(RowList(f.rows, f.count)) + "</td><td>" +
             info.what.Get(lang) + "</td><td>" + info.todo.Get(lang) + "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n";
    out += "<p class=\"note\">" +
           T("行号为数据行号（表头不计，从 1 开始），每项最多列出 10 个。",
             "Row numbers are data rows (the header is not counted, the first data row is 1); "
             "at most 10 are listed per finding.") +
           "</p>\n";
  }
  out += "</section>\n";

  // Legal notes.
  out += "<section id=\"legal\">\n<h2>" + T("法律依据", "Legal notes") + "</h2>\n<ul>\n";
  out += "<li>" +
         T("《个人信息保护法》第28条：敏感个人信息包括特定身份、金融账户等信息，以及不满十四周岁未成年人的个人信息；只有在具有特定的目的和充分的必要性，并采取严格保护措施的情形下方可处理。本清单将身份证号、护照号、银行卡号列及不满十四周岁者的全部信息标为敏感。",
           "PIPL Art. 28: sensitive personal information includes specific identity and "
           "financial account information, and all personal information of minors under 14; it "
           "may be processed only for a specific purpose, with sufficient necessity and strict "
           "protection. This inventory marks ID number, passport and bank card columns, and "
           "everything about people under 14, as sensitive.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第29条、第55条：处理敏感个人信息应取得个人的单独同意，并事前进行个人信息保护影响评估。",
           "PIPL Art. 29 and 55: processing sensitive personal information needs the "
           "individual's separate consent and a personal information protection impact "
           "assessment beforehand.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第31条：处理不满十四周岁未成年人的个人信息，应当取得未成年人的父母或者其他监护人的同意，并制定专门的个人信息处理规则。",
           "PIPL Art. 31: processing personal information of minors under 14 needs the consent "
           "of a parent or other guardian, and special processing rules.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第8条：处理个人信息应当保证个人信息的质量。校验失败、重复和矛盾的记录属于此项。",
           "PIPL Art. 8: the processor must ensure the quality of personal information. Failed "
           "checks, duplicates and contradictions fall under it.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第6条：收集和处理限于实现处理目的的最小范围；空列和备注中不必要的个人信息不应移交。",
           "PIPL Art. 6: processing is limited to the minimum needed for the purpose; empty "
           "columns and unnecessary personal data in notes should not be transferred.") +
         "</li>\n";
  out += "</ul>\n<p class=\"note\">" +
         T("本清单是技术检查的结果，不构成法律意见。",
           "This inventory is the result of technical checks, not legal advice.") +
         "</p>\n</section>\n";

  out += "<footer>" + T("生成时间 ", "Generated ") + HtmlEscape(FormatRfc3339(r.generated_at)) +
         " · Custos · SHA-256 <span class=\"mono\">" + HtmlEscape(r.sha256) + "</span></footer>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace custos::report
