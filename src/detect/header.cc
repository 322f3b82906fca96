#include "detect/header.h"

#include <map>

#include "detect/classify.h"
#include "detect/types.h"
#include "detect/validators.h"

namespace custos::detect {
namespace {

constexpr uint32_t Bit(PiiType t) { return 1u << static_cast<unsigned>(t); }

// Identifiers and addresses: one of them in a cell makes the row data.
constexpr uint32_t kStrong = Bit(PiiType::kCnResidentId) | Bit(PiiType::kCnMobile) |
                             Bit(PiiType::kCnLandline) | Bit(PiiType::kEmail) |
                             Bit(PiiType::kBankCard) | Bit(PiiType::kUscc) |
                             Bit(PiiType::kPassport) | Bit(PiiType::kAddress);

// Kinds of value that a header cell could be by accident ("金额" starts
// with the surname 金); two different kinds in one row make it data.
enum class Weak { kNone, kName, kNumber, kDate, kGender };

bool HasDigitRun(std::string_view v, size_t n) {
  size_t run = 0;
  for (char c : v) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= n) return true;
  }
  return false;
}

// The last code point of a UTF-8 string, as its bytes.
std::string_view LastCharacter(std::string_view v) {
  size_t i = v.size();
  while (i > 0 && (static_cast<unsigned char>(v[i - 1]) & 0xC0) == 0x80) --i;
  return i > 0 ? v.substr(i - 1) : v;
}

// A word used as a column name: one the classifier reads a type from, or one
// ending the way Chinese column names end (客户编号, 证件类型, 风险等级...).
bool IsHeaderWord(std::string_view v) {
  if (HeaderHint(v) != PiiType::kOther) return true;
  static constexpr std::string_view kEndings[] = {
      "号", "码", "名", "别", "期", "额", "址", "话", "机", "箱", "注", "型", "级", "态", "类",
      "数", "量", "称", "率", "龄", "业", "历", "籍", "况", "行", "点", "户", "员", "人", "间",
      "源", "道", "式", "值", "位", "区", "省", "市", "县", "族", "等", "种", "标", "志", "项"};
  const std::string_view last = LastCharacter(v);
  for (std::string_view e : kEndings) {
    if (last == e) return true;
  }
  return false;
}

struct CellVerdict {
  bool strong = false;
  Weak weak = Weak::kNone;
};

CellVerdict JudgeCell(std::string_view raw, const Date& today) {
  CellVerdict out;
  const std::string v = NormalizeWidth(raw);
  if (v.empty()) return out;
  if (HasDigitRun(v, 6)) {
    out.strong = true;
    return out;
  }
  const ValueTypes t = ClassifyValue(v, today);
  if ((t.valid & kStrong) != 0) {
    out.strong = true;
    return out;
  }
  if (v == "男" || v == "女" || v == "M" || v == "F" || v == "m" || v == "f") {
    out.weak = Weak::kGender;
  } else if ((t.valid & Bit(PiiType::kDate)) != 0) {
    out.weak = Weak::kDate;
  } else if ((t.valid & Bit(PiiType::kAmount)) != 0) {
    out.weak = Weak::kNumber;
  } else if ((t.valid & Bit(PiiType::kPersonName)) != 0 && !IsHeaderWord(v)) {
    out.weak = Weak::kName;
  }
  return out;
}

}  // namespace

HeaderVerdict JudgeHeaderRow(const std::vector<std::string>& cells, const Date& today) {
  HeaderVerdict verdict;
  verdict.passes.assign(cells.size(), true);
  uint32_t weak_kinds = 0;
  std::optional<size_t> first_weak;
  for (size_t i = 0; i < cells.size(); ++i) {
    const CellVerdict c = JudgeCell(cells[i], today);
    if (c.strong) {
      verdict.passes[i] = false;
      if (!verdict.data_column) verdict.data_column = i;
    } else if (c.weak != Weak::kNone) {
      verdict.passes[i] = false;
      weak_kinds |= 1u << static_cast<unsigned>(c.weak);
      if (!first_weak) first_weak = i;
    }
  }
  const bool two_kinds = (weak_kinds & (weak_kinds - 1)) != 0;
  if (verdict.data_column || two_kinds) {
    verdict.row_is_data = true;
    if (!verdict.data_column) verdict.data_column = first_weak;
    verdict.passes.assign(cells.size(), false);
  }
  return verdict;
}

std::string ColumnNameFor(const HeaderVerdict& verdict, const std::vector<std::string>& cells,
                          size_t index) {
  if (index < verdict.passes.size() && verdict.passes[index] && index < cells.size()) {
    return cells[index];
  }
  return "column_" + std::to_string(index + 1);
}

Status CheckDistinctColumnNames(const std::vector<std::string>& names, const HeaderVerdict& verdict,
                                std::string_view what) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string key = NormalizeWidth(names[i]);
    auto [it, fresh] = seen.emplace(key, i);
    if (fresh) continue;
    const bool shown = it->second < verdict.passes.size() && verdict.passes[it->second];
    return Fail(InvalidArgument(std::string(what) + ": columns " + std::to_string(it->second + 1) +
                                " and " + std::to_string(i + 1) + " have the same name" +
                                (shown ? " '" + names[i] + "'" : std::string()) +
                                "; give every column a name of its own"));
  }
  return Ok();
}

bool IsSexHeader(std::string_view header) {
  std::string h = NormalizeWidth(header);
  for (char& ch : h) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return h == "性别" || h == "sex" || h == "gender" || h == "客户性别";
}

}  // namespace custos::detect
