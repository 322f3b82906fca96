#include "tlog/note.h"

#include <gtest/gtest.h>

#include "crypto/aead.h"

namespace custos::tlog {
namespace {

crypto::Signer TestSigner(uint8_t b) {
  auto seed = crypto::SecretBytes::CopyOf(Bytes(32, b));
  return *crypto::Signer::FromSeed(seed);
}

TEST(NoteTest, SignVerifyAndParseCheckpoint) {
  auto signer = TestSigner(7);
  std::string name = VaultKeyName("00112233445566778899aabbccddeeff");
  Checkpoint c{name, 42, {}};
  c.root[0] = 0xAB;
  std::string note = SignNote(FormatCheckpoint(c), name, signer);
  auto vk = ParseVerifierKey(NoteVerifierKey(name, signer.public_key()));
  ASSERT_TRUE(vk) << vk.error().ToString();
  auto body = VerifyNote(note, *vk);
  ASSERT_TRUE(body) << body.error().ToString();
  auto parsed = ParseCheckpoint(*body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->origin, name);
  EXPECT_EQ(parsed->size, 42u);
  EXPECT_EQ(parsed->root, c.root);
  // The signature line begins with an em dash and a space.
  EXPECT_NE(note.find("\n\n\xE2\x80\x94 " + name + " "), std::string::npos);
}

TEST(NoteTest, TamperedOrForeignNotesFail) {
  auto signer = TestSigner(7);
  auto other = TestSigner(8);
  std::string name = "custos.vault/x";
  std::string body = FormatCheckpoint({name, 3, {}});
  std::string note = SignNote(body, name, signer);
  auto vk = *ParseVerifierKey(NoteVerifierKey(name, signer.public_key()));
  std::string edited = note;
  edited[name.size() + 1] = '4';  // the size line
  EXPECT_EQ(VerifyNote(edited, vk).error().code(), ErrorCode::kDataLoss);
  auto foreign = SignNote(body, name, other);
  EXPECT_EQ(VerifyNote(foreign, vk).error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(VerifyNote(body, vk).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(VerifyNote(body + "\n- x y\n", vk).error().code(), ErrorCode::kInvalidArgument);
}

struct BadCheckpoint {
  const char* name;
  const char* text;
};
class BadCheckpointTest : public ::testing::TestWithParam<BadCheckpoint> {};
TEST_P(BadCheckpointTest, IsInvalidArgument) {
  auto r = ParseCheckpoint(GetParam().text);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}
INSTANTIATE_TEST_SUITE_P(
    Cases, BadCheckpointTest,
    ::testing::Values(
        BadCheckpoint{"Empty", ""}, BadCheckpoint{"NoRoot", "o\n1\n"},
        BadCheckpoint{"LeadingZero", "o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
        BadCheckpoint{"NegativeSize", "o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
        BadCheckpoint{"ShortRoot", "o\n1\nAAAA\n"},
        BadCheckpoint{"Overflow", "o\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
        BadCheckpoint{"NoFinalNewline", "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
        // Regression (fuzz/note_fuzzer.cc): bytes >= 0x80 are not base64
        // digits, though libsodium 1.0.18 decodes them as such.
        BadCheckpoint{"HighBytesInRoot",
                      "o\n42\nLX\xbb\xa8\xae\x8d\x9c\x92\x8c\xb9QBYnyp+6wy9chTD8GQPMTbAiWHF5IaSIE=\n"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(VerifierKeyTest, RejectsMismatchedHash) {
  auto signer = TestSigner(1);
  std::string vk = NoteVerifierKey("a.b/c", signer.public_key());
  std::string bad = vk;
  bad[6] = bad[6] == '0' ? '1' : '0';
  EXPECT_EQ(ParseVerifierKey(bad).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseVerifierKey("nonsense").error().code(), ErrorCode::kInvalidArgument);
  // Regression: a byte >= 0x80 in place of a base64 digit.
  std::string high = vk;
  high[high.size() - 3] = '\xc1';
  EXPECT_EQ(ParseVerifierKey(high).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::tlog
