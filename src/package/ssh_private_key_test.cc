// Tests for package/ssh_private_key.h against keys written by ssh-keygen
// (testdata/sshsig/: test-only keys, used nowhere else) and one damaged
// variant per consistency check.
#include "package/ssh_private_key.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "base/test_util.h"
#include "package/ssh_key.h"
#include "package/ssh_wire.h"
#include "package/test_support.h"

namespace custos::package {
namespace {

using ::custos::testing::Slurp;

std::string TestData(const std::string& name) {
  return Slurp(std::string(CUSTOS_TESTDATA_DIR) + "/sshsig/" + name);
}

TEST(OpenSshPrivateKey, LoadsSshKeygenEd25519Key) {
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(TestData("ed25519_key"));
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->comment, "custos-test");
  Result<crypto::Ed25519PublicKey> pub = ParseSshEd25519PublicKey(TestData("ed25519_key.pub"));
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(key->signer.public_key(), *pub);
  const crypto::Ed25519Signature sig = key->signer.Sign(AsBytes("m"));
  EXPECT_TRUE(crypto::VerifyEd25519(*pub, AsBytes("m"), sig));
}

TEST(OpenSshPrivateKey, EncryptedKeyIsRefusedWithAdvice) {
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(TestData("ed25519_encrypted_key"));
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(key.error().message().starts_with("encrypted keys are not supported; "))
      << key.error().message();
  EXPECT_NE(key.error().message().find("ssh-keygen -p"), std::string::npos);
}

TEST(OpenSshPrivateKey, OtherKeyTypesAreRefused) {
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(TestData("ecdsa_key"));
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(key.error().message().find("ecdsa-sha2-nistp256"), std::string::npos)
      << key.error().message();
  EXPECT_NE(key.error().message().find("only ssh-ed25519"), std::string::npos);
}

// The decoded key blob and the offset of its private section's contents.
struct KeyBlob {
  Bytes blob;
  size_t section = 0;  // offset of checkint1
  KeyBlob() {
    blob = *SshDearmor(TestData("ed25519_key"), "OPENSSH PRIVATE KEY", "test");
    SshWireReader r(blob);
    ByteSpan skip;
    uint32_t count = 0;
    EXPECT_TRUE(r.ReadBytes(15, skip) && r.ReadString(skip) && r.ReadString(skip) &&
                r.ReadString(skip) && r.ReadU32(count) && r.ReadString(skip));
    section = blob.size() - r.rest().size() + 4;
  }
  std::string Armor() const { return SshArmor("OPENSSH PRIVATE KEY", blob); }
};

struct BadKeyCase {
  std::string name;
  std::function<void(KeyBlob&)> damage;
  ErrorCode code;
};

class OpenSshPrivateKeyBad : public ::testing::TestWithParam<BadKeyCase> {};
TEST_P(OpenSshPrivateKeyBad, FailsWithExactCode) {
  KeyBlob k;
  GetParam().damage(k);
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(k.Armor());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), GetParam().code) << key.error().ToString();
}

// Private section: checkint(4) checkint(4) string "ssh-ed25519"(4+11)
// string pk(4+32) string sk(4+64) string comment padding.
constexpr size_t kPk = 8 + 15 + 4;
constexpr size_t kSk = kPk + 32 + 4;

INSTANTIATE_TEST_SUITE_P(
    Cases, OpenSshPrivateKeyBad,
    ::testing::Values(
        BadKeyCase{"checkints_differ", [](KeyBlob& k) { k.blob[k.section] ^= 1; },
                   ErrorCode::kDataLoss},
        BadKeyCase{"private_pk_copy_differs", [](KeyBlob& k) { k.blob[k.section + kPk] ^= 1; },
                   ErrorCode::kDataLoss},
        BadKeyCase{"seed_differs", [](KeyBlob& k) { k.blob[k.section + kSk] ^= 1; },
                   ErrorCode::kDataLoss},
        BadKeyCase{"sk_pk_half_differs", [](KeyBlob& k) { k.blob[k.section + kSk + 40] ^= 1; },
                   ErrorCode::kDataLoss},
        BadKeyCase{"bad_padding", [](KeyBlob& k) { k.blob.back() ^= 0x10; },
                   ErrorCode::kInvalidArgument},
        BadKeyCase{"bad_magic", [](KeyBlob& k) { k.blob[0] = 'O'; }, ErrorCode::kInvalidArgument},
        BadKeyCase{"truncated", [](KeyBlob& k) { k.blob.resize(k.blob.size() - 9); },
                   ErrorCode::kInvalidArgument},
        BadKeyCase{"trailing_byte", [](KeyBlob& k) { k.blob.push_back(0); },
                   ErrorCode::kInvalidArgument},
        BadKeyCase{"two_keys", [](KeyBlob& k) { k.blob[15 + 8 + 8 + 4 + 3] = 2; },
                   ErrorCode::kInvalidArgument},
        BadKeyCase{"cipher_aes",
                   [](KeyBlob& k) {
                     Bytes b(k.blob.begin(), k.blob.begin() + 15);
                     AppendSshString(b, std::string_view("aes256-ctr"));
                     b.insert(b.end(), k.blob.begin() + 15 + 8, k.blob.end());
                     k.blob = b;
                   },
                   ErrorCode::kInvalidArgument}),
    [](const ::testing::TestParamInfo<BadKeyCase>& p) { return p.param.name; });

TEST(OpenSshPrivateKey, MalformedArmorIsInvalidArgument) {
  const std::string good = TestData("ed25519_key");
  for (const std::string& text :
       {std::string(), std::string("ssh-ed25519 AAAA"), good.substr(0, good.size() - 10),
        "x" + good, good + "more", TestData("ed25519_key.pub")}) {
    Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(text);
    ASSERT_FALSE(key.has_value());
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument) << key.error().ToString();
  }
}

TEST(OpenSshPrivateKey, ErrorsNeverContainKeyMaterial) {
  KeyBlob k;
  k.blob[k.section] ^= 1;
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(k.Armor());
  ASSERT_FALSE(key.has_value());
  const std::string armored = TestData("ed25519_key");
  const std::string some_base64 = armored.substr(armored.find('\n') + 1 + 80, 20);
  EXPECT_EQ(key.error().message().find(some_base64), std::string::npos);
}

}  // namespace
}  // namespace custos::package
