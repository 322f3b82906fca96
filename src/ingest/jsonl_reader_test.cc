#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/reader.h"

namespace custos::ingest {
namespace {

using Rows = std::vector<std::vector<std::string>>;
using Names = std::vector<std::string>;

const std::string kDir = std::string(CUSTOS_TESTDATA_DIR) + "/ingest/";
constexpr char kSecret[] = "13800138000";

struct Table {
  Names header;
  Rows rows;
  std::vector<uint64_t> lines;
  std::string encoding;
  bool operator==(const Table&) const = default;
};

Result<Table> Drain(RowReader& reader) {
  Table t;
  t.header = reader.header();
  Row row;
  for (;;) {
    auto more = reader.Next(row);
    if (!more) return Fail(more.error());
    if (!*more) break;
    EXPECT_EQ(row.number, t.rows.size() + 1);
    t.rows.push_back(row.fields);
    t.lines.push_back(row.line);
  }
  t.encoding = reader.encoding();
  return t;
}

Result<Table> ReadJsonl(const std::string& data, const ReadOptions& options = {},
                        size_t chunk = 0) {
  ASSIGN_OR_RETURN(auto reader, OpenJsonlFromString(data, "t.jsonl", options, chunk));
  EXPECT_EQ(reader->format(), "jsonl");
  return Drain(*reader);
}

Table ReadEverywhere(const std::string& data) {
  auto whole = ReadJsonl(data);
  EXPECT_TRUE(whole) << whole.error().ToString();
  if (!whole) return {};
  for (size_t chunk : {1, 2, 3, 7, 64}) {
    auto cut = ReadJsonl(data, {}, chunk);
    EXPECT_TRUE(cut) << "chunk " << chunk << ": " << cut.error().ToString();
    if (cut) {
      EXPECT_EQ(*cut, *whole) << "chunk " << chunk;
    }
  }
  return *whole;
}

TEST(JsonlReaderTest, ValuesAsText) {
  const Table t = ReadEverywhere(
      R"({"id":"C1","姓名":"张伟","balance":1520.50,"n":13800138000,"neg":-7,"big":123456789012345678901234567890,"exp":1e5})"
      "\n"
      R"({"id":"C2","ok":true,"no":false,"nil":null,"esc":"a\"b\\c\n\u4e2d","obj":{"b":[1,2.50,{"c":null}],"a":"x\ty"},"arr":[],"e":{}})"
      "\n");
  EXPECT_EQ(t.header, (Names{"id", "姓名", "balance", "n", "neg", "big", "exp", "ok", "no", "nil",
                             "esc", "obj", "arr", "e"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0],
            (Names{"C1", "张伟", "1520.50", "13800138000", "-7", "123456789012345678901234567890",
                   "1e5", "", "", "", "", "", "", ""}));
  EXPECT_EQ(t.rows[1], (Names{"C2", "", "", "", "", "", "", "true", "false", "", "a\"b\\c\n中",
                              R"({"b":[1,2.50,{"c":null}],"a":"x\ty"})", "[]", "{}"}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(t.encoding, "utf-8");
}

TEST(JsonlReaderTest, SkipsBlankLinesHandlesCrlfAndNoFinalBreak) {
  const Table t = ReadEverywhere("\xEF\xBB\xBF\r\n{\"a\":1}\r\n  \r\n\n{\"b\":\"x\"}");
  EXPECT_EQ(t.header, (Names{"a", "b"}));
  EXPECT_EQ(t.rows, (Rows{{"1", ""}, {"", "x"}}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{2, 5}));
}

TEST(JsonlReaderTest, HeaderNamesTrimmed) {
  const Table t = ReadEverywhere("{\" 姓名 \":\"a\",\"\":\"b\"}\n");
  EXPECT_EQ(t.header, (Names{"姓名", "column_2"}));
  EXPECT_EQ(t.rows, (Rows{{"a", "b"}}));
}

TEST(JsonlReaderTest, HeaderIsTheKeysOfTheFirst1000Lines) {
  std::string data;
  for (int i = 0; i < 999; ++i) data += "{\"a\":1}\n";
  data += "{\"b\":2}\n";  // line 1000: still in the header
  data += "{\"a\":3,\"b\":4}\n";
  auto t = ReadJsonl(data);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (Names{"a", "b"}));
  EXPECT_EQ(t->rows.back(), (Names{"3", "4"}));

  data += "{\"a\":5,\"手机号\":\"13800138000\"}\n";  // line 1002: a new key
  auto reader = OpenJsonlFromString(data, "t.jsonl", {});
  ASSERT_TRUE(reader);
  auto bad = Drain(**reader);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(),
            "t.jsonl:1002: key \"手机号\" is not among the keys of the first 1000 lines");
}

TEST(JsonlReaderTest, Errors) {
  struct Case {
    std::string name;
    std::string data;
    size_t max_field_bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"trailing comma", "{\"a\":1}\n{\"a\":\"13800138000\",}\n", 1 << 20,
       "t.jsonl:2:20: malformed JSON"},
      {"cut-off line", "{\"a\":1}\n\n{\"a\":\"13800138000\"\n", 1 << 20,
       "t.jsonl:3:19: malformed JSON"},
      {"bad literal", "{\"a\":13800138000x}\n", 1 << 20, "t.jsonl:1:17: malformed JSON"},
      {"two objects", "{\"a\":1} {\"a\":2}\n", 1 << 20, "t.jsonl:1:9: malformed JSON"},
      {"array", "{\"a\":1}\n[\"13800138000\"]\n", 1 << 20, "t.jsonl:2:1: not a JSON object"},
      {"scalar", "{\"a\":1}\n13800138000\n", 1 << 20, "t.jsonl:2:1: not a JSON object"},
      {"duplicate key", "{\"a\":1}\n{\"a\":1,\"a\":\"13800138000\"}\n", 1 << 20,
       "t.jsonl:2: duplicate key \"a\""},
      {"too long", "{\"a\":\"1\"}\n{\"a\":\"13800138000\"}\n", 8,
       "t.jsonl:2: value of key \"a\" is longer than 8 bytes"},
      {"nested too long", "{\"a\":[\"13800138000\"]}\n", 8,
       "t.jsonl:1: value of key \"a\" is longer than 8 bytes"},
      {"line too long", "{\"a\":\"1\"}\n{\"a\":\"" + std::string(600, '1') + "\"}\n", 8,
       "t.jsonl:2: line is longer than 512 bytes"},
      {"NUL in value", "{\"a\":\"13800138000\\u0000\"}\n", 1 << 20,
       "t.jsonl:1: value of key \"a\" contains a NUL character"},
      {"empty", "", 1 << 20, "t.jsonl: empty file, no header"},
      {"blank", "\n \r\n", 1 << 20, "t.jsonl: empty file, no header"},
      {"no keys", "{}\n{}\n", 1 << 20, "t.jsonl: no keys in the first 2 lines, no header"},
      {"invalid utf-8", "{\"a\":\"x\"}\n{\"a\":\"13800138000\xFF\"}\n", 1 << 20,
       "t.jsonl:2: byte offset 27 is not valid UTF-8, GBK or GB18030"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReadOptions o;
    o.max_field_bytes = c.max_field_bytes;
    for (size_t chunk : {0, 1, 5}) {
      SCOPED_TRACE(chunk);
      auto t = ReadJsonl(c.data, o, chunk);
      ASSERT_FALSE(t);
      EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(t.error().message(), c.message);
      EXPECT_EQ(t.error().message().find(kSecret), std::string::npos);
    }
  }
}

TEST(JsonlReaderTest, RowsBeforeAnErrorInTheFirstLinesComeFirst) {
  auto reader = OpenJsonlFromString("{\"a\":1}\n{\"a\":2}\n{oops\n{\"a\":4}\n", "t.jsonl", {});
  ASSERT_TRUE(reader) << reader.error().ToString();
  Row row;
  EXPECT_TRUE((*reader)->Next(row).value());
  EXPECT_TRUE((*reader)->Next(row).value());
  EXPECT_EQ(row.fields, (Names{"2"}));
  auto bad = (*reader)->Next(row);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "t.jsonl:3:2: malformed JSON");
  auto again = (*reader)->Next(row);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), bad.error().message());
}

TEST(JsonlReaderTest, TestdataFile) {
  for (const char* file : {"customers.jsonl", "crm_export.dat"}) {
    auto reader = OpenTable(kDir + file, {});
    ASSERT_TRUE(reader) << reader.error().ToString();
    EXPECT_EQ((*reader)->format(), "jsonl");
    auto t = Drain(**reader);
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->header, (Names{"id", "name", "phone", "balance", "tags", "address", "closed"}));
    EXPECT_EQ(t->rows,
              (Rows{{"C0001", "张伟", "13800138000", "1520.50", R"(["vip","房贷"])", "", ""},
                    {"C0002", "王芳", "13912345678", "0", "",
                     R"({"city":"上海","street":"世纪大道100号"})", ""},
                    {"C0003", "李娜", "", "-12.3e2", "", "", "true"}}));
  }
}

}  // namespace
}  // namespace custos::ingest
