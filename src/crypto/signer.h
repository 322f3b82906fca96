// Ed25519 signatures (RFC 8032, via libsodium).
//
// Signer holds a private key in SecretBytes; PublicKey is plain bytes.
#ifndef CUSTOS_CRYPTO_SIGNER_H_
#define CUSTOS_CRYPTO_SIGNER_H_

#include <array>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::crypto {

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

class Signer {
 public:
  // From a 32-byte seed (RFC 8032 private key). kInvalidArgument on a wrong size.
  static Result<Signer> FromSeed(const SecretBytes& seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  Ed25519Signature Sign(ByteSpan message) const;

 private:
  Signer() = default;
  SecretBytes secret_key_;  // libsodium's 64-byte form: seed || public key
  Ed25519PublicKey public_key_{};
};

// True iff `signature` is a valid Ed25519 signature of `message` by `key`.
[[nodiscard]] bool VerifyEd25519(const Ed25519PublicKey& key, ByteSpan message,
                                 ByteSpan signature);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_SIGNER_H_
