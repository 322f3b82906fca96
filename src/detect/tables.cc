#include "detect/tables.h"
#include "detect/utf8.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "detect/tables_data.h"

namespace custos::detect {
namespace {

// One line at a time of a text, without '#' comments and blank lines.
template <typename F>
void ForEachDataLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    f(line);
  }
}

using internal::NextCodePoint;

// Single-character surnames by code point (one lookup per value, where
// comparing against every entry cost ~600 comparisons), compound ones by
// their first code point.
class SurnameTable {
 public:
  SurnameTable() {
    ForEachDataLine(internal::kSurnamesTxt, [this](std::string_view s) {
      size_t i = 0;
      const char32_t first = NextCodePoint(s, i);
      if (i == s.size()) {
        if (first >= kBase && first < kBase + kSpan) single_[first - kBase] = true;
      } else {
        compound_.emplace_back(s);
      }
    });
  }
  bool StartsWith(std::string_view v) const {
    if (v.empty()) return false;
    size_t i = 0;
    const char32_t first = NextCodePoint(v, i);
    if (first >= kBase && first < kBase + kSpan && single_[first - kBase]) return true;
    for (const std::string& s : compound_) {
      if (v.substr(0, s.size()) == s) return true;
    }
    return false;
  }

 private:
  static constexpr char32_t kBase = 0x3400;  // CJK Extension A .. the end of the BMP's CJK block
  static constexpr char32_t kSpan = 0xA000 - kBase;
  std::vector<bool> single_ = std::vector<bool>(kSpan, false);
  std::vector<std::string> compound_;
};

// Issuer ranges grouped by prefix length: a lookup is a binary search per
// length present (longest first), not a scan of every row.
class IssuerTable {
 public:
  IssuerTable() {
    ForEachDataLine(internal::kCardIssuersTsv, [this](std::string_view line) {
      std::array<std::string_view, 5> col{};
      size_t n = 0;
      while (n < col.size()) {
        const size_t tab = line.find('\t');
        col[n++] = line.substr(0, tab);
        if (tab == std::string_view::npos) break;
        line.remove_prefix(tab + 1);
      }
      if (n < 4 || col[0].size() != col[1].size() || col[0].empty() || col[0].size() > 9) return;
      Range r;
      r.from = Number(col[0]);
      r.to = Number(col[1]);
      r.scheme = std::string(col[3]);
      ParseLengths(col[2], r.lengths);
      by_length_[col[0].size()].push_back(std::move(r));
    });
    for (auto& ranges : by_length_) {
      std::sort(ranges.begin(), ranges.end(),
                [](const Range& a, const Range& b) { return a.from < b.from; });
      uint64_t reach = 0;
      for (Range& r : ranges) r.reach = reach = std::max(reach, r.to);
    }
  }

  std::string_view Scheme(std::string_view digits) const {
    for (size_t len = by_length_.size(); len-- > 1;) {
      const std::vector<Range>& ranges = by_length_[len];
      if (ranges.empty() || digits.size() < len) continue;
      const uint64_t prefix = Number(digits.substr(0, len));
      // Ranges of one prefix length may nest (a scheme's sub-range): check
      // every range that starts at or before the prefix, nearest first.
      auto it = std::upper_bound(ranges.begin(), ranges.end(), prefix,
                                 [](uint64_t p, const Range& r) { return p < r.from; });
      while (it != ranges.begin()) {
        --it;
        if (it->reach < prefix) break;  // no range from here back reaches the prefix
        if (prefix <= it->to && digits.size() < it->lengths.size() && it->lengths[digits.size()]) {
          return it->scheme;
        }
      }
    }
    return {};
  }

 private:
  struct Range {
    uint64_t from = 0, to = 0;
    uint64_t reach = 0;  // the largest `to` of this range and those sorted before it
    std::string scheme;
    std::vector<bool> lengths = std::vector<bool>(20, false);  // by card-number length
  };
  static uint64_t Number(std::string_view digits) {
    uint64_t n = 0;
    for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');
    return n;
  }
  // "16", "16-19", "13,16,19", "14,16-19".
  static void ParseLengths(std::string_view spec, std::vector<bool>& out) {
    while (!spec.empty()) {
      const size_t comma = spec.find(',');
      std::string_view item = spec.substr(0, comma);
      spec.remove_prefix(comma == std::string_view::npos ? spec.size() : comma + 1);
      const size_t dash = item.find('-');
      const uint64_t lo = Number(item.substr(0, dash));
      const uint64_t hi = dash == std::string_view::npos ? lo : Number(item.substr(dash + 1));
      for (uint64_t k = lo; k <= hi && k < out.size(); ++k) out[k] = true;
    }
  }
  std::array<std::vector<Range>, 10> by_length_;
};

const SurnameTable& Surnames() {
  static const SurnameTable table;
  return table;
}

const IssuerTable& Issuers() {
  static const IssuerTable table;
  return table;
}

}  // namespace

bool StartsWithSurname(std::string_view value) { return Surnames().StartsWith(value); }

std::string_view CardScheme(std::string_view digits) { return Issuers().Scheme(digits); }

}  // namespace custos::detect
