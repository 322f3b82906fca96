#include "access/credentials.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <cstdlib>
#include <mutex>
#include <set>

#include "crypto/aead.h"

namespace custos::access {
namespace {

constexpr std::string_view kVerifierInfo = "custos/user/password-verifier/v1";
constexpr std::string_view kWrapInfo = "custos/user/wrap-key/v1";

Status OathReady() {
  static std::once_flag once;
  static int rc = OATH_OK;
  std::call_once(once, [] { rc = oath_init(); });
  if (rc != OATH_OK) return Fail(Internal("liboath did not initialize"));
  return Ok();
}

struct Derived {
  Bytes verifier;
  Unlocked keys;
};

Result<Derived> Derive(std::string_view password, ByteSpan salt,
                       const crypto::Argon2Params& params) {
  ASSIGN_OR_RETURN(crypto::SecretBytes master, crypto::Argon2id(password, salt, params));
  ASSIGN_OR_RETURN(crypto::SecretBytes verifier,
                   crypto::HkdfSha256(master, {}, AsBytes(kVerifierInfo), 32));
  ASSIGN_OR_RETURN(crypto::SecretBytes wrap,
                   crypto::HkdfSha256(master, {}, AsBytes(kWrapInfo), 32));
  Derived d;
  d.verifier.assign(verifier.RevealSecret().begin(), verifier.RevealSecret().end());
  d.keys.wrap_key = std::move(wrap);
  return d;
}

std::string AssociatedData(std::string_view user, std::string_view what) {
  std::string ad = "custos/user/";
  ad += what;
  ad += "/v1\n";
  ad += user;
  return ad;
}

}  // namespace

Status CheckPasswordStrength(std::string_view password) {
  size_t characters = 0;
  for (char c : password) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  if (characters < 12) {
    return Fail(InvalidArgument("the password is too short: at least 12 characters"));
  }
  std::set<char> distinct(password.begin(), password.end());
  if (distinct.size() < 4) {
    return Fail(
        InvalidArgument("the password repeats too few characters: use at least 4 different ones"));
  }
  return Ok();
}

crypto::Argon2Params UserPasswordParams() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Result<std::pair<PasswordRecord, Unlocked>> NewPassword(std::string_view password,
                                                        const crypto::Argon2Params& params) {
  PasswordRecord record;
  record.salt.resize(crypto::kArgon2SaltSize);
  randombytes_buf(record.salt.data(), record.salt.size());
  record.params = params;
  ASSIGN_OR_RETURN(Derived d, Derive(password, record.salt, params));
  record.verifier = std::move(d.verifier);
  return std::make_pair(std::move(record), std::move(d.keys));
}

Result<Unlocked> UnlockPassword(const PasswordRecord& record, std::string_view password) {
  ASSIGN_OR_RETURN(Derived d, Derive(password, record.salt, record.params));
  if (d.verifier.size() != record.verifier.size() ||
      sodium_memcmp(d.verifier.data(), record.verifier.data(), d.verifier.size()) != 0) {
    return Fail(Unauthenticated("wrong password"));
  }
  return std::move(d.keys);
}

Bytes SealForUser(const Unlocked& keys, std::string_view user, std::string_view what,
                  const crypto::SecretBytes& secret) {
  return crypto::Seal(keys.wrap_key, secret.RevealSecret(), AsBytes(AssociatedData(user, what)));
}

Result<crypto::SecretBytes> OpenForUser(const Unlocked& keys, std::string_view user,
                                        std::string_view what, ByteSpan sealed) {
  auto opened = crypto::OpenSecret(keys.wrap_key, sealed, AsBytes(AssociatedData(user, what)));
  if (!opened) {
    return Fail(DataLoss("the sealed " + std::string(what) + " of user '" + std::string(user) +
                         "' does not authenticate"));
  }
  return std::move(*opened);
}

crypto::SecretBytes NewTotpSecret() { return crypto::SecretBytes::Random(kTotpSecretSize); }

std::string TotpSecretBase32(const crypto::SecretBytes& secret) {
  char* out = nullptr;
  size_t out_len = 0;
  const auto bytes = secret.RevealSecret();
  if (OathReady() && oath_base32_encode(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                                        &out, &out_len) == OATH_OK) {
    std::string s(out, out_len);
    sodium_memzero(out, out_len);
    std::free(out);
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
  }
  return {};
}

std::string TotpUri(const crypto::SecretBytes& secret, std::string_view user,
                    std::string_view vault_label) {
  // The label is "issuer:account"; both are plain ASCII here (user ids are
  // [a-z0-9._-], vault labels hex), so nothing needs percent-encoding.
  std::string uri = "otpauth://totp/Custos:";
  uri += user;
  if (!vault_label.empty()) {
    uri += "%40";
    uri += vault_label;
  }
  uri += "?secret=" + TotpSecretBase32(secret) +
         "&issuer=Custos&algorithm=SHA1&digits=6&period=" + std::to_string(kTotpStep);
  return uri;
}

Result<std::string> TotpCode(const crypto::SecretBytes& secret, int64_t unix_time) {
  RETURN_IF_ERROR(OathReady());
  char code[16] = {};
  const auto bytes = secret.RevealSecret();
  if (oath_totp_generate2(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                          static_cast<time_t>(unix_time), kTotpStep, 0, 6, 0, code) != OATH_OK) {
    return Fail(Internal("liboath could not compute a TOTP code"));
  }
  return std::string(code);
}

Result<uint64_t> CheckTotp(const crypto::SecretBytes& secret, std::string_view code,
                           int64_t unix_time, uint64_t last_counter) {
  RETURN_IF_ERROR(OathReady());
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string_view::npos) {
    return Fail(Unauthenticated("the one-time code must be 6 digits"));
  }
  const std::string otp(code);
  const auto bytes = secret.RevealSecret();
  int position = 0;
  uint64_t counter = 0;
  const int rc = oath_totp_validate4(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                                     static_cast<time_t>(unix_time), kTotpStep, 0, 1, &position,
                                     &counter, 0, otp.c_str());
  if (rc < 0) return Fail(Unauthenticated("wrong one-time code"));
  if (counter <= last_counter) {
    return Fail(Unauthenticated("this one-time code was already used: wait for the next one"));
  }
  return counter;
}

crypto::SecretBytes NewApprovalSeed() { return crypto::SecretBytes::Random(32); }

}  // namespace custos::access
