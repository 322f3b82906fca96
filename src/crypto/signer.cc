#include "crypto/signer.h"

#include <sodium.h>

namespace custos::crypto {

Result<Signer> Signer::FromSeed(const SecretBytes& seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return Fail(InvalidArgument("Ed25519 seed must be 32 bytes"));
  }
  Signer s;
  s.secret_key_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(s.public_key_.data(), s.secret_key_.MutableSecret().data(),
                           seed.RevealSecret().data());
  return s;
}

Ed25519Signature Signer::Sign(ByteSpan message) const {
  Ed25519Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_key_.RevealSecret().data());
  return sig;
}

bool VerifyEd25519(const Ed25519PublicKey& key, ByteSpan message, ByteSpan signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

}  // namespace custos::crypto
