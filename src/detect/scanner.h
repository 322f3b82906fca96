// Personal data inside free text: a multi-pattern scan (vectorscan) whose
// candidate spans are confirmed by the validators (checksums, region and
// birth-date checks) before they count.
//
// What counts as a match (the same rules for TextScanner and ReferenceScan):
//
//   type            shapes found                                   confirmed by
//   cn_resident_id  17 digits + digit/X/x; 15 digits (legacy)      CheckResidentId: kValid / kLegacy15
//   cn_mobile       1[3-9] + 9 digits; 3-4-4 with ' ' or '-';      NormalizeMobile
//                   +86 / 0086 prefix, optional separators
//   bank_card       13-19 digits; 4-4-4-4 and 4-4-4-4-3 groups     NormalizeBankCard (scheme + Luhn)
//   cn_landline     0 + 2-3 digit area code, 7-8 digits, ' ' '-'   NormalizeLandline
//                   and (area) forms
//   email           local@domain.tld                               NormalizeEmail
//   uscc            18 characters of the GB 32100 alphabet         IsValidUscc
//
// A numeric shape must stand alone: the bytes just before and after it are
// not ASCII digits (for ID numbers the byte after is not X/x either), so 18
// digits inside a longer run of digits are not an ID number. Grouped card
// numbers also may not continue with a separator and more digits. A USCC may
// not touch an ASCII letter or digit. An e-mail's domain may not continue
// with a domain character or a dot followed by one. CJK characters and
// punctuation (ASCII or full-width) are boundaries.
//
// Where shapes overlap, the match that starts first wins, then the longer,
// then the type in the order of the table above; an ID number takes
// precedence over a Luhn-valid card of the same digits.
//
// The text is matched as bytes: full-width digits are not recognized. Callers
// that want them (inventory does) pass NormalizeWidth(text) instead. Passport
// numbers, names and addresses are not looked for: without a checksum or a
// column header they cannot be told from other codes and words.
#ifndef CUSTOS_DETECT_SCANNER_H_
#define CUSTOS_DETECT_SCANNER_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "detect/types.h"

namespace custos::detect {

// A confirmed match: [begin, end) are byte offsets into the scanned text.
struct TextMatch {
  PiiType type = PiiType::kOther;
  uint32_t begin = 0;
  uint32_t end = 0;
  friend bool operator==(const TextMatch&, const TextMatch&) = default;
};

// Texts longer than this are scanned in their first kMaxScanBytes only
// (offsets are 32-bit; a note of 64 MiB is not a note).
inline constexpr size_t kMaxScanBytes = size_t{64} << 20;

// The vectorscan scanner. The pattern database is compiled once, in Create,
// in block mode with HS_FLAG_SOM_LEFTMOST (never HS_FLAG_SINGLEMATCH, which
// loses matches in Debian 12's vectorscan 5.4.9: docs/performance notes).
//
// Thread safety: a TextScanner is immutable after Create and may be shared;
// each thread scans with its own Scratch.
class TextScanner {
 public:
  // Scratch space for one thread at a time. Movable, not copyable.
  class Scratch {
   public:
    Scratch(Scratch&& other) noexcept;
    Scratch& operator=(Scratch&& other) noexcept;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch();

   private:
    friend class TextScanner;
    explicit Scratch(void* hs_scratch) : hs_scratch_(hs_scratch) {}
    void* hs_scratch_ = nullptr;                    // hs_scratch_t
    std::vector<uint64_t> candidates_;              // reused between scans
  };

  // `today` decides which ID birth dates lie in the future.
  // Errors: kInternal if vectorscan refuses the patterns (a bug or an
  // unsupported CPU; the message is vectorscan's, it holds no data).
  static Result<std::unique_ptr<TextScanner>> Create(const Date& today);
  ~TextScanner();
  TextScanner(const TextScanner&) = delete;
  TextScanner& operator=(const TextScanner&) = delete;

  // Errors: kInternal (allocation failure inside vectorscan).
  Result<Scratch> NewScratch() const;

  // Replaces `out` with the confirmed matches in `text`, ordered by begin,
  // non-overlapping. REQUIRES: `scratch` came from this scanner and no other
  // thread uses it now. Errors: kInternal if vectorscan fails.
  Status Scan(std::string_view text, Scratch& scratch, std::vector<TextMatch>& out) const;

 private:
  TextScanner(void* db, const Date& today) : db_(db), today_(today) {}
  void* db_ = nullptr;  // hs_database_t
  Date today_;
};

// The same rules without vectorscan: every start position is tried against
// hand-written matchers of the same shapes. Quadratic; for tests only.
std::vector<TextMatch> ReferenceScan(std::string_view text, const Date& today);

// Bit set of the types in `matches` (bit i for PiiType i).
uint32_t MatchTypes(const std::vector<TextMatch>& matches);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_SCANNER_H_
