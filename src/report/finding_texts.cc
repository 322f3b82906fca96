#include "report/finding_texts.h"

#include <array>

namespace custos::report::internal {
namespace {

using detect::PiiType;

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

}  // namespace

const KindInfo& Info(FindingKind kind) { return kKinds[static_cast<size_t>(kind)]; }

std::span<const KindInfo> AllKinds() { return kKinds; }

namespace {

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

}  // namespace

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

}  // namespace custos::report::internal
