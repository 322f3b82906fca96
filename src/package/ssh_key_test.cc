// Tests for package/ssh_key.h against the key lines ssh-keygen writes.
#include "package/ssh_key.h"

#include <gtest/gtest.h>

#include <string>

#include "base/test_util.h"
#include "package/ssh_private_key.h"

namespace custos::package {
namespace {

using ::custos::testing::Slurp;

std::string TestData(const std::string& name) {
  return Slurp(std::string(CUSTOS_TESTDATA_DIR) + "/sshsig/" + name);
}

TEST(SshKeyLine, ParsesSshKeygenPublicKeyAndWritesItBack) {
  const std::string line = TestData("ed25519_key.pub");
  Result<crypto::Ed25519PublicKey> key = ParseSshEd25519PublicKey(line);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(SshEd25519PublicKeyLine(*key, "custos-test") + "\n", line);
  Result<OpenSshPrivateKey> priv = ParseOpenSshPrivateKey(TestData("ed25519_key"));
  ASSERT_TRUE(priv.has_value());
  EXPECT_EQ(priv->signer.public_key(), *key);
}

TEST(SshKeyLine, RejectsOtherTypesAndDamage) {
  for (const std::string& line :
       {std::string("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY="),
        std::string("ssh-ed25519"), std::string("ssh-ed25519 AAAA"), std::string(""),
        std::string(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2CTGwHLm7Sn+klqltIyQih5nx2aNQHSi0ImRlSqDS")}) {
    Result<crypto::Ed25519PublicKey> key = ParseSshEd25519PublicKey(line);
    ASSERT_FALSE(key.has_value()) << line;
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace custos::package
