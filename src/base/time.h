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
