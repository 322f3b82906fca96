#include "crypto/id_cipher.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace custos::crypto {

struct IdCipher::State {
  EVP_CIPHER_CTX* enc = nullptr;
  EVP_CIPHER_CTX* dec = nullptr;
  ~State() {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
  }
};

IdCipher::IdCipher(std::unique_ptr<State> s) : state_(std::move(s)) {}
IdCipher::IdCipher(IdCipher&&) noexcept = default;
IdCipher& IdCipher::operator=(IdCipher&&) noexcept = default;
IdCipher::~IdCipher() = default;

Result<IdCipher> IdCipher::Create(const SecretBytes& key) {
  if (key.size() != 32) return Fail(InvalidArgument("id key must be 32 bytes"));
  auto s = std::make_unique<State>();
  s->enc = EVP_CIPHER_CTX_new();
  s->dec = EVP_CIPHER_CTX_new();
  // One raw AES block: ECB of exactly one block is the block cipher itself.
  if (!s->enc || !s->dec ||
      EVP_EncryptInit_ex(s->enc, EVP_aes_256_ecb(), nullptr, key.RevealSecret().data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(s->dec, EVP_aes_256_ecb(), nullptr, key.RevealSecret().data(), nullptr) != 1) {
    return Fail(Internal("cannot set up AES for ids"));
  }
  EVP_CIPHER_CTX_set_padding(s->enc, 0);
  EVP_CIPHER_CTX_set_padding(s->dec, 0);
  return IdCipher(std::move(s));
}

std::array<uint8_t, 16> IdCipher::Encode(uint64_t n) const {
  uint8_t in[16] = {};
  for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(n >> (56 - 8 * i));
  std::array<uint8_t, 16> out{};
  int len = 0;
  if (EVP_EncryptUpdate(state_->enc, out.data(), &len, in, 16) != 1 || len != 16) std::abort();
  return out;
}

std::optional<uint64_t> IdCipher::Decode(ByteSpan id) const {
  if (id.size() != 16) return std::nullopt;
  uint8_t out[16];
  int len = 0;
  if (EVP_DecryptUpdate(state_->dec, out, &len, id.data(), 16) != 1 || len != 16) std::abort();
  for (int i = 8; i < 16; ++i) {
    if (out[i] != 0) return std::nullopt;
  }
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = n << 8 | out[i];
  return n;
}

}  // namespace custos::crypto
