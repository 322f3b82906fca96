// Custodians' shares of a vault's key (docs/formats/key-share.md): the KEK
// split K-of-N with Shamir's scheme, one share per custodian, each written
// as one line of JSON that `custos keys split` encrypts to the custodian
// with age. Any K rebuild the KEK (a KeySource of kind kShares).
#ifndef CUSTOS_VAULT_KEY_SHARES_H_
#define CUSTOS_VAULT_KEY_SHARES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "crypto/secret_bytes.h"
#include "crypto/shamir.h"
#include "vault/key_source.h"

namespace custos::vault {

inline constexpr int kKeyShareFormat = 1;

struct KeyShare {
  std::string vault;  // vault id, hex
  std::string split;  // 16 random bytes naming the split, hex
  uint32_t key_version = 0;
  int threshold = 0;
  int shares = 0;
  crypto::SecretShare share;  // index (x) and value
};

// The share file's plaintext: one line of JSON and a newline, in secure
// memory.
crypto::SecretBytes FormatKeyShare(const KeyShare& s);

// Parses a share's plaintext. kInvalidArgument naming `source` and the
// member on anything malformed.
Result<KeyShare> ParseKeyShare(std::span<const uint8_t> text, std::string_view source);

// A share with the file it came from, for the errors.
struct SourcedShare {
  KeyShare share;
  std::string source;
};

// Rebuilds the KEK of `vault_id_hex` (empty: the vault the shares name).
// kInvalidArgument naming the file for a share of another vault, split or
// key version, or one given twice; kFailedPrecondition saying how many more
// are needed when there are fewer than the threshold. The result is a
// KeySource to open the vault with (a wrong rebuilt key is then
// kUnauthenticated, as a wrong key file).
Result<KeySource> CombineKeyShares(std::span<const SourcedShare> shares,
                                   std::string_view vault_id_hex = {});

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_KEY_SHARES_H_
