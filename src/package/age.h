// age v1 file encryption (https://c2sp.org/age), X25519 recipients only.
//
// The handover package's payload is an age file, so a recipient without
// Custos opens it with `age -d -i key.txt`. Format and parser rules:
// docs/formats/age-and-sshsig.md.
//
//   age-encryption.org/v1
//   -> X25519 <ephemeral share, base64>          one stanza per recipient
//   <wrapped file key, base64>
//   --- <HMAC-SHA-256 of the header, base64>
//   nonce(16) || STREAM ChaCha20-Poly1305 chunks of 64 KiB (+16-byte tag)
//
// Security guarantee: confidentiality and integrity of the plaintext against
// anyone without one of the recipients' identities. A decryptor that returns
// Ok has authenticated the header and every chunk, including the final one,
// and seen nothing after it.
//
// Streaming: both directions take input in pieces of any size and write to a
// ByteSink as they go; memory stays at about one 64 KiB chunk. On a
// decryption error, plaintext already written to the sink is authentic but
// incomplete: the caller must treat the whole output as failed.
//
// Error codes (decryption):
//   kInvalidArgument  not an age v1 file, or a malformed header (non-canonical
//                     base64, wrong X25519 argument count or sizes, a
//                     low-order X25519 share, an oversized header)
//   kUnauthenticated  no identity unwraps any X25519 stanza (wrong key; also
//                     what a corrupted stanza looks like)
//   kDataLoss         header MAC mismatch, a payload chunk that does not
//                     authenticate, truncation anywhere (including an empty
//                     input), an empty final chunk after other chunks, or data
//                     after the final chunk
//
// Thread safety: AgeRecipient and AgeIdentity are immutable and may be shared;
// an AgeEncryptor or AgeDecryptor is used by one thread at a time.
#ifndef CUSTOS_PACKAGE_AGE_H_
#define CUSTOS_PACKAGE_AGE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret_bytes.h"
#include "package/byte_stream.h"

namespace custos::package {

// How an age file begins: binary, or armored (PEM-like).
inline constexpr std::string_view kAgeIntro = "age-encryption.org/";
inline constexpr std::string_view kAgeArmorIntro = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr size_t kAgeChunkSize = size_t{64} * 1024;
// Headers longer than this are rejected (kInvalidArgument) before the MAC
// line is found, so garbage input cannot make a decryptor buffer without end.
inline constexpr size_t kAgeMaxHeaderSize = 1 << 20;

using X25519PublicKey = std::array<uint8_t, 32>;

// An X25519 recipient: "age1..." (Bech32, HRP "age").
class AgeRecipient {
 public:
  // kInvalidArgument if `text` is not an X25519 age recipient.
  static Result<AgeRecipient> Parse(std::string_view text);
  static AgeRecipient FromPublicKey(const X25519PublicKey& key) { return AgeRecipient(key); }

  const X25519PublicKey& public_key() const { return key_; }
  // "age1..." in lower case.
  std::string ToString() const;

  friend bool operator==(const AgeRecipient&, const AgeRecipient&) = default;

 private:
  explicit AgeRecipient(const X25519PublicKey& key) : key_(key) {}
  X25519PublicKey key_;
};

// An X25519 identity: "AGE-SECRET-KEY-1..." (Bech32, HRP "AGE-SECRET-KEY-").
class AgeIdentity {
 public:
  // kInvalidArgument if `text` is not an X25519 age identity. The message
  // never contains the text.
  static Result<AgeIdentity> Parse(std::string_view text);
  // A fresh identity from the system CSPRNG.
  static AgeIdentity Generate();

  const AgeRecipient& recipient() const { return recipient_; }
  // The "AGE-SECRET-KEY-1..." string (upper case, as age-keygen writes it),
  // in secure memory.
  crypto::SecretBytes EncodeSecret() const;

  // X25519(scalar, share); kInvalidArgument if the result is all zero (a
  // low-order share). For the decryptor.
  Result<crypto::SecretBytes> SharedSecret(const X25519PublicKey& share) const;

 private:
  AgeIdentity(crypto::SecretBytes scalar, const AgeRecipient& recipient)
      : scalar_(std::move(scalar)), recipient_(recipient) {}
  crypto::SecretBytes scalar_;
  AgeRecipient recipient_;
};

// Parses an identity file as age-keygen writes it: lines starting with '#'
// and blank lines are skipped, every other line must be an X25519 identity.
// A trailing CR on a line is tolerated. kInvalidArgument naming the line on
// anything else (plugin or SSH identities included), or if there are none.
Result<std::vector<AgeIdentity>> ParseAgeIdentityFile(std::string_view text);

// The file age-keygen writes, in secure memory:
//   # created: 2026-11-27T07:33:25Z
//   # public key: age1...
//   AGE-SECRET-KEY-1...
crypto::SecretBytes FormatAgeIdentityFile(const AgeIdentity& identity,
                                          int64_t created_unix_seconds);

// A fresh key pair as text, for `custos keys new-recipient`. The identity is
// in secure memory: write it out with WriteFileExclusive(..., 0600).
struct AgeKeyPair {
  crypto::SecretBytes identity;  // "AGE-SECRET-KEY-1..."
  std::string recipient;         // "age1..."
};
AgeKeyPair GenerateAgeKeyPair();

// Encrypts one file to one or more recipients.
//
//   ASSIGN_OR_RETURN(AgeEncryptor enc, AgeEncryptor::Create(recipients, sink));
//   RETURN_IF_ERROR(enc.Write(piece));   // any number of times
//   RETURN_IF_ERROR(enc.Finish());
//
// Nothing reaches the sink before the first Write or Finish, so a caller
// can first write a container header sized with EncryptedSize().
class AgeEncryptor {
 public:
  // REQUIRES: `out` outlives the encryptor. kInvalidArgument if there are no
  // recipients or one of them is a low-order point.
  static Result<AgeEncryptor> Create(std::span<const AgeRecipient> recipients, ByteSink& out);

  AgeEncryptor(AgeEncryptor&&) noexcept;
  AgeEncryptor& operator=(AgeEncryptor&&) noexcept;
  ~AgeEncryptor();

  // Exact size of the age file for a plaintext of `plaintext_size` bytes.
  uint64_t EncryptedSize(uint64_t plaintext_size) const;

  // kFailedPrecondition after Finish or after an error; else the sink's error.
  Status Write(ByteSpan plaintext);
  // Seals the final chunk. Must be called exactly once.
  Status Finish();

 private:
  struct State;
  explicit AgeEncryptor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Decrypts one file with one or more identities.
//
//   ASSIGN_OR_RETURN(AgeDecryptor dec, AgeDecryptor::Create(identities, sink));
//   RETURN_IF_ERROR(dec.Write(piece));   // any number of times
//   RETURN_IF_ERROR(dec.Finish());       // Ok only if the file was complete
//
// After the first error every later call returns that error again.
class AgeDecryptor final : public ByteSink {
 public:
  // REQUIRES: `out` outlives the decryptor. Copies the identities.
  // kInvalidArgument if there are none.
  static Result<AgeDecryptor> Create(std::span<const AgeIdentity> identities, ByteSink& out);

  AgeDecryptor(AgeDecryptor&&) noexcept;
  AgeDecryptor& operator=(AgeDecryptor&&) noexcept;
  ~AgeDecryptor() override;

  // A sink of ciphertext: what it decrypts goes to `out`.
  Status Write(ByteSpan ciphertext) override;
  Status Finish();

 private:
  struct State;
  explicit AgeDecryptor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Whole-stream conveniences over the classes above.
Status AgeEncrypt(std::span<const AgeRecipient> recipients, ByteSource& in, ByteSink& out);
Status AgeDecrypt(std::span<const AgeIdentity> identities, ByteSource& in, ByteSink& out);
Result<Bytes> AgeEncryptBytes(std::span<const AgeRecipient> recipients, ByteSpan plaintext);
Result<Bytes> AgeDecryptBytes(std::span<const AgeIdentity> identities, ByteSpan ciphertext);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_AGE_H_
