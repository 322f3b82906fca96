// Bech32 (BIP 173) as the age format uses it: the original Bech32 checksum
// (not Bech32m), no limit on the length of the string, data converted from
// 8-bit bytes to 5-bit groups with zero padding.
//
//   "age1" "zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73eq" "unujwj"
//    hrp+1  data (5 bits per character)                              checksum
//
// A string is all lower case or all upper case; the checksum is always
// computed over the lower-case form.
#ifndef CUSTOS_PACKAGE_BECH32_H_
#define CUSTOS_PACKAGE_BECH32_H_

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace custos::package {

// Encodes `data` under `hrp`. REQUIRES: hrp is 1 or more characters in
// 0x21..0x7e, none of them upper case. `upper` selects the all-upper-case
// form (age identities use it).
std::string Bech32Encode(std::string_view hrp, ByteSpan data, bool upper);

struct Bech32Data {
  std::string hrp;  // always lower case
  Bytes data;
};

// Decodes a Bech32 string. kInvalidArgument on mixed case, a character
// outside the charset, a missing separator, a bad checksum, or padding bits
// that are not zero (or 5 or more of them). Messages never echo the input:
// it may be a secret key.
Result<Bech32Data> Bech32Decode(std::string_view text);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_BECH32_H_
