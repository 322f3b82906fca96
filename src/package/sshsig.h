// OpenSSH signatures (SSHSIG, PROTOCOL.sshsig in openssh-portable) with
// Ed25519 keys: what `ssh-keygen -Y sign` writes and `ssh-keygen -Y verify`
// checks. Packages, receipts and certificates are signed this way so anyone
// can verify them with stock OpenSSH. Format and parser rules:
// docs/formats/age-and-sshsig.md.
//
//   -----BEGIN SSH SIGNATURE-----
//   base64 (70 columns) of:
//     "SSHSIG" uint32(1) string(public key blob) string(namespace)
//     string(reserved) string(hash algorithm) string(signature blob)
//   -----END SSH SIGNATURE-----
//
// The Ed25519 signature covers
//   "SSHSIG" string(namespace) string(reserved) string(hash algorithm)
//   string(H(message))
// so a signature made for one namespace ("custos-package") never verifies
// in another ("custos-receipt").
//
// Thread safety: free functions over immutable inputs.
#ifndef CUSTOS_PACKAGE_SSHSIG_H_
#define CUSTOS_PACKAGE_SSHSIG_H_

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/signer.h"

namespace custos::package {

// The hash Custos signs with (ssh-keygen's default). Verification also
// accepts "sha256".
inline constexpr std::string_view kSshSigHashSha512 = "sha512";

// A parsed (not yet verified) SSHSIG signature.
struct SshSignature {
  crypto::Ed25519PublicKey public_key{};  // the key that claims to have signed
  std::string ns;                         // namespace, never empty
  std::string hash_algorithm;             // "sha512" or "sha256"
  Bytes reserved;                         // signed, otherwise ignored
  crypto::Ed25519Signature signature{};
};

// Signs SHA-512(message) under `ns` and returns the armored signature exactly
// as `ssh-keygen -Y sign` writes it (Ed25519 is deterministic, so the output
// is byte-identical for the same key, namespace and message).
// kInvalidArgument if `ns` is empty.
Result<std::string> SshSigSign(const crypto::Signer& signer, std::string_view ns, ByteSpan message);

// Parses an armored signature. kInvalidArgument on malformed armor or blob,
// an unsupported version, key type or hash algorithm, an empty namespace, or
// trailing bytes.
Result<SshSignature> ParseSshSignature(std::string_view armored);

// Verifies `armored` over `message` against `key` and namespace `ns`.
//   kInvalidArgument  malformed (as ParseSshSignature)
//   kDataLoss         wrong namespace (both named), or the signature does not
//                     verify: the message or the signature was modified
//   kUnauthenticated  made by a different key (both fingerprints named)
Status SshSigVerify(std::string_view armored, const crypto::Ed25519PublicKey& key,
                    std::string_view ns, ByteSpan message);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_SSHSIG_H_
