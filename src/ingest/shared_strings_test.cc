#include "ingest/shared_strings.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace custos::ingest {
namespace {

std::vector<std::string> SomeStrings(size_t n, std::mt19937_64& rng) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    // Empty strings, short ones, and now and then one longer than a block.
    const size_t len = i % 97 == 0 ? 0 : i % 1009 == 0 ? 5000 : 1 + rng() % 40;
    std::string s;
    for (size_t k = 0; k < len; ++k) s.push_back(static_cast<char>('a' + rng() % 26));
    out.push_back("#" + std::to_string(i) + s);
  }
  return out;
}

void ExpectAll(SharedStrings& table, const std::vector<std::string>& strings,
               std::mt19937_64& rng) {
  ASSERT_EQ(table.size(), strings.size());
  for (uint32_t i = 0; i < strings.size(); ++i) {
    auto got = table.Get(i);
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
    ASSERT_EQ(*got, strings[i]) << i;
  }
  for (int k = 0; k < 20000; ++k) {
    const auto i = static_cast<uint32_t>(rng() % strings.size());
    auto got = table.Get(i);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(*got, strings[i]) << i;
  }
}

TEST(SharedStrings, SmallTablesStayInMemory) {
  std::mt19937_64 rng(1);
  SharedStrings table;
  const auto strings = SomeStrings(5000, rng);
  for (const auto& s : strings) ASSERT_TRUE(table.Add(s).has_value());
  EXPECT_FALSE(table.spilled());
  ExpectAll(table, strings, rng);
}

// A 64 KiB budget and blocks of 16 strings over ~200 KiB of strings: most are
// sealed on disk, the cache holds a fraction, and every lookup, in order
// and at random, gives the string added.
TEST(SharedStrings, PastTheBudgetStringsAreSealedAndReadBack) {
  std::mt19937_64 rng(2);
  SharedStrings table(64 << 10, 16);
  const auto strings = SomeStrings(8000, rng);
  for (const auto& s : strings) ASSERT_TRUE(table.Add(s).has_value());
  EXPECT_TRUE(table.spilled());
  ExpectAll(table, strings, rng);
  // Strings added after the lookups still land right.
  std::vector<std::string> more = strings;
  for (int i = 0; i < 500; ++i) {
    more.push_back("late" + std::to_string(i));
    ASSERT_TRUE(table.Add(more.back()).has_value());
  }
  ExpectAll(table, more, rng);
}

TEST(SharedStrings, AnUnwritableSpillDirectoryIsUnavailable) {
  SharedStrings table(1 << 10, 16, "/nonexistent-custos-dir");
  Status s = Ok();
  for (int i = 0; i < 1000 && s; ++i) s = table.Add("value " + std::to_string(i));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace custos::ingest
