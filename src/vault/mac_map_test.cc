#include "vault/mac_map.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

namespace custos::vault {
namespace {

MacMap::Key RandomKey(std::mt19937_64& rng) {
  MacMap::Key k;
  for (auto& b : k) b = static_cast<uint8_t>(rng());
  return k;
}

// Puts n random keys (all in one shard if `shard` is given) mapped to 1..n
// and checks that every one is found.
void PutAndFindAll(MacMap& m, std::mt19937_64& rng, int64_t n, std::optional<uint8_t> shard) {
  std::vector<MacMap::Key> keys;
  for (int64_t i = 1; i <= n; ++i) {
    keys.push_back(RandomKey(rng));
    if (shard) keys.back()[11] = *shard;
    m.Put(keys.back(), i);
  }
  EXPECT_EQ(m.size(), static_cast<size_t>(n));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(m.Find(keys[i]), static_cast<int64_t>(i + 1));
}

TEST(MacMap, FindsWhatWasPutThroughGrowth) {
  std::mt19937_64 rng(42);
  MacMap m;
  PutAndFindAll(m, rng, 50000, std::nullopt);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(m.Find(RandomKey(rng)));
}

// Every key in one shard: that shard alone grows, and still finds all.
TEST(MacMap, OneShardGrowsAlone) {
  std::mt19937_64 rng(5);
  MacMap m;
  PutAndFindAll(m, rng, 20000, uint8_t{0x7e});
}

TEST(MacMap, PutOverwrites) {
  std::mt19937_64 rng(7);
  MacMap m;
  auto k = RandomKey(rng);
  EXPECT_FALSE(m.Find(k));
  m.Put(k, 3);
  m.Put(k, MacMap::kMaxValue);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.Find(k), MacMap::kMaxValue);
}

TEST(MacMap, AssignSaysWhetherAnythingChanged) {
  std::mt19937_64 rng(9);
  MacMap m;
  auto k = RandomKey(rng);
  EXPECT_TRUE(m.Assign(k, 5));
  EXPECT_FALSE(m.Assign(k, 5));
  EXPECT_TRUE(m.Assign(k, 6));
  EXPECT_EQ(m.Find(k), 6);
  EXPECT_EQ(m.size(), 1u);
}

// Keys that share their first 8 bytes (the hash) and their shard still
// differ.
TEST(MacMap, CollidingHashesAreDistinguished) {
  MacMap m;
  MacMap::Key a{}, b{};
  b[10] = 1;
  m.Put(a, 1);
  m.Put(b, 2);
  EXPECT_EQ(m.Find(a), 1);
  EXPECT_EQ(m.Find(b), 2);
}

}  // namespace
}  // namespace custos::vault
