// The SSH wire encoding (RFC 4251 section 5) and OpenSSH's PEM-like armor,
// shared by SSHSIG signatures and OpenSSH private keys.
//
//   uint32   4 bytes, big endian
//   string   uint32 length || bytes
//
//   -----BEGIN <LABEL>-----
//   <base64 with padding, 70 columns per line>
//   -----END <LABEL>-----
#ifndef CUSTOS_PACKAGE_SSH_WIRE_H_
#define CUSTOS_PACKAGE_SSH_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/signer.h"

namespace custos::package {

// Reads SSH wire values from a buffer the caller keeps alive. Every Read
// returns false (and consumes nothing) if the buffer is too short.
class SshWireReader {
 public:
  explicit SshWireReader(ByteSpan data) : data_(data) {}
  [[nodiscard]] bool ReadU32(uint32_t& out);
  [[nodiscard]] bool ReadString(ByteSpan& out);
  [[nodiscard]] bool ReadBytes(size_t n, ByteSpan& out);
  bool empty() const { return data_.empty(); }
  ByteSpan rest() const { return data_; }

 private:
  ByteSpan data_;
};

void AppendSshString(Bytes& out, ByteSpan data);
inline void AppendSshString(Bytes& out, std::string_view text) {
  AppendSshString(out, AsBytes(text));
}

inline constexpr std::string_view kSshEd25519 = "ssh-ed25519";

// string "ssh-ed25519" || string key(32).
Bytes SshEd25519PublicKeyBlob(const crypto::Ed25519PublicKey& key);
// kInvalidArgument naming the key type if it is not ssh-ed25519, or if the
// blob is malformed (including trailing bytes).
Result<crypto::Ed25519PublicKey> ParseSshEd25519PublicKeyBlob(ByteSpan blob);

// "SHA256:<unpadded base64 of SHA-256(blob)>", as ssh-keygen -l prints it.
std::string SshFingerprint(const crypto::Ed25519PublicKey& key);

// Armors `data` exactly as OpenSSH does: base64 wrapped at 70 columns, each
// line (the END line included) ending in LF.
std::string SshArmor(std::string_view label, ByteSpan data);

// Strict inverse of SshArmor: the BEGIN line first, LF line endings, base64
// lines of 1 to 76 columns, canonical padded base64, the END line last with
// at most one LF after it. kInvalidArgument, prefixed with `what`, otherwise.
Result<Bytes> SshDearmor(std::string_view text, std::string_view label, std::string_view what);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_SSH_WIRE_H_
