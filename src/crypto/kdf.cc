#include "crypto/kdf.h"

// HmacSha256 keeps two SHA-256 midstates, which only OpenSSL's low-level
// SHA256_* API exposes (deprecated in OpenSSL 3 in favour of EVP, which
// allocates per copy): it runs on the CPU's SHA extensions where present,
// about 3x libsodium's portable SHA-256 on the short values of a blind index.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace custos::crypto {

Result<SecretBytes> Argon2id(std::string_view passphrase, ByteSpan salt,
                             const Argon2Params& params, size_t out_size) {
  if (salt.size() != crypto_pwhash_SALTBYTES) {
    return Fail(InvalidArgument("Argon2id salt must be 16 bytes"));
  }
  if (params.ops_limit < crypto_pwhash_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_OPSLIMIT_MAX ||
      params.mem_limit < crypto_pwhash_MEMLIMIT_MIN ||
      params.mem_limit > (4ull << 30) || out_size < crypto_pwhash_BYTES_MIN) {
    return Fail(InvalidArgument("Argon2id parameters out of range"));
  }
  SecretBytes out(out_size);
  if (crypto_pwhash(out.MutableSecret().data(), out_size, passphrase.data(), passphrase.size(),
                    salt.data(), params.ops_limit, static_cast<size_t>(params.mem_limit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(Unavailable("Argon2id ran out of memory"));
  }
  return out;
}

Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, ByteSpan salt, ByteSpan info,
                               size_t out_size) {
  if (ikm.empty()) return Fail(InvalidArgument("HKDF input key is empty"));
  if (out_size == 0 || out_size > 255 * 32) {
    return Fail(InvalidArgument("HKDF-SHA256 output must be 1 to 8160 bytes"));
  }
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                       &EVP_KDF_free);
  if (!kdf) return Fail(Internal("OpenSSL has no HKDF"));
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                               &EVP_KDF_CTX_free);
  if (!ctx) return Fail(Internal("cannot create HKDF context"));
  char digest[] = "SHA256";
  auto span = ikm.RevealSecret();
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(span.data()), span.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(out_size);
  if (EVP_KDF_derive(ctx.get(), out.MutableSecret().data(), out_size, params) != 1) {
    return Fail(Internal("HKDF derivation failed"));
  }
  return out;
}

namespace {
struct HmacMidstates {
  SHA256_CTX inner;  // after the key XOR ipad block
  SHA256_CTX outer;  // after the key XOR opad block
};
}  // namespace

HmacSha256::HmacSha256(const SecretBytes& key) : state_(sizeof(HmacMidstates)) {
  auto* st = reinterpret_cast<HmacMidstates*>(state_.MutableSecret().data());
  SecretBytes block(SHA256_CBLOCK);
  uint8_t* b = block.MutableSecret().data();
  if (key.size() > SHA256_CBLOCK) {
    SHA256(key.RevealSecret().data(), key.size(), b);  // RFC 2104: long keys are hashed
  } else {
    std::memcpy(b, key.RevealSecret().data(), key.size());
  }
  for (size_t i = 0; i < SHA256_CBLOCK; ++i) b[i] ^= 0x36;
  SHA256_Init(&st->inner);
  SHA256_Update(&st->inner, b, SHA256_CBLOCK);
  for (size_t i = 0; i < SHA256_CBLOCK; ++i) b[i] ^= 0x36 ^ 0x5c;
  SHA256_Init(&st->outer);
  SHA256_Update(&st->outer, b, SHA256_CBLOCK);
}

HmacSha256::~HmacSha256() = default;

Digest HmacSha256::Mac(ByteSpan message) const {
  const auto* st = reinterpret_cast<const HmacMidstates*>(state_.RevealSecret().data());
  HmacMidstates work = *st;
  Digest inner;
  SHA256_Update(&work.inner, message.data(), message.size());
  SHA256_Final(inner.data(), &work.inner);
  Digest d;
  SHA256_Update(&work.outer, inner.data(), inner.size());
  SHA256_Final(d.data(), &work.outer);
  OPENSSL_cleanse(&work, sizeof work);
  OPENSSL_cleanse(inner.data(), inner.size());
  return d;
}

std::string Sha256Hex(ByteSpan data) { return HexEncode(Sha256(data)); }

Digest Sha256(ByteSpan data) {
  Digest d;
  crypto_hash_sha256(d.data(), data.data(), data.size());
  return d;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256Stream::Update(ByteSpan data) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) {
    std::abort();
  }
}
Digest Sha256Stream::Finish() {
  Digest d;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len) != 1) std::abort();
  return d;
}

}  // namespace custos::crypto
