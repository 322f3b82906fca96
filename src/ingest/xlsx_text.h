// Small text helpers the XLSX reader's files share (internal to src/ingest):
// trimming, hex digits, and text from a workbook made fit for an error
// message.
#ifndef CUSTOS_INGEST_XLSX_TEXT_H_
#define CUSTOS_INGEST_XLSX_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace custos::ingest::internal {

// `s` without surrounding ASCII white space (space, tab, CR, LF).
std::string_view TrimAscii(std::string_view s);

// The value of a hex digit, or -1 if `c` is none.
int HexValue(char c);

// Text from the file (a sheet, part or tag name, never a value) fit for a
// message: at most `max` bytes, cut at a character boundary, and only its
// valid UTF-8 prefix; "..." marks a cut.
std::string ForMessage(std::string_view s, size_t max = 64);

// ForMessage(s) in double quotes.
std::string Quoted(std::string_view s);

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_XLSX_TEXT_H_
