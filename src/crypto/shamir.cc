#include "crypto/shamir.h"

#include <sodium.h>

#include <string>

namespace custos::crypto {

uint8_t GfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    product ^= static_cast<uint8_t>(-(b & 1)) & a;  // add a when b's low bit is set
    const uint8_t carry = static_cast<uint8_t>(-(a >> 7));
    a = static_cast<uint8_t>((a << 1) ^ (carry & 0x1b));  // reduce by x^8+x^4+x^3+x+1
    b >>= 1;
  }
  return product;
}

namespace {

// a^254 = a^-1 in GF(2^8) (and 0 for 0), by a fixed chain of squarings.
uint8_t GfInverse(uint8_t a) {
  uint8_t result = 1;
  uint8_t power = a;
  for (int bit = 0; bit < 8; ++bit) {
    const uint8_t take = static_cast<uint8_t>(-((254 >> bit) & 1));
    const uint8_t multiplied = GfMul(result, power);
    result = static_cast<uint8_t>((multiplied & take) | (result & ~take));
    power = GfMul(power, power);
  }
  return result;
}

}  // namespace

Result<std::vector<SecretShare>> SplitSecret(std::span<const uint8_t> secret, int threshold,
                                             int shares) {
  if (secret.empty()) return Fail(InvalidArgument("nothing to split"));
  if (threshold < 2 || shares < threshold || shares > 255) {
    return Fail(InvalidArgument("need 2 <= threshold <= shares <= 255 (got threshold " +
                                std::to_string(threshold) + ", shares " + std::to_string(shares) +
                                ")"));
  }
  // coefficients[j * size + b]: the coefficient of x^(j+1) for secret byte b.
  const size_t size = secret.size();
  SecretBytes coefficients = SecretBytes::Random(size * static_cast<size_t>(threshold - 1));
  const auto c = coefficients.RevealSecret();
  std::vector<SecretShare> out;
  out.reserve(static_cast<size_t>(shares));
  for (int i = 1; i <= shares; ++i) {
    SecretShare share{static_cast<uint8_t>(i), SecretBytes(size)};
    auto y = share.y.MutableSecret();
    for (size_t b = 0; b < size; ++b) {
      // Horner: ((c_{k-1} x + c_{k-2}) x + ... + c_1) x + secret.
      uint8_t value = 0;
      for (int j = threshold - 2; j >= 0; --j) {
        value = GfMul(value, share.x) ^ c[static_cast<size_t>(j) * size + b];
      }
      y[b] = GfMul(value, share.x) ^ secret[b];
    }
    out.push_back(std::move(share));
  }
  return out;
}

Result<SecretBytes> CombineShares(std::span<const SecretShare> shares) {
  if (shares.empty()) return Fail(InvalidArgument("no share given"));
  const size_t size = shares[0].y.size();
  for (size_t i = 0; i < shares.size(); ++i) {
    if (shares[i].x == 0) return Fail(InvalidArgument("a share has index 0"));
    if (shares[i].y.size() != size) {
      return Fail(InvalidArgument("the shares have different lengths"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (shares[j].x == shares[i].x) {
        return Fail(InvalidArgument("share " + std::to_string(shares[i].x) + " is given twice"));
      }
    }
  }
  SecretBytes secret(size);
  auto out = secret.MutableSecret();
  for (size_t i = 0; i < shares.size(); ++i) {
    // Lagrange basis at 0: prod_{j != i} x_j / (x_j - x_i); minus is xor.
    uint8_t numerator = 1, denominator = 1;
    for (size_t j = 0; j < shares.size(); ++j) {
      if (j == i) continue;
      numerator = GfMul(numerator, shares[j].x);
      denominator = GfMul(denominator, shares[j].x ^ shares[i].x);
    }
    const uint8_t basis = GfMul(numerator, GfInverse(denominator));
    const auto y = shares[i].y.RevealSecret();
    for (size_t b = 0; b < size; ++b) out[b] ^= GfMul(y[b], basis);
  }
  return secret;
}

}  // namespace custos::crypto
