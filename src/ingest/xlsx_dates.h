// Dates in a workbook (internal to src/ingest): which number formats show a
// date or a time, and an Excel serial number as the ISO 8601 text such a
// format shows.
//
// A spreadsheet stores a date as a number of days (the "serial") counted in
// the workbook's 1900 or 1904 date system; only the cell's number format
// tells it is a date.
#ifndef CUSTOS_INGEST_XLSX_DATES_H_
#define CUSTOS_INGEST_XLSX_DATES_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace custos::ingest::internal {

// kDuration: elapsed time ([h]:mm:ss), shown as hours that may pass 24.
enum class DateKind : uint8_t { kNone, kDate, kTime, kDateTime, kDuration };

// What a built-in number format (ECMA-376 Part 1, 18.8.30) shows.
DateKind BuiltinDateKind(uint32_t id);

// What a custom number format code (<numFmt formatCode="...">) shows.
DateKind CustomDateKind(std::string_view code);

// The serial number `text` as a `kind` format shows it: "YYYY-MM-DD",
// "HH:MM:SS", "YYYY-MM-DD HH:MM:SS" or "36:00:00" (kDuration). `text`
// unchanged if it is no date Excel can show. REQUIRES: kind != kNone.
std::string FormatSerial(std::string_view text, DateKind kind, bool date1904);

// The value of a cell of type "d" (ISO 8601 text), midnight shown as the
// date alone.
std::string IsoDateCell(std::string_view text);

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_XLSX_DATES_H_
