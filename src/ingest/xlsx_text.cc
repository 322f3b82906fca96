// Small text helpers the XLSX reader's files share; see xlsx_text.h.
#include "ingest/xlsx_text.h"

#include "ingest/encoding.h"

namespace custos::ingest::internal {

std::string_view TrimAscii(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ForMessage(std::string_view s, size_t max) {
  bool truncated = false;
  size_t keep = ValidUtf8Prefix(s, &truncated);
  if (keep > max) {
    keep = max;
    while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
  }
  return std::string(s.substr(0, keep)) + (keep < s.size() ? "..." : "");
}

std::string Quoted(std::string_view s) { return "\"" + ForMessage(s) + "\""; }

}  // namespace custos::ingest::internal
