#include "vault/key_shares.h"

#include <gtest/gtest.h>

#include <string>

#include "base/test_util.h"
#include "vault/vault.h"

namespace custos::vault {
namespace {

using custos::testing::TempDir;

class KeySharesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KeySource k;
    k.key_file = dir_.File("k.key");
    auto v = Vault::Create(dir_.File("v.vault"), k, "wang.cust");
    ASSERT_TRUE(v) << v.error().ToString();
    v_ = std::move(*v);
  }

  // Splits K of N and returns the shares as they went through their text.
  std::vector<SourcedShare> Split(int k, int n) {
    std::vector<std::string> holders;
    for (int i = 0; i < n; ++i) holders.push_back("age1holder" + std::to_string(i));
    std::vector<SourcedShare> out;
    auto id = v_->SplitKek(k, holders, [&](const std::vector<KeyShare>& shares) -> Status {
      for (const KeyShare& s : shares) {
        crypto::SecretBytes text = FormatKeyShare(s);
        auto back = ParseKeyShare(text.RevealSecret(), "share-" + std::to_string(s.share.x));
        if (!back) return Fail(back.error());
        out.push_back({std::move(*back), "share-" + std::to_string(s.share.x)});
      }
      return Ok();
    });
    EXPECT_TRUE(id) << id.error().ToString();
    return out;
  }

  Result<std::unique_ptr<Vault>> OpenWith(std::span<const SourcedShare> shares) {
    ASSIGN_OR_RETURN(KeySource k, CombineKeyShares(shares));
    return Vault::Open(dir_.File("v.vault"), k);
  }

  TempDir dir_;
  std::unique_ptr<Vault> v_;
};

TEST_F(KeySharesTest, ThresholdSharesOpenTheVaultAndFewerDoNot) {
  auto shares = Split(2, 3);
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_TRUE(OpenWith({&shares[0], 2}));
  std::vector<SourcedShare> other = {shares[2], shares[0]};
  EXPECT_TRUE(OpenWith(other));
  auto one = OpenWith({&shares[1], 1});
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(one.error().message().find("1 more"), std::string::npos) << one.error().message();
}

TEST_F(KeySharesTest, MixedSplitsTwiceGivenAndDamagedSharesAreRefused) {
  auto a = Split(2, 3);
  auto b = Split(2, 3);
  std::vector<SourcedShare> mixed = {a[0], b[1]};
  EXPECT_EQ(CombineKeyShares(mixed).error().code(), ErrorCode::kInvalidArgument);
  std::vector<SourcedShare> twice = {a[0], a[0]};
  EXPECT_EQ(CombineKeyShares(twice).error().code(), ErrorCode::kInvalidArgument);
  // A share whose value was changed: combines, but the key does not open.
  std::vector<SourcedShare> damaged = {a[0], a[1]};
  damaged[1].share.share.y.MutableSecret()[0] ^= 1;
  auto opened = OpenWith(damaged);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), ErrorCode::kUnauthenticated);
  // Of another vault, against an expected id.
  EXPECT_EQ(CombineKeyShares({&a[0], 2}, std::string(32, '0')).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(KeySharesTest, RotationRetiresOldShares) {
  auto shares = Split(2, 2);
  KeySource next;
  next.key_file = dir_.File("k2.key");
  ASSERT_TRUE(v_->RotateKek(next));
  auto opened = OpenWith(shares);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(opened.error().message().find("key version 1"), std::string::npos);
}

TEST_F(KeySharesTest, TheSplitIsRecordedWithoutTheShares) {
  auto shares = Split(2, 3);
  bool seen = false;
  ASSERT_TRUE(v_->ForEachAuditEntry(0, [&](uint64_t, ByteSpan data) -> Status {
    const std::string_view text = AsChars(data);
    if (text.find("\"keys.split\"") != std::string_view::npos) {
      seen = true;
      EXPECT_NE(text.find("age1holder2"), std::string_view::npos);
      EXPECT_NE(text.find("\"threshold\":2"), std::string_view::npos);
    }
    return Ok();
  }));
  EXPECT_TRUE(seen);
  // No share value in the vault's files.
  std::string all;
  for (const std::string& f : v_->Files()) all += custos::testing::Slurp(f);
  for (const auto& s : shares) {
    const std::string hex = HexEncode(s.share.share.y.RevealSecret());
    EXPECT_EQ(all.find(hex), std::string::npos);
  }
  // A failed delivery records nothing.
  auto failed = v_->SplitKek(2, {"a", "b"}, [](const std::vector<KeyShare>&) -> Status {
    return Fail(Unavailable("disk full"));
  });
  ASSERT_FALSE(failed);
  int splits = 0;
  ASSERT_TRUE(v_->ForEachAuditEntry(0, [&](uint64_t, ByteSpan data) -> Status {
    splits += AsChars(data).find("\"keys.split\"") != std::string_view::npos;
    return Ok();
  }));
  EXPECT_EQ(splits, 1);
}

TEST(KeyShareText, MalformedSharesNameTheFileAndTheMember) {
  auto code = [](std::string text) {
    auto r = ParseKeyShare(AsBytes(text), "share-1.age");
    return r ? ErrorCode::kOk : r.error().code();
  };
  const std::string good = R"({"custos_key_share":1,"vault":")" + std::string(32, 'a') +
                           R"(","split":")" + std::string(32, 'b') +
                           R"(","key_version":1,"threshold":2,"shares":3,"index":1,"value":")" +
                           std::string(64, 'c') + "\"}\n";
  EXPECT_EQ(code(good), ErrorCode::kOk);
  EXPECT_EQ(code("age-encryption.org/v1\n-> X25519 ..."), ErrorCode::kInvalidArgument);
  std::string bad = good;
  bad.replace(bad.find("\"index\":1"), 9, "\"index\":4");  // past shares
  EXPECT_EQ(code(bad), ErrorCode::kInvalidArgument);
  bad = good;
  bad.replace(bad.find("\"threshold\":2"), 13, "\"threshold\":1");
  EXPECT_EQ(code(bad), ErrorCode::kInvalidArgument);
  bad = good;
  bad.replace(bad.find(std::string(64, 'c')), 64, std::string(63, 'c'));
  auto r = ParseKeyShare(AsBytes(bad), "share-1.age");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("share-1.age"), std::string::npos);
  EXPECT_NE(r.error().message().find("\"value\""), std::string::npos);
  bad = good;
  bad.replace(bad.find("\"custos_key_share\":1"), 20, "\"custos_key_share\":2");
  EXPECT_EQ(code(bad), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::vault
