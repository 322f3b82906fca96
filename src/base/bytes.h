// Byte strings and their text encodings (hex, standard base64), plus
// big-endian integer helpers used by every binary format.
#ifndef CUSTOS_BASE_BYTES_H_
#define CUSTOS_BASE_BYTES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custos {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string HexEncode(ByteSpan data);
// Appends the lower-case hex of `data` to `out`.
void AppendHex(std::string& out, ByteSpan data);
// Accepts upper or lower case; kInvalidArgument on odd length or a non-hex character.
Result<Bytes> HexDecode(std::string_view hex);

// RFC 4648 standard base64 with padding.
std::string Base64Encode(ByteSpan data);
// Strict: padding required, no whitespace; kInvalidArgument otherwise.
Result<Bytes> Base64Decode(std::string_view text);

void AppendU32BE(Bytes& out, uint32_t v);
void AppendU64BE(Bytes& out, uint64_t v);
uint32_t ReadU32BE(const uint8_t* p);
uint64_t ReadU64BE(const uint8_t* p);

// Appends a length-prefixed (u32 BE) byte string: unambiguous concatenation
// for associated data and key-derivation info.
void AppendLengthPrefixed(Bytes& out, ByteSpan data);

}  // namespace custos

#endif  // CUSTOS_BASE_BYTES_H_
