#include "base/bytes.h"

#include <gtest/gtest.h>

namespace custos {
namespace {

TEST(HexTest, RoundTripAndCase) {
  Bytes b = {0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "007fabff");
  EXPECT_EQ(*HexDecode("007FABff"), b);
  EXPECT_TRUE(HexDecode("")->empty());
}

struct BadHex {
  const char* input;
};
class HexErrorTest : public ::testing::TestWithParam<BadHex> {};
TEST_P(HexErrorTest, IsInvalidArgument) {
  auto r = HexDecode(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}
INSTANTIATE_TEST_SUITE_P(Inputs, HexErrorTest,
                         ::testing::Values(BadHex{"a"}, BadHex{"0g"}, BadHex{"zz"},
                                           BadHex{"00 1"}));

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : kVectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), enc);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(std::string(AsChars(*dec)), plain);
  }
}

TEST(Base64Test, StrictDecoding) {
  // "\xc1\xc1\xc1\xc1": libsodium 1.0.18 decoded it to 3 bytes (regression).
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v\n", "Zm 9v", "Zm9v!", "\xc1\xc1\xc1\xc1"}) {
    auto r = Base64Decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(BigEndianTest, AppendAndRead) {
  Bytes b;
  AppendU32BE(b, 0x01020304);
  AppendU64BE(b, 0x0a0b0c0d0e0f1011ull);
  ASSERT_EQ(b.size(), 12u);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(ReadU32BE(b.data()), 0x01020304u);
  EXPECT_EQ(ReadU64BE(b.data() + 4), 0x0a0b0c0d0e0f1011ull);
  Bytes lp;
  AppendLengthPrefixed(lp, AsBytes("ab"));
  EXPECT_EQ(lp, (Bytes{0, 0, 0, 2, 'a', 'b'}));
}

TEST(ErrorTest, NamesAndExitStatuses) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kDataLoss), "data_loss");
  EXPECT_EQ(ExitStatusFor(ErrorCode::kOk), 0);
  EXPECT_EQ(ExitStatusFor(ErrorCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitStatusFor(ErrorCode::kUnauthenticated), 8);
  Error e = DataLoss("bad tag").WithContext("person p, field f");
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(e.ToString(), "data_loss: person p, field f: bad tag");
}

}  // namespace
}  // namespace custos
