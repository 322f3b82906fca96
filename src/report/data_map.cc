#include "report/data_map.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <string>

#include "report/finding_texts.h"

namespace custos::report {
namespace {

using detect::PiiType;
using internal::Info;
using internal::KindInfo;
using internal::SeverityLabel;
using internal::TypeLabel;

// ---- Formatting helpers ----

// 1234567 -> "1,234,567".
std::string Count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string RowList(const std::vector<uint64_t>& rows, uint64_t count) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(rows[i]);
  }
  if (count > rows.size() && !rows.empty()) out += ", …";
  return out;
}

std::vector<PiiType> ContainedTypes(const ColumnInventory& c) {
  std::vector<PiiType> out;
  for (int i = 0; i < detect::kPiiTypeCount; ++i) {
    if (c.contains[static_cast<size_t>(i)] > 0) out.push_back(static_cast<PiiType>(i));
  }
  return out;
}

std::vector<std::string> SensitiveColumns(const InventoryReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.columns) {
    if (c.sensitive) out.push_back(c.name);
  }
  return out;
}

std::string ColumnName(const InventoryReport& r, const std::optional<size_t>& column) {
  if (!column || *column >= r.columns.size()) return "";
  return r.columns[*column].name;
}

// Control characters (C0, DEL, C1) would let a header move the cursor or
// recolour a terminal: shown as '?'.
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      out.push_back('?');
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Terminal columns a UTF-8 string occupies: East Asian wide characters count 2.
size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size()) {
      len = 4;
      cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu);
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      len = 3;
      cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu);
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      len = 2;
      cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
    }
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

std::string PadRight(const std::string& s, size_t width) {
  const size_t w = DisplayWidth(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}
std::string PadLeft(const std::string& s, size_t width) {
  const size_t w = DisplayWidth(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : Printable(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string ContainsList(const ColumnInventory& c, Lang lang, bool machine_names) {
  std::string out;
  for (PiiType t : ContainedTypes(c)) {
    if (!out.empty()) out += lang == Lang::kZh && !machine_names ? "、" : ", ";
    out += machine_names ? std::string(detect::PiiTypeName(t)) : TypeLabel(t, lang);
  }
  return out;
}

}  // namespace

Result<Lang> ParseLang(std::string_view name) {
  if (name == "zh" || name == "zh-CN" || name == "zh-cn" || name == "cn") return Lang::kZh;
  if (name == "en") return Lang::kEn;
  return Fail(InvalidArgument("unknown language '" + std::string(name) + "': use zh or en"));
}

std::string_view FindingKindName(FindingKind kind) { return Info(kind).name; }

std::optional<FindingKind> FindingKindFromName(std::string_view name) {
  for (const KindInfo& k : internal::AllKinds()) {
    if (name == k.name) return k.kind;
  }
  return std::nullopt;
}

Severity FindingSeverity(FindingKind kind) { return Info(kind).severity; }

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kHigh: return "high";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

// ---- JSON ----

std::string RenderDataMapJson(const InventoryReport& r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema"] = "custos.inventory/1";
  j["file"] = r.file;
  j["format"] = r.format;
  j["encoding"] = r.encoding;
  j["sha256"] = r.sha256;
  j["bytes"] = r.bytes;
  j["generated_at"] = FormatRfc3339(r.generated_at);
  j["today"] = FormatIsoDate(r.today);
  j["sample_rows"] = r.sample_rows;
  j["rows"] = r.rows;
  j["people"] = r.people;
  j["minors"] = r.minors;
  j["people_with_sensitive"] = r.people_with_sensitive;
  j["people_on_several_rows"] = r.people_on_several_rows;
  j["rows_without_person_key"] = r.rows_without_person_key;
  ordered_json keys = ordered_json::object();
  auto key = [&](const char* name, const std::optional<size_t>& c) {
    keys[name] = c ? ordered_json(ColumnName(r, c)) : ordered_json(nullptr);
  };
  key("id", r.id_column);
  key("mobile", r.mobile_column);
  key("name", r.name_column);
  j["person_key_columns"] = keys;
  j["sensitive_columns"] = SensitiveColumns(r);

  ordered_json columns = ordered_json::array();
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    ordered_json col;
    col["index"] = i + 1;
    col["name"] = c.name;
    col["type"] = detect::PiiTypeName(c.type);
    col["sensitive"] = c.sensitive;
    // Two decimals: the sample's fraction, not a measurement to 1e-16.
    col["confidence"] = static_cast<double>(static_cast<int64_t>(c.confidence * 100 + 0.5)) / 100;
    col["non_empty"] = c.non_empty;
    col["empty"] = r.rows >= c.non_empty ? r.rows - c.non_empty : 0;
    col["valid"] = c.valid;
    col["invalid"] = c.invalid;
    if (c.scanned) {
      ordered_json contains = ordered_json::array();
      ordered_json counts = ordered_json::object();
      for (PiiType t : ContainedTypes(c)) {
        contains.push_back(detect::PiiTypeName(t));
        counts[std::string(detect::PiiTypeName(t))] = c.contains[static_cast<size_t>(t)];
      }
      col["contains"] = contains;
      col["contains_counts"] = counts;
      col["values_with_pii"] = c.values_with_pii;
      col["values_with_sensitive_pii"] = c.values_with_sensitive_pii;
    }
    columns.push_back(std::move(col));
  }
  j["columns"] = columns;

  ordered_json findings = ordered_json::array();
  for (const Finding& f : r.findings) {
    ordered_json o;
    o["kind"] = FindingKindName(f.kind);
    o["severity"] = SeverityName(FindingSeverity(f.kind));
    o["column"] = f.column ? ordered_json(ColumnName(r, f.column)) : ordered_json(nullptr);
    o["column_index"] = f.column ? ordered_json(*f.column + 1) : ordered_json(nullptr);
    o["count"] = f.count;
    o["rows"] = f.rows;
    findings.push_back(std::move(o));
  }
  j["findings"] = findings;
  // Invalid UTF-8 in a header must not throw: replace it.
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

// ---- Text ----

std::string RenderDataMapText(const InventoryReport& r, Lang lang) {
  const bool zh = lang == Lang::kZh;
  std::string out;
  out += zh ? "个人信息数据清单 (custos inventory)\n" : "Personal data inventory (custos inventory)\n";
  out += std::string(zh ? "  文件      " : "  file       ") + Printable(r.file) + "\n";
  out += std::string(zh ? "  SHA-256   " : "  SHA-256    ") + r.sha256 + "\n";
  out += std::string(zh ? "  格式      " : "  format     ") + r.format + ", " + r.encoding + ", " +
         Count(r.bytes) + (zh ? " 字节\n" : " bytes\n");
  out += std::string(zh ? "  生成时间  " : "  generated  ") + FormatRfc3339(r.generated_at) +
         (zh ? "（年龄按 " : " (ages on ") + FormatIsoDate(r.today) + (zh ? " 计算）\n" : ")\n");
  out += "\n";
  if (zh) {
    out += "  行数 " + Count(r.rows) + "   人数 " + Count(r.people) + "   不满14周岁 " +
           Count(r.minors) + "   含敏感信息的人 " + Count(r.people_with_sensitive) + "\n";
  } else {
    out += "  rows " + Count(r.rows) + "   people " + Count(r.people) + "   minors (<14) " +
           Count(r.minors) + "   people with sensitive data " + Count(r.people_with_sensitive) +
           "\n";
  }
  std::string sensitive;
  for (const auto& name : SensitiveColumns(r)) {
    if (!sensitive.empty()) sensitive += ", ";
    sensitive += Printable(name);
  }
  if (sensitive.empty()) sensitive = "-";
  out += std::string(zh ? "  敏感列（PIPL 第28条）: " : "  sensitive columns (PIPL Art. 28): ") +
         sensitive + "\n\n";

  // Columns.
  out += zh ? "列\n" : "Columns\n";
  size_t name_width = zh ? 4 : 4;
  for (const auto& c : r.columns) name_width = std::max(name_width, DisplayWidth(Printable(c.name)));
  name_width = std::min<size_t>(name_width, 24);
  out += "  " + PadLeft("#", 3) + "  " + PadRight(zh ? "列名" : "name", name_width) + "  " +
         PadRight(zh ? "类型" : "type", 15) + " " + PadLeft(zh ? "置信度" : "conf", 6) + " " +
         PadLeft(zh ? "非空" : "non-empty", 12) + " " + PadLeft(zh ? "有效" : "valid", 12) + " " +
         PadLeft(zh ? "无效" : "invalid", 10) + "  " + (zh ? "内含" : "contains") + "\n";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    std::string type(detect::PiiTypeName(c.type));
    if (c.sensitive) type += "*";
    std::string contains = c.scanned ? ContainsList(c, lang, true) : "";
    if (c.scanned && c.values_with_pii > 0) {
      contains += zh ? "（" + Count(c.values_with_pii) + " 个值）" : " (" + Count(c.values_with_pii) + " values)";
    }
    out += "  " + PadLeft(std::to_string(i + 1), 3) + "  " + PadRight(Printable(c.name), name_width) +
           "  " + PadRight(type, 15) + " " + PadLeft(Fixed2(c.confidence), 6) + " " +
           PadLeft(Count(c.non_empty), 12) + " " + PadLeft(Count(c.valid), 12) + " " +
           PadLeft(Count(c.invalid), 10) + (contains.empty() ? "" : "  " + contains) + "\n";
  }
  out += zh ? "  （* 敏感个人信息）\n\n" : "  (* sensitive personal information)\n\n";

  // Findings.
  out += zh ? "发现\n" : "Findings\n";
  if (r.findings.empty()) out += zh ? "  无\n" : "  none\n";
  for (const Finding& f : r.findings) {
    const KindInfo& info = Info(f.kind);
    std::string line = "  [" + std::string(SeverityLabel(info.severity, lang)) + "] " +
                       info.name + "  " + info.title.Get(lang);
    if (f.column) line += "  (" + Printable(ColumnName(r, f.column)) + ")";
    line += ": " + Count(f.count);
    out += line + "\n";
    if (!f.rows.empty()) {
      out += std::string(zh ? "      行: " : "      rows: ") + RowList(f.rows, f.count) + "\n";
    }
  }
  out += zh ? "\n说明与处理建议见 --format html；各项含义见 docs/inventory.md。\n"
            : "\nExplanations and what to do: --format html; every field: docs/inventory.md.\n";
  return out;
}

// ---- HTML ----

namespace {

constexpr const char* kCss = R"css(
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
  color:#1a1a1a;margin:2em auto;max-width:60em;padding:0 1em;line-height:1.5;font-size:14px}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.2em;border-bottom:2px solid #333;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#555;margin:0 0 1em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.3em .45em;vertical-align:top;text-align:left}
th{background:#eee}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:12em}
.sev-high{color:#fff;background:#b00020;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sev-warning{color:#000;background:#f2c200;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sev-info{color:#fff;background:#5a6b7b;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sens{font-weight:bold;color:#b00020}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.9em}
.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;word-break:break-all}
.note{color:#555;font-size:.9em}
footer{margin-top:2em;color:#555;font-size:.85em;border-top:1px solid #bbb;padding-top:.5em}
@page{size:A4;margin:15mm 12mm}
@media print{
  body{margin:0;max-width:none;font-size:9.5pt}
  h2{break-after:avoid;page-break-after:avoid}
  thead{display:table-header-group}
  tr,td,th{break-inside:avoid;page-break-inside:avoid}
  .sev-high,.sev-warning,.sev-info,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
)css";

void Row2(std::string& out, const std::string& key, const std::string& value_html) {
  out += "<tr><th>" + HtmlEscape(key) + "</th><td>" + value_html + "</td></tr>\n";
}

}  // namespace

namespace {

// The summary: the file, counts of rows, people, minors and findings.
void SummarySection(const InventoryReport& r, Lang lang, std::string& out) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  out += "<section id=\"summary\">\n<h2>" + T("摘要", "Summary") + "</h2>\n<table class=\"kv\">\n";
  Row2(out, T("文件", "File"), "<span class=\"mono\">" + HtmlEscape(r.file) + "</span>");
  Row2(out, "SHA-256", "<span class=\"mono\">" + HtmlEscape(r.sha256) + "</span>");
  Row2(out, T("格式 / 编码", "Format / encoding"),
       HtmlEscape(r.format) + " / " + HtmlEscape(r.encoding) + ", " + Count(r.bytes) +
           T(" 字节", " bytes"));
  Row2(out, T("行数", "Rows"), Count(r.rows));
  Row2(out, T("人数", "People"),
       Count(r.people) + " <span class=\"note\">" +
           T("（同一有效身份证号为一人；无身份证号时，同一手机号且同一姓名为一人）",
             "(one valid ID number is one person; without one, the same mobile and name)") +
           "</span>");
  Row2(out, T("不满十四周岁", "Minors under 14"),
       "<span class=\"" + std::string(r.minors > 0 ? "sens" : "") + "\">" + Count(r.minors) +
           "</span> <span class=\"note\">" + T("（按身份证出生日期，截至 ", "(by ID birth date, on ") +
           FormatIsoDate(r.today) + T("）", ")") + "</span>");
  Row2(out, T("含敏感个人信息的人", "People with sensitive data"), Count(r.people_with_sensitive));
  Row2(out, T("多行的人", "People on several rows"), Count(r.people_on_several_rows));
  std::string sensitive;
  for (const auto& name : SensitiveColumns(r)) {
    if (!sensitive.empty()) sensitive += T("、", ", ");
    sensitive += "<span class=\"sens\">" + HtmlEscape(name) + "</span>";
  }
  Row2(out, T("敏感列（PIPL 第28条）", "Sensitive columns (PIPL Art. 28)"),
       sensitive.empty() ? "—" : sensitive);
  size_t high = 0;
  for (const Finding& f : r.findings) high += FindingSeverity(f.kind) == Severity::kHigh ? 1 : 0;
  Row2(out, T("发现", "Findings"),
       Count(r.findings.size()) + T("（其中高风险 ", " (") + Count(high) + T(" 项）", " high)"));
  Row2(out, T("生成时间", "Generated"), HtmlEscape(FormatRfc3339(r.generated_at)));
  out += "</table>\n</section>\n";
}

// Per column: type, sensitivity, confidence, counts.
void ColumnsSection(const InventoryReport& r, Lang lang, std::string& out) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  out += "<section id=\"columns\">\n<h2>" + T("列", "Columns") + "</h2>\n";
  out += "<p class=\"note\">" +
         (zh ? "类型由前 " + Count(r.sample_rows) + " 行推断；非空、有效、无效为全部行的计数。"
             : "Types are inferred from the first " + Count(r.sample_rows) +
                   " rows; non-empty, valid and invalid count all rows.") +
         "</p>\n";
  out += "<table>\n<thead><tr><th>#</th><th>" + T("列名", "Column") + "</th><th>" +
         T("类型", "Type") + "</th><th>" + T("敏感", "Sensitive") + "</th><th>" +
         T("置信度", "Confidence") + "</th><th>" + T("非空", "Non-empty") + "</th><th>" +
         T("有效", "Valid") + "</th><th>" + T("无效", "Invalid") + "</th><th>" +
         T("内含个人信息", "Personal data inside") + "</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const ColumnInventory& c = r.columns[i];
    std::string contains = "—";
    if (c.scanned && c.values_with_pii > 0) {
      contains = HtmlEscape(ContainsList(c, lang, false)) + T("（", " (") + Count(c.values_with_pii) +
                 T(" 个值）", " values)");
    } else if (!c.scanned) {
      contains = "";
    }
    out += "<tr><td class=\"n\">" + std::to_string(i + 1) + "</td><td>" + HtmlEscape(c.name) +
           "</td><td>" + TypeLabel(c.type, lang) + " <code>" +
           std::string(detect::PiiTypeName(c.type)) + "</code></td><td>" +
           (c.sensitive ? "<span class=\"sens\">" + T("是", "yes") + "</span>" : T("否", "no")) +
           "</td><td class=\"n\">" + Fixed2(c.confidence) + "</td><td class=\"n\">" +
           Count(c.non_empty) + "</td><td class=\"n\">" + Count(c.valid) + "</td><td class=\"n\">" +
           Count(c.invalid) + "</td><td>" + contains + "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

// The findings with what they mean and what to do.
void FindingsSection(const InventoryReport& r, Lang lang, std::string& out) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  out += "<section id=\"findings\">\n<h2>" + T("发现的问题与处理建议", "Findings and what to do") +
         "</h2>\n";
  if (r.findings.empty()) {
    out += "<p>" + T("未发现问题。", "Nothing found.") + "</p>\n";
  } else {
    out += "<table>\n<thead><tr><th>" + T("级别", "Level") + "</th><th>" + T("问题", "Finding") +
           "</th><th>" + T("列", "Column") + "</th><th>" + T("数量", "Count") + "</th><th>" +
           T("前几行行号", "First rows") + "</th><th>" + T("说明", "What it means") + "</th><th>" +
           T("处理建议", "What to do") + "</th></tr></thead>\n<tbody>\n";
    for (const Finding& f : r.findings) {
      const KindInfo& info = Info(f.kind);
      out += "<tr><td><span class=\"sev-" + std::string(SeverityName(info.severity)) + "\">" +
             SeverityLabel(info.severity, lang) + "</span></td><td>" + info.title.Get(lang) +
             "<br><code>" + info.name + "</code></td><td>" +
             (f.column ? HtmlEscape(ColumnName(r, f.column)) : "—") + "</td><td class=\"n\">" +
             Count(f.count) + "</td><td>" + HtmlEscape(RowList(f.rows, f.count)) + "</td><td>" +
             info.what.Get(lang) + "</td><td>" + info.todo.Get(lang) + "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n";
    out += "<p class=\"note\">" +
           T("行号为数据行号（表头不计，从 1 开始），每项最多列出 10 个。",
             "Row numbers are data rows (the header is not counted, the first data row is 1); "
             "at most 10 are listed per finding.") +
           "</p>\n";
  }
  out += "</section>\n";
}

// The legal notes the inventory rests on.
void LegalSection(Lang lang, std::string& out) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  out += "<section id=\"legal\">\n<h2>" + T("法律依据", "Legal notes") + "</h2>\n<ul>\n";
  out += "<li>" +
         T("《个人信息保护法》第28条：敏感个人信息包括特定身份、金融账户等信息，以及不满十四周岁未成年人的个人信息；只有在具有特定的目的和充分的必要性，并采取严格保护措施的情形下方可处理。本清单将身份证号、护照号、银行卡号列及不满十四周岁者的全部信息标为敏感。",
           "PIPL Art. 28: sensitive personal information includes specific identity and "
           "financial account information, and all personal information of minors under 14; it "
           "may be processed only for a specific purpose, with sufficient necessity and strict "
           "protection. This inventory marks ID number, passport and bank card columns, and "
           "everything about people under 14, as sensitive.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第29条、第55条：处理敏感个人信息应取得个人的单独同意，并事前进行个人信息保护影响评估。",
           "PIPL Art. 29 and 55: processing sensitive personal information needs the "
           "individual's separate consent and a personal information protection impact "
           "assessment beforehand.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第31条：处理不满十四周岁未成年人的个人信息，应当取得未成年人的父母或者其他监护人的同意，并制定专门的个人信息处理规则。",
           "PIPL Art. 31: processing personal information of minors under 14 needs the consent "
           "of a parent or other guardian, and special processing rules.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第8条：处理个人信息应当保证个人信息的质量。校验失败、重复和矛盾的记录属于此项。",
           "PIPL Art. 8: the processor must ensure the quality of personal information. Failed "
           "checks, duplicates and contradictions fall under it.") +
         "</li>\n";
  out += "<li>" +
         T("《个人信息保护法》第6条：收集和处理限于实现处理目的的最小范围；空列和备注中不必要的个人信息不应移交。",
           "PIPL Art. 6: processing is limited to the minimum needed for the purpose; empty "
           "columns and unnecessary personal data in notes should not be transferred.") +
         "</li>\n";
  out += "</ul>\n<p class=\"note\">" +
         T("本清单是技术检查的结果，不构成法律意见。",
           "This inventory is the result of technical checks, not legal advice.") +
         "</p>\n</section>\n";
}

}  // namespace

std::string RenderDataMapHtml(const InventoryReport& r, Lang lang) {
  const bool zh = lang == Lang::kZh;
  auto T = [&](const char* z, const char* e) { return std::string(zh ? z : e); };
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"" + T("zh-CN", "en") + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + T("个人信息数据清单", "Personal data inventory") + " — " + HtmlEscape(r.file) +
         "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  out += "<header>\n<h1>" + T("个人信息数据清单", "Personal data inventory") + "</h1>\n";
  out += "<p class=\"sub\">" +
         T("由 Custos 生成。本清单只含计数、类型和行号，不含任何个人信息的值。",
           "Made by Custos. This inventory holds counts, types and row numbers only, never a "
           "value of personal data.") +
         "</p>\n</header>\n";

  SummarySection(r, lang, out);
  ColumnsSection(r, lang, out);
  FindingsSection(r, lang, out);
  LegalSection(lang, out);
  out += "<footer>" + T("生成时间 ", "Generated ") + HtmlEscape(FormatRfc3339(r.generated_at)) +
         " · Custos · SHA-256 <span class=\"mono\">" + HtmlEscape(r.sha256) + "</span></footer>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace custos::report
