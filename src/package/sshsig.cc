#include "package/sshsig.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "package/ssh_wire.h"

namespace custos::package {
namespace {

constexpr std::string_view kLabel = "SSH SIGNATURE";
constexpr std::string_view kWhat = "SSH signature";
constexpr std::string_view kMagic = "SSHSIG";
constexpr uint32_t kVersion = 1;

Error Malformed(const std::string& why) { return InvalidArgument(std::string(kWhat) + ": " + why); }

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Quotes a namespace for an error message; namespaces are protocol labels,
// but a hostile signature could carry anything.
std::string Quote(std::string_view s) {
  if (s.size() > 64 || !Printable(s)) return "(unprintable)";
  return "'" + std::string(s) + "'";
}

Result<Bytes> MessageHash(std::string_view algorithm, ByteSpan message) {
  if (algorithm == "sha512") {
    Bytes h(crypto_hash_sha512_BYTES);
    crypto_hash_sha512(h.data(), message.data(), message.size());
    return h;
  }
  if (algorithm == "sha256") {
    Bytes h(crypto_hash_sha256_BYTES);
    crypto_hash_sha256(h.data(), message.data(), message.size());
    return h;
  }
  return Fail(Malformed("unsupported hash algorithm " + Quote(algorithm)));
}

Bytes SignedData(std::string_view ns, ByteSpan reserved, std::string_view algorithm,
                 ByteSpan hash) {
  Bytes data(kMagic.begin(), kMagic.end());
  AppendSshString(data, ns);
  AppendSshString(data, reserved);
  AppendSshString(data, algorithm);
  AppendSshString(data, hash);
  return data;
}

}  // namespace

Result<std::string> SshSigSign(const crypto::Signer& signer, std::string_view ns,
                               ByteSpan message) {
  if (ns.empty()) return Fail(InvalidArgument("SSH signature namespace must not be empty"));
  ASSIGN_OR_RETURN(const Bytes hash, MessageHash(kSshSigHashSha512, message));
  const crypto::Ed25519Signature signature =
      signer.Sign(SignedData(ns, {}, kSshSigHashSha512, hash));

  Bytes signature_blob;
  AppendSshString(signature_blob, kSshEd25519);
  AppendSshString(signature_blob, ByteSpan(signature));

  Bytes blob(kMagic.begin(), kMagic.end());
  AppendU32BE(blob, kVersion);
  AppendSshString(blob, SshEd25519PublicKeyBlob(signer.public_key()));
  AppendSshString(blob, ns);
  AppendSshString(blob, ByteSpan());  // reserved
  AppendSshString(blob, kSshSigHashSha512);
  AppendSshString(blob, signature_blob);
  return SshArmor(kLabel, blob);
}

Result<SshSignature> ParseSshSignature(std::string_view armored) {
  ASSIGN_OR_RETURN(const Bytes blob, SshDearmor(armored, kLabel, kWhat));
  SshWireReader r(blob);
  ByteSpan magic;
  uint32_t version = 0;
  if (!r.ReadBytes(kMagic.size(), magic) || AsChars(magic) != kMagic) {
    return Fail(Malformed("does not start with 'SSHSIG'"));
  }
  if (!r.ReadU32(version)) return Fail(Malformed("truncated"));
  if (version != kVersion) {
    return Fail(Malformed("unsupported version " + std::to_string(version) + "; want 1"));
  }
  ByteSpan public_key, ns, reserved, algorithm, signature_blob;
  if (!r.ReadString(public_key) || !r.ReadString(ns) || !r.ReadString(reserved) ||
      !r.ReadString(algorithm) || !r.ReadString(signature_blob)) {
    return Fail(Malformed("truncated"));
  }
  if (!r.empty()) return Fail(Malformed("trailing bytes after the signature"));

  SshSignature out;
  Result<crypto::Ed25519PublicKey> key = ParseSshEd25519PublicKeyBlob(public_key);
  if (!key) return Fail(key.error().WithContext(kWhat));
  out.public_key = *key;
  if (ns.empty()) return Fail(Malformed("empty namespace"));
  out.ns = std::string(AsChars(ns));
  out.reserved.assign(reserved.begin(), reserved.end());
  out.hash_algorithm = std::string(AsChars(algorithm));
  if (out.hash_algorithm != "sha512" && out.hash_algorithm != "sha256") {
    return Fail(Malformed("unsupported hash algorithm " + Quote(out.hash_algorithm)));
  }

  SshWireReader s(signature_blob);
  ByteSpan type, signature;
  if (!s.ReadString(type) || !s.ReadString(signature) || !s.empty()) {
    return Fail(Malformed("malformed signature blob"));
  }
  if (AsChars(type) != kSshEd25519) {
    return Fail(Malformed("signature type is not ssh-ed25519"));
  }
  if (signature.size() != out.signature.size()) {
    return Fail(Malformed("Ed25519 signature is not 64 bytes"));
  }
  std::memcpy(out.signature.data(), signature.data(), signature.size());
  return out;
}

Status SshSigVerify(std::string_view armored, const crypto::Ed25519PublicKey& key,
                    std::string_view ns, ByteSpan message) {
  ASSIGN_OR_RETURN(const SshSignature sig, ParseSshSignature(armored));
  if (sig.ns != ns) {
    return Fail(DataLoss("SSH signature is for namespace " + Quote(sig.ns) + ", not " + Quote(ns)));
  }
  if (sig.public_key != key) {
    return Fail(Unauthenticated("SSH signature was made by key " + SshFingerprint(sig.public_key) +
                                ", not the expected " + SshFingerprint(key)));
  }
  ASSIGN_OR_RETURN(const Bytes hash, MessageHash(sig.hash_algorithm, message));
  if (!crypto::VerifyEd25519(key, SignedData(sig.ns, sig.reserved, sig.hash_algorithm, hash),
                             sig.signature)) {
    return Fail(
        DataLoss("SSH signature does not verify: the message or the signature was modified"));
  }
  return Ok();
}

}  // namespace custos::package
