// Tests for package/sshsig.h: a golden signature made by ssh-keygen
// (testdata/sshsig/), interoperability with the real ssh-keygen -Y (skipped
// when absent), and one test per way a signature can be wrong, each with its
// exact error code.
#include "package/sshsig.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "base/file.h"
#include "base/test_util.h"
#include "package/ssh_key.h"
#include "package/ssh_private_key.h"
#include "package/ssh_wire.h"
#include "package/test_support.h"

namespace custos::package {
namespace {

using ::custos::package::testing::HaveTool;
using ::custos::package::testing::RunShell;
using ::custos::package::testing::ShellQuote;
using ::custos::testing::Slurp;
using ::custos::testing::TempDir;
using ::custos::testing::WriteText;

std::string TestData(const std::string& name) {
  return Slurp(std::string(CUSTOS_TESTDATA_DIR) + "/sshsig/" + name);
}

crypto::Signer TestSigner() {
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(TestData("ed25519_key"));
  EXPECT_TRUE(key.has_value()) << key.error().ToString();
  return key->signer;
}

crypto::Ed25519PublicKey TestPublicKey() {
  Result<crypto::Ed25519PublicKey> key = ParseSshEd25519PublicKey(TestData("ed25519_key.pub"));
  EXPECT_TRUE(key.has_value()) << key.error().ToString();
  return *key;
}

crypto::Signer RandomSigner() { return *crypto::Signer::FromSeed(crypto::SecretBytes::Random(32)); }

ErrorCode VerifyCode(std::string_view sig, const crypto::Ed25519PublicKey& key, std::string_view ns,
                     std::string_view message) {
  Status s = SshSigVerify(sig, key, ns, AsBytes(message));
  return s ? ErrorCode::kOk : s.error().code();
}

TEST(SshSig, SignatureIsByteIdenticalToSshKeygen) {
  const std::string message = TestData("message.txt");
  Result<std::string> sig = SshSigSign(TestSigner(), "custos-test", AsBytes(message));
  ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
  EXPECT_EQ(*sig, TestData("message.txt.custos-test.sig"));
}

TEST(SshSig, VerifiesSshKeygenSignaturesSha512AndSha256) {
  const std::string message = TestData("message.txt");
  for (const char* file : {"message.txt.custos-test.sig", "message.txt.sha256.sig"}) {
    SCOPED_TRACE(file);
    Status s = SshSigVerify(TestData(file), TestPublicKey(), "custos-test", AsBytes(message));
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
  }
  Result<SshSignature> parsed = ParseSshSignature(TestData("message.txt.sha256.sig"));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->hash_algorithm, "sha256");
  EXPECT_EQ(parsed->ns, "custos-test");
  EXPECT_EQ(parsed->public_key, TestPublicKey());
}

TEST(SshSig, ArmorIsWrappedAt70Columns) {
  Result<std::string> sig = SshSigSign(RandomSigner(), "custos-package", AsBytes("m"));
  ASSERT_TRUE(sig.has_value());
  ASSERT_TRUE(sig->starts_with("-----BEGIN SSH SIGNATURE-----\n"));
  ASSERT_TRUE(sig->ends_with("\n-----END SSH SIGNATURE-----\n"));
  size_t start = sig->find('\n') + 1;
  std::vector<size_t> lengths;
  while (sig->compare(start, 5, "-----") != 0) {
    const size_t nl = sig->find('\n', start);
    lengths.push_back(nl - start);
    start = nl + 1;
  }
  ASSERT_EQ(lengths.size(), 4u);  // 184-byte blob: 248 base64 characters
  EXPECT_EQ(lengths[0], 70u);
  EXPECT_EQ(lengths[1], 70u);
  EXPECT_EQ(lengths[2], 70u);
  EXPECT_EQ(lengths[3], 248u - 210u);
}

TEST(SshSig, WrongNamespaceIsDataLossNamingBoth) {
  const std::string message = TestData("message.txt");
  Status s = SshSigVerify(TestData("message.txt.custos-test.sig"), TestPublicKey(),
                          "custos-receipt", AsBytes(message));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(s.error().message().find("'custos-test'"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("'custos-receipt'"), std::string::npos) << s.error().message();
}

TEST(SshSig, WrongKeyIsUnauthenticated) {
  const std::string message = TestData("message.txt");
  Status s = SshSigVerify(TestData("message.txt.custos-test.sig"), RandomSigner().public_key(),
                          "custos-test", AsBytes(message));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(s.error().message().find("SHA256:"), std::string::npos) << s.error().message();
}

TEST(SshSig, TamperedMessageIsDataLoss) {
  std::string message = TestData("message.txt");
  message[3] ^= 1;
  EXPECT_EQ(
      VerifyCode(TestData("message.txt.custos-test.sig"), TestPublicKey(), "custos-test", message),
      ErrorCode::kDataLoss);
  EXPECT_EQ(VerifyCode(TestData("message.txt.custos-test.sig"), TestPublicKey(), "custos-test",
                       TestData("message.txt") + "\n"),
            ErrorCode::kDataLoss);
}

// The fields of an SSHSIG blob, to build well- and ill-formed signatures.
struct Blob {
  std::string magic = "SSHSIG";
  uint32_t version = 1;
  Bytes public_key;
  std::string ns = "custos-test";
  std::string reserved;
  std::string hash = "sha512";
  std::string sig_type = "ssh-ed25519";
  Bytes signature;
  Bytes trailing;

  static Blob Of(const std::string& armored) {
    const Bytes b = *SshDearmor(armored, "SSH SIGNATURE", "test");
    SshWireReader r(b);
    ByteSpan magic, pk, ns, reserved, hash, sig_blob, type, sig;
    uint32_t version = 0;
    EXPECT_TRUE(r.ReadBytes(6, magic) && r.ReadU32(version) && r.ReadString(pk) &&
                r.ReadString(ns) && r.ReadString(reserved) && r.ReadString(hash) &&
                r.ReadString(sig_blob));
    SshWireReader s(sig_blob);
    EXPECT_TRUE(s.ReadString(type) && s.ReadString(sig));
    Blob out;
    out.public_key.assign(pk.begin(), pk.end());
    out.ns = std::string(AsChars(ns));
    out.reserved = std::string(AsChars(reserved));
    out.hash = std::string(AsChars(hash));
    out.signature.assign(sig.begin(), sig.end());
    return out;
  }

  std::string Armor() const {
    Bytes b(magic.begin(), magic.end());
    AppendU32BE(b, version);
    AppendSshString(b, public_key);
    AppendSshString(b, ns);
    AppendSshString(b, reserved);
    AppendSshString(b, hash);
    Bytes sig_blob;
    AppendSshString(sig_blob, sig_type);
    AppendSshString(sig_blob, signature);
    AppendSshString(b, sig_blob);
    b.insert(b.end(), trailing.begin(), trailing.end());
    return SshArmor("SSH SIGNATURE", b);
  }
};

TEST(SshSig, ReassembledBlobStillVerifies) {
  // Guards the table below: an unmodified Blob round-trips.
  const std::string sig = Blob::Of(TestData("message.txt.custos-test.sig")).Armor();
  EXPECT_EQ(sig, TestData("message.txt.custos-test.sig"));
}

struct BadSigCase {
  std::string name;
  std::function<std::string(const std::string& good)> make;
  ErrorCode code;
};

class SshSigBad : public ::testing::TestWithParam<BadSigCase> {};
TEST_P(SshSigBad, FailsWithExactCode) {
  const std::string sig = GetParam().make(TestData("message.txt.custos-test.sig"));
  Status s = SshSigVerify(sig, TestPublicKey(), "custos-test", AsBytes(TestData("message.txt")));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), GetParam().code) << s.error().ToString();
}

std::string Edit(const std::string& good, const std::function<void(Blob&)>& edit) {
  Blob b = Blob::Of(good);
  edit(b);
  return b.Armor();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SshSigBad,
    ::testing::Values(
        BadSigCase{"flipped_signature_byte",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.signature[10] ^= 1; }); },
                   ErrorCode::kDataLoss},
        BadSigCase{"flipped_last_signature_byte",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.signature[63] ^= 0x80; }); },
                   ErrorCode::kDataLoss},
        BadSigCase{"reserved_changed",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.reserved = "x"; }); },
                   ErrorCode::kDataLoss},
        BadSigCase{"hash_relabelled_sha256",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.hash = "sha256"; }); },
                   ErrorCode::kDataLoss},
        BadSigCase{"namespace_changed",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.ns = "custos-tesT"; }); },
                   ErrorCode::kDataLoss},
        BadSigCase{"hash_md5",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.hash = "md5"; }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"empty_namespace",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.ns.clear(); }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"version_2",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.version = 2; }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"bad_magic",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.magic = "SSHSIH"; }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"trailing_bytes",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.trailing = {0}; }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"signature_type_rsa",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.sig_type = "rsa-sha2-512"; }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"short_signature",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.signature.pop_back(); }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"public_key_truncated",
                   [](const std::string& g) { return Edit(g, [](Blob& b) { b.public_key.pop_back(); }); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"ecdsa_signature",
                   [](const std::string&) { return TestData("message.txt.ecdsa.sig"); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"empty", [](const std::string&) { return std::string(); }, ErrorCode::kInvalidArgument},
        BadSigCase{"no_begin_line", [](const std::string& g) { return g.substr(g.find('\n') + 1); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"no_end_line",
                   [](const std::string& g) { return g.substr(0, g.find("-----END")); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"leading_space", [](const std::string& g) { return " " + g; }, ErrorCode::kInvalidArgument},
        BadSigCase{"trailing_garbage", [](const std::string& g) { return g + "x"; }, ErrorCode::kInvalidArgument},
        BadSigCase{"two_trailing_newlines", [](const std::string& g) { return g + "\n"; },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"crlf", [](const std::string& g) { return Replace(g, "\n", "\r\n"); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"empty_line", [](const std::string& g) { return Replace(g, "-----\n", "-----\n\n"); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"line_too_long",
                   [](const std::string& g) {
                     std::string s = g;
                     const size_t first = s.find('\n') + 1 + 70;
                     s.erase(first, 1);  // joins lines 1 and 2: 140 columns
                     return s;
                   },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"base64_garbage", [](const std::string& g) { return Replace(g, "U1NIU0lH", "U1NI*0lH"); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"base64_not_canonical",
                   [](const std::string& g) { return Replace(g, "zXCw==", "zXCx=="); },
                   ErrorCode::kInvalidArgument},
        BadSigCase{"base64_missing_padding", [](const std::string& g) { return Replace(g, "zXCw==", "zXCw"); },
                   ErrorCode::kInvalidArgument}),
    [](const ::testing::TestParamInfo<BadSigCase>& p) { return p.param.name; });

TEST(SshSig, EmptyNamespaceCannotBeSigned) {
  Result<std::string> sig = SshSigSign(RandomSigner(), "", AsBytes("m"));
  ASSERT_FALSE(sig.has_value());
  EXPECT_EQ(sig.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SshSig, SignVerifyRoundTrip) {
  const crypto::Signer signer = RandomSigner();
  const std::string message(100000, 'm');
  Result<std::string> sig = SshSigSign(signer, "custos-package", AsBytes(message));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(VerifyCode(*sig, signer.public_key(), "custos-package", message), ErrorCode::kOk);
  EXPECT_EQ(VerifyCode(*sig, signer.public_key(), "custos-receipt", message), ErrorCode::kDataLoss);
  EXPECT_EQ(VerifyCode(*sig, signer.public_key(), "custos-package", message.substr(1)),
            ErrorCode::kDataLoss);
}

// ---- interoperability with the real ssh-keygen -----------------------------

class SshSigInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  }

  // ssh-keygen -Y verify with an allowed_signers file naming `key` as "id".
  int SshKeygenVerify(const crypto::Ed25519PublicKey& key, const std::string& ns,
                      const std::string& message, const std::string& sig) {
    WriteText(dir_.File("allowed_signers"), "id " + SshEd25519PublicKeyLine(key, "") + "\n");
    WriteText(dir_.File("msg"), message);
    WriteText(dir_.File("msg.sig"), sig);
    const auto r = RunShell(dir_.path(), "ssh-keygen -Y verify -f allowed_signers -I id -n " +
                                             ShellQuote(ns) + " -s msg.sig < msg");
    last_ = r.out + r.err;
    return r.exit_code;
  }

  TempDir dir_;
  std::string last_;
};

TEST_F(SshSigInterop, SshKeygenVerifiesCustosSignatures) {
  const crypto::Signer signer = RandomSigner();
  for (const std::string& message :
       {std::string(), std::string("receipt\n"), std::string(1 << 20, 'x')}) {
    Result<std::string> sig = SshSigSign(signer, "custos-receipt", AsBytes(message));
    ASSERT_TRUE(sig.has_value());
    EXPECT_EQ(SshKeygenVerify(signer.public_key(), "custos-receipt", message, *sig), 0) << last_;
    // And ssh-keygen refuses what Custos refuses.
    EXPECT_NE(SshKeygenVerify(signer.public_key(), "custos-package", message, *sig), 0);
    EXPECT_NE(SshKeygenVerify(signer.public_key(), "custos-receipt", message + "!", *sig), 0);
    EXPECT_NE(SshKeygenVerify(RandomSigner().public_key(), "custos-receipt", message, *sig), 0);
  }
}

TEST_F(SshSigInterop, CustosVerifiesSshKeygenSignatures) {
  auto r = RunShell(dir_.path(), "ssh-keygen -q -t ed25519 -N '' -C signer -f key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<crypto::Ed25519PublicKey> key = ParseSshEd25519PublicKey(Slurp(dir_.File("key.pub")));
  ASSERT_TRUE(key.has_value());
  const std::string message = "package manifest\n";
  WriteText(dir_.File("manifest"), message);
  r = RunShell(dir_.path(), "ssh-keygen -Y sign -f key -n custos-package manifest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sig = Slurp(dir_.File("manifest.sig"));
  EXPECT_EQ(VerifyCode(sig, *key, "custos-package", message), ErrorCode::kOk);
  EXPECT_EQ(VerifyCode(sig, *key, "custos-receipt", message), ErrorCode::kDataLoss);
  EXPECT_EQ(VerifyCode(sig, *key, "custos-package", "package manifest"), ErrorCode::kDataLoss);
  EXPECT_EQ(VerifyCode(sig, RandomSigner().public_key(), "custos-package", message),
            ErrorCode::kUnauthenticated);
}

TEST_F(SshSigInterop, SshKeygenKeysLoadAndSignForSshKeygen) {
  auto r = RunShell(dir_.path(), "ssh-keygen -q -t ed25519 -N '' -C 'recipient@example' -f idkey");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<OpenSshPrivateKey> key = ParseOpenSshPrivateKey(Slurp(dir_.File("idkey")));
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->comment, "recipient@example");
  Result<crypto::Ed25519PublicKey> pub = ParseSshEd25519PublicKey(Slurp(dir_.File("idkey.pub")));
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(key->signer.public_key(), *pub);

  const std::string message = "receipt for package 1234\n";
  Result<std::string> sig = SshSigSign(key->signer, "custos-receipt", AsBytes(message));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(SshKeygenVerify(*pub, "custos-receipt", message, *sig), 0) << last_;
  // Deterministic: ssh-keygen signing with the same key gives the same bytes.
  WriteText(dir_.File("receipt"), message);
  r = RunShell(dir_.path(), "ssh-keygen -Y sign -f idkey -n custos-receipt receipt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Slurp(dir_.File("receipt.sig")), *sig);
}

}  // namespace
}  // namespace custos::package
