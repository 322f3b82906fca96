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
  // Switches this cipher to another key of the same suite, reusing its
  // state (a bulk read opens a million people's fields with one cipher a
  // thread). REQUIRES: key.size() == kKeySize.
  void Rekey(const SecretBytes& key);

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

// KeyWrap: 32-byte data keys sealed under a vault's key-encryption key (KEK),
// in the two formats of docs/formats/field-ciphertext.md ("Wrapped keys"):
//   v1  nonce(24) || ciphertext(32) || tag(16), XChaCha20-Poly1305 under the
//       KEK itself: 72 bytes.
//   v2  0x02 || nonce(12) || ciphertext(32) || tag(16), AES-256-GCM under a
//       subkey HKDF-SHA256(KEK, salt = vault id, info
//       "custos/key-wrap/aes-256-gcm/v1"),
//       whose key schedule and GHASH powers are computed once: 61 bytes,
//       about a third of v1's time to open (a million people are unwrapped
//       to package them).
// Wrap writes v2 when created for AES-256-GCM (the vault's field suite, so a
// vault made where AES-NI is missing never needs it) on a CPU with AES-NI,
// v1 otherwise; Unwrap
// reads both, told apart by their sizes. Random 96-bit nonces bound v2 to
// 2^32 wraps under one KEK (NIST SP 800-38D 8.3); a rotation starts a new
// KEK. Thread safety: Wrap and Unwrap are const and may run concurrently.
class KeyWrap {
 public:
  static constexpr size_t kV1Size = 24 + kKeySize + kTagSize;
  static constexpr size_t kV2Size = 1 + 12 + kKeySize + kTagSize;

  // `salt` (the vault's id) makes each vault's wrap key its own, so the
  // nonce budget is per vault even where vaults share a key file. On a CPU
  // without AES-NI it writes v1, and opening a v2 key is
  // kFailedPrecondition.
  static Result<KeyWrap> Create(const SecretBytes& kek, FieldSuite suite, ByteSpan salt);

  KeyWrap(KeyWrap&&) noexcept;
  KeyWrap& operator=(KeyWrap&&) noexcept;
  ~KeyWrap();

  // REQUIRES: key.size() == kKeySize.
  Bytes Wrap(const SecretBytes& key, ByteSpan associated_data) const;
  // kDataLoss if `wrapped` is neither format or does not authenticate;
  // kFailedPrecondition for v2 on a CPU without AES-NI.
  Result<SecretBytes> Unwrap(ByteSpan wrapped, ByteSpan associated_data) const;
  // The same into `key` (REQUIRES: key.size() == kKeySize), which a bulk
  // read reuses for every person; on failure `key` is zeroed.
  Status UnwrapInto(ByteSpan wrapped, ByteSpan associated_data, SecretBytes& key) const;

 private:
  struct State;
  explicit KeyWrap(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_AEAD_H_
