// OpenSSH private key files (openssh-key-v1, PROTOCOL.key in
// openssh-portable), so a recipient can sign a receipt with the Ed25519 key
// `ssh-keygen -t ed25519` made for it.
//
//   -----BEGIN OPENSSH PRIVATE KEY-----
//   base64 of:
//     "openssh-key-v1" 0x00
//     string ciphername  ("none")      string kdfname ("none")
//     string kdfoptions  ("")          uint32 number of keys (1)
//     string public key blob
//     string private section:
//       uint32 checkint  uint32 checkint (equal)
//       string "ssh-ed25519"  string pk(32)  string seed(32) || pk(32)
//       string comment
//       padding 1, 2, 3, ... to a multiple of 8
//   -----END OPENSSH PRIVATE KEY-----
//
// Only unencrypted ssh-ed25519 keys are supported.
#ifndef CUSTOS_PACKAGE_SSH_PRIVATE_KEY_H_
#define CUSTOS_PACKAGE_SSH_PRIVATE_KEY_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/secret_bytes.h"
#include "crypto/signer.h"

namespace custos::package {

struct OpenSshPrivateKey {
  crypto::Signer signer;
  std::string comment;
};

// Parses the text of an OpenSSH private key file. Every intermediate copy of
// the key is wiped; the caller remains responsible for `text`.
//
//   kInvalidArgument  malformed file, a key type other than ssh-ed25519, or an
//                     encrypted key ("encrypted keys are not supported; ...")
//   kDataLoss         the file is well-formed but inconsistent: check values
//                     differ, or the public key does not match the private one
Result<OpenSshPrivateKey> ParseOpenSshPrivateKey(std::string_view text);

// The text of an unencrypted OpenSSH private key file for the Ed25519 key
// with this 32-byte seed, as `ssh-keygen -t ed25519 -N ""` writes it (random
// check values). In secure memory: write it with WriteFileExclusive(..., 0600).
// kInvalidArgument if the seed is not 32 bytes.
Result<crypto::SecretBytes> FormatOpenSshPrivateKey(const crypto::SecretBytes& seed,
                                                    std::string_view comment);

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_SSH_PRIVATE_KEY_H_
