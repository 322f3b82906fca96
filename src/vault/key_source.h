// Where a vault's key-encryption key (KEK) comes from: a key file of 32
// random bytes, a passphrase (Argon2id) read from an environment variable,
// or the KEK itself rebuilt from custodians' shares (vault/key_shares.h).
#ifndef CUSTOS_VAULT_KEY_SOURCE_H_
#define CUSTOS_VAULT_KEY_SOURCE_H_

#include <cstdint>
#include <string>

#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::vault {

struct KeySource {
  enum class Kind { kKeyFile, kPassphrase, kShares };
  Kind kind = Kind::kKeyFile;
  std::string key_file;        // kKeyFile: path
  std::string passphrase_env;  // kPassphrase: name of the variable holding it
  crypto::SecretBytes kek;     // kShares: the KEK the shares rebuilt
  uint32_t kek_version = 0;    // kShares: the key version the shares are of
};

// Reads a key file: 32 raw bytes, or 64 hex digits with an optional newline.
// kPermissionDenied if group or others may read or write it; kNotFound if
// absent; kInvalidArgument if it has another size.
Result<crypto::SecretBytes> ReadKeyFile(const std::string& path);

// Creates a key file of 32 random bytes, mode 0600, failing with
// kAlreadyExists if the path exists. Returns the key.
Result<crypto::SecretBytes> CreateKeyFile(const std::string& path);

// The passphrase from the environment. kInvalidArgument if unset, empty, or
// shorter than 8 characters.
Result<crypto::SecretBytes> ReadPassphrase(const std::string& env_var);

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_KEY_SOURCE_H_
