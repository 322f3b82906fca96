#include <gtest/gtest.h>
#include <iconv.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "base/sealed_file.h"
#include "ingest/encoding.h"
#include "ingest/reader.h"

namespace custos::ingest {
namespace {

const std::string kDir = std::string(CUSTOS_TESTDATA_DIR) + "/ingest/";

// A value that appears in the bad inputs below and must never appear in an
// error message.
constexpr char kSecret[] = "13800138000";

// Converts UTF-8 to `encoding` with iconv (test inputs in GBK and GB18030).
std::string Encode(const std::string& utf8, const char* encoding) {
  iconv_t cd = iconv_open(encoding, "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* op = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &op, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
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
    EXPECT_EQ(row.fields.size(), t.header.size());
    t.rows.push_back(row.fields);
    t.lines.push_back(row.line);
  }
  t.encoding = reader.encoding();
  EXPECT_EQ(reader.bytes_consumed(), reader.bytes_total());
  return t;
}

Result<Table> ReadCsv(const std::string& data, const ReadOptions& options = {}, size_t chunk = 0) {
  ASSIGN_OR_RETURN(auto reader, OpenCsvFromString(data, "t.csv", options, chunk));
  EXPECT_EQ(reader->format(), "csv");
  return Drain(*reader);
}

// Reads `data` whole and in tiny chunks, which must agree: every multibyte
// character, CRLF, quoted field and escaped quote gets cut somewhere.
Table ReadEverywhere(const std::string& data, const ReadOptions& options = {}) {
  auto whole = ReadCsv(data, options);
  EXPECT_TRUE(whole) << whole.error().ToString();
  if (!whole) return {};
  for (size_t chunk : {1, 2, 3, 4, 5, 7, 13, 64}) {
    auto cut = ReadCsv(data, options, chunk);
    EXPECT_TRUE(cut) << "chunk " << chunk << ": " << cut.error().ToString();
    if (cut) {
      EXPECT_EQ(*cut, *whole) << "chunk " << chunk;
    }
  }
  return *whole;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvReaderTest, ReadsUtf8WithQuotesAndNewlines) {
  const Table t = ReadEverywhere(
      "客户编号,姓名,备注\n"
      "C1,张伟,\"北京市朝阳区, 建国路88号\"\n"
      "C2,\"王\"\"芳\"\"\",\"第一行\n第二行\"\n"
      "C3,李娜,\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"客户编号", "姓名", "备注"}));
  EXPECT_EQ(t.rows, (Rows{{"C1", "张伟", "北京市朝阳区, 建国路88号"},
                          {"C2", "王\"芳\"", "第一行\n第二行"},
                          {"C3", "李娜", ""}}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{2, 3, 5}));
  EXPECT_EQ(t.encoding, "utf-8");
}

TEST(CsvReaderTest, BomAndCrlf) {
  const Table t = ReadEverywhere("\xEF\xBB\xBFid,姓名\r\n1,\"a\r\nb\"\r\n2,张三\r\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"id", "姓名"}));
  EXPECT_EQ(t.rows, (Rows{{"1", "a\r\nb"}, {"2", "张三"}}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(t.encoding, "utf-8");
}

TEST(CsvReaderTest, LoneCrLineEndings) {
  const Table t = ReadEverywhere("a,b\r1,2\r\r3,4");
  EXPECT_EQ(t.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{2, 4}));
}

TEST(CsvReaderTest, SkipsEmptyLinesAndReadsLastLineWithoutBreak) {
  const Table t = ReadEverywhere("\n\na,b\n\n1,2\r\n\r\n\n3,4");
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(t.lines, (std::vector<uint64_t>{5, 8}));
}

TEST(CsvReaderTest, RowOfEmptyFieldsIsARow) {
  const Table t = ReadEverywhere("a,b,c\n,,\n\"\",,\n");
  EXPECT_EQ(t.rows, (Rows{{"", "", ""}, {"", "", ""}}));
}

TEST(CsvReaderTest, TrimsHeaderAndNamesEmptyColumns) {
  const Table t = ReadEverywhere(" 姓名 ,\t,\xE3\x80\x80手机号\xE3\x80\x80,\"\"\n张三, x ,138,\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"姓名", "column_2", "手机号", "column_4"}));
  // Data is not trimmed.
  EXPECT_EQ(t.rows, (Rows{{"张三", " x ", "138", ""}}));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsKept) {
  const Table t = ReadEverywhere("a,b\n\"x\"y,\"\"\"\"\n");
  EXPECT_EQ(t.rows, (Rows{{"xy", "\""}}));
}

TEST(CsvReaderTest, HeaderOnly) {
  for (const char* data : {"a,b\n", "a,b", "a,b\r\n\r\n"}) {
    auto reader = OpenCsvFromString(data, "t.csv", {});
    ASSERT_TRUE(reader) << reader.error().ToString();
    EXPECT_EQ((*reader)->header(), (std::vector<std::string>{"a", "b"}));
    Row row;
    auto more = (*reader)->Next(row);
    ASSERT_TRUE(more);
    EXPECT_FALSE(*more);
    more = (*reader)->Next(row);  // and stays at the end
    ASSERT_TRUE(more);
    EXPECT_FALSE(*more);
  }
}

TEST(CsvReaderTest, DetectsDelimiter) {
  struct Case {
    std::string data;
    std::vector<std::string> header;
  };
  const std::vector<Case> cases = {
      {"a\tb\tc\n1\t2,5\t3\n", {"a", "b", "c"}},
      {"a;b;c\n1;\"x;y\";2,5\n4;5;6\n", {"a", "b", "c"}},
      // Commas inside quotes do not count.
      {"\"a,1\";\"b,2\"\n\"x,y,z\";2\n", {"a,1", "b,2"}},
      {"a,b\n1,2\n", {"a", "b"}},
      {"only\nx\n", {"only"}},
      // Inconsistent: the header decides.
      {"a;b;c\n1;2\n", {"a", "b", "c"}},
  };
  for (const Case& c : cases) {
    auto reader = OpenCsvFromString(c.data, "t.csv", {});
    ASSERT_TRUE(reader) << reader.error().ToString();
    EXPECT_EQ((*reader)->header(), c.header) << c.data;
  }
  ReadOptions forced;
  forced.delimiter = ';';
  auto reader = OpenCsvFromString("a,b;c\n", "t.csv", forced);
  ASSERT_TRUE(reader);
  EXPECT_EQ((*reader)->header(), (std::vector<std::string>{"a,b", "c"}));
}

TEST(CsvReaderTest, Gbk) {
  const std::string utf8 = "客户编号,姓名,地址\r\n1,张伟,\"北京市朝阳区,建国路\"\r\n2,王芳,€5\r\n";
  const Table t = ReadEverywhere(Encode(utf8, "GBK"));
  EXPECT_EQ(t.encoding, "gbk");
  EXPECT_EQ(t.header, (std::vector<std::string>{"客户编号", "姓名", "地址"}));
  EXPECT_EQ(t.rows, (Rows{{"1", "张伟", "北京市朝阳区,建国路"}, {"2", "王芳", "€5"}}));
}

TEST(CsvReaderTest, Gb18030OnlyCharacters) {
  // U+20000 (𠀀) has no GBK code; GB18030 writes it in four bytes.
  const std::string utf8 = "姓名,地址\n王\xF0\xA0\x80\x80,北京\n";
  const std::string gb = Encode(utf8, "GB18030");
  ASSERT_NE(gb.find("\x95\x32\x82\x36"), std::string::npos);
  const Table t = ReadEverywhere(gb);
  EXPECT_EQ(t.encoding, "gb18030");
  EXPECT_EQ(t.rows, (Rows{{"王\xF0\xA0\x80\x80", "北京"}}));
}

TEST(CsvReaderTest, GbkBecomesGb18030WhenItMeetsA4ByteCharacterLater) {
  std::string utf8 = "姓名,备注\n";
  for (int i = 0; i < 10000; ++i) utf8 += "张伟,正常客户\n";  // > the 64 KiB sample
  utf8 += "王\xF0\xA0\x80\x80,罕见字\n";
  auto reader = OpenCsvFromString(Encode(utf8, "GB18030"), "t.csv", {}, 4096);
  ASSERT_TRUE(reader);
  Row row;
  ASSERT_TRUE((*reader)->Next(row).value_or(false));
  EXPECT_EQ((*reader)->encoding(), "gbk");
  Result<bool> more = true;
  while ((more = (*reader)->Next(row)) && *more) {
  }
  ASSERT_TRUE(more) << more.error().ToString();
  EXPECT_EQ(row.number, 10001u);
  EXPECT_EQ(row.fields, (std::vector<std::string>{"王\xF0\xA0\x80\x80", "罕见字"}));
  EXPECT_EQ((*reader)->encoding(), "gb18030");
}

TEST(CsvReaderTest, DetectsEncodingAfterLongAsciiPrefix) {
  std::string utf8 = "id,name\n";
  for (int i = 0; i < 50000; ++i) utf8 += "12345,abc\n";  // ~500 KiB of ASCII
  utf8 += "9,张伟\n";
  for (const char* enc : {"UTF-8", "GBK"}) {
    auto t = ReadCsv(Encode(utf8, enc), {}, 4096);
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->encoding, enc == std::string("GBK") ? "gbk" : "utf-8");
    EXPECT_EQ(t->rows.back(), (std::vector<std::string>{"9", "张伟"}));
  }
}

TEST(CsvReaderTest, ForcedEncoding) {
  const std::string gbk = Encode("姓名\n张伟\n", "GBK");
  for (const char* name : {"gbk", "GBK", "cp936", "gb18030", "GB18030"}) {
    ReadOptions o;
    o.encoding = name;
    auto t = ReadCsv(gbk, o);
    ASSERT_TRUE(t) << name << ": " << t.error().ToString();
    EXPECT_EQ(t->rows, (Rows{{"张伟"}})) << name;
  }
  ReadOptions utf8;
  utf8.encoding = "UTF-8";
  auto t = ReadCsv("姓名\n张伟\n", utf8);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encoding, "utf-8");
}

// Every kind of bad input: exact code and exact message, with FILE:LINE:COL.
TEST(CsvReaderTest, Errors) {
  const std::string nul_late = "a,b\n" + std::string(9000, 'x') + ",1\n" +
                               std::string(
                                   "2,3\0"
                                   "4\n",
                                   6);
  struct Case {
    std::string name;
    std::string data;
    std::string encoding;
    size_t max_field_bytes;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unterminated quote", "a,手机号\n1,2\n3,\"13800138000\n4,5\n", "", 1 << 20,
       ErrorCode::kInvalidArgument,
       "t.csv:3:2: quoted field in column 2 (手机号) is not closed: no closing quote before the "
       "end of the file"},
      {"too few fields", "a,b,c\n1,2,3\n\n13800138000,5\n", "", 1 << 20,
       ErrorCode::kInvalidArgument,
       "t.csv:4:3: row has 2 fields, the header has 3 (column 3 (c) and after are missing)"},
      {"too many fields", "a,b\n1,2\n\"x\ny\",13800138000,3\n", "", 1 << 20,
       ErrorCode::kInvalidArgument, "t.csv:3:3: row has 3 fields, the header has 2"},
      {"one field", "a,b\n13800138000\n", "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv:2:2: row has 1 field, the header has 2 (column 2 (b) and after are missing)"},
      {"field too long", "a,手机号\n1,2\n3,13800138000\n", "", 10, ErrorCode::kInvalidArgument,
       "t.csv:3:2: field in column 2 (手机号) is longer than 10 bytes"},
      {"quoted field too long", "a,b\n1,\"1380\n0138000\"\n", "", 10, ErrorCode::kInvalidArgument,
       "t.csv:2:2: field in column 2 (b) is longer than 10 bytes"},
      {"NUL after 8 KiB", nul_late, "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv:3:2: NUL byte in column 2 (b): binary content, not a table"},
      {"NUL early", std::string("a,b\n1,13800138000\0\n", 19), "", 1 << 20,
       ErrorCode::kInvalidArgument, "t.csv: binary, not a table (NUL bytes in the first 8 KiB)"},
      {"control bytes", std::string(200, '\x01') + "a\n", "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: binary, not a table (control bytes in the first 8 KiB)"},
      {"zip", "PK\x03\x04\x14\x00", "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: binary, not a table (a ZIP archive such as an XLSX workbook)"},
      {"utf-16",
       "\xFF\xFE"
       "a\0,\0b\0",
       "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: UTF-16 text (Excel \"Unicode Text\") is not supported; save it as \"CSV UTF-8\""},
      {"empty", "", "", 1 << 20, ErrorCode::kInvalidArgument, "t.csv: empty file, no header"},
      {"blank lines only", "\r\n\n\r\n", "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: empty file, no header"},
      {"BOM only", "\xEF\xBB\xBF", "", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: empty file, no header"},
      {"invalid utf-8, forced", "a,b\n1,13800138000\xFF\n", "utf-8", 1 << 20,
       ErrorCode::kInvalidArgument,
       "t.csv:2:2: byte offset 17 is not valid utf-8 (requested encoding)"},
      {"neither utf-8 nor gbk", "a,b\n1,13800138000\xFF\xFF\n", "", 1 << 20,
       ErrorCode::kInvalidArgument, "t.csv:2:2: byte offset 17 is not valid UTF-8, GBK or GB18030"},
      {"utf-8 cut at end", "a\n13800138000\xE4\xB8", "utf-8", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv:2:1: byte offset 13 starts a character cut off by the end of input in utf-8 "
       "(requested encoding)"},
      {"gb18030-only under forced gbk", "a,b\n1,\x95\x32\x82\x36\n", "gbk", 1 << 20,
       ErrorCode::kInvalidArgument,
       "t.csv:2:2: byte offset 6 is not valid gbk (requested encoding)"},
      {"gbk cut at end", "a,b\n1,\xD6", "gbk", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv:2:2: byte offset 6 starts a character cut off by the end of input in gbk "
       "(requested encoding)"},
      {"undecodable header", "\xD6\xD0,b\n1,2\n", "utf-8", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv:1:1: byte offset 0 is not valid utf-8 (requested encoding)"},
      {"UTF-8 BOM under forced gbk",
       "\xEF\xBB\xBF"
       "a\n",
       "gbk", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: starts with a UTF-8 byte-order mark, but encoding gbk was requested"},
      {"unknown encoding", "a\n", "latin1", 1 << 20, ErrorCode::kInvalidArgument,
       "t.csv: unknown encoding \"latin1\"; expected utf-8, gbk or gb18030"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReadOptions o;
    o.encoding = c.encoding;
    o.max_field_bytes = c.max_field_bytes;
    for (size_t chunk : {0, 1, 3}) {
      SCOPED_TRACE(chunk);
      auto t = ReadCsv(c.data, o, chunk);
      ASSERT_FALSE(t);
      EXPECT_EQ(t.error().code(), c.code);
      EXPECT_EQ(t.error().message(), c.message);
      EXPECT_EQ(t.error().message().find(kSecret), std::string::npos);
    }
  }
}

TEST(CsvReaderTest, ErrorsAreSticky) {
  auto reader = OpenCsvFromString("a,b\n1,2\n3\n4,5\n", "t.csv", {});
  ASSERT_TRUE(reader);
  Row row;
  ASSERT_TRUE((*reader)->Next(row).value_or(false));
  auto first = (*reader)->Next(row);
  ASSERT_FALSE(first);
  auto again = (*reader)->Next(row);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), first.error().message());
}

TEST(CsvReaderTest, RejectsBadOptions) {
  ReadOptions o;
  o.delimiter = '"';
  auto r = OpenCsvFromString("a\n", "t.csv", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(CsvReaderTest, ReusesRowStrings) {
  std::string data = "a,b\n";
  for (int i = 0; i < 100; ++i) data += "some longer text value,x\n";
  auto reader = OpenCsvFromString(data, "t.csv", {});
  ASSERT_TRUE(reader);
  Row row;
  ASSERT_TRUE((*reader)->Next(row).value_or(false));
  const char* storage = row.fields[0].data();
  while ((*reader)->Next(row).value_or(false)) EXPECT_EQ(row.fields[0].data(), storage);
}

TEST(CsvReaderTest, Progress) {
  auto reader = OpenCsvFromString("a,b\n1,2\n", "t.csv", {});
  ASSERT_TRUE(reader);
  EXPECT_EQ((*reader)->bytes_total(), 8u);
  EXPECT_LE((*reader)->bytes_consumed(), 8u);
}

// The files under testdata/ingest, as Excel and CRM systems write them.
TEST(CsvReaderTest, TestdataFiles) {
  const std::vector<std::string> header = {"客户编号", "姓名", "手机号", "身份证号",
                                           "开户网点", "地址", "备注"};
  struct Case {
    std::string file;
    std::string encoding;
  };
  for (const Case& c : std::vector<Case>{{"customers_utf8.csv", "utf-8"},
                                         {"customers_excel_utf8.csv", "utf-8"},
                                         {"customers_gbk.csv", "gbk"},
                                         {"customers_gb18030.csv", "gb18030"},
                                         {"customers.tsv", "utf-8"},
                                         {"customers_semicolon.csv", "utf-8"},
                                         {"customers_semicolon_gbk.csv", "gbk"}}) {
    SCOPED_TRACE(c.file);
    auto reader = OpenTable(kDir + c.file, {});
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto t = Drain(**reader);
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->header, header);
    EXPECT_EQ(t->encoding, c.encoding);
    ASSERT_EQ(t->rows.size(), 4u);
    EXPECT_EQ(t->lines, (std::vector<uint64_t>{2, 3, 5, 6}));
    EXPECT_EQ(t->rows[1][5], "上海市浦东新区世纪大道100号, 2单元");
    EXPECT_EQ(t->rows[1][6], "已电话确认\n需上门核验");
    EXPECT_EQ(t->rows[2][6], "说\"明天再来\"");
    if (c.encoding == "gb18030") {
      EXPECT_EQ(t->rows[1][1], "王\xF0\xA0\x80\x80");
    } else {
      EXPECT_EQ(t->rows[1][1], "王芳");
    }
  }
}

TEST(CsvReaderTest, TestdataBadFiles) {
  struct Case {
    std::string file;
    ErrorCode code;
    std::string message;  // after the path
  };
  const std::vector<Case> cases = {
      {"bad_unterminated.csv", ErrorCode::kInvalidArgument,
       ":3:6: quoted field in column 6 (地址) is not closed: no closing quote before the end of "
       "the file"},
      {"bad_ragged.csv", ErrorCode::kInvalidArgument,
       ":4:7: row has 6 fields, the header has 7 (column 7 (备注) and after are missing)"},
      {"binary.csv", ErrorCode::kInvalidArgument,
       ": binary, not a table (NUL bytes in the first 8 KiB)"},
      {"empty.csv", ErrorCode::kInvalidArgument, ": empty file, no header"},
      {"no_such_file.csv", ErrorCode::kNotFound, ": no such file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = kDir + c.file;
    Result<Table> t = [&]() -> Result<Table> {
      ASSIGN_OR_RETURN(auto reader, OpenCsv(path, {}));
      return Drain(*reader);
    }();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code(), c.code);
    EXPECT_EQ(t.error().message(), path + c.message);
  }
  auto header_only = OpenCsv(kDir + "header_only.csv", {});
  ASSERT_TRUE(header_only);
  Row row;
  EXPECT_FALSE((*header_only)->Next(row).value());
}

TEST(OpenTableTest, ChoosesReader) {
  struct Case {
    std::string file;
    std::string format;
  };
  for (const Case& c : std::vector<Case>{{"customers_utf8.csv", "csv"},
                                         {"customers.tsv", "csv"},
                                         {"customers.jsonl", "jsonl"},
                                         {"crm_export.dat", "jsonl"},
                                         {"crm_export_csv.dat", "csv"}}) {
    auto reader = OpenTable(kDir + c.file, {});
    ASSERT_TRUE(reader) << reader.error().ToString();
    EXPECT_EQ((*reader)->format(), c.format) << c.file;
  }
}

TEST(OpenTableTest, XlsxThatIsNotAZip) {
  const std::string path = testing::TempDir() + "/ingest_test_book.xlsx";
  {
    std::ofstream f(path, std::ios::binary);
    f << "PK\x03\x04 not really a workbook";
  }
  auto r = OpenTable(path, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), path + ": not a ZIP archive, so not an .xlsx workbook");
  const std::string sniffed = testing::TempDir() + "/ingest_test_book.bin";
  std::rename(path.c_str(), sniffed.c_str());
  r = OpenTable(sniffed, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), sniffed + ": not a ZIP archive, so not an .xlsx workbook");
  std::remove(sniffed.c_str());

  r = OpenTable(kDir + "missing.xlsx", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = OpenTable(kDir + "missing.unknown", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST(OpenTableTest, DirectoryIsNotATable) {
  auto r = OpenTable(testing::TempDir(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(EncodingTest, ValidUtf8Prefix) {
  struct Case {
    std::string text;
    size_t prefix;
    bool truncated;
  };
  const std::vector<Case> cases = {
      {"abc", 3, false},
      {"中文", 6, false},
      {"a\xE4\xB8", 1, true},
      {"a\xF0\xA0\x80", 1, true},
      {"a\xC0\x80", 1, false},          // overlong NUL
      {"a\xED\xA0\x80", 1, false},      // surrogate
      {"a\xF4\x90\x80\x80", 1, false},  // above U+10FFFF
      {"a\x80", 1, false},
      {"0123456789abcdef\xFF", 16, false},
  };
  for (const Case& c : cases) {
    bool truncated = false;
    EXPECT_EQ(ValidUtf8Prefix(c.text, &truncated), c.prefix) << c.text;
    EXPECT_EQ(truncated, c.truncated) << c.text;
  }
}

}  // namespace
}  // namespace custos::ingest

namespace custos::ingest {
namespace {

// An upload the server holds sealed is read by its name, as the file, with
// the delimiter and encoding detected from its text and not the empty
// placeholder file on disk.
TEST(CsvReaderTest, ReadsASealedFileByItsName) {
  const std::string dir = ::testing::TempDir();
  const std::string name = dir + "/sealed-upload.tsv";
  std::ofstream(name).close();  // the placeholder the server leaves
  auto sealed = std::make_shared<SealedFile>(dir);
  std::string data = Encode("姓名\t手机号\n", "GBK");
  for (int i = 0; i < 40000; ++i) data += Encode("张三\t13800138000\n", "GBK");
  ASSERT_TRUE(sealed->Write(data).has_value());
  ASSERT_TRUE(sealed->Finish().has_value());
  NameSealedFile(name, sealed);
  auto reader = OpenTable(name, {});
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto t = Drain(**reader);
  UnnameSealedFile(name);
  std::remove(name.c_str());
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"姓名", "手机号"}));
  EXPECT_EQ(t->rows.size(), 40000u);
  EXPECT_EQ(t->rows.back(), (std::vector<std::string>{"张三", "13800138000"}));
  EXPECT_EQ(t->encoding, "gbk");
}

}  // namespace
}  // namespace custos::ingest
