#include "base/bytes.h"

#include <sodium.h>

namespace custos {

std::string HexEncode(ByteSpan data) {
  std::string out;
  AppendHex(out, data);
  return out;
}

void AppendHex(std::string& out, ByteSpan data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + data.size() * 2);
  for (size_t i = 0; i < data.size(); ++i) {
    out[at + 2 * i] = kDigits[data[i] >> 4];
    out[at + 2 * i + 1] = kDigits[data[i] & 0xf];
  }
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Fail(InvalidArgument("hex string has odd length"));
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(InvalidArgument("non-hex character at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1)));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(ByteSpan data) {
  std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

Result<Bytes> Base64Decode(std::string_view text) {
  // libsodium 1.0.18 accepts some bytes >= 0x80 as digits (found by fuzzing
  // the note parser): check the alphabet first.
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return Fail(InvalidArgument("malformed base64"));
  }
  Bytes out(text.size() / 4 * 3 + 3);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return Fail(InvalidArgument("malformed base64"));
  }
  out.resize(len);
  return out;
}

void AppendU32BE(Bytes& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + 4);
  for (int i = 3; i >= 0; --i, v >>= 8) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v);
}
void AppendU64BE(Bytes& out, uint64_t v) {
  const size_t at = out.size();
  out.resize(at + 8);
  for (int i = 7; i >= 0; --i, v >>= 8) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v);
}
uint32_t ReadU32BE(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}
uint64_t ReadU64BE(const uint8_t* p) {
  return uint64_t{ReadU32BE(p)} << 32 | ReadU32BE(p + 4);
}

void AppendLengthPrefixed(Bytes& out, ByteSpan data) {
  AppendU32BE(out, static_cast<uint32_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
}

}  // namespace custos
