#include "access/credentials.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace custos::access {
namespace {

class Credentials : public testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

crypto::SecretBytes Rfc6238Secret() {
  const std::string s = "12345678901234567890";  // RFC 6238 appendix B, SHA-1
  return crypto::SecretBytes::CopyOf(AsBytes(s));
}

TEST_F(Credentials, TotpMatchesRfc6238) {
  // The RFC's 8-digit codes, last six digits.
  EXPECT_EQ(*TotpCode(Rfc6238Secret(), 59), "287082");
  EXPECT_EQ(*TotpCode(Rfc6238Secret(), 1111111109), "081804");
  EXPECT_EQ(*TotpCode(Rfc6238Secret(), 1234567890), "005924");
  EXPECT_EQ(*TotpCode(Rfc6238Secret(), 2000000000), "279037");
}

TEST_F(Credentials, TotpAcceptsOneStepEitherWayOnceAndRefusesReplay) {
  const auto secret = Rfc6238Secret();
  const int64_t t = 1234567890;
  const uint64_t step = t / kTotpStep;
  auto now = CheckTotp(secret, *TotpCode(secret, t), t, 0);
  ASSERT_TRUE(now);
  EXPECT_EQ(*now, step);
  EXPECT_TRUE(CheckTotp(secret, *TotpCode(secret, t - 30), t, 0));
  EXPECT_TRUE(CheckTotp(secret, *TotpCode(secret, t + 30), t, 0));
  auto old = CheckTotp(secret, *TotpCode(secret, t - 90), t, 0);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kUnauthenticated);
  auto replay = CheckTotp(secret, *TotpCode(secret, t), t, step);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.error().message().find("already used"), std::string::npos);
  for (const char* bad : {"", "12345", "1234567", "12a456"}) {
    auto r = CheckTotp(secret, bad, t, 0);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  }
}

// oathtool (Debian's oathtool, written apart from Custos) computes the same
// codes from the base32 secret an authenticator app is given.
TEST_F(Credentials, OathtoolComputesTheCodesFromTheBase32Secret) {
  const auto secret = NewTotpSecret();
  const std::string b32 = TotpSecretBase32(secret);
  ASSERT_EQ(b32.size(), 32u);
  const std::string cmd = "oathtool --totp -b -N @1700000000 " + b32 + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  ASSERT_NE(p, nullptr);
  char buf[32] = {};
  ASSERT_NE(std::fgets(buf, sizeof buf, p.get()), nullptr) << "oathtool is not installed";
  EXPECT_EQ(std::string(buf, 6), *TotpCode(secret, 1700000000));
  const std::string uri = TotpUri(secret, "li.officer", "ab12cd34");
  EXPECT_EQ(uri, "otpauth://totp/Custos:li.officer%40ab12cd34?secret=" + b32 +
                     "&issuer=Custos&algorithm=SHA1&digits=6&period=30");
}

TEST_F(Credentials, PasswordUnlocksOnlyWithItself) {
  auto made = NewPassword("correct horse battery", UserPasswordParams());
  ASSERT_TRUE(made);
  const auto& [record, keys] = *made;
  EXPECT_EQ(record.salt.size(), crypto::kArgon2SaltSize);
  EXPECT_EQ(record.verifier.size(), 32u);
  auto again = UnlockPassword(record, "correct horse battery");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->wrap_key == keys.wrap_key);
  auto wrong = UnlockPassword(record, "correct horse batterY");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(Credentials, SealedSecretsAreBoundToUserAndPurpose) {
  auto made = NewPassword("correct horse battery", UserPasswordParams());
  ASSERT_TRUE(made);
  const Unlocked& keys = made->second;
  const auto seed = NewApprovalSeed();
  const Bytes sealed = SealForUser(keys, "li", "approval-seed", seed);
  auto opened = OpenForUser(keys, "li", "approval-seed", sealed);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(*opened == seed);
  auto other_user = OpenForUser(keys, "wang", "approval-seed", sealed);
  ASSERT_FALSE(other_user);
  EXPECT_EQ(other_user.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(OpenForUser(keys, "li", "totp", sealed));
}

TEST_F(Credentials, WeakPasswordsAreRefusedWithoutEchoingThem) {
  for (const char* weak : {"shortpw", "aaaaaaaaaaaaaaaa", "abababababab"}) {
    auto st = CheckPasswordStrength(weak);
    ASSERT_FALSE(st) << weak;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(st.error().message().find(weak), std::string::npos);
  }
  EXPECT_TRUE(
      CheckPasswordStrength("分公司注销密码很安全啊"
                            "12"));
  EXPECT_TRUE(CheckPasswordStrength("correct horse battery"));
}

}  // namespace
}  // namespace custos::access
