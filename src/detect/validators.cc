#include "detect/validators.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "detect/region_codes.h"
#include "detect/tables.h"

namespace custos::detect {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Value of the decimal digits s[pos, pos+len). REQUIRES: they are digits.
int DigitsValue(std::string_view s, size_t pos, size_t len) {
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// NormalizeWidth, then drops every character in `drop`.
std::string NormalizeAndDrop(std::string_view raw, std::string_view drop) {
  std::string buf;
  const std::string_view s = NormalizeWidthInto(raw, buf);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (drop.find(c) == std::string_view::npos) out.push_back(c);
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The oldest birth year accepted in an ID number. Nobody born earlier holds
// a GB 11643 number; a year such as 0949 is a typing error, not a person.
constexpr int kMinBirthYear = 1850;

// GB 32100: 31 symbols, no I, O, S, V, Z; a symbol's value is its index.
constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// USCC value of each ASCII character, or -1.
constexpr std::array<int8_t, 128> MakeUsccValues() {
  std::array<int8_t, 128> v{};
  for (auto& x : v) x = -1;
  for (size_t i = 0; i < kUsccAlphabet.size(); ++i) {
    v[static_cast<unsigned char>(kUsccAlphabet[i])] = static_cast<int8_t>(i);
  }
  return v;
}
constexpr std::array<int8_t, 128> kUsccValues = MakeUsccValues();

// Matches D[.D+](E|e)[+]D+ where D is a digit: how Excel shows a long number.
bool IsScientificNormalized(std::string_view s) {
  size_t i = 0;
  if (i >= s.size() || !IsDigit(s[i])) return false;
  ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i >= s.size() || (s[i] != 'E' && s[i] != 'e')) return false;
  ++i;
  if (i < s.size() && s[i] == '+') ++i;
  size_t start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i > start && i == s.size();
}

bool IsEmailLocalChar(char c) {
  if (IsLower(c) || IsDigit(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~.-";
  return kSpecials.find(c) != std::string_view::npos;
}

bool IsValidDomainLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string NormalizeWidth(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b0 = static_cast<unsigned char>(s[i]);
    if ((b0 == 0xEF || b0 == 0xE3) && i + 2 < s.size()) {
      auto b1 = static_cast<unsigned char>(s[i + 1]);
      auto b2 = static_cast<unsigned char>(s[i + 2]);
      // U+FF01..U+FF3F is EF BC 81..BF; U+FF40..U+FF5E is EF BD 80..9E.
      // Each maps to U+0021..U+007E by subtracting 0xFEE0.
      if (b0 == 0xEF && b1 == 0xBC && b2 >= 0x81 && b2 <= 0xBF) {
        out.push_back(static_cast<char>(b2 - 0x81 + 0x21));
        i += 3;
        continue;
      }
      if (b0 == 0xEF && b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E) {
        out.push_back(static_cast<char>(b2 - 0x80 + 0x60));
        i += 3;
        continue;
      }
      if (b0 == 0xE3 && b1 == 0x80 && b2 == 0x80) {  // U+3000 ideographic space
        out.push_back(' ');
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  size_t begin = 0;
  while (begin < out.size() && IsAsciiSpace(out[begin])) ++begin;
  size_t end = out.size();
  while (end > begin && IsAsciiSpace(out[end - 1])) --end;
  return out.substr(begin, end - begin);
}

std::string_view NormalizeWidthInto(std::string_view v, std::string& buf) {
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
  buf = NormalizeWidth(v);
  return buf;
}

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

// ---- Resident identity card number ----

char ResidentIdCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
  // Outside the precondition, '\0' rather than an index out of bounds.
  if (first17.size() != 17 || !AllDigits(first17)) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return kCheck[sum % 11];
}

bool IsScientificNotation(std::string_view s) { return IsScientificNormalized(NormalizeWidth(s)); }

int ScientificIntegerDigits(std::string_view raw) {
  const std::string s = NormalizeWidth(raw);
  if (!IsScientificNormalized(s)) return 0;
  size_t e = s.find_first_of("Ee");
  std::string_view exp = std::string_view(s).substr(e + 1);
  if (!exp.empty() && exp[0] == '+') exp.remove_prefix(1);
  while (exp.size() > 1 && exp[0] == '0') exp.remove_prefix(1);
  if (exp.size() > 2) return 0;
  int n = 0;
  for (char c : exp) n = n * 10 + (c - '0');
  return n + 1;
}

DigitsLost CheckDigitsLost(std::string_view value, bool number_cell, bool converted_column) {
  std::string buf;  // stays empty, without allocating, unless the value needs normalizing
  const std::string_view v = NormalizeWidthInto(value, buf);
  if (IsScientificNormalized(v)) return DigitsLost::kScientific;
  if (v.size() < 16 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return DigitsLost::kNo;
  }
  if (number_cell) return DigitsLost::kNumberCell;
  if (converted_column && v.find_first_not_of('0', 15) == std::string::npos) {
    return DigitsLost::kTrailingZeros;
  }
  return DigitsLost::kNo;
}

IdInfo CheckResidentId(std::string_view raw, const Date& today) {
  IdInfo info;
  std::string buf;
  const std::string_view s = NormalizeWidthInto(raw, buf);
  if (IsScientificNormalized(s)) {
    info.status = IdStatus::kScientificNotation;
    return info;
  }
  // Spaces inside are grouping ("110105 19491231 002X"), not part of the number.
  std::string id;
  id.reserve(s.size());
  for (char c : s) {
    if (c == ' ') continue;
    id.push_back(c == 'x' ? 'X' : c);
  }

  const bool legacy = id.size() == 15;
  if (id.size() != 18 && !legacy) {
    info.status = IdStatus::kBadLength;
    return info;
  }
  const std::string_view body = std::string_view(id).substr(0, legacy ? 15 : 17);
  const bool last_ok = legacy || IsDigit(id[17]) || id[17] == 'X';
  if (!AllDigits(body) || !last_ok) {
    info.status = IdStatus::kBadCharacter;
    return info;
  }
  info.normalized = id;

  if (!IsProvinceCode(DigitsValue(id, 0, 2))) {
    info.status = IdStatus::kUnknownRegion;
    return info;
  }

  Date birth;
  if (legacy) {
    birth = {1900 + DigitsValue(id, 6, 2), DigitsValue(id, 8, 2), DigitsValue(id, 10, 2)};
  } else {
    birth = {DigitsValue(id, 6, 4), DigitsValue(id, 10, 2), DigitsValue(id, 12, 2)};
  }
  if (birth.year < kMinBirthYear || !IsValidDate(birth.year, birth.month, birth.day)) {
    info.status = IdStatus::kBadBirthDate;
    return info;
  }
  info.birth = birth;
  if (birth > today) {
    info.status = IdStatus::kFutureBirthDate;
    return info;
  }
  if (legacy) {
    info.status = IdStatus::kLegacy15;
    return info;
  }
  info.status = ResidentIdCheckChar(body) == id[17] ? IdStatus::kValid : IdStatus::kBadCheckChar;
  return info;
}

std::string UpgradeLegacyId(std::string_view id15) {
  std::string id = NormalizeAndDrop(id15, " ");
  // The precondition is the caller's; a value that breaks it yields "" rather
  // than a plausible-looking but wrong number.
  if (id.size() != 15 || !AllDigits(id)) return {};
  std::string out = id.substr(0, 6) + "19" + id.substr(6);
  out.push_back(ResidentIdCheckChar(out));
  return out;
}

// ---- Unified Social Credit Code ----

char UsccCheckChar(std::string_view first17) {
  if (first17.size() != 17) return '\0';
  int sum = 0;
  int weight = 1;  // 3^(i-1) mod 31
  for (char c : first17) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 128 || kUsccValues[u] < 0) return '\0';
    sum += kUsccValues[u] * weight;
    weight = weight * 3 % 31;
  }
  int check = 31 - sum % 31;
  return kUsccAlphabet[check == 31 ? 0 : static_cast<size_t>(check)];
}

bool IsValidUscc(std::string_view raw) {
  std::string s = NormalizeWidth(raw);
  for (char& c : s) {
    if (IsLower(c)) c = static_cast<char>(c - 'a' + 'A');
  }
  if (s.size() != 18) return false;
  // Characters 3-8 are the administrative division code: always digits.
  if (!AllDigits(std::string_view(s).substr(2, 6))) return false;
  char check = UsccCheckChar(std::string_view(s).substr(0, 17));
  return check != '\0' && check == s[17];
}

// ---- Bank cards ----

namespace {

// The Luhn sum of `digits`, doubling every second digit from the right,
// starting with the rightmost when `double_rightmost`.
int LuhnSum(std::string_view digits, bool double_rightmost) {
  int sum = 0;
  bool twice = double_rightmost;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum;
}

}  // namespace

bool LuhnValid(std::string_view digits) {
  if (digits.empty() || !AllDigits(digits)) return false;
  return LuhnSum(digits, false) % 10 == 0;
}

char LuhnCheckDigit(std::string_view digits) {
  if (!AllDigits(digits)) return '\0';
  return static_cast<char>('0' + (10 - LuhnSum(digits, true) % 10) % 10);
}

CardCheck CheckBankCard(std::string_view raw) {
  CardCheck c;
  std::string s = NormalizeAndDrop(raw, " -");
  if (s.size() < 13 || s.size() > 19 || !AllDigits(s)) return c;
  c.scheme = CardScheme(s);
  if (!LuhnValid(s)) {
    c.status = CardCheck::Status::kLuhn;
  } else {
    c.status = c.scheme.empty() ? CardCheck::Status::kUnknownIssuer : CardCheck::Status::kValid;
  }
  c.digits = std::move(s);
  return c;
}

std::optional<std::string> NormalizeBankCard(std::string_view raw) {
  CardCheck c = CheckBankCard(raw);
  if (c.status != CardCheck::Status::kValid) return std::nullopt;
  return std::move(c.digits);
}

// ---- Phones ----

std::optional<std::string> NormalizeMobile(std::string_view raw) {
  std::string s = NormalizeAndDrop(raw, " -()");
  std::string_view v = s;
  if (StartsWith(v, "+86")) {
    v.remove_prefix(3);
  } else if (StartsWith(v, "0086")) {
    v.remove_prefix(4);
  } else if (v.size() == 13 && StartsWith(v, "86")) {
    v.remove_prefix(2);
  }
  if (v.size() != 11 || !AllDigits(v) || v[0] != '1' || v[1] < '3') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> NormalizeLandline(std::string_view raw) {
  std::string s = NormalizeWidth(raw);
  const bool plus = !s.empty() && s[0] == '+';
  std::string d;
  d.reserve(s.size());
  for (size_t i = plus ? 1 : 0; i < s.size(); ++i) {
    char c = s[i];
    if (IsDigit(c)) {
      d.push_back(c);
    } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  size_t country_prefix = 0;  // "86" after a '+', or "0086"
  if (plus) {
    if (!StartsWith(d, "86")) return std::nullopt;
    country_prefix = 2;
  } else if (StartsWith(d, "0086")) {
    country_prefix = 4;
  }
  if (country_prefix > 0) {
    d.erase(0, country_prefix);
    // "+86 10 ..." drops the trunk 0; "+86 (0)10 ..." keeps it.
    if (d.empty() || d[0] != '0') d.insert(0, "0");
  }
  if (d.size() < 10 || d[0] != '0') return std::nullopt;
  // Area codes: 010 and 020-029 are three digits with 8-digit local numbers;
  // every other area code is four digits (03xx-09xx) with 7 or 8.
  size_t area_len;
  if (d[1] == '1') {
    if (d[2] != '0') return std::nullopt;  // 013... is a mobile with a stray 0
    area_len = 3;
  } else if (d[1] == '2') {
    area_len = 3;
  } else if (d[1] >= '3') {
    area_len = 4;
  } else {
    return std::nullopt;  // 00 is the international prefix
  }
  std::string_view local = std::string_view(d).substr(area_len);
  const bool length_ok =
      area_len == 3 ? local.size() == 8 : (local.size() == 7 || local.size() == 8);
  if (!length_ok || local[0] == '0') return std::nullopt;
  return d.substr(0, area_len) + "-" + std::string(local);
}

// ---- E-mail ----

std::optional<std::string> NormalizeEmail(std::string_view raw) {
  std::string s = NormalizeWidth(raw);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) {
    return std::nullopt;
  }
  std::string_view local = std::string_view(s).substr(0, at);
  std::string_view domain = std::string_view(s).substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  for (char c : local) {
    if (!IsEmailLocalChar(c)) return std::nullopt;
  }
  if (domain.empty() || domain.size() > 253) return std::nullopt;
  size_t labels = 0;
  std::string_view last;
  for (std::string_view rest = domain;;) {
    const size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (!IsValidDomainLabel(label)) return std::nullopt;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2) return std::nullopt;
  // A top-level domain is letters (at least two), or an IDN in punycode.
  bool tld_ok = last.size() >= 2;
  if (!StartsWith(last, "xn--")) {
    for (char c : last) tld_ok = tld_ok && IsLower(c);
  }
  if (!tld_ok) return std::nullopt;
  return s;
}

}  // namespace custos::detect
