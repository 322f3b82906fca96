#include "tlog/merkle.h"

#include <gtest/gtest.h>

namespace custos::tlog {
namespace {

std::vector<Hash> Leaves(int n) {
  std::vector<Hash> out;
  for (int i = 0; i < n; ++i) {
    std::string d = "leaf " + std::to_string(i);
    out.push_back(LeafHash(AsBytes(d)));
  }
  return out;
}

// Subtree hash over leaves [b, e) computed naively: what a store-backed
// range_hash must return.
std::function<Result<Hash>(uint64_t, uint64_t)> NaiveRange(const std::vector<Hash>& leaves) {
  return [&leaves](uint64_t b, uint64_t e) -> Result<Hash> {
    return RootFromLeafHashes(std::vector<Hash>(leaves.begin() + static_cast<long>(b),
                                                leaves.begin() + static_cast<long>(e)));
  };
}

TEST(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleTest, InclusionProofsRoundTripForEveryIndexAndSize) {
  auto leaves = Leaves(70);
  for (uint64_t size = 1; size <= leaves.size(); ++size) {
    std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<long>(size));
    Hash root = RootFromLeafHashes(prefix);
    for (uint64_t i = 0; i < size; ++i) {
      auto path = InclusionPath(i, size, NaiveRange(leaves));
      ASSERT_TRUE(path);
      ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], *path, root)) << i << "/" << size;
      // A wrong leaf, a wrong index (when it changes the path) and a damaged
      // path hash all fail.
      EXPECT_FALSE(VerifyInclusion(i, size, leaves[(i + 1) % leaves.size()], *path, root));
      if (!path->empty()) {
        auto bad = *path;
        bad[bad.size() / 2][0] ^= 1;
        auto st = VerifyInclusion(i, size, leaves[i], bad, root);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
        auto longer = *path;
        longer.push_back(root);
        EXPECT_FALSE(VerifyInclusion(i, size, leaves[i], longer, root));
        auto shorter = *path;
        shorter.pop_back();
        EXPECT_FALSE(VerifyInclusion(i, size, leaves[i], shorter, root));
      }
    }
  }
}

TEST(MerkleTest, ConsistencyProofsRoundTrip) {
  auto leaves = Leaves(40);
  auto root_at = [&](uint64_t n) {
    return RootFromLeafHashes(std::vector<Hash>(leaves.begin(), leaves.begin() + static_cast<long>(n)));
  };
  for (uint64_t n2 = 1; n2 <= leaves.size(); ++n2) {
    for (uint64_t n1 = 1; n1 <= n2; ++n1) {
      auto path = ConsistencyPath(n1, n2, NaiveRange(leaves));
      ASSERT_TRUE(path);
      ASSERT_TRUE(VerifyConsistency(n1, n2, root_at(n1), root_at(n2), *path)) << n1 << "->" << n2;
      if (n1 < n2) {
        Hash wrong = root_at(n1);
        wrong[5] ^= 0x40;
        auto st = VerifyConsistency(n1, n2, wrong, root_at(n2), *path);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
        EXPECT_FALSE(VerifyConsistency(n1, n2, root_at(n1), wrong, *path));
        auto bad = *path;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(VerifyConsistency(n1, n2, root_at(n1), root_at(n2), bad));
      }
    }
  }
}

TEST(MerkleTest, InvalidArguments) {
  auto leaves = Leaves(4);
  EXPECT_EQ(InclusionPath(4, 4, NaiveRange(leaves)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyPath(5, 4, NaiveRange(leaves)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(4, 4, leaves[0], {}, EmptyRoot()).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(5, 4, EmptyRoot(), EmptyRoot(), {}).error().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::tlog
