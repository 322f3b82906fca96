#include "detect/classify.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "detect/tables.h"
#include "detect/utf8.h"
#include "detect/validators.h"

namespace custos::detect {
namespace {

constexpr uint32_t Bit(PiiType t) { return 1u << static_cast<unsigned>(t); }

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

using internal::NextCodePoint;

bool IsCjk(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }

bool LooksLikeNameImpl(std::string_view v) {
  size_t i = 0, n = 0;
  while (i < v.size()) {
    char32_t c = NextCodePoint(v, i);
    if (c == 0x00B7 || c == 0x30FB) continue;  // middle dot in minority names
    if (!IsCjk(c)) return false;
    ++n;
  }
  return n >= 2 && n <= 4 && StartsWithSurname(v);
}

bool LooksLikeAddressImpl(std::string_view v) {
  // Single-character markers 省 市 区 县 路 街 号 镇 村 弄 巷 室 栋, then the
  // two-character ones 大道 小区 单元: how many distinct ones occur.
  static constexpr char32_t kSingle[] = {0x7701, 0x5E02, 0x533A, 0x53BF, 0x8DEF, 0x8857, 0x53F7,
                                         0x9547, 0x6751, 0x5F04, 0x5DF7, 0x5BA4, 0x680B};
  static constexpr char32_t kPairs[][2] = {{0x5927, 0x9053}, {0x5C0F, 0x533A}, {0x5355, 0x5143}};
  uint32_t seen = 0;
  size_t i = 0, cjk = 0;
  char32_t prev = 0;
  while (i < v.size()) {
    const char32_t c = NextCodePoint(v, i);
    if (IsCjk(c)) ++cjk;
    for (size_t k = 0; k < std::size(kSingle); ++k) {
      if (c == kSingle[k]) seen |= 1u << k;
    }
    for (size_t k = 0; k < std::size(kPairs); ++k) {
      if (prev == kPairs[k][0] && c == kPairs[k][1]) seen |= 1u << (16 + k);
    }
    prev = c;
  }
  if (cjk < 6) return false;
  for (auto suffix : {"银行", "分行", "支行", "公司", "营业部"}) {
    std::string_view sv(suffix);
    if (v.size() >= sv.size() && v.substr(v.size() - sv.size()) == sv) return false;
  }
  return std::popcount(seen) >= 2;
}

bool AllDigits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int DigitsValue(std::string_view v) {
  int n = 0;
  for (char c : v) n = n * 10 + (c - '0');
  return n;
}

bool LooksLikeDateImpl(std::string_view v) {
  if (auto sp = v.find_first_of(" T"); sp != std::string_view::npos && sp >= 8) v = v.substr(0, sp);
  int parts[3] = {0, 0, 0};
  int idx = 0;
  size_t digits = 0;
  if (v.size() == 8 && AllDigits(v)) {
    int y = DigitsValue(v.substr(0, 4)), m = DigitsValue(v.substr(4, 2)),
        d = DigitsValue(v.substr(6, 2));
    return y >= 1900 && y <= 2100 && IsValidDate(y, m, d);
  }
  size_t i = 0;
  while (i < v.size()) {
    char c = v[i];
    if (c >= '0' && c <= '9') {
      parts[idx] = parts[idx] * 10 + (c - '0');
      ++digits;
      ++i;
      if (digits > 4) return false;
      continue;
    }
    std::string_view rest = v.substr(i);
    size_t sep = 0;
    if (c == '-' || c == '/' || c == '.') {
      sep = 1;
    } else if (rest.substr(0, 3) == "年" || rest.substr(0, 3) == "月") {
      sep = 3;
    } else if (rest.substr(0, 3) == "日" && idx == 2) {
      i += 3;
      break;
    } else {
      return false;
    }
    if (digits == 0 || idx == 2) return false;
    ++idx;
    digits = 0;
    i += sep;
  }
  if (i != v.size() || idx != 2) return false;
  return parts[0] >= 1900 && parts[0] <= 2100 && IsValidDate(parts[0], parts[1], parts[2]);
}

// How a number-shaped value reads as money.
enum class AmountShape {
  kNotANumber,
  kCode,     // a number with a leading zero ("007", "000123"): never an amount
  kInteger,  // digits only: an amount or a code, the column decides
  kMoney,    // a decimal point, thousands commas, or a currency sign or unit
};

AmountShape AmountShapeOf(std::string_view v) {
  std::string_view s = v;
  bool currency = false;
  for (std::string_view p : {"¥", "￥", "RMB", "CNY"}) {
    if (s.substr(0, p.size()) == p) {
      s.remove_prefix(p.size());
      currency = true;
    }
  }
  if (s.size() >= 3 && s.substr(s.size() - 3) == "元") {
    s.remove_suffix(3);
    currency = true;
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return AmountShape::kNotANumber;
  bool dot = false, digit = false, comma = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if (c == ',') {
      comma = true;
    } else {
      return AmountShape::kNotANumber;
    }
  }
  if (!digit) return AmountShape::kNotANumber;
  // A leading zero before more digits is a code's padding, not money.
  if (s.size() >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9') return AmountShape::kCode;
  return currency || dot || comma ? AmountShape::kMoney : AmountShape::kInteger;
}

bool LooksLikeAmountImpl(std::string_view v) {
  const AmountShape shape = AmountShapeOf(v);
  return shape == AmountShape::kInteger || shape == AmountShape::kMoney;
}

bool LooksLikePassportImpl(std::string_view v) {
  auto digits = [&](size_t from, size_t n) {
    return v.size() == from + n && AllDigits(v.substr(from));
  };
  if (v.size() < 8 || v.size() > 9) return false;
  char c0 = v[0];
  if ((c0 == 'E' || c0 == 'G') && digits(1, 8)) return true;
  if (c0 == 'E' && v[1] >= 'A' && v[1] <= 'Z' && v[1] != 'I' && v[1] != 'O' && digits(2, 7)) {
    return true;
  }
  if ((c0 == 'P' || c0 == 'S' || c0 == 'D') && digits(1, 7)) return true;
  if ((c0 == 'S' || c0 == 'D') && v[1] == 'E' && digits(2, 7)) return true;
  return false;
}

bool LooksLikeFreeText(std::string_view v) {
  size_t i = 0, n = 0;
  bool space_or_punct = false;
  while (i < v.size()) {
    char32_t c = NextCodePoint(v, i);
    ++n;
    if (c == ' ' || c == 0xFF0C || c == 0x3002 || c == ',' || c == 0xFF1B || c == 0xFF1A) {
      space_or_punct = true;
    }
  }
  return n >= 12 || (n >= 6 && space_or_punct);
}

struct Hint {
  const char* needle;
  PiiType type;
};
// Checked in order: the first match wins, so specific names come first.
constexpr Hint kHints[] = {
    {"统一社会信用代码", PiiType::kUscc}, {"信用代码", PiiType::kUscc}, {"uscc", PiiType::kUscc},
    {"credit code", PiiType::kUscc}, {"credit_code", PiiType::kUscc},
    {"身份证", PiiType::kCnResidentId}, {"证件号", PiiType::kCnResidentId},
    {"idcard", PiiType::kCnResidentId}, {"id_card", PiiType::kCnResidentId},
    {"id card", PiiType::kCnResidentId}, {"id_no", PiiType::kCnResidentId},
    {"id number", PiiType::kCnResidentId}, {"resident id", PiiType::kCnResidentId},
    {"护照", PiiType::kPassport}, {"passport", PiiType::kPassport},
    {"银行卡", PiiType::kBankCard}, {"卡号", PiiType::kBankCard}, {"bank card", PiiType::kBankCard},
    {"bank_card", PiiType::kBankCard}, {"card no", PiiType::kBankCard},
    {"card_no", PiiType::kBankCard}, {"card number", PiiType::kBankCard},
    {"邮箱", PiiType::kEmail}, {"邮件", PiiType::kEmail}, {"email", PiiType::kEmail},
    {"e-mail", PiiType::kEmail}, {"mail", PiiType::kEmail},
    {"固定电话", PiiType::kCnLandline}, {"固话", PiiType::kCnLandline},
    {"座机", PiiType::kCnLandline}, {"landline", PiiType::kCnLandline},
    {"telephone", PiiType::kCnLandline}, {"tel", PiiType::kCnLandline},
    {"手机", PiiType::kCnMobile}, {"移动电话", PiiType::kCnMobile}, {"电话", PiiType::kCnMobile},
    {"mobile", PiiType::kCnMobile}, {"phone", PiiType::kCnMobile}, {"cell", PiiType::kCnMobile},
    {"地址", PiiType::kAddress}, {"住址", PiiType::kAddress}, {"address", PiiType::kAddress},
    {"addr", PiiType::kAddress},
    {"备注", PiiType::kFreeText}, {"说明", PiiType::kFreeText}, {"描述", PiiType::kFreeText},
    {"note", PiiType::kFreeText}, {"remark", PiiType::kFreeText},
    {"comment", PiiType::kFreeText}, {"memo", PiiType::kFreeText},
    {"日期", PiiType::kDate}, {"时间", PiiType::kDate}, {"生日", PiiType::kDate},
    {"出生", PiiType::kDate}, {"date", PiiType::kDate}, {"birth", PiiType::kDate},
    {"金额", PiiType::kAmount}, {"余额", PiiType::kAmount}, {"价格", PiiType::kAmount},
    {"收入", PiiType::kAmount}, {"amount", PiiType::kAmount}, {"balance", PiiType::kAmount},
    {"price", PiiType::kAmount},
    {"姓名", PiiType::kPersonName}, {"名字", PiiType::kPersonName},
    {"联系人", PiiType::kPersonName}, {"客户经理", PiiType::kPersonName},
    {"full name", PiiType::kPersonName}, {"full_name", PiiType::kPersonName},
    {"customer name", PiiType::kPersonName}, {"customer_name", PiiType::kPersonName},
};

// Order in which types win a tie: the more specific validator first.
constexpr PiiType kPriority[] = {
    PiiType::kCnResidentId, PiiType::kUscc,      PiiType::kBankCard, PiiType::kCnMobile,
    PiiType::kCnLandline,   PiiType::kEmail,     PiiType::kPassport, PiiType::kDate,
    PiiType::kPersonName,   PiiType::kAddress,   PiiType::kAmount,
};

}  // namespace

bool LooksLikeName(std::string_view v) { return LooksLikeNameImpl(v); }
bool LooksLikeAddress(std::string_view v) { return LooksLikeAddressImpl(v); }
bool LooksLikeDate(std::string_view v) { return LooksLikeDateImpl(v); }
bool LooksLikeAmount(std::string_view v) { return LooksLikeAmountImpl(v); }
bool LooksLikePassport(std::string_view v) { return LooksLikePassportImpl(v); }

PiiType HeaderHint(std::string_view header) {
  std::string h = Lower(NormalizeWidth(header));
  // "name" alone, or ending in name, but not a bank/branch/company name.
  for (const auto& hint : kHints) {
    if (Contains(h, hint.needle)) return hint.type;
  }
  if ((h == "name" || h.ends_with("_name") || h.ends_with(" name")) && !Contains(h, "bank") &&
      !Contains(h, "branch") && !Contains(h, "company") && !Contains(h, "product")) {
    return PiiType::kPersonName;
  }
  return PiiType::kOther;
}

ValueTypes ClassifyValue(std::string_view raw, const Date& today) {
  ValueTypes t;
  std::string v = NormalizeWidth(raw);
  if (v.empty()) return t;
  IdInfo id = CheckResidentId(v, today);
  // A number a spreadsheet rendered with an exponent says how many digits
  // it had: 18 (or 15) is shaped like an ID number, 13 to 19 like a card
  // (an 18-digit one is both: the header decides).
  const int sci_digits = ScientificIntegerDigits(v);
  if (id.status == IdStatus::kValid || id.status == IdStatus::kLegacy15) {
    t.valid |= Bit(PiiType::kCnResidentId);
  } else if (id.status == IdStatus::kBadCheckChar || id.status == IdStatus::kFutureBirthDate ||
             id.status == IdStatus::kBadBirthDate || id.status == IdStatus::kUnknownRegion ||
             (id.status == IdStatus::kScientificNotation && (sci_digits == 18 || sci_digits == 15))) {
    t.shaped |= Bit(PiiType::kCnResidentId);
  }
  if (sci_digits >= 13 && sci_digits <= 19) t.shaped |= Bit(PiiType::kBankCard);
  if (NormalizeMobile(v)) {
    t.valid |= Bit(PiiType::kCnMobile);
  } else if (v.size() == 11 && v[0] == '1' && AllDigits(v)) {
    t.shaped |= Bit(PiiType::kCnMobile);
  }
  if (NormalizeLandline(v)) t.valid |= Bit(PiiType::kCnLandline);
  if (NormalizeEmail(v)) {
    t.valid |= Bit(PiiType::kEmail);
  } else if (Contains(v, "@")) {
    t.shaped |= Bit(PiiType::kEmail);
  }
  if (NormalizeBankCard(v)) {
    t.valid |= Bit(PiiType::kBankCard);
  } else {
    std::string digits;
    for (char c : v) {
      if (c != ' ' && c != '-') digits += c;
    }
    if (digits.size() >= 15 && digits.size() <= 19 && AllDigits(digits)) {
      t.shaped |= Bit(PiiType::kBankCard);
    }
  }
  if (IsValidUscc(v)) {
    t.valid |= Bit(PiiType::kUscc);
  }
  if (LooksLikePassportImpl(v)) t.valid |= Bit(PiiType::kPassport);
  if (LooksLikeDateImpl(v)) t.valid |= Bit(PiiType::kDate);
  if (LooksLikeAmountImpl(v)) t.valid |= Bit(PiiType::kAmount);
  if (LooksLikeNameImpl(v)) t.valid |= Bit(PiiType::kPersonName);
  if (LooksLikeAddressImpl(v)) t.valid |= Bit(PiiType::kAddress);
  if (LooksLikeFreeText(v)) t.shaped |= Bit(PiiType::kFreeText);
  return t;
}

ColumnClassifier::ColumnClassifier(std::vector<std::string> headers, Date today)
    : headers_(std::move(headers)), today_(today), tallies_(headers_.size()) {}

void ColumnClassifier::Observe(const std::vector<std::string>& row) {
  for (size_t c = 0; c < row.size() && c < tallies_.size(); ++c) {
    if (row[c].empty()) continue;
    ValueTypes vt = ClassifyValue(row[c], today_);
    Tally& t = tallies_[c];
    ++t.non_empty;
    const std::string normalized = NormalizeWidth(row[c]);
    if (normalized.size() >= 16 && AllDigits(normalized)) {
      ++t.long_numbers;
      if (normalized.find_first_not_of('0', 15) == std::string::npos) ++t.long_zero_tails;
    }
    switch (AmountShapeOf(normalized)) {
      case AmountShape::kMoney:
        ++t.money;
        break;
      case AmountShape::kCode:
        ++t.padded;
        break;
      case AmountShape::kInteger:
        if (t.distinct_integers.size() <= kCodeSetMax &&
            std::find(t.distinct_integers.begin(), t.distinct_integers.end(), row[c]) ==
                t.distinct_integers.end()) {
          t.distinct_integers.push_back(row[c]);
        }
        break;
      case AmountShape::kNotANumber:
        break;
    }
    for (int k = 0; k < kPiiTypeCount; ++k) {
      if (vt.valid & (1u << k)) ++t.valid[static_cast<size_t>(k)];
      if (vt.shaped & (1u << k)) ++t.shaped[static_cast<size_t>(k)];
    }
  }
}

std::vector<ColumnGuess> ColumnClassifier::Guess() const {
  std::vector<ColumnGuess> out;
  for (size_t c = 0; c < headers_.size(); ++c) {
    const Tally& t = tallies_[c];
    ColumnGuess g;
    g.name = headers_[c];
    PiiType hint = HeaderHint(headers_[c]);
    if (t.non_empty == 0) {
      g.type = hint;
      g.confidence = hint == PiiType::kOther ? 0.5 : 0.3;
    } else {
      auto frac = [&](PiiType p, bool with_shaped) {
        auto i = static_cast<size_t>(p);
        double n = static_cast<double>(t.valid[i] + (with_shaped ? t.shaped[i] : 0));
        return n / static_cast<double>(t.non_empty);
      };
      PiiType best = PiiType::kOther;
      double best_frac = 0;
      for (PiiType p : kPriority) {
        // Amounts only win when nothing more specific explains the values.
        double f = frac(p, p == PiiType::kCnResidentId || p == PiiType::kBankCard);
        if (f > best_frac + 0.05) {
          best = p;
          best_frac = f;
        }
      }
      double hint_frac = hint == PiiType::kFreeText || hint == PiiType::kOther ? 0
                                                                               : frac(hint, true);
      // A column of numbers is money only with evidence of money: a header
      // that says so (金额, 余额, balance...), or values with decimals, a
      // currency sign or unit, or thousands commas. Padded numbers (0012)
      // and a small set of repeated integers (0/1, 1-9) are codes.
      if (best == PiiType::kAmount && hint != PiiType::kAmount) {
        const double money = static_cast<double>(t.money) / static_cast<double>(t.non_empty);
        const bool code_set = t.money == 0 && t.distinct_integers.size() <= kCodeSetMax &&
                              t.non_empty >= 2 * t.distinct_integers.size();
        if (money < 0.3 || t.padded > 0 || code_set) {
          best = PiiType::kOther;
          best_frac = 0;
        }
      }
      if (best_frac >= 0.6 && !(hint != PiiType::kOther && hint != best && hint_frac >= best_frac)) {
        g.type = best;
        g.confidence = std::min(1.0, best_frac + (hint == best ? 0.1 : 0.0));
      } else if (hint != PiiType::kOther && hint != PiiType::kFreeText && hint_frac >= 0.3) {
        g.type = hint;
        g.confidence = std::min(1.0, 0.5 + hint_frac / 2);
      } else if (hint == PiiType::kFreeText || frac(PiiType::kFreeText, true) >= 0.3) {
        g.type = PiiType::kFreeText;
        g.confidence = hint == PiiType::kFreeText ? 0.9 : 0.6;
      } else {
        g.type = PiiType::kOther;
        g.confidence = 1.0 - best_frac;
      }
    }
    g.sensitive = IsSensitiveType(g.type);
    g.number_converted = t.long_numbers > 0 && 2 * t.long_zero_tails > t.long_numbers;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace custos::detect
