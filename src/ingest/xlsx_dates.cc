// Dates in a workbook: number formats that show dates, and serial numbers
// as ISO 8601 text. See xlsx_dates.h.
#include "ingest/xlsx_dates.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "ingest/xlsx_text.h"

namespace custos::ingest::internal {
namespace {

constexpr uint64_t kExcelMaxSerial = 2958465;  // 9999-12-31

// Howard Hinnant's civil_from_days: days since 1970-01-01 -> y, m, d.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

// Days from 1970-01-01 to the day before each system's day 1 (1900) or to
// its day 0 (1904).
constexpr int64_t kEpoch1899Dec30 = -25569;
constexpr int64_t kEpoch1899Dec31 = -25568;
constexpr int64_t kEpoch1904Jan1 = -24107;

}  // namespace

// Built-in number formats (ECMA-376 Part 1, 18.8.30) that show a date or a
// time. 27-36 and 50-58 are the East Asian built-ins (zh-CN: 27 is
// yyyy"年"m"月", 31 is yyyy"年"m"月"d"日", 32 is h"时"mm"分", ...) that
// Chinese Excel writes without a <numFmt> entry.
DateKind BuiltinDateKind(uint32_t id) {
  if (id >= 14 && id <= 17) return DateKind::kDate;
  if (id >= 18 && id <= 21) return DateKind::kTime;
  if (id == 22) return DateKind::kDateTime;
  if (id == 46) return DateKind::kDuration;
  if (id == 45 || id == 47) return DateKind::kTime;
  if ((id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54) || id == 57 || id == 58) {
    return DateKind::kDate;
  }
  if ((id >= 32 && id <= 35) || id == 55 || id == 56) return DateKind::kTime;
  return DateKind::kNone;
}

// Whether a custom format code shows a date and/or a time: after dropping
// quoted text, escaped characters, [colour]/[$-locale] brackets and AM/PM,
// y or d is a date, h or s a time, and m is a month unless h or s is there
// (then it is minutes). Only the first section (before ';') counts.
DateKind CustomDateKind(std::string_view code) {
  bool y_or_d = false;
  bool m = false;
  bool h_or_s = false;
  bool elapsed = false;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == ';') break;
    if (c == '"') {
      const size_t close = code.find('"', i + 1);
      if (close == std::string_view::npos) break;
      i = close;
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;  // the next character is literal (or a fill / a space width)
    } else if (c == '[') {
      const size_t close = code.find(']', i + 1);
      if (close == std::string_view::npos) break;
      const std::string_view inner = code.substr(i + 1, close - i - 1);
      // [h], [mm], [ss]: elapsed time.
      if (!inner.empty() && inner.find_first_not_of("hHmMsS") == std::string_view::npos) {
        h_or_s = true;
        elapsed = true;
      }
      i = close;
    } else {
      const std::string_view rest = code.substr(i);
      auto starts_ci = [&](std::string_view w) {
        if (rest.size() < w.size()) return false;
        for (size_t k = 0; k < w.size(); ++k) {
          char a = rest[k];
          if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
          if (a != w[k]) return false;
        }
        return true;
      };
      if (starts_ci("am/pm")) {
        i += 4;
        continue;
      }
      if (starts_ci("a/p")) {
        i += 2;
        continue;
      }
      if (starts_ci("general")) {
        i += 6;
        continue;
      }
      switch (c) {
        case 'y':
        case 'Y':
        case 'd':
        case 'D':
          y_or_d = true;
          break;
        case 'm':
        case 'M':
          m = true;
          break;
        case 'h':
        case 'H':
        case 's':
        case 'S':
          h_or_s = true;
          break;
        default:
          break;
      }
    }
  }
  const bool date = y_or_d || (m && !h_or_s);
  if (elapsed && !date) return DateKind::kDuration;
  if (date && h_or_s) return DateKind::kDateTime;
  if (date) return DateKind::kDate;
  if (h_or_s) return DateKind::kTime;
  return DateKind::kNone;
}

// An Excel serial date as ISO 8601 text, as a date format shows it; the
// number as written if it is no date Excel can show (negative, beyond
// 9999-12-31, 1900-01-00, or the 1900-02-29 that the 1900 system counts but
// the calendar does not have).
std::string FormatSerial(std::string_view text, DateKind kind, bool date1904) {
  const std::string_view t = TrimAscii(text);
  double value = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(value) ||
      value < 0 || value >= static_cast<double>(kExcelMaxSerial + 1)) {
    return std::string(text);
  }
  const int64_t total = std::llround(value * 86400.0);
  if (kind == DateKind::kDuration) {
    char text_out[48];
    std::snprintf(text_out, sizeof text_out, "%02lld:%02d:%02d",
                  static_cast<long long>(total / 3600), static_cast<int>(total / 60 % 60),
                  static_cast<int>(total % 60));
    return text_out;
  }
  const int64_t days = total / 86400;
  const int64_t secs = total % 86400;
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%02d:%02d:%02d", static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  if (kind == DateKind::kTime && days == 0) return time_text;
  int64_t epoch_day = 0;
  if (date1904) {
    epoch_day = kEpoch1904Jan1 + days;
  } else if (days == 0 || days == 60 || days > static_cast<int64_t>(kExcelMaxSerial)) {
    return std::string(text);
  } else {
    epoch_day = (days < 60 ? kEpoch1899Dec31 : kEpoch1899Dec30) + days;
  }
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(epoch_day, y, m, d);
  if (y > 9999) return std::string(text);
  char date_text[32];
  std::snprintf(date_text, sizeof date_text, "%04d-%02u-%02u", static_cast<int>(y), m, d);
  if (kind == DateKind::kDate) return date_text;
  return std::string(date_text) + " " + time_text;
}

// A cell of type "d" holds ISO 8601 text; midnight is shown as the date.
std::string IsoDateCell(std::string_view text) {
  const std::string_view t = TrimAscii(text);
  if (t.size() > 10 && t[10] == 'T') {
    std::string_view time = t.substr(11);
    if (time.ends_with('Z')) time.remove_suffix(1);
    if (time.find_first_not_of("0:.") == std::string_view::npos)
      return std::string(t.substr(0, 10));
  }
  return std::string(t);
}

}  // namespace custos::ingest::internal
