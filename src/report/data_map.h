// The data map (数据清单): what a customer file holds, column by column, and
// what is wrong with it, as JSON for machines, a terminal summary, and a
// self-contained HTML page a compliance officer prints and files.
//
// The report carries counts, types and row numbers only: never a value from
// the file. Column names come from the file's header; when a header cell
// itself looks like personal data (a file without a header), the workflow
// replaces it before it reaches this layer (FindingKind::kHeaderLooksLikeData).
//
// docs/inventory.md documents every field and every finding kind; the JSON
// names are a public interface.
#ifndef CUSTOS_REPORT_DATA_MAP_H_
#define CUSTOS_REPORT_DATA_MAP_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "detect/types.h"

namespace custos::report {

enum class Lang { kZh, kEn };

// "zh" (also "zh-CN", "cn") or "en"; kInvalidArgument otherwise.
Result<Lang> ParseLang(std::string_view name);

// Every kind of finding. The snake_case names (FindingKindName) are part of
// the JSON interface; the order here is the order findings are listed in.
enum class FindingKind {
  // Legal status of people (PIPL Art. 28, 31).
  kMinorUnder14,
  // Personal data outside the columns meant for it.
  kHeaderLooksLikeData,
  kSensitiveColumnInFreeText,
  kFreeTextContainsPii,
  kOtherColumnContainsPii,
  // Resident ID numbers (GB 11643).
  kIdScientificNotation,
  kIdDigitsLost,
  kIdBadCheckChar,
  kIdBadBirthDate,
  kIdFutureBirthDate,
  kIdUnknownRegion,
  kIdBadCharacter,
  kIdBadLength,
  kIdLegacy15,
  // People and rows.
  kSameIdDifferentNames,
  kSexMismatchId,
  kDuplicateRows,
  kPersonMultipleRows,
  kRowsWithoutPersonKey,
  // Other identifiers.
  kMobileInvalid,
  kLandlineInvalid,
  kMobileInLandlineColumn,
  kEmailInvalid,
  kBankCardScientificNotation,
  kBankCardDigitsLost,
  kBankCardLuhn,
  kBankCardInvalid,
  kBankCardUnknownIssuer,
  kNumberDigitsLost,
  kUsccBadCheckChar,
  kUsccInvalid,
  kPassportInvalid,
  kDateInvalid,
  kAmountInvalid,
  kNameUnrecognized,
  kAddressUnrecognized,
  // Columns.
  kEmptyColumn,
};
inline constexpr int kFindingKindCount = static_cast<int>(FindingKind::kEmptyColumn) + 1;

enum class Severity { kHigh, kWarning, kInfo };

std::string_view FindingKindName(FindingKind kind);  // "id_bad_check_char"
std::optional<FindingKind> FindingKindFromName(std::string_view name);
Severity FindingSeverity(FindingKind kind);
std::string_view SeverityName(Severity s);  // "high", "warning", "info"

// At most this many row numbers are listed per finding.
inline constexpr size_t kMaxFindingRows = 10;

struct ColumnInventory {
  std::string name;  // header name (replaced by "column_N" if it looked like data)
  detect::PiiType type = detect::PiiType::kOther;
  double confidence = 0;   // 0..1, from the classifier's sample
  bool sensitive = false;  // PIPL Art. 28 by type
  uint64_t non_empty = 0;  // over all rows
  uint64_t valid = 0;
  uint64_t invalid = 0;
  // free_text and other columns are scanned for personal data inside values.
  bool scanned = false;
  uint64_t values_with_pii = 0;            // values holding at least one match
  uint64_t values_with_sensitive_pii = 0;  // ... of a PIPL Art. 28 type
  std::array<uint64_t, detect::kPiiTypeCount> contains{};  // values holding each type
};

struct Finding {
  FindingKind kind = FindingKind::kEmptyColumn;
  std::optional<size_t> column;  // index into InventoryReport::columns; none: about rows or people
  uint64_t count = 0;            // values, rows, people or ID numbers (docs/inventory.md)
  std::vector<uint64_t> rows;    // first data row numbers (1-based), at most kMaxFindingRows
};

struct InventoryReport {
  std::string file;      // the path as given
  std::string format;    // "csv", "jsonl"
  std::string encoding;  // "utf-8", "gbk", "gb18030"
  std::string sha256;    // of the file's bytes, hex
  uint64_t bytes = 0;
  int64_t generated_at = 0;  // Unix seconds
  Date today;                // the day ages were computed on
  uint64_t sample_rows = 0;  // rows the column types were inferred from

  uint64_t rows = 0;
  uint64_t people = 0;                 // distinct people (docs/inventory.md: how rows are grouped)
  uint64_t minors = 0;                 // distinct people under 14 on `today`
  uint64_t people_with_sensitive = 0;  // people with a sensitive value, or minors
  uint64_t people_on_several_rows = 0;
  uint64_t rows_without_person_key = 0;
  // The columns people are grouped by, as indexes into `columns`.
  std::optional<size_t> id_column, mobile_column, name_column;

  std::vector<ColumnInventory> columns;
  std::vector<Finding> findings;  // in FindingKind order, then by column
};

// One JSON object (nlohmann ordered_json, 2-space indent, trailing newline).
std::string RenderDataMapJson(const InventoryReport& report);

// A terminal summary: plain UTF-8 text, control characters in column names
// replaced, CJK-aware column alignment.
std::string RenderDataMapText(const InventoryReport& report, Lang lang);

// A self-contained HTML page (inline CSS, no scripts, no external resources),
// laid out for A4 print.
std::string RenderDataMapHtml(const InventoryReport& report, Lang lang);

}  // namespace custos::report

#endif  // CUSTOS_REPORT_DATA_MAP_H_
