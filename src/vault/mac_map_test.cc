#include "vault/mac_map.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

namespace custos::vault {
namespace {

// Find, for maps whose runs are readable.
std::optional<int64_t> Get(const MacMap& m, const MacMap::Key& k) {
  auto found = m.Find(k);
  EXPECT_TRUE(found.has_value());
  return found.value_or(std::nullopt);
}

bool Set(MacMap& m, const MacMap::Key& k, int64_t v) {
  auto changed = m.Assign(k, v);
  EXPECT_TRUE(changed.has_value());
  return changed.value_or(false);
}

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
    ASSERT_TRUE(m.Put(keys.back(), i).has_value());
  }
  EXPECT_EQ(m.size() + m.spilled(), static_cast<size_t>(n));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(Get(m, keys[i]), static_cast<int64_t>(i + 1));
}

TEST(MacMap, FindsWhatWasPutThroughGrowth) {
  std::mt19937_64 rng(42);
  MacMap m;
  PutAndFindAll(m, rng, 50000, std::nullopt);
  EXPECT_EQ(m.spilled(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(Get(m, RandomKey(rng)));
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
  EXPECT_FALSE(Get(m, k));
  Set(m, k, 3);
  Set(m, k, MacMap::kMaxValue);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(Get(m, k), MacMap::kMaxValue);
}

TEST(MacMap, AssignSaysWhetherAnythingChanged) {
  std::mt19937_64 rng(9);
  MacMap m;
  auto k = RandomKey(rng);
  EXPECT_TRUE(Set(m, k, 5));
  EXPECT_FALSE(Set(m, k, 5));
  EXPECT_TRUE(Set(m, k, 6));
  EXPECT_EQ(Get(m, k), 6);
  EXPECT_EQ(m.size(), 1u);
}

// Keys that share their first 8 bytes (the hash) and their shard still
// differ.
TEST(MacMap, CollidingHashesAreDistinguished) {
  MacMap m;
  MacMap::Key a{}, b{};
  b[10] = 1;
  Set(m, a, 1);
  Set(m, b, 2);
  EXPECT_EQ(Get(m, a), 1);
  EXPECT_EQ(Get(m, b), 2);
}

// A map of 64 slots a shard (at most 11,520 keys in memory) spills many
// times and still finds every key, absent keys stay absent, and memory
// never passes the limit.
TEST(MacMap, SpillsPastItsLimitAndFindsEverything) {
  std::mt19937_64 rng(11);
  MacMap m(64);
  PutAndFindAll(m, rng, 60000, std::nullopt);
  EXPECT_GT(m.spilled(), 0u);
  EXPECT_LE(m.size(), 256u * 64 * 7 / 10);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(Get(m, RandomKey(rng)));
}

TEST(MacMap, SpillsWhenOneShardIsFull) {
  std::mt19937_64 rng(12);
  MacMap m(64);
  PutAndFindAll(m, rng, 2000, uint8_t{0x01});
  EXPECT_GT(m.spilled(), 0u);
}

// Assign sees spilled entries: the same value is no change, a new one
// overrides the run's.
TEST(MacMap, AssignSeesSpilledEntries) {
  std::mt19937_64 rng(13);
  MacMap m(64);
  std::vector<MacMap::Key> keys;
  for (int i = 1; i <= 20000; ++i) {
    keys.push_back(RandomKey(rng));
    ASSERT_TRUE(Set(m, keys.back(), i));
  }
  ASSERT_GT(m.spilled(), 0u);
  EXPECT_FALSE(Set(m, keys[0], 1));
  EXPECT_TRUE(Set(m, keys[0], 77));
  EXPECT_EQ(Get(m, keys[0]), 77);
  // Push the override itself out to a run: still the newest.
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(Set(m, RandomKey(rng), 5));
  EXPECT_EQ(Get(m, keys[0]), 77);
  EXPECT_FALSE(Set(m, keys[0], 77));
  EXPECT_EQ(Get(m, keys[1]), 2);
}

TEST(MacMap, AnUnwritableSpillDirectoryIsUnavailable) {
  std::mt19937_64 rng(14);
  MacMap m(64, "/nonexistent-custos-dir");
  Status s = Ok();
  for (int i = 1; i <= 20000 && s; ++i) s = m.Put(RandomKey(rng), i);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace custos::vault
