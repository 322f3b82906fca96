#include "package/bech32.h"

#include <sodium.h>

#include <cstdint>
#include <vector>

namespace custos::package {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// BIP 173 checksum polynomial over GF(32).
uint32_t PolyMod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGenerator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                             0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    const uint32_t top = chk >> 25;
    chk = (chk & 0x1ffffff) << 5 ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGenerator[i];
    }
  }
  return chk;
}

std::vector<uint8_t> ExpandHrp(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(c) >> 5));
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(c) & 31));
  return out;
}

// Zeroes a buffer on scope exit: the data may be a secret key.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::vector<uint8_t>& v) : v_(v) {}
  ~WipeOnExit() { sodium_memzero(v_.data(), v_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::vector<uint8_t>& v_;
};

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

Result<Bech32Data> Bad(const std::string& why) {
  return Fail(InvalidArgument("malformed Bech32 string: " + why));
}

}  // namespace

std::string Bech32Encode(std::string_view hrp, ByteSpan data, bool upper) {
  // 8-bit bytes to 5-bit groups, the last one zero-padded.
  std::vector<uint8_t> values;
  values.reserve((data.size() * 8 + 4) / 5);
  const WipeOnExit wipe_values(values);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = (acc << 8 | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push_back(static_cast<uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) values.push_back(static_cast<uint8_t>((acc << (5 - bits)) & 31));

  std::vector<uint8_t> check = ExpandHrp(hrp);
  const WipeOnExit wipe_check(check);
  check.reserve(check.size() + values.size() + 6);  // no reallocation leaves copies behind
  check.insert(check.end(), values.begin(), values.end());
  check.insert(check.end(), 6, 0);
  const uint32_t mod = PolyMod(check) ^ 1;

  std::string out(hrp);
  out += '1';
  for (uint8_t v : values) out += kCharset[v];
  for (int i = 0; i < 6; ++i) out += kCharset[(mod >> (5 * (5 - i))) & 31];
  if (upper) {
    for (char& c : out) c = ToUpper(c);
  }
  return out;
}

Result<Bech32Data> Bech32Decode(std::string_view text) {
  bool has_lower = false;
  bool has_upper = false;
  for (char c : text) {
    if (c < 0x21 || c > 0x7e) return Bad("character outside US-ASCII 33..126");
    has_lower |= (c >= 'a' && c <= 'z');
    has_upper |= (c >= 'A' && c <= 'Z');
  }
  if (has_lower && has_upper) return Bad("mixed upper and lower case");
  const size_t sep = text.rfind('1');
  if (sep == std::string_view::npos) return Bad("no '1' separator");
  if (sep == 0) return Bad("empty human-readable part");
  if (text.size() - sep - 1 < 6) return Bad("too short for a checksum");

  Bech32Data result;
  result.hrp.reserve(sep);
  for (char c : text.substr(0, sep)) result.hrp += ToLower(c);

  std::vector<uint8_t> values;
  values.reserve(text.size() - sep - 1);
  const WipeOnExit wipe_values(values);
  for (char c : text.substr(sep + 1)) {
    const size_t v = kCharset.find(ToLower(c));
    if (v == std::string_view::npos) return Bad("character outside the Bech32 charset");
    values.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> check = ExpandHrp(result.hrp);
  const WipeOnExit wipe_check(check);
  check.reserve(check.size() + values.size());
  check.insert(check.end(), values.begin(), values.end());
  if (PolyMod(check) != 1) return Bad("checksum mismatch");

  // 5-bit groups (without the checksum) back to bytes.
  result.data.reserve((values.size() - 6) * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i + 6 < values.size(); ++i) {
    acc = (acc << 5 | values[i]) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      result.data.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  const bool bad_padding = bits >= 5 || (acc & ((1u << bits) - 1)) != 0;
  sodium_memzero(&acc, sizeof acc);
  if (bad_padding) {
    sodium_memzero(result.data.data(), result.data.size());
    return Bad(bits >= 5 ? "too much padding" : "non-zero padding bits");
  }
  return result;
}

}  // namespace custos::package
