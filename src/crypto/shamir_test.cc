#include "crypto/shamir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace custos::crypto {
namespace {

std::vector<uint8_t> Bytes32() {
  std::vector<uint8_t> v(32);
  std::iota(v.begin(), v.end(), uint8_t{7});
  return v;
}

std::vector<uint8_t> Reveal(const SecretBytes& s) {
  auto r = s.RevealSecret();
  return {r.begin(), r.end()};
}

TEST(Shamir, FieldMultiplicationMatchesTheAesField) {
  // FIPS 197, section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}.
  EXPECT_EQ(GfMul(0x57, 0x83), 0xc1);
  EXPECT_EQ(GfMul(0x57, 0x13), 0xfe);
  EXPECT_EQ(GfMul(0x01, 0xab), 0xab);
  EXPECT_EQ(GfMul(0x00, 0xab), 0x00);
}

TEST(Shamir, AnyThresholdOfSharesGivesTheSecretBack) {
  const auto secret = Bytes32();
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares);
  ASSERT_EQ(shares->size(), 5u);
  // Every 3-subset, and all 5.
  for (int a = 0; a < 5; ++a)
    for (int b = a + 1; b < 5; ++b)
      for (int c = b + 1; c < 5; ++c) {
        std::vector<SecretShare> some = {(*shares)[a], (*shares)[b], (*shares)[c]};
        auto back = CombineShares(some);
        ASSERT_TRUE(back);
        EXPECT_EQ(Reveal(*back), secret) << a << b << c;
      }
  auto all = CombineShares(*shares);
  ASSERT_TRUE(all);
  EXPECT_EQ(Reveal(*all), secret);
}

TEST(Shamir, FewerSharesThanTheThresholdDoNotGiveTheSecret) {
  const auto secret = Bytes32();
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares);
  std::vector<SecretShare> two = {(*shares)[0], (*shares)[3]};
  auto wrong = CombineShares(two);
  ASSERT_TRUE(wrong);
  EXPECT_NE(Reveal(*wrong), secret);
  // A share is not the secret, and two splits of one secret differ.
  EXPECT_NE(Reveal((*shares)[0].y), secret);
  auto again = SplitSecret(secret, 3, 5);
  EXPECT_NE(Reveal((*again)[0].y), Reveal((*shares)[0].y));
}

TEST(Shamir, BadParametersAndSharesAreInvalidArguments) {
  const auto secret = Bytes32();
  EXPECT_EQ(SplitSecret(secret, 1, 3).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret(secret, 4, 3).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret(secret, 2, 256).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret({}, 2, 3).error().code(), ErrorCode::kInvalidArgument);
  auto shares = SplitSecret(secret, 2, 3);
  ASSERT_TRUE(shares);
  std::vector<SecretShare> twice = {(*shares)[1], (*shares)[1]};
  EXPECT_EQ(CombineShares(twice).error().code(), ErrorCode::kInvalidArgument);
  std::vector<SecretShare> zero = {(*shares)[0], {0, SecretBytes(32)}};
  EXPECT_EQ(CombineShares(zero).error().code(), ErrorCode::kInvalidArgument);
  std::vector<SecretShare> sizes = {(*shares)[0], {9, SecretBytes(31)}};
  EXPECT_EQ(CombineShares(sizes).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CombineShares({}).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Shamir, TwoOfTwoWithAKnownPolynomial) {
  // secret 0x42, coefficient c1: share(x) = 0x42 ^ c1*x. Recover from the
  // values at x = 1 and x = 2 computed by hand with c1 = 0x05:
  // f(1) = 0x42^0x05 = 0x47, f(2) = 0x42^0x0a = 0x48.
  std::vector<SecretShare> s;
  s.push_back({1, SecretBytes::CopyOf(std::vector<uint8_t>{0x47})});
  s.push_back({2, SecretBytes::CopyOf(std::vector<uint8_t>{0x48})});
  auto back = CombineShares(s);
  ASSERT_TRUE(back);
  EXPECT_EQ(Reveal(*back), std::vector<uint8_t>{0x42});
}

}  // namespace
}  // namespace custos::crypto
