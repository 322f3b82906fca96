// Column classification: which type of the closed vocabulary a column holds,
// from its header and its values together.
//
// The header gives a hint (Chinese and English names); the values decide. A
// column whose values validate as one type is that type whatever its header
// says, and a meaningless header ("字段7") does not hide a column of ID
// numbers.
#ifndef CUSTOS_DETECT_CLASSIFY_H_
#define CUSTOS_DETECT_CLASSIFY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "detect/types.h"

namespace custos::detect {

// The type a header name suggests, or kOther when it suggests nothing.
PiiType HeaderHint(std::string_view header);

// Every type a single value could be (bit i set for PiiType i). A value can
// be several at once: "13812345678" is a mobile and an amount-shaped number.
// `valid` types pass their checksum/validator; `shaped` ones only look like it
// (an 18-character ID with a bad check character is shaped, not valid).
struct ValueTypes {
  uint32_t valid = 0;
  uint32_t shaped = 0;
};
ValueTypes ClassifyValue(std::string_view value, const Date& today);

// Value heuristics for types without a checksum (used by ClassifyValue and by
// the inventory's per-value validity counts, so both judge alike). Values
// are UTF-8, already width-normalized and trimmed.
bool LooksLikeName(std::string_view v);     // 2-4 CJK characters, common surname first
bool LooksLikeAddress(std::string_view v);  // >= 6 CJK characters, >= 2 address markers
bool LooksLikeDate(std::string_view v);     // YYYY-MM-DD, YYYY/M/D, YYYY年M月D日, YYYYMMDD
bool LooksLikeAmount(std::string_view v);   // signed decimal, thousands commas, ¥/元; no leading zero
bool LooksLikePassport(std::string_view v); // Chinese passport series (E, G, P, S, D, SE, DE)

// Whether a header row is a customer's data instead: detect/header.h.

struct ColumnGuess {
  std::string name;
  PiiType type = PiiType::kOther;
  double confidence = 0;   // 0..1
  bool sensitive = false;  // PIPL Art. 28 by type
  // The column went through a spreadsheet's number format: more than half
  // of its sampled values of 16 or more digits have only zeros past the
  // 15th (a real 16-digit card ends in 0 one time in ten, an 18-digit ID in
  // 000 one time in a thousand; a converted column always does). See
  // CheckDigitsLost.
  bool number_converted = false;
};

// Accumulates samples of every column, then guesses. Thread-compatible.
class ColumnClassifier {
 public:
  ColumnClassifier(std::vector<std::string> headers, Date today);
  // REQUIRES: row.size() == headers.size().
  void Observe(const std::vector<std::string>& row);
  std::vector<ColumnGuess> Guess() const;

 private:
  // At most this many distinct integers make a column of codes.
  static constexpr size_t kCodeSetMax = 20;
  struct Tally {
    uint64_t non_empty = 0;
    std::array<uint64_t, kPiiTypeCount> valid{};
    std::array<uint64_t, kPiiTypeCount> shaped{};
    uint64_t money = 0;   // numbers with decimals, a currency sign or unit, thousands commas
    uint64_t padded = 0;  // numbers with a leading zero (codes)
    uint64_t long_numbers = 0;     // values of 16 or more ASCII digits
    uint64_t long_zero_tails = 0;  // ... of which only zeros past the 15th
    std::vector<std::string> distinct_integers;  // up to kCodeSetMax + 1
  };
  std::vector<std::string> headers_;
  Date today_;
  std::vector<Tally> tallies_;
};

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_CLASSIFY_H_
