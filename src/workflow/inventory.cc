#include "workflow/inventory.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <array>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/spill_runs.h"
#include "crypto/random.h"
#include "detect/classify.h"
#include "detect/header.h"
#include "detect/scanner.h"
#include "detect/validators.h"
#include "workflow/import.h"

namespace custos::workflow {
namespace {

using detect::PiiType;
using report::FindingKind;

constexpr uint32_t Bit(PiiType t) { return 1u << static_cast<unsigned>(t); }
constexpr uint32_t kSensitiveTypes =
    Bit(PiiType::kCnResidentId) | Bit(PiiType::kPassport) | Bit(PiiType::kBankCard);
// A header cell that validates as one of these is a value, not a name.

bool AllDigits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}


// NormalizeWidth(v) without an allocation in the common case (no full-width
// forms, no surrounding whitespace): returns `v` itself or a view of `buf`.
std::string_view Normalized(std::string_view v, std::string& buf) {
  if (v.empty()) return v;
  // Full-width forms and U+3000 start with 0xEF or 0xE3. No early exit: the
  // loop vectorizes, and values are short.
  bool wide = false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    wide |= (u == 0xEF) | (u == 0xE3);
  }
  bool plain = !wide;
  if (plain) {
    const auto space = [](char c) {
      return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    };
    plain = !space(v.front()) && !space(v.back());
  }
  if (plain) return v;
  buf = detect::NormalizeWidth(v);
  return buf;
}

// Sex as a 性别 column writes it: +1 male, -1 female, 0 unknown.
int ParseSex(std::string_view v) {
  if (v == "男" || v == "男性" || v == "M" || v == "m" || v == "male" || v == "Male" || v == "1") {
    return 1;
  }
  if (v == "女" || v == "女性" || v == "F" || v == "f" || v == "female" || v == "Female" ||
      v == "2") {
    return -1;
  }
  return 0;
}

bool IsSexHeader(std::string_view header) {
  std::string h = detect::NormalizeWidth(header);
  for (char& c : h) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return h == "性别" || h == "sex" || h == "gender" || h == "客户性别";
}

// ---- Keyed hashing of normalized keys (SipHash-2-4, per-run random key) ----

class KeyHasher {
 public:
  KeyHasher() { crypto::RandomFill(key_); }
  ~KeyHasher() { sodium_memzero(key_.data(), key_.size()); }
  KeyHasher(const KeyHasher&) = delete;
  KeyHasher& operator=(const KeyHasher&) = delete;

  // Never 0 (0 marks an empty slot).
  uint64_t Hash(std::string_view data) const {
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     key_.data());
    uint64_t h;
    std::memcpy(&h, out, sizeof h);
    return h == 0 ? 1 : h;
  }

 private:
  std::array<uint8_t, crypto_shorthash_KEYBYTES> key_{};
};

// ---- A flat open-addressing hash table over 64-bit keyed hashes ----

struct NoValue {};

// Linear probing, power-of-two capacity, grows at 70% load. Key 0 is the
// empty marker (KeyHasher never returns it). A key and its value share a
// slot, so a probe touches one cache line. Not thread-safe.
//
// Memory is bounded: the table never grows past `max_slots`. When it would,
// its entries are written out in key order as a run of a SpillRuns (keyed
// hashes and small numbers, no personal data) and it starts again empty; a
// key that misses memory is then looked up in the runs, and if found comes
// back into memory with its value (a newer run shadows it when it leaves
// again).
template <typename V>
class FlatTable {
 public:
  static constexpr bool kHasValues = !std::is_same_v<V, NoValue>;
  static_assert(std::is_trivially_copyable_v<V>);

  // REQUIRES: max_slots is a power of two >= 1024.
  explicit FlatTable(size_t max_slots) : max_slots_(max_slots) { Resize(size_t{1} << 10); }

  // Returns the slot's value (nullptr for a set) and whether the key was
  // new. The pointer is valid until the next call. kUnavailable if the
  // spill file cannot be written or read.
  Result<std::pair<V*, bool>> FindOrInsert(uint64_t key) {
    if ((size_ + 1) * 10 > slots_.size() * 7) {
      if (slots_.size() < max_slots_) {
        Resize(slots_.size() * 2);
      } else {
        RETURN_IF_ERROR(Spill());
      }
    }
    size_t i = key & mask_;
    for (;;) {
      Slot& s = slots_[i];
      if (s.key == key) return std::pair<V*, bool>{ValueOf(s), false};
      if (s.key == 0) break;
      i = (i + 1) & mask_;
    }
    Slot& s = slots_[i];
    s.key = key;
    ++size_;
    bool found = false;
    if (spill_) {
      uint8_t value[kHasValues ? sizeof(V) : 1];
      ASSIGN_OR_RETURN(found, spill_->Find(reinterpret_cast<const uint8_t*>(&key), value));
      if constexpr (kHasValues) {
        if (found) std::memcpy(&s.value, value, sizeof(V));
      }
    }
    return std::pair<V*, bool>{ValueOf(s), !found};
  }

  // Hints that `key` will be looked up soon.
  void Prefetch(uint64_t key) const { __builtin_prefetch(&slots_[key & mask_]); }

  size_t size() const { return size_; }
  uint64_t spilled() const { return spill_ ? spill_->records() : 0; }

 private:
  struct KeyOnly {
    uint64_t key = 0;
  };
  struct KeyValue {
    uint64_t key = 0;
    V value{};
  };
  using Slot = std::conditional_t<kHasValues, KeyValue, KeyOnly>;
  static constexpr size_t kValueBytes = kHasValues ? sizeof(V) : 0;

  static V* ValueOf(Slot& s) {
    if constexpr (kHasValues) {
      return &s.value;
    } else {
      (void)s;
      return nullptr;
    }
  }

  void Resize(size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      size_t i = s.key & mask_;
      while (slots_[i].key != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  // Writes the entries out as a run, sorted at the front of the table (the
  // run's order is memcmp of the key's bytes as stored), then empties it.
  Status Spill() {
    if (!spill_) spill_ = std::make_unique<SpillRuns>(sizeof(uint64_t), kValueBytes);
    size_t n = 0;
    for (const Slot& s : slots_) {
      if (s.key != 0) slots_[n++] = s;
    }
    auto order = [](const Slot& a, const Slot& b) {
      return std::memcmp(&a.key, &b.key, sizeof a.key) < 0;
    };
    std::sort(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(n), order);
    Status status = spill_->BeginRun(n);
    uint8_t record[sizeof(uint64_t) + kValueBytes];
    for (size_t i = 0; i < n && status; ++i) {
      std::memcpy(record, &slots_[i].key, sizeof(uint64_t));
      if constexpr (kHasValues) std::memcpy(record + sizeof(uint64_t), &slots_[i].value, sizeof(V));
      status = spill_->Append(record);
    }
    if (status) status = spill_->EndRun();
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
    return status;
  }

  const size_t max_slots_;
  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  std::unique_ptr<SpillRuns> spill_;
};

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

Check CheckFor(PiiType t) {
  switch (t) {
    case PiiType::kCnResidentId: return Check::kId;
    case PiiType::kCnMobile: return Check::kMobile;
    case PiiType::kCnLandline: return Check::kLandline;
    case PiiType::kEmail: return Check::kEmail;
    case PiiType::kBankCard: return Check::kCard;
    case PiiType::kUscc: return Check::kUscc;
    case PiiType::kPassport: return Check::kPassport;
    case PiiType::kDate: return Check::kDate;
    case PiiType::kAmount: return Check::kAmount;
    case PiiType::kPersonName: return Check::kName;
    case PiiType::kAddress: return Check::kAddress;
    case PiiType::kFreeText:
    case PiiType::kOther: return Check::kNonEmpty;
  }
  return Check::kNonEmpty;
}

struct ColumnPlan {
  Check check = Check::kNonEmpty;
  bool sensitive = false;  // PIPL Art. 28 by type
  bool scanned = false;    // free_text / other: scan for personal data inside
  bool number_converted = false;  // went through a number format (detect::CheckDigitsLost)
};

// The finding for a long number a spreadsheet's number conversion damaged,
// by the column's check; nullopt for columns that hold no identifiers.
std::optional<FindingKind> DigitsLostKind(Check check) {
  switch (check) {
    case Check::kId: return FindingKind::kIdDigitsLost;
    case Check::kCard: return FindingKind::kBankCardDigitsLost;
    case Check::kNonEmpty: return FindingKind::kNumberDigitsLost;
    default: return std::nullopt;
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
  return static_cast<uint32_t>(s) |
         (kind ? (static_cast<uint32_t>(*kind) + 1) << 2 : 0u) | contains << 8;
}
CellState StateOf(uint32_t cell) { return static_cast<CellState>(cell & 3u); }
std::optional<FindingKind> KindOf(uint32_t cell) {
  const uint32_t k = (cell >> 2) & 0x3Fu;
  if (k == 0) return std::nullopt;
  return static_cast<FindingKind>(k - 1);
}
uint32_t ContainsOf(uint32_t cell) { return cell >> 8; }
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
        const detect::DigitsLost how = detect::CheckDigitsLost(v, number_cell, col.number_converted);
        const bool own_kind = how == detect::DigitsLost::kNumberCell ||
                              how == detect::DigitsLost::kTrailingZeros;
        if (own_kind) {
          cells[c] = Cell(kInvalid, *lost);
          continue;
        }
      }
      switch (col.check) {
        case Check::kId: cells[c] = CheckId(v, facts, id_sex); break;
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
          cells[c] = detect::NormalizeEmail(v) ? Cell(kValid)
                                               : Cell(kInvalid, FindingKind::kEmailInvalid);
          break;
        case Check::kCard: cells[c] = CheckCard(v); break;
        case Check::kUscc: cells[c] = CheckUscc(v); break;
        case Check::kPassport:
          cells[c] = Heuristic(v, detect::LooksLikePassport, FindingKind::kPassportInvalid);
          break;
        case Check::kDate: cells[c] = Heuristic(v, detect::LooksLikeDate, FindingKind::kDateInvalid); break;
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
            RETURN_IF_ERROR(scanner_.Scan(Normalized(v, buf_), scratch_, matches_));
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
      name = Normalized(row.fields[*plan_.name_column], name_buf_);
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
      const int sex = ParseSex(Normalized(row.fields[*plan_.sex_column], buf_));
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
      case S::kValid: return Cell(kValid);
      case S::kLegacy15: return Cell(kValid, FindingKind::kIdLegacy15);
      case S::kScientificNotation: return Cell(kInvalid, FindingKind::kIdScientificNotation);
      case S::kBadCheckChar: return Cell(kInvalid, FindingKind::kIdBadCheckChar);
      case S::kBadBirthDate: return Cell(kInvalid, FindingKind::kIdBadBirthDate);
      case S::kFutureBirthDate: return Cell(kInvalid, FindingKind::kIdFutureBirthDate);
      case S::kUnknownRegion: return Cell(kInvalid, FindingKind::kIdUnknownRegion);
      case S::kBadCharacter: return Cell(kInvalid, FindingKind::kIdBadCharacter);
      case S::kBadLength: return Cell(kInvalid, FindingKind::kIdBadLength);
    }
    return Cell(kInvalid, FindingKind::kIdBadLength);
  }

  uint32_t CheckCard(const std::string& v) {
    using S = detect::CardCheck::Status;
    switch (detect::CheckBankCard(v).status) {
      case S::kValid: return Cell(kValid);
      case S::kUnknownIssuer: return Cell(kValid, FindingKind::kBankCardUnknownIssuer);
      case S::kLuhn: return Cell(kInvalid, FindingKind::kBankCardLuhn);
      case S::kInvalid: break;
    }
    if (detect::IsScientificNotation(Normalized(v, buf_))) {
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
    const bool alphabet = std::all_of(u.begin(), u.end(), [&](char c) {
      return kAlphabet.find(c) != std::string_view::npos;
    });
    if (u.size() == 18 && alphabet && AllDigits(std::string_view(u).substr(2, 6))) {
      return Cell(kInvalid, FindingKind::kUsccBadCheckChar);
    }
    return Cell(kInvalid, FindingKind::kUsccInvalid);
  }

  uint32_t Heuristic(const std::string& v, bool (*test)(std::string_view), FindingKind kind) {
    const std::string_view n = Normalized(v, buf_);
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

// ---- Folding results in file order ----

struct Accumulator {
  uint64_t count = 0;
  std::vector<uint64_t> rows;
  void Add(uint64_t row) {
    ++count;
    if (rows.size() < report::kMaxFindingRows) rows.push_back(row);
  }
};

// 8 bytes, so that a slot of the ID table is 16.
struct IdSlot {
  static constexpr uint32_t kReported = 0x80000000u;
  uint32_t person_and_reported = 0;  // high bit: same_id_different_names already counted
  uint32_t name_hash = 0;            // of the first row with a name; 0: none yet

  uint32_t person() const { return person_and_reported & ~kReported; }
  bool reported() const { return person_and_reported & kReported; }
};
static_assert(sizeof(IdSlot) == 8);

class Folder {
 public:
  // max_table_slots: see FlatTable.
  Folder(const Plan& plan, report::InventoryReport& r, size_t max_table_slots)
      : plan_(plan), r_(r), column_acc_(plan.columns.size()), ids_(max_table_slots),
        mobile_names_(max_table_slots), rows_seen_(max_table_slots) {}

  // kUnavailable if a table's spill file fails.
  Status Fold(const uint32_t* cells, const RowFacts& f) {
    ++r_.rows;
    for (size_t c = 0; c < plan_.columns.size(); ++c) {
      const uint32_t cell = cells[c];
      if (cell == Cell(kValid)) {  // the common case: nothing else to record
        ++r_.columns[c].non_empty;
        ++r_.columns[c].valid;
        continue;
      }
      const CellState state = StateOf(cell);
      if (state == kEmpty) continue;
      report::ColumnInventory& col = r_.columns[c];
      ++col.non_empty;
      if (state == kValid) {
        ++col.valid;
      } else {
        ++col.invalid;
      }
      if (auto kind = KindOf(cell)) Acc(c, *kind).Add(f.number);
      if (const uint32_t types = ContainsOf(cell)) {
        ++col.values_with_pii;
        for (int t = 0; t < detect::kPiiTypeCount; ++t) {
          if (types & (1u << t)) ++col.contains[static_cast<size_t>(t)];
        }
        if (col.type == PiiType::kFreeText) {
          Acc(c, FindingKind::kFreeTextContainsPii).Add(f.number);
        } else {
          Acc(c, FindingKind::kOtherColumnContainsPii).Add(f.number);
        }
        if (types & kSensitiveTypes) {
          ++col.values_with_sensitive_pii;
          Acc(c, FindingKind::kSensitiveColumnInFreeText).Add(f.number);
        }
      }
    }
    if (f.sex_mismatch) RowAcc(FindingKind::kSexMismatchId).Add(f.number);
    ASSIGN_OR_RETURN(auto seen, rows_seen_.FindOrInsert(f.row_hash));
    if (!seen.second) RowAcc(FindingKind::kDuplicateRows).Add(f.number);

    uint32_t person;
    bool is_new = false;
    bool minor = false;
    if (f.id_key != 0) {
      ASSIGN_OR_RETURN(auto id, ids_.FindOrInsert(f.id_key));
      auto [slot, inserted] = id;
      if (inserted) {
        ASSIGN_OR_RETURN(slot->person_and_reported, NewPerson());
        slot->name_hash = f.name_hash;
        is_new = true;
        minor = f.minor;
      } else if (f.name_hash != 0) {
        if (slot->name_hash == 0) {
          slot->name_hash = f.name_hash;
        } else if (slot->name_hash != f.name_hash && !slot->reported()) {
          slot->person_and_reported |= IdSlot::kReported;
          RowAcc(FindingKind::kSameIdDifferentNames).Add(f.number);
        }
      }
      person = slot->person();
      // As import does: the mobile and name also find this person later.
      if (f.mn_key != 0) {
        ASSIGN_OR_RETURN(auto mn, mobile_names_.FindOrInsert(f.mn_key));
        if (mn.second) *mn.first = person;
      }
    } else if (f.mn_key != 0) {
      ASSIGN_OR_RETURN(auto found, mobile_names_.FindOrInsert(f.mn_key));
      auto [mn, mn_new] = found;
      if (mn_new) {
        ASSIGN_OR_RETURN(*mn, NewPerson());
        is_new = true;
      }
      person = *mn;
    } else {
      ASSIGN_OR_RETURN(person, NewPerson());
      is_new = true;
      ++r_.rows_without_person_key;
      RowAcc(FindingKind::kRowsWithoutPersonKey).Add(f.number);
    }
    ASSIGN_OR_RETURN(uint8_t* flags_at, person_flags_.At(person));
    uint8_t& flags = *flags_at;
    if (minor) {
      ++r_.minors;
      RowAcc(FindingKind::kMinorUnder14).Add(f.number);
      flags |= kMinorFlag;
    }
    if (!is_new && !(flags & kSeveralRowsFlag)) {
      flags |= kSeveralRowsFlag;
      ++r_.people_on_several_rows;
      RowAcc(FindingKind::kPersonMultipleRows).Add(f.number);
    }
    if ((f.sensitive || (flags & kMinorFlag)) && !(flags & kSensitiveFlag)) {
      flags |= kSensitiveFlag;
      ++r_.people_with_sensitive;
    }
    return Ok();
  }

  // Starts loading the table slots a later row will probe (random accesses
  // into tables of tens of MB: each would otherwise be a cache miss).
  void Prefetch(const RowFacts& f) const {
    rows_seen_.Prefetch(f.row_hash);
    if (f.id_key != 0) ids_.Prefetch(f.id_key);
    if (f.mn_key != 0) mobile_names_.Prefetch(f.mn_key);
  }

  // Findings in FindingKind order, row-level ones before column ones.
  std::vector<report::Finding> Findings() const {
    std::vector<report::Finding> out;
    for (int k = 0; k < report::kFindingKindCount; ++k) {
      const auto kind = static_cast<FindingKind>(k);
      auto it = row_acc_.find(k);
      if (it != row_acc_.end() && it->second.count > 0) {
        out.push_back({kind, std::nullopt, it->second.count, it->second.rows});
      }
      for (size_t c = 0; c < column_acc_.size(); ++c) {
        const Accumulator& a = column_acc_[c][static_cast<size_t>(k)];
        if (a.count > 0) out.push_back({kind, c, a.count, a.rows});
      }
    }
    return out;
  }

  void AddColumnFinding(size_t column, FindingKind kind, uint64_t count,
                        std::vector<uint64_t> rows) {
    Accumulator& a = Acc(column, kind);
    a.count = count;
    a.rows = std::move(rows);
  }

 private:
  static constexpr uint8_t kSeveralRowsFlag = 1;
  static constexpr uint8_t kSensitiveFlag = 2;
  static constexpr uint8_t kMinorFlag = 4;

  // Person numbers share 32 bits with IdSlot's flag: at most 2^31 people
  // (a file of billions of rows).
  Result<uint32_t> NewPerson() {
    if (r_.people >= IdSlot::kReported) {
      return Fail(InvalidArgument("more than " + std::to_string(IdSlot::kReported) +
                                  " people in one file"));
    }
    return static_cast<uint32_t>(r_.people++);
  }
  Accumulator& Acc(size_t column, FindingKind kind) {
    return column_acc_[column][static_cast<size_t>(kind)];
  }
  Accumulator& RowAcc(FindingKind kind) { return row_acc_[static_cast<int>(kind)]; }

  const Plan& plan_;
  report::InventoryReport& r_;
  std::vector<std::array<Accumulator, report::kFindingKindCount>> column_acc_;
  std::map<int, Accumulator> row_acc_;
  FlatTable<IdSlot> ids_;
  FlatTable<uint32_t> mobile_names_;
  FlatTable<NoValue> rows_seen_;
  SpillBytes person_flags_;  // one byte per person, the recent ones in memory
};

// ---- The pipeline: reader -> analyzers -> folder, in file order ----

constexpr size_t kBatchRows = 2048;
constexpr size_t kPrefetchAhead = 8;

struct Batch {
  enum class State { kFree, kFilled, kAnalyzing, kAnalyzed };
  State state = State::kFree;
  uint64_t seq = 0;
  std::vector<ingest::Row> rows;
  size_t count = 0;
  std::vector<uint32_t> cells;  // count x columns
  std::vector<RowFacts> facts;
  uint64_t bytes_consumed = 0;
  bool end = false;  // no rows follow this batch
  std::optional<Error> error;
};

// Shared state of the threads. All fields but the slots' contents are
// guarded by mu; a slot's contents belong to whoever moved it to its state
// (reader: kFree -> kFilled; an analyzer: kFilled -> kAnalyzed; the folder:
// kAnalyzed -> kFree).
struct Pipeline {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Batch> slots;
  uint64_t next_to_analyze = 0;
  bool analysis_done = false;  // an analyzer took the last batch
  bool abort = false;

  Batch& Slot(uint64_t seq) { return slots[seq % slots.size()]; }
};

void ReaderLoop(Pipeline& p, ingest::RowReader& reader, uint64_t first_seq) {
  for (uint64_t seq = first_seq;; ++seq) {
    Batch& b = p.Slot(seq);
    {
      std::unique_lock lock(p.mu);
      p.cv.wait(lock, [&] { return p.abort || b.state == Batch::State::kFree; });
      if (p.abort) return;
    }
    b.count = 0;
    b.end = false;
    b.error.reset();
    if (b.rows.size() < kBatchRows) b.rows.resize(kBatchRows);
    while (b.count < kBatchRows) {
      Result<bool> more = reader.Next(b.rows[b.count]);
      if (!more) {
        b.error = more.error();
        b.end = true;
        break;
      }
      if (!*more) {
        b.end = true;
        break;
      }
      ++b.count;
    }
    b.bytes_consumed = reader.bytes_consumed();
    {
      std::lock_guard lock(p.mu);
      b.seq = seq;
      b.state = Batch::State::kFilled;
    }
    p.cv.notify_all();
    if (b.end) return;
  }
}

Status AnalyzeBatch(RowAnalyzer& analyzer, size_t columns, Batch& b) {
  b.cells.resize(b.count * columns);
  b.facts.resize(b.count);
  for (size_t i = 0; i < b.count; ++i) {
    RETURN_IF_ERROR(analyzer.Analyze(b.rows[i], b.cells.data() + i * columns, b.facts[i]));
  }
  return Ok();
}

void AnalyzerLoop(Pipeline& p, RowAnalyzer& analyzer, size_t columns) {
  for (;;) {
    Batch* b = nullptr;
    {
      std::unique_lock lock(p.mu);
      p.cv.wait(lock, [&] {
        if (p.abort || p.analysis_done) return true;
        const Batch& next = p.Slot(p.next_to_analyze);
        return next.state == Batch::State::kFilled && next.seq == p.next_to_analyze;
      });
      if (p.abort || p.analysis_done) return;
      b = &p.Slot(p.next_to_analyze++);
      b->state = Batch::State::kAnalyzing;
      if (b->end) p.analysis_done = true;
    }
    if (!b->error) {
      Status st = AnalyzeBatch(analyzer, columns, *b);
      if (!st) b->error = st.error();
    }
    {
      std::lock_guard lock(p.mu);
      b->state = Batch::State::kAnalyzed;
    }
    p.cv.notify_all();
  }
}

// Joins every thread it started, after telling them to stop.
class Threads {
 public:
  explicit Threads(Pipeline& p) : p_(p) {}
  ~Threads() {
    {
      std::lock_guard lock(p_.mu);
      p_.abort = true;
    }
    p_.cv.notify_all();
    for (auto& t : threads_) t.join();
  }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

  template <typename F>
  Status Start(F&& f) {
    try {
      threads_.emplace_back(std::forward<F>(f));
    } catch (const std::exception&) {
      return Fail(Unavailable("inventory: cannot start a thread"));
    }
    return Ok();
  }

 private:
  Pipeline& p_;
  std::vector<std::thread> threads_;
};


}  // namespace

Result<report::InventoryReport> RunInventory(const std::string& path,
                                             const InventoryOptions& options) {
  report::InventoryReport r;
  r.file = path;
  r.today = options.today;
  r.generated_at = NowUnixSeconds();

  ASSIGN_OR_RETURN(std::unique_ptr<ingest::RowReader> reader, ingest::OpenTable(path, options.read));
  ASSIGN_OR_RETURN(std::unique_ptr<detect::TextScanner> scanner,
                   detect::TextScanner::Create(options.today));
  r.format = reader->format();
  std::error_code size_error;
  r.bytes = std::filesystem::file_size(path, size_error);  // XLSX readers count XML bytes instead
  if (size_error) r.bytes = 0;
  const std::vector<std::string> headers = reader->header();
  const size_t columns = headers.size();
  RETURN_IF_ERROR(detect::CheckDistinctColumnNames(
      headers, detect::JudgeHeaderRow(headers, options.today), path));

  // The file's hash, alongside the reading (the file is read twice; the
  // second read comes from the page cache).
  std::optional<Result<std::string>> sha;
  std::thread sha_thread;
  try {
    sha_thread = std::thread([&] { sha = FileSha256(path); });
  } catch (const std::exception&) {
    sha = FileSha256(path);
  }
  struct JoinSha {
    std::thread& t;
    ~JoinSha() {
      if (t.joinable()) t.join();
    }
  } join_sha{sha_thread};

  Pipeline p;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = std::min(8u, options.threads != 0 ? options.threads : cores);
  p.slots.resize(2 * static_cast<size_t>(workers) + 2);

  // The sample: the first rows, classified, then analysed as batch 0.
  Batch& first = p.Slot(0);
  first.rows.resize(std::max<size_t>(options.sample_rows, 1));
  detect::ColumnClassifier classifier(headers, options.today);
  while (first.count < first.rows.size()) {
    ASSIGN_OR_RETURN(bool more, reader->Next(first.rows[first.count]));
    if (!more) {
      first.end = true;
      break;
    }
    classifier.Observe(first.rows[first.count].fields);
    ++first.count;
  }
  first.bytes_consumed = reader->bytes_consumed();
  first.seq = 0;
  first.state = Batch::State::kFilled;
  r.sample_rows = first.count;

  Plan plan;
  plan.today = options.today;
  const std::vector<detect::ColumnGuess> guesses = classifier.Guess();
  // A header cell that reads as a customer's value is never shown: the
  // column is column_N (every column, when the whole row reads as data).
  const detect::HeaderVerdict verdict = detect::JudgeHeaderRow(headers, options.today);
  std::vector<size_t> data_like_headers;
  for (size_t c = 0; c < columns; ++c) {
    const detect::ColumnGuess& g = guesses[c];
    report::ColumnInventory col;
    col.name = detect::ColumnNameFor(verdict, headers, c);
    if (!verdict.passes[c]) data_like_headers.push_back(c);
    col.type = g.type;
    col.confidence = g.confidence;
    col.sensitive = g.sensitive;
    col.scanned = g.type == PiiType::kFreeText || g.type == PiiType::kOther;
    r.columns.push_back(std::move(col));

    ColumnPlan cp;
    cp.check = CheckFor(g.type);
    cp.sensitive = g.sensitive;
    cp.scanned = r.columns.back().scanned;
    cp.number_converted = g.number_converted;
    plan.columns.push_back(cp);
    if (g.type == PiiType::kCnResidentId && !r.id_column) r.id_column = c;
    if (g.type == PiiType::kCnMobile && !r.mobile_column) r.mobile_column = c;
    if (g.type == PiiType::kPersonName && !r.name_column) r.name_column = c;
    if (g.type == PiiType::kOther && !plan.sex_column && IsSexHeader(headers[c])) {
      plan.sex_column = c;
    }
  }
  plan.name_column = r.name_column;

  KeyHasher hasher;
  std::vector<std::unique_ptr<RowAnalyzer>> analyzers;
  for (unsigned i = 0; i < workers; ++i) {
    ASSIGN_OR_RETURN(detect::TextScanner::Scratch scratch, scanner->NewScratch());
    analyzers.push_back(
        std::make_unique<RowAnalyzer>(plan, hasher, *scanner, std::move(scratch)));
  }
  Folder folder(plan, r, options.max_table_slots);

  const uint64_t progress_total = reader->bytes_total();  // read before the reader thread runs
  {
    Threads threads(p);
    if (!first.end) {
      RETURN_IF_ERROR(threads.Start([&] { ReaderLoop(p, *reader, 1); }));
    }
    for (auto& a : analyzers) {
      RowAnalyzer* analyzer = a.get();
      RETURN_IF_ERROR(threads.Start([&p, analyzer, columns] { AnalyzerLoop(p, *analyzer, columns); }));
    }
    uint64_t since_progress = 0;
    for (uint64_t seq = 0;; ++seq) {
      Batch& b = p.Slot(seq);
      {
        std::unique_lock lock(p.mu);
        p.cv.wait(lock, [&] { return b.state == Batch::State::kAnalyzed && b.seq == seq; });
      }
      if (b.error) return Fail(*b.error);
      for (size_t i = 0; i < b.count; ++i) {
        if (i + kPrefetchAhead < b.count) folder.Prefetch(b.facts[i + kPrefetchAhead]);
        RETURN_IF_ERROR(folder.Fold(b.cells.data() + i * columns, b.facts[i]));
      }
      const bool end = b.end;
      const uint64_t consumed = b.bytes_consumed;
      {
        std::lock_guard lock(p.mu);
        b.state = Batch::State::kFree;
      }
      p.cv.notify_all();
      if (options.progress && (++since_progress % 16 == 0 || end)) {
        options.progress(consumed, progress_total);
      }
      if (end) break;
    }
  }  // joins the reader and the analyzers

  r.encoding = reader->encoding();  // final only at the end (gbk may become gb18030)
  for (size_t c : data_like_headers) {
    folder.AddColumnFinding(c, FindingKind::kHeaderLooksLikeData, 1, {});
  }
  for (size_t c = 0; c < columns; ++c) {
    if (r.rows > 0 && r.columns[c].non_empty == 0) {
      std::vector<uint64_t> rows;
      for (uint64_t n = 1; n <= std::min<uint64_t>(r.rows, report::kMaxFindingRows); ++n) {
        rows.push_back(n);
      }
      folder.AddColumnFinding(c, FindingKind::kEmptyColumn, r.rows, std::move(rows));
    }
  }
  r.findings = folder.Findings();

  if (sha_thread.joinable()) sha_thread.join();
  if (!sha || !*sha) return Fail(sha ? sha->error() : Internal("inventory: file hash missing"));
  r.sha256 = **sha;
  return r;
}

}  // namespace custos::workflow
