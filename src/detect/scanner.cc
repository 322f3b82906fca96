#include "detect/scanner.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <string>

#include "detect/validators.h"

namespace custos::detect {
namespace {

// The shapes. Each has a vectorscan expression and a hand-written full-match
// function for the reference scanner; both must describe the same language.
enum Shape : unsigned {
  kId18,
  kId15,
  kMobile,
  kMobileGrouped,
  kMobileCountry,
  kCard,
  kCardGrouped16,
  kCardGrouped19,
  kLandline,
  kLandlineParen,
  kEmail,
  kUscc,
  kShapeCount,
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) {
  return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool IsSep(char c) { return c == ' ' || c == '-'; }
bool IsEmailLocal(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAsciiAlnum(c) || c == '-'; }
bool IsUsccChar(char c) {
  if (IsDigit(c)) return true;
  if (c < 'A' || c > 'Y') return false;
  return c != 'I' && c != 'O' && c != 'S' && c != 'V' && c != 'Z';
}

bool Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

// ---- Full matchers (the reference scanner's view of each expression) ----

bool FullId18(std::string_view s) {
  return s.size() == 18 && Digits(s, 0, 17) && (IsDigit(s[17]) || s[17] == 'X' || s[17] == 'x');
}
bool FullId15(std::string_view s) { return s.size() == 15 && Digits(s, 0, 15); }
bool MobileHead(std::string_view s, size_t pos) {  // 1[3-9]\d
  return pos + 3 <= s.size() && s[pos] == '1' && s[pos + 1] >= '3' && s[pos + 1] <= '9' &&
         IsDigit(s[pos + 2]);
}
bool FullMobile(std::string_view s) { return s.size() == 11 && MobileHead(s, 0) && Digits(s, 3, 8); }
bool FullMobileGrouped(std::string_view s) {  // 1[3-9]\d[ -]\d{4}[ -]\d{4}
  return s.size() == 13 && MobileHead(s, 0) && IsSep(s[3]) && Digits(s, 4, 4) && IsSep(s[8]) &&
         Digits(s, 9, 4);
}
bool FullMobileCountry(std::string_view s) {  // (?:\+86|0086)[ -]?1[3-9]\d(?:[ -]?\d{4}){2}
  size_t i;
  if (s.starts_with("+86")) {
    i = 3;
  } else if (s.starts_with("0086")) {
    i = 4;
  } else {
    return false;
  }
  // Each optional separator is followed by a digit, so taking it when present is the only parse.
  if (i < s.size() && IsSep(s[i])) ++i;
  if (!MobileHead(s, i)) return false;
  i += 3;
  for (int group = 0; group < 2; ++group) {
    if (i < s.size() && IsSep(s[i])) ++i;
    if (!Digits(s, i, 4)) return false;
    i += 4;
  }
  return i == s.size();
}
bool FullCard(std::string_view s) { return s.size() >= 13 && s.size() <= 19 && Digits(s, 0, s.size()); }
bool FullCardGroups(std::string_view s, int groups4, bool tail3) {
  size_t i = 0;
  for (int g = 0; g < groups4; ++g) {
    if (g > 0) {
      if (i >= s.size() || !IsSep(s[i])) return false;
      ++i;
    }
    if (!Digits(s, i, 4)) return false;
    i += 4;
  }
  if (tail3) {
    if (i >= s.size() || !IsSep(s[i]) || !Digits(s, i + 1, 3)) return false;
    i += 4;
  }
  return i == s.size();
}
// 0\d{2,3}[ -]?\d{3,4}[ -]?\d{4} after `open`/`close` around the area code.
bool FullLandlineWith(std::string_view s, bool paren) {
  for (size_t area = 2; area <= 3; ++area) {
    for (int sep1 = 0; sep1 <= 1; ++sep1) {
      for (size_t mid = 3; mid <= 4; ++mid) {
        for (int sep2 = 0; sep2 <= 1; ++sep2) {
          size_t i = 0;
          if (paren) {
            if (s.empty() || s[0] != '(') continue;
            i = 1;
          }
          if (i >= s.size() || s[i] != '0' || !Digits(s, i + 1, area)) continue;
          i += 1 + area;
          if (paren) {
            if (i >= s.size() || s[i] != ')') continue;
            ++i;
          }
          if (sep1) {
            if (i >= s.size() || !IsSep(s[i])) continue;
            ++i;
          }
          if (!Digits(s, i, mid)) continue;
          i += mid;
          if (sep2) {
            if (i >= s.size() || !IsSep(s[i])) continue;
            ++i;
          }
          if (!Digits(s, i, 4)) continue;
          if (i + 4 == s.size()) return true;
        }
      }
    }
  }
  return false;
}
bool FullLandline(std::string_view s) { return FullLandlineWith(s, false); }
bool FullLandlineParen(std::string_view s) { return FullLandlineWith(s, true); }
bool FullEmail(std::string_view s) {  // [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  for (size_t i = 0; i < at; ++i) {
    if (!IsEmailLocal(s[i])) return false;
  }
  size_t labels = 0, len = 0;
  for (size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (len == 0) return false;
      ++labels;
      len = 0;
    } else if (IsDomainChar(s[i])) {
      ++len;
    } else {
      return false;
    }
  }
  if (len == 0) return false;
  return labels + 1 >= 2;
}
bool FullUscc(std::string_view s) {
  if (s.size() != 18 || !Digits(s, 2, 6)) return false;
  return std::all_of(s.begin(), s.end(), IsUsccChar);
}

struct ShapeSpec {
  const char* expression;  // vectorscan syntax
  PiiType type;
  size_t max_length;  // 0: unbounded
  bool (*full_match)(std::string_view);
};

constexpr std::array<ShapeSpec, kShapeCount> kShapes = {{
    {R"(\d{17}[\dXx])", PiiType::kCnResidentId, 18, FullId18},
    {R"(\d{15})", PiiType::kCnResidentId, 15, FullId15},
    {R"(1[3-9]\d{9})", PiiType::kCnMobile, 11, FullMobile},
    {R"(1[3-9]\d[ \-]\d{4}[ \-]\d{4})", PiiType::kCnMobile, 13, FullMobileGrouped},
    {R"((?:\+86|0086)[ \-]?1[3-9]\d(?:[ \-]?\d{4}){2})", PiiType::kCnMobile, 18,
     FullMobileCountry},
    {R"(\d{13,19})", PiiType::kBankCard, 19, FullCard},
    {R"(\d{4}(?:[ \-]\d{4}){3})", PiiType::kBankCard, 19,
     [](std::string_view s) { return FullCardGroups(s, 4, false); }},
    {R"(\d{4}(?:[ \-]\d{4}){3}[ \-]\d{3})", PiiType::kBankCard, 23,
     [](std::string_view s) { return FullCardGroups(s, 4, true); }},
    {R"(0\d{2,3}[ \-]?\d{3,4}[ \-]?\d{4})", PiiType::kCnLandline, 14, FullLandline},
    {R"(\(0\d{2,3}\)[ \-]?\d{3,4}[ \-]?\d{4})", PiiType::kCnLandline, 16, FullLandlineParen},
    {R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)", PiiType::kEmail, 0, FullEmail},
    {R"([0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10})", PiiType::kUscc, 18, FullUscc},
}};

// Order among matches with the same span: the table's type order (scanner.h).
int TypeRank(PiiType t) {
  switch (t) {
    case PiiType::kCnResidentId: return 0;
    case PiiType::kCnMobile: return 1;
    case PiiType::kBankCard: return 2;
    case PiiType::kCnLandline: return 3;
    case PiiType::kEmail: return 4;
    case PiiType::kUscc: return 5;
    default: return 6;
  }
}

// A raw candidate, packed: shape (8 bits) | begin (28 bits) | end (28 bits).
constexpr unsigned kOffsetBits = 28;
static_assert(kMaxScanBytes <= (uint64_t{1} << kOffsetBits), "offsets must fit");
uint64_t Pack(unsigned shape, uint64_t begin, uint64_t end) {
  return uint64_t{shape} << (2 * kOffsetBits) | begin << kOffsetBits | end;
}
constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;

bool DigitAt(std::string_view t, size_t i) { return i < t.size() && IsDigit(t[i]); }

// Boundary rules and validation of one candidate span (scanner.h).
bool Accept(unsigned shape, std::string_view text, size_t b, size_t e, const Date& today) {
  const char before = b > 0 ? text[b - 1] : '\0';
  const char after = e < text.size() ? text[e] : '\0';
  const std::string_view span = text.substr(b, e - b);
  switch (shape) {
    case kId18:
    case kId15: {
      if (IsDigit(before) || IsDigit(after) || after == 'X' || after == 'x') return false;
      const IdStatus status = CheckResidentId(span, today).status;
      return status == (shape == kId18 ? IdStatus::kValid : IdStatus::kLegacy15);
    }
    case kMobile:
    case kMobileGrouped:
    case kMobileCountry:
      if (IsDigit(before) || IsDigit(after)) return false;
      return NormalizeMobile(span).has_value();
    case kCard:
      if (IsDigit(before) || IsDigit(after)) return false;
      return NormalizeBankCard(span).has_value();
    case kCardGrouped16:
    case kCardGrouped19:
      if (IsDigit(before) || IsDigit(after)) return false;
      if (IsSep(before) && b >= 2 && IsDigit(text[b - 2])) return false;
      if (IsSep(after) && DigitAt(text, e + 1)) return false;
      return NormalizeBankCard(span).has_value();
    case kLandline:
    case kLandlineParen:
      if (IsDigit(before) || IsDigit(after)) return false;
      return NormalizeLandline(span).has_value();
    case kEmail: {
      // The leftmost start already takes in every local-part character.
      if (IsDomainChar(after) || (after == '.' && e + 1 < text.size() && IsDomainChar(text[e + 1]))) {
        return false;
      }
      return NormalizeEmail(span).has_value();
    }
    case kUscc:
      if (IsAsciiAlnum(before) || IsAsciiAlnum(after)) return false;
      return IsValidUscc(span);
    default:
      return false;
  }
}

// From raw candidates (any order, duplicates allowed) to confirmed,
// non-overlapping matches ordered by begin.
void Resolve(std::string_view text, std::vector<uint64_t>& candidates, const Date& today,
             std::vector<TextMatch>& out) {
  out.clear();
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<TextMatch>& accepted = out;
  for (uint64_t c : candidates) {
    const auto shape = static_cast<unsigned>(c >> (2 * kOffsetBits));
    const size_t b = (c >> kOffsetBits) & kOffsetMask;
    const size_t e = c & kOffsetMask;
    if (shape >= kShapeCount || b >= e || e > text.size()) continue;
    if (!Accept(shape, text, b, e, today)) continue;
    accepted.push_back({kShapes[shape].type, static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
  }
  std::sort(accepted.begin(), accepted.end(), [](const TextMatch& x, const TextMatch& y) {
    if (x.begin != y.begin) return x.begin < y.begin;
    if (x.end != y.end) return x.end > y.end;
    return TypeRank(x.type) < TypeRank(y.type);
  });
  size_t kept = 0;
  uint32_t covered_to = 0;
  for (const TextMatch& m : accepted) {
    if (kept > 0 && m.begin < covered_to) continue;
    accepted[kept++] = m;
    covered_to = m.end;
  }
  accepted.resize(kept);
}

// False only if no shape can match: every shape but the e-mail holds at
// least 10 digits (mobile 11, ID 15, card 13, landline 0 + 2 + 7), except the
// USCC, which is 18 characters long with 6 digits in a row; the e-mail holds
// an '@'. Most notes and codes fail this, and skipping them saves
// vectorscan's per-call cost (~0.3 us with SOM).
bool MayMatch(std::string_view text) {
  size_t digits = 0, run = 0, longest_run = 0;
  for (char c : text) {
    if (c == '@') return true;
    if (IsDigit(c)) {
      ++digits;
      longest_run = std::max(longest_run, ++run);
    } else {
      run = 0;
    }
  }
  return digits >= 10 || (text.size() >= 18 && longest_run >= 6);
}

struct ScanContext {
  std::vector<uint64_t>* candidates;
};

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int /*flags*/,
            void* ctx) {
  static_cast<ScanContext*>(ctx)->candidates->push_back(Pack(id, from, to));
  return 0;  // continue: every match is wanted
}

}  // namespace

TextScanner::Scratch::Scratch(Scratch&& other) noexcept
    : hs_scratch_(other.hs_scratch_), candidates_(std::move(other.candidates_)) {
  other.hs_scratch_ = nullptr;
}

TextScanner::Scratch& TextScanner::Scratch::operator=(Scratch&& other) noexcept {
  if (this != &other) {
    if (hs_scratch_ != nullptr) hs_free_scratch(static_cast<hs_scratch_t*>(hs_scratch_));
    hs_scratch_ = other.hs_scratch_;
    other.hs_scratch_ = nullptr;
    candidates_ = std::move(other.candidates_);
  }
  return *this;
}

TextScanner::Scratch::~Scratch() {
  if (hs_scratch_ != nullptr) hs_free_scratch(static_cast<hs_scratch_t*>(hs_scratch_));
}

Result<std::unique_ptr<TextScanner>> TextScanner::Create(const Date& today) {
  std::array<const char*, kShapeCount> expressions{};
  std::array<unsigned, kShapeCount> flags{};
  std::array<unsigned, kShapeCount> ids{};
  for (unsigned i = 0; i < kShapeCount; ++i) {
    expressions[i] = kShapes[i].expression;
    // No HS_FLAG_SINGLEMATCH: it lost matches in Debian 12's vectorscan.
    flags[i] = HS_FLAG_SOM_LEFTMOST;
    ids[i] = i;
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), kShapeCount, HS_MODE_BLOCK,
                       nullptr, &db, &error) != HS_SUCCESS) {
    std::string message = "vectorscan rejected the free-text patterns";
    if (error != nullptr) {
      message += " (expression " + std::to_string(error->expression) + ": " +
                 (error->message != nullptr ? error->message : "?") + ")";
      hs_free_compile_error(error);
    }
    return Fail(Internal(message));
  }
  return std::unique_ptr<TextScanner>(new TextScanner(db, today));
}

TextScanner::~TextScanner() { hs_free_database(static_cast<hs_database_t*>(db_)); }

Result<TextScanner::Scratch> TextScanner::NewScratch() const {
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(static_cast<hs_database_t*>(db_), &scratch) != HS_SUCCESS) {
    return Fail(Internal("vectorscan could not allocate scratch space"));
  }
  return Scratch(scratch);
}

Status TextScanner::Scan(std::string_view text, Scratch& scratch,
                         std::vector<TextMatch>& out) const {
  out.clear();
  if (text.size() > kMaxScanBytes) text = text.substr(0, kMaxScanBytes);
  if (!MayMatch(text)) return Ok();
  scratch.candidates_.clear();
  ScanContext ctx{&scratch.candidates_};
  const hs_error_t rc =
      hs_scan(static_cast<hs_database_t*>(db_), text.data(), static_cast<unsigned>(text.size()), 0,
              static_cast<hs_scratch_t*>(scratch.hs_scratch_), OnMatch, &ctx);
  if (rc != HS_SUCCESS) {
    return Fail(Internal("vectorscan scan failed with code " + std::to_string(rc)));
  }
  if (scratch.candidates_.empty()) return Ok();
  Resolve(text, scratch.candidates_, today_, out);
  return Ok();
}

std::vector<TextMatch> ReferenceScan(std::string_view text, const Date& today) {
  if (text.size() > kMaxScanBytes) text = text.substr(0, kMaxScanBytes);
  std::vector<uint64_t> candidates;
  // SOM_LEFTMOST semantics: for every shape and every end offset at which the
  // shape matches, the smallest start offset.
  for (unsigned shape = 0; shape < kShapeCount; ++shape) {
    const ShapeSpec& spec = kShapes[shape];
    size_t run_start = 0;  // unbounded shapes: start of the run of characters they may hold
    for (size_t e = 1; e <= text.size(); ++e) {
      size_t first = spec.max_length == 0 || e < spec.max_length ? 0 : e - spec.max_length;
      if (spec.max_length == 0) {
        const char c = text[e - 1];
        if (!IsEmailLocal(c) && c != '@') run_start = e;
        first = run_start;  // a span holding any other character cannot match
      }
      for (size_t b = first; b < e; ++b) {
        if (spec.full_match(text.substr(b, e - b))) {
          candidates.push_back(Pack(shape, b, e));
          break;
        }
      }
    }
  }
  std::vector<TextMatch> out;
  Resolve(text, candidates, today, out);
  return out;
}

uint32_t MatchTypes(const std::vector<TextMatch>& matches) {
  uint32_t bits = 0;
  for (const TextMatch& m : matches) bits |= 1u << static_cast<unsigned>(m.type);
  return bits;
}

}  // namespace custos::detect
