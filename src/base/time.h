// Wall-clock time as the audit log and documents print it.
#ifndef CUSTOS_BASE_TIME_H_
#define CUSTOS_BASE_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace custos {

// Seconds since the Unix epoch, UTC.
int64_t NowUnixSeconds();

// RFC 3339 UTC with a Z suffix, second precision: 2026-11-27T07:02:20Z.
std::string FormatRfc3339(int64_t unix_seconds);

// Parses an RFC 3339 date-time (section 5.6): YYYY-MM-DDTHH:MM:SS, an
// optional fraction (dropped), then Z or an offset +HH:MM / -HH:MM; T and Z
// in either case. A leap second (:60) counts as :59. Returns Unix seconds.
// kInvalidArgument otherwise; the message never repeats the text (it may be
// anything a spreadsheet cell held).
Result<int64_t> ParseRfc3339(std::string_view text);

// A calendar date.
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  friend auto operator<=>(const Date&, const Date&) = default;
};

bool IsValidDate(int year, int month, int day);
// Today's date in UTC+8 (China Standard Time), the date a branch lives by.
Date TodayInChina();
// Parses YYYY-MM-DD; kInvalidArgument otherwise.
Result<Date> ParseIsoDate(std::string_view text);
std::string FormatIsoDate(const Date& d);
// Whole years of age on `on` for someone born on `birth`.
int AgeOn(const Date& birth, const Date& on);

}  // namespace custos

#endif  // CUSTOS_BASE_TIME_H_
