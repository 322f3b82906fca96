#include "base/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace custos {

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatRfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<int64_t> ParseRfc3339(std::string_view t) {
  auto bad = [] {
    return Fail(InvalidArgument(
        "not an RFC 3339 time (such as 2026-12-01T10:00:00+08:00 or 2026-12-01T02:00:00Z)"));
  };
  size_t pos = 0;
  auto digits = [&](size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
      const char c = t[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
  };
  auto expect = [&](char a, char b) {
    if (pos >= t.size() || (t[pos] != a && t[pos] != b)) return false;
    ++pos;
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(4, year) || !expect('-', '-') || !digits(2, month) || !expect('-', '-') ||
      !digits(2, day) || !expect('T', 't') || !digits(2, hour) || !expect(':', ':') ||
      !digits(2, minute) || !expect(':', ':') || !digits(2, second)) {
    return bad();
  }
  if (!IsValidDate(year, month, day) || hour > 23 || minute > 59 || second > 60) return bad();
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  int offset = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    const int sign = t[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(2, oh) || !expect(':', ':') || !digits(2, om) || oh > 23 || om > 59) return bad();
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != t.size()) return bad();
  if (second == 60) second = 59;
  // Days from the civil date (proleptic Gregorian), H. Hinnant's algorithm.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second - offset;
}

bool IsValidDate(int year, int month, int day) {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[month - 1];
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && leap) max = 29;
  return day <= max;
}

Date TodayInChina() {
  time_t t = static_cast<time_t>(NowUnixSeconds() + 8 * 3600);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

Result<Date> ParseIsoDate(std::string_view text) {
  auto bad = [&] { return Fail(InvalidArgument("expected a date as YYYY-MM-DD")); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  auto num = [&](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  Date d;
  if (!num(0, 4, d.year) || !num(5, 2, d.month) || !num(8, 2, d.day)) return bad();
  if (!IsValidDate(d.year, d.month, d.day)) return bad();
  return d;
}

std::string FormatIsoDate(const Date& d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

int AgeOn(const Date& birth, const Date& on) {
  int age = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --age;
  return age;
}

}  // namespace custos
