// Authenticated encryption, as two narrow tools that are hard to misuse.
//
// Seal/Open: XChaCha20-Poly1305 with a random 192-bit nonce carried in the
// output (nonce || ciphertext || tag). For key wrapping and anything that is
// not on a hot path. Random 192-bit nonces never collide in practice, so the
// caller never thinks about nonces.
//
// FieldCipher: the hot-path cipher for field values under one data key. A
// record draws one random nonce prefix; field i of that record uses nonce
// prefix || BE32(i). Uniqueness holds as long as a (prefix, i) pair is sealed
// once, which the record codec guarantees by sealing each field position once.
//
// Security guarantee of both: IND-CCA2 confidentiality and integrity of the
// plaintext and of the associated data. Open returns kDataLoss on any
// mismatch, and never partial plaintext.
#ifndef CUSTOS_CRYPTO_AEAD_H_
#define CUSTOS_CRYPTO_AEAD_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::crypto {

// Initializes libsodium. Call once from main() (idempotent, thread-safe).
Status Initialize();

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kSealOverhead = 24 + kTagSize;

// nonce(24) || ciphertext || tag(16). REQUIRES: key.size() == kKeySize.
Bytes Seal(const SecretBytes& key, ByteSpan plaintext, ByteSpan associated_data);
// kDataLoss if the input is too short or does not authenticate.
Result<SecretBytes> OpenSecret(const SecretBytes& key, ByteSpan sealed, ByteSpan associated_data);
Result<Bytes> Open(const SecretBytes& key, ByteSpan sealed, ByteSpan associated_data);

// Cipher suites of field ciphertexts (docs/formats/field-ciphertext.md).
enum class FieldSuite : uint8_t {
  kAes256Gcm = 1,           // preferred where the CPU has AES-NI + CLMUL
  kXChaCha20Poly1305 = 2,   // portable fallback
};

// The suite this machine should use for new data.
FieldSuite PreferredFieldSuite();
Result<FieldSuite> FieldSuiteFromByte(uint8_t b);
std::string_view FieldSuiteName(FieldSuite s);

class FieldCipher {
 public:
  static constexpr size_t kMaxPrefixSize = 20;
  using NoncePrefix = std::array<uint8_t, kMaxPrefixSize>;

  // kFailedPrecondition if the suite cannot run here (AES-GCM without AES-NI).
  static Result<FieldCipher> Create(FieldSuite suite, const SecretBytes& key);

  FieldCipher(FieldCipher&&) noexcept;
  FieldCipher& operator=(FieldCipher&&) noexcept;
  ~FieldCipher();

  FieldSuite suite() const { return suite_; }
  // Bytes of nonce prefix a record stores: 8 (AES-GCM) or 20 (XChaCha).
  size_t prefix_size() const;

  // A fresh random prefix for a new record (first prefix_size() bytes used).
  NoncePrefix NewRecordPrefix() const;

  // Appends ciphertext || tag to `out`.
  void SealField(const NoncePrefix& prefix, uint32_t index, ByteSpan plaintext,
                 ByteSpan associated_data, Bytes& out) const;
  // Replaces `out` with the plaintext. kDataLoss on failure (out is cleared).
  Status OpenField(const NoncePrefix& prefix, uint32_t index, ByteSpan ciphertext_and_tag,
                   ByteSpan associated_data, std::string& out) const;

 private:
  struct State;
  FieldCipher(FieldSuite suite, std::unique_ptr<State> state);
  FieldSuite suite_;
  std::unique_ptr<State> state_;
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_AEAD_H_
