// Shamir's secret sharing over GF(2^8) (the AES field, x^8+x^4+x^3+x+1),
// byte by byte: a secret of any length becomes n shares of the same length,
// any k of which give it back and fewer give nothing about it. Share i is
// the value at x = i (1..255) of a random polynomial per byte whose constant
// term is the secret byte. Field arithmetic is constant-time (no tables
// indexed by secret bytes).
#ifndef CUSTOS_CRYPTO_SHAMIR_H_
#define CUSTOS_CRYPTO_SHAMIR_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::crypto {

struct SecretShare {
  uint8_t x = 0;  // 1..255
  SecretBytes y;  // as long as the secret
};

// kInvalidArgument unless 2 <= threshold <= shares <= 255 and the secret is
// not empty. The coefficients come from the system CSPRNG.
Result<std::vector<SecretShare>> SplitSecret(std::span<const uint8_t> secret, int threshold,
                                             int shares);

// Lagrange interpolation at x = 0 over exactly the shares given (the caller
// gives at least the threshold). kInvalidArgument for no share, an x of 0,
// two shares with one x, or shares of different lengths. Fewer shares than
// the threshold give a wrong secret, not an error: only the caller can tell
// (by the key opening the vault or not).
Result<SecretBytes> CombineShares(std::span<const SecretShare> shares);

// GF(2^8) multiplication, exposed for the tests.
uint8_t GfMul(uint8_t a, uint8_t b);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_SHAMIR_H_
