// OpenSSH public key lines (RFC 4253 section 6.6, RFC 8709 for Ed25519).
#ifndef CUSTOS_PACKAGE_SSH_KEY_H_
#define CUSTOS_PACKAGE_SSH_KEY_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/signer.h"

namespace custos::package {

// "ssh-ed25519 <base64(string "ssh-ed25519" || string key)> <comment>".
std::string SshEd25519PublicKeyLine(const crypto::Ed25519PublicKey& key, std::string_view comment);

// Parses an "ssh-ed25519 AAAA... [comment]" line. kInvalidArgument on any
// other key type or malformed encoding.
Result<crypto::Ed25519PublicKey> ParseSshEd25519PublicKey(std::string_view line);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_SSH_KEY_H_
