// A user's credentials (docs/people.md): a password, a TOTP secret (RFC
// 6238, via liboath) and an Ed25519 approval key. One Argon2id run over the
// password gives a master key; from it, by HKDF-SHA256, a verifier (stored,
// so a guess costs an Argon2id run) and a wrap key that seals the TOTP
// secret and the approval key's seed. Nothing that would let anyone, the
// vault's key holder included, sign as the user or produce their codes is
// stored unsealed; only the user's password opens them.
//
// Thread safety: free functions over values.
#ifndef CUSTOS_ACCESS_CREDENTIALS_H_
#define CUSTOS_ACCESS_CREDENTIALS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/kdf.h"
#include "crypto/secret_bytes.h"
#include "crypto/signer.h"

namespace custos::access {

// What is stored of a password: the Argon2id parameters and salt, and the
// verifier derived from the master key.
struct PasswordRecord {
  Bytes salt;  // kArgon2SaltSize bytes
  crypto::Argon2Params params;
  Bytes verifier;  // 32 bytes
};

// A password a user may choose: at least 12 characters (bytes of UTF-8
// count per character), not all the same character. kInvalidArgument
// saying what is wrong, never echoing the password.
Status CheckPasswordStrength(std::string_view password);

// The key material a password unlocks.
struct Unlocked {
  crypto::SecretBytes wrap_key;  // seals the TOTP secret and the approval seed
};

// Derives a new record for `password` (a fresh salt), and its unlocked keys.
Result<std::pair<PasswordRecord, Unlocked>> NewPassword(std::string_view password,
                                                        const crypto::Argon2Params& params);
// kUnauthenticated if `password` is not the one of `record`.
Result<Unlocked> UnlockPassword(const PasswordRecord& record, std::string_view password);

// The Argon2id cost of users' passwords: libsodium's "interactive" limits
// (64 MiB, 2 passes), a fraction of a second per attempt.
crypto::Argon2Params UserPasswordParams();

// Seals `secret` under the wrap key, bound to the user and to `what`
// ("totp", "approval-seed"), and opens it again (kDataLoss if it does not
// authenticate).
Bytes SealForUser(const Unlocked& keys, std::string_view user, std::string_view what,
                  const crypto::SecretBytes& secret);
Result<crypto::SecretBytes> OpenForUser(const Unlocked& keys, std::string_view user,
                                        std::string_view what, ByteSpan sealed);

// ---- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) ----

inline constexpr size_t kTotpSecretSize = 20;
inline constexpr unsigned kTotpStep = 30;

crypto::SecretBytes NewTotpSecret();
// Base32 (RFC 4648, no padding), as authenticator apps take it.
std::string TotpSecretBase32(const crypto::SecretBytes& secret);
// otpauth://totp/Custos:<user>?secret=...&issuer=Custos&algorithm=SHA1&digits=6&period=30
std::string TotpUri(const crypto::SecretBytes& secret, std::string_view user,
                    std::string_view vault_label);
// The code at `unix_time` (for tests and the enrolment check).
Result<std::string> TotpCode(const crypto::SecretBytes& secret, int64_t unix_time);

// Checks `code` against the steps around `unix_time` (one step either way).
// Returns the step's counter, which the caller stores: a code whose counter
// is not above `last_counter` was already used (a replay) and is refused.
// kUnauthenticated for a wrong code or a replay (saying which).
Result<uint64_t> CheckTotp(const crypto::SecretBytes& secret, std::string_view code,
                           int64_t unix_time, uint64_t last_counter);

// ---- The approval key ----

// A new Ed25519 seed (32 bytes).
crypto::SecretBytes NewApprovalSeed();

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_CREDENTIALS_H_
