#include "base/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace custos
