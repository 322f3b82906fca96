#include "detect/mask.h"

#include <algorithm>
#include <vector>

#include "detect/validators.h"

namespace custos::detect {

namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Byte length of the well-formed UTF-8 sequence at s[i], or 0 if it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

// The code points of `s`. A byte that does not start a well-formed sequence
// counts as one code point and is shown as U+FFFD, so a masked value is always
// valid UTF-8 and never reveals stray bytes.
std::vector<std::string_view> CodePoints(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    out.push_back(len == 0 ? kReplacementChar : s.substr(i, len));
    i += len == 0 ? 1 : len;
  }
  return out;
}

void AppendRange(std::string& out, const std::vector<std::string_view>& cps, size_t begin,
                 size_t end) {
  for (size_t i = begin; i < end; ++i) out.append(cps[i]);
}

// Keeps the first `head` and last `tail` code points with `stars` asterisks
// between them; kStarPerChar puts one per hidden code point. A value too short
// to hide anything under that rule is replaced by one star per code point.
constexpr size_t kStarPerChar = static_cast<size_t>(-1);
std::string KeepEnds(std::string_view value, size_t head, size_t tail, size_t stars) {
  const std::vector<std::string_view> cps = CodePoints(value);
  const size_t n = cps.size();
  if (n <= head + tail) return std::string(n, '*');
  std::string out;
  AppendRange(out, cps, 0, head);
  out.append(stars == kStarPerChar ? n - head - tail : stars, '*');
  AppendRange(out, cps, n - tail, n);
  return out;
}

std::string WithoutSeparators(std::string_view value) {
  std::string out;
  for (char c : NormalizeWidth(value)) {
    if (c != ' ' && c != '-') out.push_back(c);
  }
  return out;
}

// 张 -> *, 张三 -> 张*, 张三明 -> 张*明, 欧阳娜娜 -> 欧**娜.
std::string MaskPersonName(std::string_view value) {
  const std::string name = NormalizeWidth(value);
  const bool two_chars = CodePoints(name).size() == 2;
  return KeepEnds(name, 1, two_chars ? 0 : 1, kStarPerChar);
}

std::string MaskEmail(std::string_view value) {
  const std::string s = NormalizeWidth(value);
  const size_t at = s.rfind('@');
  const std::string_view local = std::string_view(s).substr(0, at);
  std::string out;
  if (!local.empty()) out.append(CodePoints(local).front());
  out.append("***");
  if (at != std::string::npos) {
    const std::vector<std::string_view> domain = CodePoints(std::string_view(s).substr(at));
    AppendRange(out, domain, 0, domain.size());
  }
  return out;
}

std::string MaskLandline(std::string_view value) {
  if (std::optional<std::string> n = NormalizeLandline(value)) {
    const size_t dash = n->find('-');
    return n->substr(0, dash) + "****" + n->substr(n->size() - 2);
  }
  return KeepEnds(NormalizeWidth(value), 0, 2, 4);
}

std::string MaskAddress(std::string_view value) {
  const std::string address = NormalizeWidth(value);
  const std::vector<std::string_view> cps = CodePoints(address);
  if (cps.empty()) return {};
  std::string out;
  AppendRange(out, cps, 0, std::min<size_t>(cps.size(), 6));
  out.append("****");
  return out;
}

}  // namespace

std::string MaskValue(PiiType type, std::string_view value) {
  switch (type) {
    case PiiType::kCnResidentId:
      return KeepEnds(WithoutSeparators(value), 6, 4, kStarPerChar);
    case PiiType::kCnMobile: {
      std::optional<std::string> m = NormalizeMobile(value);
      return KeepEnds(m ? *m : WithoutSeparators(value), 3, 4, 4);
    }
    case PiiType::kBankCard:
      return KeepEnds(WithoutSeparators(value), 6, 4, kStarPerChar);
    case PiiType::kPersonName:
      return MaskPersonName(value);
    case PiiType::kEmail:
      return MaskEmail(value);
    case PiiType::kCnLandline:
      return MaskLandline(value);
    case PiiType::kPassport:
      return KeepEnds(NormalizeWidth(value), 1, 3, kStarPerChar);
    case PiiType::kAddress:
      return MaskAddress(value);
    case PiiType::kUscc:
      return KeepEnds(NormalizeWidth(value), 4, 4, kStarPerChar);
    case PiiType::kFreeText:
      return "[free text, " + std::to_string(CodePoints(value).size()) + " chars]";
    case PiiType::kDate:
    case PiiType::kAmount:
    case PiiType::kOther:
      return std::string(value);
  }
  // Not reached for a valid enum value; hide anything else entirely.
  return "***";
}

}  // namespace custos::detect
