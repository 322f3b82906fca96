#include "base/json_text.h"

#include <cstdint>
#include <cstring>

namespace custos {

bool AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Bytes that pass through are appended a run at a time, not one by one:
  // this formats every value of a package's payload.
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  constexpr uint64_t kOnes = 0x0101010101010101u;
  constexpr uint64_t kHighs = 0x8080808080808080u;
  while (p < end) {
    // Eight plain ASCII bytes at a time (none >= 0x80, < 0x20, '"' or '\\'),
    // tested as one word: a byte b is zero in x when (x - 1) & ~x has its
    // high bit.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      const uint64_t quote = w ^ (kOnes * '"');
      const uint64_t slash = w ^ (kOnes * '\\');
      const uint64_t special = (w | ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                                ((slash - kOnes) & ~slash)) &
                               kHighs;
      if (special != 0) break;
      p += 8;
    }
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    // The common three-byte sequences (U+1000 to U+CFFF and U+E000 to
    // U+FFFF: most Chinese text) need no code point: any two continuation
    // bytes make a valid, non-surrogate character.
    if (((c >= 0xE1 && c <= 0xEC) || c >= 0xEE) && c <= 0xEF && end - p >= 3 &&
        (static_cast<unsigned char>(p[1]) & 0xC0) == 0x80 &&
        (static_cast<unsigned char>(p[2]) & 0xC0) == 0x80) {
      p += 3;
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
