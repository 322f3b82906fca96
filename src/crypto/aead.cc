#include "crypto/aead.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "crypto/kdf.h"
#include "crypto/random.h"

namespace custos::crypto {

Status Initialize() {
  if (sodium_init() < 0) return Fail(Internal("libsodium failed to initialize"));
  return Ok();
}

namespace {
constexpr size_t kXNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
static_assert(kXNonce == 24);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kTagSize);
static_assert(crypto_aead_aes256gcm_ABYTES == kTagSize);
}  // namespace

Bytes Seal(const SecretBytes& key, ByteSpan plaintext, ByteSpan ad) {
  if (key.size() != kKeySize) std::abort();
  Bytes out(kXNonce + plaintext.size() + kTagSize);
  RandomFill({out.data(), kXNonce});
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kXNonce, &clen, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             out.data(), key.RevealSecret().data());
  return out;
}

namespace {
// Opens Seal's format into `out` (sealed.size() - kSealOverhead bytes).
// REQUIRES: sealed.size() >= kSealOverhead. kDataLoss if it does not
// authenticate.
Status OpenSealedTo(const SecretBytes& key, ByteSpan sealed, ByteSpan ad, uint8_t* out) {
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, nullptr, sealed.data() + kXNonce,
                                                 sealed.size() - kXNonce, ad.data(), ad.size(),
                                                 sealed.data(), key.RevealSecret().data()) != 0) {
    return Fail(DataLoss("authentication failed"));
  }
  return Ok();
}

template <typename Out>
Result<Out> OpenInto(const SecretBytes& key, ByteSpan sealed, ByteSpan ad) {
  if (key.size() != kKeySize) std::abort();
  if (sealed.size() < kSealOverhead) return Fail(DataLoss("sealed value is truncated"));
  Out out(sealed.size() - kSealOverhead);
  uint8_t* p = nullptr;
  if constexpr (std::is_same_v<Out, SecretBytes>) {
    p = out.MutableSecret().data();
  } else {
    p = out.data();
  }
  RETURN_IF_ERROR(OpenSealedTo(key, sealed, ad, p));
  return out;
}
}  // namespace

Result<SecretBytes> OpenSecret(const SecretBytes& key, ByteSpan sealed, ByteSpan ad) {
  return OpenInto<SecretBytes>(key, sealed, ad);
}

Result<Bytes> Open(const SecretBytes& key, ByteSpan sealed, ByteSpan ad) {
  return OpenInto<Bytes>(key, sealed, ad);
}

FieldSuite PreferredFieldSuite() {
  if (sodium_init() < 0) std::abort();  // the CPU feature probe runs in sodium_init
  return crypto_aead_aes256gcm_is_available() ? FieldSuite::kAes256Gcm
                                              : FieldSuite::kXChaCha20Poly1305;
}

Result<FieldSuite> FieldSuiteFromByte(uint8_t b) {
  switch (b) {
    case 1: return FieldSuite::kAes256Gcm;
    case 2: return FieldSuite::kXChaCha20Poly1305;
    default: return Fail(DataLoss("unknown field cipher suite " + std::to_string(b)));
  }
}

std::string_view FieldSuiteName(FieldSuite s) {
  return s == FieldSuite::kAes256Gcm ? "AES-256-GCM" : "XChaCha20-Poly1305";
}

struct FieldCipher::State {
  // libsodium requires 16-byte alignment for the AES-GCM precomputed state.
  alignas(16) crypto_aead_aes256gcm_state gcm;
  uint8_t key[kKeySize];
  ~State() { sodium_memzero(this, sizeof *this); }
};

FieldCipher::FieldCipher(FieldSuite suite, std::unique_ptr<State> state)
    : suite_(suite), state_(std::move(state)) {}
FieldCipher::FieldCipher(FieldCipher&&) noexcept = default;
FieldCipher& FieldCipher::operator=(FieldCipher&&) noexcept = default;
FieldCipher::~FieldCipher() = default;

Result<FieldCipher> FieldCipher::Create(FieldSuite suite, const SecretBytes& key) {
  if (key.size() != kKeySize) return Fail(InvalidArgument("data key must be 32 bytes"));
  RETURN_IF_ERROR(Initialize());  // idempotent; AES-NI detection needs it
  if (suite == FieldSuite::kAes256Gcm && !crypto_aead_aes256gcm_is_available()) {
    return Fail(FailedPrecondition("AES-256-GCM needs a CPU with AES-NI; this vault's data "
                                   "cannot be opened on this machine"));
  }
  FieldCipher cipher(suite, std::make_unique<State>());
  cipher.Rekey(key);
  return cipher;
}

void FieldCipher::Rekey(const SecretBytes& key) {
  if (key.size() != kKeySize) std::abort();
  if (suite_ == FieldSuite::kAes256Gcm) {
    crypto_aead_aes256gcm_beforenm(&state_->gcm, key.RevealSecret().data());
  } else {
    std::memcpy(state_->key, key.RevealSecret().data(), kKeySize);
  }
}

size_t FieldCipher::prefix_size() const {
  return suite_ == FieldSuite::kAes256Gcm ? crypto_aead_aes256gcm_NPUBBYTES - 4 : kXNonce - 4;
}

FieldCipher::NoncePrefix FieldCipher::NewRecordPrefix() const {
  NoncePrefix p{};
  RandomFill({p.data(), prefix_size()});
  return p;
}

namespace {
// nonce = prefix || BE32(index)
void MakeNonce(const FieldCipher::NoncePrefix& prefix, size_t prefix_size, uint32_t index,
               uint8_t* nonce) {
  std::memcpy(nonce, prefix.data(), prefix_size);
  nonce[prefix_size] = static_cast<uint8_t>(index >> 24);
  nonce[prefix_size + 1] = static_cast<uint8_t>(index >> 16);
  nonce[prefix_size + 2] = static_cast<uint8_t>(index >> 8);
  nonce[prefix_size + 3] = static_cast<uint8_t>(index);
}
}  // namespace

void FieldCipher::SealField(const NoncePrefix& prefix, uint32_t index, ByteSpan pt, ByteSpan ad,
                            Bytes& out) const {
  uint8_t nonce[kXNonce];
  MakeNonce(prefix, prefix_size(), index, nonce);
  size_t at = out.size();
  out.resize(at + pt.size() + kTagSize);
  unsigned long long clen = 0;
  if (suite_ == FieldSuite::kAes256Gcm) {
    crypto_aead_aes256gcm_encrypt_afternm(out.data() + at, &clen, pt.data(), pt.size(), ad.data(),
                                          ad.size(), nullptr, nonce, &state_->gcm);
  } else {
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + at, &clen, pt.data(), pt.size(),
                                               ad.data(), ad.size(), nullptr, nonce, state_->key);
  }
}

Status FieldCipher::OpenField(const NoncePrefix& prefix, uint32_t index, ByteSpan ct, ByteSpan ad,
                              std::string& out) const {
  out.clear();
  if (ct.size() < kTagSize) return Fail(DataLoss("field ciphertext is truncated"));
  uint8_t nonce[kXNonce];
  MakeNonce(prefix, prefix_size(), index, nonce);
  out.resize(ct.size() - kTagSize);
  unsigned long long mlen = 0;
  auto* m = reinterpret_cast<uint8_t*>(out.data());
  int rc;
  if (suite_ == FieldSuite::kAes256Gcm) {
    rc = crypto_aead_aes256gcm_decrypt_afternm(m, &mlen, nullptr, ct.data(), ct.size(), ad.data(),
                                               ad.size(), nonce, &state_->gcm);
  } else {
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, nullptr, ct.data(), ct.size(),
                                                    ad.data(), ad.size(), nonce, state_->key);
  }
  if (rc != 0) {
    sodium_memzero(out.data(), out.size());
    out.clear();
    return Fail(DataLoss("authentication failed"));
  }
  return Ok();
}

// ---------------------------------------------------------------- KeyWrap

namespace {
constexpr uint8_t kWrapV2 = 0x02;
constexpr size_t kGcmNonce = crypto_aead_aes256gcm_NPUBBYTES;
static_assert(kGcmNonce == 12);
constexpr std::string_view kWrapSubkeyInfo = "custos/key-wrap/aes-256-gcm/v1";
}  // namespace

struct KeyWrap::State {
  // The v2 wrap key's expanded state, when has_gcm: it opens every v2 key
  // of the vault, so it is locked in memory (best effort) like SecretBytes.
  alignas(16) crypto_aead_aes256gcm_state gcm;
  bool has_gcm = false;
  bool write_v2 = false;
  bool locked = false;
  SecretBytes kek;  // v1
  State() { locked = sodium_mlock(&gcm, sizeof gcm) == 0; }
  ~State() {
    if (locked) {
      sodium_munlock(&gcm, sizeof gcm);  // zeroes it too
    } else {
      sodium_memzero(&gcm, sizeof gcm);
    }
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

KeyWrap::KeyWrap(std::unique_ptr<State> state) : state_(std::move(state)) {}
KeyWrap::KeyWrap(KeyWrap&&) noexcept = default;
KeyWrap& KeyWrap::operator=(KeyWrap&&) noexcept = default;
KeyWrap::~KeyWrap() = default;

Result<KeyWrap> KeyWrap::Create(const SecretBytes& kek, FieldSuite suite, ByteSpan salt) {
  if (kek.size() != kKeySize) return Fail(InvalidArgument("key-encryption key must be 32 bytes"));
  RETURN_IF_ERROR(Initialize());  // AES-NI detection needs it
  auto state = std::make_unique<State>();
  state->kek = kek;
  if (crypto_aead_aes256gcm_is_available()) {
    ASSIGN_OR_RETURN(SecretBytes subkey,
                     HkdfSha256(kek, salt, AsBytes(kWrapSubkeyInfo), kKeySize));
    crypto_aead_aes256gcm_beforenm(&state->gcm, subkey.RevealSecret().data());
    state->has_gcm = true;
  }
  // Without AES-NI the vault still opens (its index root and v1 keys are
  // XChaCha20-Poly1305); only v2 keys cannot be opened here.
  state->write_v2 = suite == FieldSuite::kAes256Gcm && state->has_gcm;
  return KeyWrap(std::move(state));
}

Bytes KeyWrap::Wrap(const SecretBytes& key, ByteSpan ad) const {
  if (key.size() != kKeySize) std::abort();
  if (!state_->write_v2) return Seal(state_->kek, key.RevealSecret(), ad);
  Bytes out(kV2Size);
  out[0] = kWrapV2;
  RandomFill({out.data() + 1, kGcmNonce});
  unsigned long long clen = 0;
  crypto_aead_aes256gcm_encrypt_afternm(out.data() + 1 + kGcmNonce, &clen,
                                        key.RevealSecret().data(), kKeySize, ad.data(), ad.size(),
                                        nullptr, out.data() + 1, &state_->gcm);
  return out;
}

Result<SecretBytes> KeyWrap::Unwrap(ByteSpan wrapped, ByteSpan ad) const {
  SecretBytes key(kKeySize);
  RETURN_IF_ERROR(UnwrapInto(wrapped, ad, key));
  return key;
}

Status KeyWrap::UnwrapInto(ByteSpan wrapped, ByteSpan ad, SecretBytes& key) const {
  if (key.size() != kKeySize) std::abort();
  if (wrapped.size() == kV1Size) {  // Seal's format, under the KEK
    Status opened = OpenSealedTo(state_->kek, wrapped, ad, key.MutableSecret().data());
    if (!opened) sodium_memzero(key.MutableSecret().data(), kKeySize);
    return opened;
  }
  if (wrapped.size() != kV2Size || wrapped[0] != kWrapV2) {
    return Fail(DataLoss("wrapped key has " + std::to_string(wrapped.size()) +
                         " bytes, neither format (72, or 61 starting 02)"));
  }
  if (!state_->has_gcm) {
    return Fail(FailedPrecondition("this key is wrapped with AES-256-GCM, which needs a CPU "
                                   "with AES-NI"));
  }
  unsigned long long mlen = 0;
  if (crypto_aead_aes256gcm_decrypt_afternm(key.MutableSecret().data(), &mlen, nullptr,
                                            wrapped.data() + 1 + kGcmNonce,
                                            wrapped.size() - 1 - kGcmNonce, ad.data(), ad.size(),
                                            wrapped.data() + 1, &state_->gcm) != 0) {
    sodium_memzero(key.MutableSecret().data(), kKeySize);
    return Fail(DataLoss("authentication failed"));
  }
  return Ok();
}

}  // namespace custos::crypto
