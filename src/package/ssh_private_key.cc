#include "package/ssh_private_key.h"

#include <sodium.h>

#include <cstring>

#include "crypto/secret_bytes.h"
#include "package/ssh_wire.h"

namespace custos::package {
namespace {

constexpr std::string_view kLabel = "OPENSSH PRIVATE KEY";
constexpr std::string_view kWhat = "OpenSSH private key";
// "openssh-key-v1" and its terminating NUL.
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr size_t kBlockSize = 8;  // cipher "none"

Error Malformed(const std::string& why) { return InvalidArgument(std::string(kWhat) + ": " + why); }

Result<OpenSshPrivateKey> Parse(ByteSpan blob) {
  SshWireReader r(blob);
  ByteSpan magic;
  if (!r.ReadBytes(kMagic.size(), magic) || AsChars(magic) != kMagic) {
    return Fail(Malformed("not openssh-key-v1"));
  }
  ByteSpan cipher, kdf, kdf_options, public_blob, section;
  uint32_t count = 0;
  if (!r.ReadString(cipher) || !r.ReadString(kdf) || !r.ReadString(kdf_options) ||
      !r.ReadU32(count)) {
    return Fail(Malformed("truncated header"));
  }
  if (AsChars(cipher) != "none" || AsChars(kdf) != "none") {
    return Fail(InvalidArgument(
        "encrypted keys are not supported; remove the passphrase from a copy of the key with "
        "'ssh-keygen -p -N \"\" -f COPY' and use the copy"));
  }
  if (!kdf_options.empty()) return Fail(Malformed("unencrypted key has KDF options"));
  if (count != 1) return Fail(Malformed("holds " + std::to_string(count) + " keys; want 1"));
  if (!r.ReadString(public_blob)) return Fail(Malformed("truncated public key"));
  ASSIGN_OR_RETURN(const crypto::Ed25519PublicKey public_key,
                   ParseSshEd25519PublicKeyBlob(public_blob));
  if (!r.ReadString(section) || !r.empty()) {
    return Fail(Malformed("truncated private section or trailing data"));
  }
  if (section.size() % kBlockSize != 0) {
    return Fail(Malformed("private section is not a multiple of 8 bytes"));
  }

  SshWireReader p(section);
  uint32_t check1 = 0, check2 = 0;
  ByteSpan type, pk, sk, comment;
  if (!p.ReadU32(check1) || !p.ReadU32(check2) || !p.ReadString(type)) {
    return Fail(Malformed("truncated private section"));
  }
  if (check1 != check2)
    return Fail(DataLoss(std::string(kWhat) + " is corrupt: check values differ"));
  if (AsChars(type) != kSshEd25519) {
    return Fail(Malformed("private key type does not match the public key (ssh-ed25519)"));
  }
  if (!p.ReadString(pk) || !p.ReadString(sk) || !p.ReadString(comment)) {
    return Fail(Malformed("truncated private key"));
  }
  if (pk.size() != 32 || sk.size() != 64) return Fail(Malformed("wrong ssh-ed25519 key sizes"));
  // Padding: 1, 2, 3, ... up to the block size.
  const ByteSpan padding = p.rest();
  if (padding.size() >= kBlockSize) return Fail(Malformed("too much padding"));
  for (size_t i = 0; i < padding.size(); ++i) {
    if (padding[i] != i + 1) return Fail(Malformed("malformed padding"));
  }
  if (std::memcmp(pk.data(), public_key.data(), 32) != 0 ||
      std::memcmp(sk.data() + 32, public_key.data(), 32) != 0) {
    return Fail(DataLoss(std::string(kWhat) + " is corrupt: its public key copies differ"));
  }
  const crypto::SecretBytes seed = crypto::SecretBytes::CopyOf(sk.first(32));
  ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
  if (signer.public_key() != public_key) {
    return Fail(DataLoss(std::string(kWhat) +
                         " is corrupt: the private key does not match the public key"));
  }
  return OpenSshPrivateKey{std::move(signer), std::string(AsChars(comment))};
}

}  // namespace

Result<OpenSshPrivateKey> ParseOpenSshPrivateKey(std::string_view text) {
  ASSIGN_OR_RETURN(Bytes blob, SshDearmor(text, kLabel, kWhat));
  Result<OpenSshPrivateKey> key = Parse(blob);
  sodium_memzero(blob.data(), blob.size());
  return key;
}

Result<crypto::SecretBytes> FormatOpenSshPrivateKey(const crypto::SecretBytes& seed,
                                                    std::string_view comment) {
  ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
  const crypto::Ed25519PublicKey& pk = signer.public_key();
  const Bytes public_blob = SshEd25519PublicKeyBlob(pk);
  uint32_t check = 0;
  randombytes_buf(&check, sizeof check);
  Bytes section;
  AppendU32BE(section, check);
  AppendU32BE(section, check);
  AppendSshString(section, kSshEd25519);
  AppendSshString(section, ByteSpan(pk.data(), pk.size()));
  Bytes sk(seed.RevealSecret().begin(), seed.RevealSecret().end());
  sk.insert(sk.end(), pk.begin(), pk.end());
  AppendSshString(section, sk);
  sodium_memzero(sk.data(), sk.size());
  AppendSshString(section, comment);
  for (uint8_t i = 1; section.size() % kBlockSize != 0; ++i) section.push_back(i);
  Bytes blob(kMagic.begin(), kMagic.end());
  AppendSshString(blob, std::string_view("none"));
  AppendSshString(blob, std::string_view("none"));
  AppendSshString(blob, std::string_view(""));
  AppendU32BE(blob, 1);
  AppendSshString(blob, public_blob);
  AppendSshString(blob, section);
  sodium_memzero(section.data(), section.size());
  std::string text = SshArmor(kLabel, blob);
  sodium_memzero(blob.data(), blob.size());
  crypto::SecretBytes out = crypto::SecretBytes::CopyOf(AsBytes(text));
  sodium_memzero(text.data(), text.size());
  return out;
}

}  // namespace custos::package
