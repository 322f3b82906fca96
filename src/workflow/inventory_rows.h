// Inventory's per-row analysis: the plan of what to check in each column,
// a cell's outcome packed in 32 bits, and the analyzer that judges one row
// (stateless across rows; one per thread). Internal to src/workflow, for
// inventory.cc.
#ifndef CUSTOS_WORKFLOW_INVENTORY_ROWS_H_
#define CUSTOS_WORKFLOW_INVENTORY_ROWS_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "detect/classify.h"
#include "detect/header.h"
#include "detect/scanner.h"
#include "detect/validators.h"
#include "ingest/reader.h"
#include "report/data_map.h"
#include "workflow/key_table.h"

namespace custos::workflow::internal {

using detect::PiiType;
using report::FindingKind;

constexpr uint32_t Bit(PiiType t) { return 1u << static_cast<unsigned>(t); }
constexpr uint32_t kSensitiveTypes =
    Bit(PiiType::kCnResidentId) | Bit(PiiType::kPassport) | Bit(PiiType::kBankCard);
// A header cell that validates as one of these is a value, not a name.

inline bool AllDigits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- The plan: what to check in each column ----

enum class Check : uint8_t {
  kNonEmpty,  // free_text, other: every non-empty value is valid
  kId,
  kMobile,
  kLandline,
  kEmail,
  kCard,
  kUscc,
  kPassport,
  kDate,
  kAmount,
  kName,
  kAddress,
};

inline Check CheckFor(PiiType t) {
  switch (t) {
    case PiiType::kCnResidentId:
      return Check::kId;
    case PiiType::kCnMobile:
      return Check::kMobile;
    case PiiType::kCnLandline:
      return Check::kLandline;
    case PiiType::kEmail:
      return Check::kEmail;
    case PiiType::kBankCard:
      return Check::kCard;
    case PiiType::kUscc:
      return Check::kUscc;
    case PiiType::kPassport:
      return Check::kPassport;
    case PiiType::kDate:
      return Check::kDate;
    case PiiType::kAmount:
      return Check::kAmount;
    case PiiType::kPersonName:
      return Check::kName;
    case PiiType::kAddress:
      return Check::kAddress;
    case PiiType::kFreeText:
    case PiiType::kOther:
      return Check::kNonEmpty;
  }
  return Check::kNonEmpty;
}

struct ColumnPlan {
  Check check = Check::kNonEmpty;
  bool sensitive = false;         // PIPL Art. 28 by type
  bool scanned = false;           // free_text / other: scan for personal data inside
  bool number_converted = false;  // went through a number format (detect::CheckDigitsLost)
};

// The finding for a long number a spreadsheet's number conversion damaged,
// by the column's check; nullopt for columns that hold no identifiers.
inline std::optional<FindingKind> DigitsLostKind(Check check) {
  switch (check) {
    case Check::kId:
      return FindingKind::kIdDigitsLost;
    case Check::kCard:
      return FindingKind::kBankCardDigitsLost;
    case Check::kNonEmpty:
      return FindingKind::kNumberDigitsLost;
    default:
      return std::nullopt;
  }
}

struct Plan {
  std::vector<ColumnPlan> columns;
  std::optional<size_t> name_column;  // first person_name column
  std::optional<size_t> sex_column;   // a 性别 column of type other
  Date today;
};

// ---- Per-row analysis (stateless across rows; one analyzer per thread) ----

// A cell's outcome, packed:
//   bits 0-1   state: 0 empty, 1 valid, 2 invalid
//   bits 2-7   finding kind + 1 (0: none)
//   bits 8-20  types found inside (scanned columns), bit i for PiiType i
enum CellState : uint32_t { kEmpty = 0, kValid = 1, kInvalid = 2 };
constexpr uint32_t Cell(CellState s, std::optional<FindingKind> kind = std::nullopt,
                        uint32_t contains = 0) {
  return static_cast<uint32_t>(s) | (kind ? (static_cast<uint32_t>(*kind) + 1) << 2 : 0u) |
         contains << 8;
}
inline CellState StateOf(uint32_t cell) { return static_cast<CellState>(cell & 3u); }
inline std::optional<FindingKind> KindOf(uint32_t cell) {
  const uint32_t k = (cell >> 2) & 0x3Fu;
  if (k == 0) return std::nullopt;
  return static_cast<FindingKind>(k - 1);
}
inline uint32_t ContainsOf(uint32_t cell) { return cell >> 8; }
static_assert(report::kFindingKindCount < 63, "kind must fit in 6 bits");

struct RowFacts {
  uint64_t number = 0;
  uint64_t row_hash = 0;
  uint64_t id_key = 0;  // 0: no valid ID
  uint64_t mn_key = 0;  // 0: no valid mobile with a name
  uint32_t name_hash = 0;
  bool minor = false;
  bool sensitive = false;  // a non-empty value of a sensitive column or sensitive data in text
  bool sex_mismatch = false;
};

class RowAnalyzer {
 public:
  RowAnalyzer(const Plan& plan, const KeyHasher& hasher, const detect::TextScanner& scanner,
              detect::TextScanner::Scratch scratch)
      : plan_(plan), hasher_(hasher), scanner_(scanner), scratch_(std::move(scratch)) {}

  // Fills cells[0..columns) and facts. Errors: the scanner's (kInternal).
  Status Analyze(const ingest::Row& row, uint32_t* cells, RowFacts& facts) {
    facts = RowFacts{};
    facts.number = row.number;
    id_.clear();
    mobile_.clear();
    int id_sex = 0;
    size_t next_number_cell = 0;
    for (size_t c = 0; c < plan_.columns.size(); ++c) {
      const std::string& v = c < row.fields.size() ? row.fields[c] : empty_;
      // row.number_cells is ascending: walk it beside the columns.
      while (next_number_cell < row.number_cells.size() && row.number_cells[next_number_cell] < c) {
        ++next_number_cell;
      }
      const bool number_cell =
          next_number_cell < row.number_cells.size() && row.number_cells[next_number_cell] == c;
      if (v.empty()) {
        cells[c] = Cell(kEmpty);
        continue;
      }
      const ColumnPlan& col = plan_.columns[c];
      if (col.sensitive) facts.sensitive = true;
      // A long number that a spreadsheet damaged is counted once, here, and
      // not also under its column's checks (a damaged value may pass them).
      if (const auto lost = DigitsLostKind(col.check)) {
        const detect::DigitsLost how =
            detect::CheckDigitsLost(v, number_cell, col.number_converted);
        const bool own_kind =
            how == detect::DigitsLost::kNumberCell || how == detect::DigitsLost::kTrailingZeros;
        if (own_kind) {
          cells[c] = Cell(kInvalid, *lost);
          continue;
        }
      }
      switch (col.check) {
        case Check::kId:
          cells[c] = CheckId(v, facts, id_sex);
          break;
        case Check::kMobile: {
          auto m = detect::NormalizeMobile(v);
          if (m && mobile_.empty()) mobile_ = std::move(*m);
          cells[c] = m ? Cell(kValid) : Cell(kInvalid, FindingKind::kMobileInvalid);
          break;
        }
        case Check::kLandline:
          if (detect::NormalizeLandline(v)) {
            cells[c] = Cell(kValid);
          } else if (detect::NormalizeMobile(v)) {
            cells[c] = Cell(kValid, FindingKind::kMobileInLandlineColumn);
          } else {
            cells[c] = Cell(kInvalid, FindingKind::kLandlineInvalid);
          }
          break;
        case Check::kEmail:
          cells[c] =
              detect::NormalizeEmail(v) ? Cell(kValid) : Cell(kInvalid, FindingKind::kEmailInvalid);
          break;
        case Check::kCard:
          cells[c] = CheckCard(v);
          break;
        case Check::kUscc:
          cells[c] = CheckUscc(v);
          break;
        case Check::kPassport:
          cells[c] = Heuristic(v, detect::LooksLikePassport, FindingKind::kPassportInvalid);
          break;
        case Check::kDate:
          cells[c] = Heuristic(v, detect::LooksLikeDate, FindingKind::kDateInvalid);
          break;
        case Check::kAmount:
          cells[c] = Heuristic(v, detect::LooksLikeAmount, FindingKind::kAmountInvalid);
          break;
        case Check::kName:
          cells[c] = Heuristic(v, detect::LooksLikeName, FindingKind::kNameUnrecognized);
          break;
        case Check::kAddress:
          cells[c] = Heuristic(v, detect::LooksLikeAddress, FindingKind::kAddressUnrecognized);
          break;
        case Check::kNonEmpty:
          if (col.scanned) {
            RETURN_IF_ERROR(scanner_.Scan(detect::NormalizeWidthInto(v, buf_), scratch_, matches_));
            const uint32_t types = detect::MatchTypes(matches_);
            if (types & kSensitiveTypes) facts.sensitive = true;
            cells[c] = Cell(kValid, std::nullopt, types);
          } else {
            cells[c] = Cell(kValid);
          }
          break;
      }
    }

    // Person keys: the first valid ID; else the first valid mobile with the name.
    std::string_view name;
    if (plan_.name_column && *plan_.name_column < row.fields.size()) {
      name = detect::NormalizeWidthInto(row.fields[*plan_.name_column], name_buf_);
    }
    if (!name.empty()) {
      key_.assign("N");
      key_.append(name);
      facts.name_hash = static_cast<uint32_t>(hasher_.Hash(key_));
      if (facts.name_hash == 0) facts.name_hash = 1;
    }
    if (!id_.empty()) {
      key_.assign("I");
      key_.append(id_);
      facts.id_key = hasher_.Hash(key_);
    }
    if (!mobile_.empty() && !name.empty()) {
      key_.assign("M");
      key_.append(mobile_);
      key_.push_back('\0');
      key_.append(name);
      facts.mn_key = hasher_.Hash(key_);
    }
    if (plan_.sex_column && id_sex != 0 && *plan_.sex_column < row.fields.size()) {
      const int sex =
          detect::ParseSex(detect::NormalizeWidthInto(row.fields[*plan_.sex_column], buf_));
      facts.sex_mismatch = sex != 0 && sex != id_sex;
    }

    // The whole row, each field length-prefixed: equal hashes mean equal rows.
    key_.clear();
    for (const std::string& f : row.fields) {
      const auto n = static_cast<uint32_t>(f.size());
      key_.append(reinterpret_cast<const char*>(&n), sizeof n);
      key_.append(f);
    }
    facts.row_hash = hasher_.Hash(key_);
    return Ok();
  }

 private:
  uint32_t CheckId(const std::string& v, RowFacts& facts, int& id_sex) {
    const detect::IdInfo info = detect::CheckResidentId(v, plan_.today);
    using S = detect::IdStatus;
    const bool valid = info.status == S::kValid || info.status == S::kLegacy15;
    if (valid && id_.empty()) {
      id_ = info.status == S::kValid ? info.normalized : detect::UpgradeLegacyId(info.normalized);
      facts.minor = AgeOn(info.birth, plan_.today) < 14;
      // Sequence digit: the 17th of 18 (the 15th of a legacy 15): odd is male.
      const char seq = info.normalized[info.status == S::kValid ? 16 : 14];
      id_sex = (seq - '0') % 2 == 1 ? 1 : -1;
    }
    switch (info.status) {
      case S::kValid:
        return Cell(kValid);
      case S::kLegacy15:
        return Cell(kValid, FindingKind::kIdLegacy15);
      case S::kScientificNotation:
        return Cell(kInvalid, FindingKind::kIdScientificNotation);
      case S::kBadCheckChar:
        return Cell(kInvalid, FindingKind::kIdBadCheckChar);
      case S::kBadBirthDate:
        return Cell(kInvalid, FindingKind::kIdBadBirthDate);
      case S::kFutureBirthDate:
        return Cell(kInvalid, FindingKind::kIdFutureBirthDate);
      case S::kUnknownRegion:
        return Cell(kInvalid, FindingKind::kIdUnknownRegion);
      case S::kBadCharacter:
        return Cell(kInvalid, FindingKind::kIdBadCharacter);
      case S::kBadLength:
        return Cell(kInvalid, FindingKind::kIdBadLength);
    }
    return Cell(kInvalid, FindingKind::kIdBadLength);
  }

  uint32_t CheckCard(const std::string& v) {
    using S = detect::CardCheck::Status;
    switch (detect::CheckBankCard(v).status) {
      case S::kValid:
        return Cell(kValid);
      case S::kUnknownIssuer:
        return Cell(kValid, FindingKind::kBankCardUnknownIssuer);
      case S::kLuhn:
        return Cell(kInvalid, FindingKind::kBankCardLuhn);
      case S::kInvalid:
        break;
    }
    if (detect::IsScientificNotation(detect::NormalizeWidthInto(v, buf_))) {
      return Cell(kInvalid, FindingKind::kBankCardScientificNotation);
    }
    return Cell(kInvalid, FindingKind::kBankCardInvalid);
  }

  uint32_t CheckUscc(const std::string& v) {
    if (detect::IsValidUscc(v)) return Cell(kValid);
    std::string u = detect::NormalizeWidth(v);
    for (char& c : u) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    // Well formed (GB 32100 alphabet, division code digits) but the check character disagrees.
    constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const bool alphabet = std::all_of(
        u.begin(), u.end(), [&](char c) { return kAlphabet.find(c) != std::string_view::npos; });
    if (u.size() == 18 && alphabet && AllDigits(std::string_view(u).substr(2, 6))) {
      return Cell(kInvalid, FindingKind::kUsccBadCheckChar);
    }
    return Cell(kInvalid, FindingKind::kUsccInvalid);
  }

  uint32_t Heuristic(const std::string& v, bool (*test)(std::string_view), FindingKind kind) {
    const std::string_view n = detect::NormalizeWidthInto(v, buf_);
    if (n.empty()) return Cell(kInvalid, kind);
    return test(n) ? Cell(kValid) : Cell(kInvalid, kind);
  }

  const Plan& plan_;
  const KeyHasher& hasher_;
  const detect::TextScanner& scanner_;
  detect::TextScanner::Scratch scratch_;
  std::vector<detect::TextMatch> matches_;
  const std::string empty_;
  std::string id_, mobile_, key_, buf_, name_buf_;
};

}  // namespace custos::workflow::internal

#endif  // CUSTOS_WORKFLOW_INVENTORY_ROWS_H_
