// UTF-8 decoding the detectors share (internal to src/detect).
#ifndef CUSTOS_DETECT_UTF8_H_
#define CUSTOS_DETECT_UTF8_H_

#include <cstddef>
#include <string_view>

namespace custos::detect::internal {

// Decodes one UTF-8 code point at s[i], advancing i; returns U+FFFD (and
// advances one byte) on a malformed sequence. REQUIRES: i < s.size().
inline char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (len == 1 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += static_cast<size_t>(len);
  return cp;
}

}  // namespace custos::detect::internal

#endif  // CUSTOS_DETECT_UTF8_H_
