// Key derivation, MACs and hashing.
#ifndef CUSTOS_CRYPTO_KDF_H_
#define CUSTOS_CRYPTO_KDF_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::crypto {

// Argon2id v1.3 parameters as stored in a vault.
struct Argon2Params {
  uint64_t ops_limit = 3;                 // iterations (t)
  uint64_t mem_limit = 64ull << 20;       // bytes (m = 65536 KiB)
  // Parallelism is fixed at 1 by libsodium.
};
inline constexpr size_t kArgon2SaltSize = 16;

// Derives `out_size` bytes from a passphrase with Argon2id (libsodium crypto_pwhash).
// kInvalidArgument on parameters libsodium rejects; kUnavailable when out of memory.
Result<SecretBytes> Argon2id(std::string_view passphrase, ByteSpan salt,
                             const Argon2Params& params, size_t out_size = 32);

// HKDF-SHA256 (RFC 5869), via OpenSSL 3 EVP_KDF.
Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, ByteSpan salt, ByteSpan info,
                               size_t out_size);

using Digest = std::array<uint8_t, 32>;

// HMAC-SHA256 with the key's inner/outer state precomputed once, so a MAC of
// a short value costs two compression calls. Thread safety: Mac() is const
// and may be called concurrently.
class HmacSha256 {
 public:
  explicit HmacSha256(const SecretBytes& key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  Digest Mac(ByteSpan message) const;

 private:
  SecretBytes state_;  // SHA-256 midstates after the ipad and opad key blocks
};

// SHA-256, one-shot and streaming. The stream uses OpenSSL, which uses the
// CPU's SHA extensions where present (about 4x libsodium's portable code on
// a file hash).
Digest Sha256(ByteSpan data);
// SHA-256 as 64 lowercase hex digits.
std::string Sha256Hex(ByteSpan data);
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(ByteSpan data);
  Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_KDF_H_
