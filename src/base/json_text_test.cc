#include "base/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace custos {
namespace {

TEST(AppendJsonString, WritesWhatNlohmannWrites) {
  const std::string cases[] = {"",
                               "plain",
                               "张三明 13812345678",
                               "quote \" backslash \\ slash /",
                               "\b\f\n\r\t",
                               std::string("\x00\x01\x1f\x7f", 4),
                               "emoji \xF0\x9F\x98\x80 end",
                               "a\"b\\c\nd张e\x01"
                               "f",
                               "\"张\"",
                               "张三明\t"};
  for (const std::string& s : cases) {
    std::string out;
    ASSERT_TRUE(AppendJsonString(out, s)) << s;
    EXPECT_EQ(out, nlohmann::json(s).dump()) << s;
  }
}

TEST(AppendJsonString, RefusesInvalidUtf8) {
  for (const std::string bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    std::string out;
    EXPECT_FALSE(AppendJsonString(out, "ok " + bad));
  }
}

// Against nlohmann on random strings made of the pieces the fast paths
// treat differently (runs of plain ASCII, each escaped character, two-,
// three- and four-byte sequences, the three-byte edges E0 and ED, and
// invalid bytes), at every alignment: valid input is written the same,
// invalid input is refused where nlohmann refuses it.
TEST(AppendJsonString, MatchesNlohmannOnRandomStrings) {
  const std::vector<std::string> pieces = {
      "a", "0123456789", "plain ascii text", "\"", "\\", "\n", "\t", std::string(1, '\0'),
      "\x1f", "\x7f", " ", "/", "\xC3\xA9", "张", "\xE0\xA0\x80", "\xED\x9F\xBF",
      "\xEF\xBF\xBF", "\xF0\x9F\x98\x80", "\xE1\x80", "\xED\xA0\x80", "\xE0\x80\x80", "\x80",
      "\xC0\xAF", "\xFF", "\xE4\xB8"};
  std::mt19937 rng(7);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    std::string out = "prefix";
    const bool ok = AppendJsonString(out, s);
    std::string want;
    bool want_ok = true;
    try {
      want = nlohmann::json(s).dump();
    } catch (const nlohmann::json::type_error&) {
      want_ok = false;
    }
    ASSERT_EQ(ok, want_ok) << testing::PrintToString(s);
    if (ok) {
      ASSERT_EQ(out, "prefix" + want) << testing::PrintToString(s);
      ++valid;
    } else {
      ++invalid;
    }
  }
  EXPECT_GT(valid, 1000);
  EXPECT_GT(invalid, 1000);
}

}  // namespace
}  // namespace custos
