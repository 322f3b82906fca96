#include "base/json_text.h"

#include <cstdint>

namespace custos {

bool AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Bytes that pass through are appended a run at a time, not one by one:
  // this formats every value of a package's payload.
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      // One multi-byte sequence, checked; it stays in the run.
      size_t n = 0;
      uint32_t cp = 0;
      if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
      } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
      } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
      } else {
        return false;
      }
      if (n > static_cast<size_t>(end - p)) return false;
      for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(p[k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3Fu);
      }
      if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
      }
      p += n;
      continue;
    }
    out.append(run, p);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:  // another control character
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    run = ++p;
  }
  out.append(run, p);
  out.push_back('"');
  return true;
}

}  // namespace custos
