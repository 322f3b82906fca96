#include "base/spill_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <random>

#include "base/test_util.h"

namespace custos {
namespace {

using Key = std::array<uint8_t, 12>;

Key RandomKey(std::mt19937_64& rng) {
  Key k;
  for (auto& b : k) b = static_cast<uint8_t>(rng());
  return k;
}

// Writes `entries` (ascending by key) as one run of 12-byte keys and 4-byte values.
void WriteRun(SpillRuns& runs, const std::map<Key, uint32_t>& entries) {
  ASSERT_TRUE(runs.BeginRun(entries.size()).has_value());
  for (const auto& [k, v] : entries) {
    std::array<uint8_t, 16> rec;
    std::copy(k.begin(), k.end(), rec.begin());
    std::memcpy(rec.data() + 12, &v, 4);
    ASSERT_TRUE(runs.Append(rec.data()).has_value());
  }
  ASSERT_TRUE(runs.EndRun().has_value());
}

std::optional<uint32_t> Lookup(const SpillRuns& runs, const Key& k) {
  uint32_t v = 0;
  auto found = runs.Find(k.data(), reinterpret_cast<uint8_t*>(&v));
  EXPECT_TRUE(found.has_value());
  if (!found.has_value() || !*found) return std::nullopt;
  return v;
}

TEST(SpillRuns, FindsEveryRecordOfARunAndNothingElse) {
  std::mt19937_64 rng(1);
  // Sizes around the 256-record index blocks.
  for (size_t n : {1u, 255u, 256u, 257u, 5000u}) {
    SpillRuns runs(12, 4);
    std::map<Key, uint32_t> entries;
    while (entries.size() < n) entries[RandomKey(rng)] = static_cast<uint32_t>(rng());
    WriteRun(runs, entries);
    EXPECT_EQ(runs.runs(), 1u);
    EXPECT_EQ(runs.records(), n);
    for (const auto& [k, v] : entries) EXPECT_EQ(Lookup(runs, k), v) << n;
    for (int i = 0; i < 2000; ++i) {
      const Key k = RandomKey(rng);
      if (!entries.count(k)) {
        EXPECT_EQ(Lookup(runs, k), std::nullopt);
      }
    }
    // Below the first key and above the last.
    Key low{}, high;
    high.fill(0xff);
    EXPECT_EQ(Lookup(runs, low), std::nullopt);
    EXPECT_EQ(Lookup(runs, high), std::nullopt);
  }
}

TEST(SpillRuns, TheNewestValueWinsAndEqualRunsMerge) {
  std::mt19937_64 rng(2);
  SpillRuns runs(12, 4);
  std::map<Key, uint32_t> all;
  std::vector<Key> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(RandomKey(rng));
  // Four runs of 1000 records: each rewrites some keys of the runs before.
  for (uint32_t round = 1; round <= 4; ++round) {
    std::map<Key, uint32_t> run;
    while (run.size() < 1000) {
      const Key& k = keys[rng() % keys.size()];
      run[k] = round * 100000 + static_cast<uint32_t>(run.size());
    }
    WriteRun(runs, run);
    for (const auto& [k, v] : run) all[k] = v;
    for (const auto& [k, v] : all) ASSERT_EQ(Lookup(runs, k), v) << "after run " << round;
  }
  // 1, 1 -> 2; 2, 1; 2, 1, 1 -> 2, 2 -> 4: one run, each key once.
  EXPECT_EQ(runs.runs(), 1u);
  EXPECT_EQ(runs.records(), all.size());
  EXPECT_GT(runs.memory_bytes(), 0u);
}

TEST(SpillRuns, KeysWithoutValuesFormASet) {
  std::mt19937_64 rng(3);
  SpillRuns runs(8, 0);
  std::vector<uint64_t> keys(10000);
  for (auto& k : keys) k = rng();
  auto less = [](uint64_t a, uint64_t b) { return std::memcmp(&a, &b, 8) < 0; };
  std::sort(keys.begin(), keys.end(), less);
  ASSERT_TRUE(runs.BeginRun(keys.size()).has_value());
  for (uint64_t k : keys) ASSERT_TRUE(runs.Append(reinterpret_cast<uint8_t*>(&k)).has_value());
  ASSERT_TRUE(runs.EndRun().has_value());
  for (uint64_t k : keys) {
    EXPECT_EQ(runs.Find(reinterpret_cast<uint8_t*>(&k), nullptr), true);
  }
  int false_positives = 0;
  for (int i = 0; i < 10000; ++i) {
    uint64_t k = rng();
    auto found = runs.Find(reinterpret_cast<uint8_t*>(&k), nullptr);
    ASSERT_TRUE(found.has_value());
    false_positives += *found;
  }
  EXPECT_EQ(false_positives, 0);  // a Bloom false positive is then read and rejected
}

// Past its filter budget a run gets fewer filter bits a record, then none;
// every lookup still answers right.
TEST(SpillRuns, FiltersShrinkToTheirBudgetAndLookupsStayRight) {
  std::mt19937_64 rng(4);
  // 2,000 records at 10 bits are 2,500 bytes: a budget of 4,000 bytes
  // affords 10 bits for the first run, 8 for two, 0 for 20.
  SpillRuns runs(12, 4, "", 4000);
  std::map<Key, uint32_t> all;
  auto add_run = [&](size_t n) {
    std::map<Key, uint32_t> run;
    while (run.size() < n) run[RandomKey(rng)] = static_cast<uint32_t>(rng());
    WriteRun(runs, run);
    all.insert(run.begin(), run.end());
  };
  add_run(2000);
  EXPECT_EQ(runs.newest_filter_bits(), 10u);
  add_run(2000);  // merged with the first: 4,000 records
  EXPECT_EQ(runs.runs(), 1u);
  EXPECT_EQ(runs.newest_filter_bits(), 8u);
  add_run(36000);
  EXPECT_EQ(runs.runs(), 1u);
  EXPECT_EQ(runs.newest_filter_bits(), 0u);
  EXPECT_LE(runs.memory_bytes(), 4000u + 40000 / 256 * 12 + 12);
  for (const auto& [k, v] : all) ASSERT_EQ(Lookup(runs, k), v);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(Lookup(runs, RandomKey(rng)), std::nullopt);
}

TEST(SpillRuns, AnEmptyRunIsNoRun) {
  SpillRuns runs(8, 4);
  ASSERT_TRUE(runs.BeginRun(0).has_value());
  ASSERT_TRUE(runs.EndRun().has_value());
  EXPECT_EQ(runs.runs(), 0u);
  uint64_t k = 7;
  uint32_t v;
  EXPECT_EQ(runs.Find(reinterpret_cast<uint8_t*>(&k), reinterpret_cast<uint8_t*>(&v)), false);
}

TEST(SpillRuns, AMissingDirectoryIsUnavailableAndNamed) {
  SpillRuns runs(8, 4, "/nonexistent-custos-dir");
  auto s = runs.BeginRun(10);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message().find("/nonexistent-custos-dir"), std::string::npos);
  EXPECT_NE(s.error().message().find("TMPDIR"), std::string::npos);
}

TEST(SpillRuns, AFullDiskIsUnavailable) {
  SpillRuns runs(8, 8);
  Status s = Ok();
  {
    custos::testing::FileSizeLimit limit(64 << 10);  // a full disk
    const uint64_t n = 1 << 20;                       // 16 MB of records
    s = runs.BeginRun(n);
    for (uint64_t i = 0; s.has_value() && i < n; ++i) {
      uint8_t rec[16] = {};
      for (int b = 0; b < 8; ++b) rec[b] = static_cast<uint8_t>(i >> (56 - 8 * b));
      s = runs.Append(rec);
    }
    if (s.has_value()) s = runs.EndRun();
  }
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message().find("cannot write a temporary file"), std::string::npos);
  EXPECT_EQ(runs.runs(), 0u);
}

// Two resident pages over six: every byte reads back as last written,
// pages never written read as zero, and pages went to disk.
TEST(SpillBytes, KeepsEveryByteThroughEviction) {
  constexpr uint64_t kPage = SpillBytes::kPageBytes;
  SpillBytes bytes(2);
  std::mt19937_64 rng(6);
  std::map<uint64_t, uint8_t> written;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t at = rng() % (5 * kPage);
    const auto v = static_cast<uint8_t>(rng() | 1);
    auto p = bytes.At(at);
    ASSERT_TRUE(p.has_value());
    **p = v;
    written[at] = v;
  }
  EXPECT_GT(bytes.pages_written(), 0u);
  for (const auto& [at, v] : written) {
    auto p = bytes.At(at);
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(**p, v) << at;
  }
  auto fresh = bytes.At(5 * kPage + 17);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(**fresh, 0);
  auto unwritten = bytes.At(kPage + 1);
  ASSERT_TRUE(unwritten.has_value());
  EXPECT_EQ(**unwritten, written.count(kPage + 1) ? written[kPage + 1] : 0);
}

TEST(SpillBytes, AnUnwritableDirectoryIsUnavailable) {
  SpillBytes bytes(1, "/nonexistent-custos-dir");
  ASSERT_TRUE(bytes.At(0).has_value());       // one page fits in memory
  auto p = bytes.At(SpillBytes::kPageBytes);  // the first page must go to disk
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace custos
