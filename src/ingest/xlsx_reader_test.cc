#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/test_util.h"
#include "ingest/reader.h"
#include "ingest/xlsx_test_util.h"

namespace custos::ingest {
namespace {

using testing::MakeZip;
using testing::Parts;
using testing::WorkbookParts;

const std::string kDir = std::string(CUSTOS_TESTDATA_DIR) + "/ingest/xlsx/";

// A value that appears in the bad inputs below and must never appear in an
// error message.
constexpr char kSecret[] = "13800138000";

using Rows = std::vector<std::vector<std::string>>;

struct Table {
  std::vector<std::string> header;
  Rows rows;
  std::vector<uint64_t> lines;
};

Result<Table> Drain(RowReader& reader) {
  EXPECT_EQ(reader.format(), "xlsx");
  EXPECT_EQ(reader.encoding(), "utf-8");
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
  EXPECT_EQ(reader.bytes_consumed(), reader.bytes_total());
  return t;
}

Result<Table> ReadFile(const std::string& name, const ReadOptions& options = {}) {
  ASSIGN_OR_RETURN(auto reader, OpenXlsx(kDir + name, options));
  return Drain(*reader);
}

Result<Table> ReadParts(const Parts& parts, const ReadOptions& options = {}, bool deflate = true) {
  ASSIGN_OR_RETURN(auto reader, OpenXlsxFromString(MakeZip(parts, deflate), "t.xlsx", options));
  return Drain(*reader);
}

// A sheet of inline strings: one <row> per row, cells A, B, ...
std::string InlineRow(int r, const std::vector<std::string>& values) {
  std::string xml = "<row r=\"" + std::to_string(r) + "\">";
  char col = 'A';
  for (const std::string& v : values) {
    if (!v.empty()) {
      xml += std::string("<c r=\"") + col + std::to_string(r) + "\" t=\"inlineStr\"><is><t>" + v +
             "</t></is></c>";
    }
    ++col;
  }
  return xml + "</row>";
}

// ---- Fixtures written by LibreOffice and by hand (testdata/ingest/xlsx/README.md) ----

TEST(XlsxReaderTest, SharedStringsAndChineseHeaders) {
  auto t = ReadFile("lo_shared_strings.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header,
            (std::vector<std::string>{"客户编号", "姓名", "身份证号", "手机号", "开户网点"}));
  EXPECT_EQ(t->rows,
            (Rows{
                {"C001", "张伟", "11010519491231002X", "13812345678", "北京市朝阳区建国路支行"},
                {"C002", "王芳", "440305198502140026", "13900139000", "深圳市南山区科技园支行"},
                {"C003", "欧阳娜娜", "310104197811300047", "137 0013 7000", "上海市徐汇区支行"},
            }));
  EXPECT_EQ(t->lines, (std::vector<uint64_t>{2, 3, 4}));
}

TEST(XlsxReaderTest, Dates1900) {
  auto t = ReadFile("lo_dates_1900.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"类型", "值"}));
  // LibreOffice counts days from 1899-12-30 even before March 1900, where
  // Excel's serials (which we follow) are one less: its "1900-01-15" is
  // serial 16, which Excel shows as 1900-01-16.
  EXPECT_EQ(t->rows, (Rows{{"iso", "1990-03-07"},
                           {"chinese", "1978-11-30"},
                           {"datetime", "2023-05-06 14:30:15"},
                           {"time", "13:45:00"},
                           {"early", "1900-01-16"},
                           {"number", "31477"}}));
}

TEST(XlsxReaderTest, Dates1904) {
  auto t = ReadFile("lo_dates_1904.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  // Same dates, serials 1462 days smaller; 1900-01-15 is negative in the
  // 1904 system, which no date format shows: kept as written.
  EXPECT_EQ(t->rows, (Rows{{"iso", "1990-03-07"},
                           {"chinese", "1978-11-30"},
                           {"datetime", "2023-05-06 14:30:15"},
                           {"time", "13:45:00"},
                           {"early", "-1446"},
                           {"number", "31477"}}));
}

TEST(XlsxReaderTest, IdNumberDestroyedByExcelStaysAsWritten) {
  auto t = ReadFile("lo_id_destroyed.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"姓名", "身份证号", "手机号"}));
  EXPECT_EQ(t->rows, (Rows{{"张伟", "1.10105199001011E+017", "13812345678"},
                           {"王芳", "11010519491231002X", "13900139000"}}));
}

TEST(XlsxReaderTest, SparseCellsAndRows) {
  auto t = ReadFile("lo_sparse.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  // The header is row 3, from column B; columns keep their sheet positions.
  EXPECT_EQ(t->header,
            (std::vector<std::string>{"column_1", "姓名", "手机号", "column_4", "备注"}));
  EXPECT_EQ(t->rows, (Rows{{"", "张伟", "", "", "有"},
                           {"", "", "13812345678", "", ""},
                           {"", "李娜", "13700137000", "无表头的列", "x"}}));
  // Rows 5-6 are missing, rows 9-11 hold formatted empty cells: skipped.
  EXPECT_EQ(t->lines, (std::vector<uint64_t>{4, 7, 8}));
}

TEST(XlsxReaderTest, TwoSheetsPickedByName) {
  auto first = ReadFile("lo_two_sheets.xlsx");
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->header, (std::vector<std::string>{"本文件由测试生成"}));
  EXPECT_EQ(first->rows, (Rows{{"第二张表是客户名单"}}));

  ReadOptions options;
  options.sheet = "客户名单";
  auto second = ReadFile("lo_two_sheets.xlsx", options);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->header, (std::vector<std::string>{"姓名", "手机号"}));
  EXPECT_EQ(second->rows, (Rows{{"张伟", "13812345678"}}));

  options.sheet = "客户";
  auto missing = OpenXlsx(kDir + "lo_two_sheets.xlsx", options);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), kDir +
                                           "lo_two_sheets.xlsx: no sheet named \"客户\"; "
                                           "the workbook has \"说明\", \"客户名单\"");
}

TEST(XlsxReaderTest, RichTextRunsAreJoined) {
  auto t = ReadFile("lo_rich_text.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->rows, (Rows{{"张伟", "普通重要客户"}, {"王芳", "plain"}}));
}

TEST(XlsxReaderTest, RaggedRowNamesSheetCellAndHeaderWidth) {
  auto reader = OpenXlsx(kDir + "lo_ragged.xlsx", {});
  ASSERT_TRUE(reader) << reader.error().ToString();
  Row row;
  auto more = (*reader)->Next(row);
  ASSERT_TRUE(more && *more);
  EXPECT_EQ(row.fields, (std::vector<std::string>{"张伟", "13812345678", "ok"}));
  more = (*reader)->Next(row);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(more.error().message(),
            kDir +
                "lo_ragged.xlsx: sheet \"Sheet1\", cell D3: a value beyond the header's 3 "
                "columns (A to C)");
  // Errors are sticky.
  auto again = (*reader)->Next(row);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), more.error().message());
}

TEST(XlsxReaderTest, PasswordProtectedWorkbook) {
  const std::string path = kDir + "lo_password_protected.xlsx";
  for (auto open : {OpenXlsx, OpenTable}) {
    auto reader = open(path, {});
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(reader.error().message(),
              path + ": password-protected workbooks are not supported; save without a password");
  }
  auto in_memory = OpenXlsxFromString(custos::testing::Slurp(path), "t.xlsx", {});
  ASSERT_FALSE(in_memory);
  EXPECT_EQ(in_memory.error().message(),
            "t.xlsx: password-protected workbooks are not supported; save without a password");
}

TEST(XlsxReaderTest, InlineStringsAndCellTypes) {
  auto t = ReadFile("inline_strings.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"姓名", "手机号", "身份证号", "备注", "标记"}));
  EXPECT_EQ(t->rows, (Rows{{"张伟", "13812345678", "1.10105E+17", "第一行\r\n第二行 ", "TRUE"},
                           {"张伟!", "#N/A", "<tag> & \"quote\"", "1990-03-07", "FALSE"}}));
}

TEST(XlsxReaderTest, PrefixedNamespacesAbsoluteTargetsChartSheet1904) {
  auto t = ReadFile("prefixed_1904.xlsx");
  ASSERT_TRUE(t) << t.error().ToString();
  // The first sheet is a chart sheet: the first worksheet is read.
  EXPECT_EQ(t->header, (std::vector<std::string>{"姓名", "出生日期", "登记时间"}));
  EXPECT_EQ(t->rows, (Rows{{"a_x0041_b", "1990-03-07", "1990-03-07 12:00:00"}}));

  ReadOptions options;
  options.sheet = "图表";
  auto chart = OpenXlsx(kDir + "prefixed_1904.xlsx", options);
  ASSERT_FALSE(chart);
  EXPECT_EQ(chart.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(chart.error().message(),
            kDir + "prefixed_1904.xlsx: sheet \"图表\" is a chart sheet, not a table");
  options.sheet = "data";  // sheet names are case-insensitive
  auto data = ReadFile("prefixed_1904.xlsx", options);
  ASSERT_TRUE(data) << data.error().ToString();
  EXPECT_EQ(data->rows.size(), 1u);
}

TEST(XlsxReaderTest, OpenTableReadsXlsxByExtensionAndByContent) {
  auto by_ext = OpenTable(kDir + "lo_shared_strings.xlsx", {});
  ASSERT_TRUE(by_ext) << by_ext.error().ToString();
  EXPECT_EQ((*by_ext)->format(), "xlsx");

  custos::testing::TempDir dir;
  const std::string copy = dir.File("export");
  std::filesystem::copy_file(kDir + "lo_shared_strings.xlsx", copy);
  auto sniffed = OpenTable(copy, {});
  ASSERT_TRUE(sniffed) << sniffed.error().ToString();
  EXPECT_EQ((*sniffed)->format(), "xlsx");
  EXPECT_EQ((*sniffed)->header().size(), 5u);

  ReadOptions options;
  options.sheet = "Sheet1";
  auto csv = OpenTable(std::string(CUSTOS_TESTDATA_DIR) + "/ingest/customers_utf8.csv", options);
  ASSERT_FALSE(csv);
  EXPECT_EQ(csv.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(csv.error().message(), std::string(CUSTOS_TESTDATA_DIR) +
                                       "/ingest/customers_utf8.csv: a sheet was named, but this "
                                       "is not an .xlsx workbook");

  auto none = OpenTable(dir.File("none.xlsx"), {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message(), dir.File("none.xlsx") + ": no such file");
}

// ---- Built in memory ----

TEST(XlsxReaderTest, StreamsRowsAcrossChunksWithTrickyMarkup) {
  // Enough rows to cross many 64 KiB reads, with markup that hides "</row>"
  // or '>' from a naive splitter: comments, CDATA, processing instructions,
  // attribute values.
  std::string data = InlineRow(1, {"id", "name", "note"});
  Rows expected;
  for (int r = 2; r <= 6000; ++r) {
    const std::string id = std::to_string(r);
    switch (r % 4) {
      case 0:
        data += "<row r=\"" + id + "\"><!-- </row><row> --><c r=\"A" + id +
                "\" t=\"inlineStr\"><is><t>" + id + "</t></is></c><c r=\"B" + id +
                "\" t=\"inlineStr\" x=\"a>b</row>\"><is><t><![CDATA[</row><row r=\"1\">]]></t></is>"
                "</c></row>\n";
        expected.push_back({id, "</row><row r=\"1\">", ""});
        break;
      case 1:
        data += "<?pi </row> ?><row r=\"" + id + "\"><c r=\"A" + id + "\"><v>" + id +
                "</v></c><c r=\"C" + id +
                "\" t=\"inlineStr\"><is><t>张伟&amp;&lt;&#x4E2D;</t></is></c></row>";
        expected.push_back({id, "", "张伟&<中"});
        break;
      default:
        data += InlineRow(r, {id, "王芳", "x"});
        expected.push_back({id, "王芳", "x"});
    }
  }
  for (bool deflate : {true, false}) {
    auto t = ReadParts(WorkbookParts(data), {}, deflate);
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->header, (std::vector<std::string>{"id", "name", "note"}));
    EXPECT_EQ(t->rows, expected);
  }
}

TEST(XlsxReaderTest, NumberFormatsThatAreDates) {
  struct Case {
    std::string num_fmt_id;
    std::string format_code;  // "" for a built-in
    std::string value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"14", "", "32939", "1990-03-07"},
      {"22", "", "32939.75", "1990-03-07 18:00:00"},
      {"21", "", "0.5", "12:00:00"},
      {"21", "", "1.25", "1900-01-01 06:00:00"},
      {"31", "", "32939", "1990-03-07"},  // zh-CN yyyy"年"m"月"d"日"
      {"32", "", "0.75", "18:00:00"},     // zh-CN h"时"mm"分"
      {"0", "", "32939", "32939"},        // General
      {"2", "", "32939", "32939"},        // 0.00
      {"49", "", "32939", "32939"},       // @ (text)
      {"164", "General", "32939", "32939"},
      {"164", "yyyy/mm/dd", "32939", "1990-03-07"},
      {"164", "mm:ss", "0.5", "12:00:00"},
      {"164", "[h]:mm:ss", "0.25", "06:00:00"},
      {"164", "[h]:mm:ss", "1.5", "36:00:00"},  // elapsed time passes 24 hours
      {"164", "[mm]:ss", "1.5", "36:00:00"},
      {"46", "", "2.25", "54:00:00"},
      {"164", "m/d", "32939", "1990-03-07"},
      {"164", "0.00_);[Red](0.00)", "32939", "32939"},
      {"164", "\"day \"0", "32939", "32939"},  // quoted text is not a code
      {"164", "#,##0\\d", "32939", "32939"},   // an escaped d neither
      {"164", "[$-804]General", "32939", "32939"},
      {"164", "0.00E+00", "32939", "32939"},
      {"164", "h:mm AM/PM", "0.75", "18:00:00"},
      // Serials no date format can show stay as written.
      {"14", "", "0", "0"},
      {"14", "", "60", "60"},  // 1900-02-29, which did not exist
      {"14", "", "59", "1900-02-28"},
      {"14", "", "61", "1900-03-01"},
      {"14", "", "1", "1900-01-01"},
      {"14", "", "2958465", "9999-12-31"},
      {"14", "", "2958466", "2958466"},
      {"14", "", "-1", "-1"},
      {"14", "", "abc", "abc"},
      {"14", "", "1e400", "1e400"},
      {"14", "", "32939.99999999", "1990-03-08"},  // rounds to the second
  };
  for (const Case& c : cases) {
    std::string code;
    for (char ch : c.format_code) code += ch == '"' ? std::string("&quot;") : std::string(1, ch);
    const std::string num_fmts = c.format_code.empty() ? ""
                                                       : "<numFmt numFmtId=\"" + c.num_fmt_id +
                                                             "\" formatCode=\"" + code + "\"/>";
    const std::string xfs = "<xf numFmtId=\"0\"/><xf numFmtId=\"" + c.num_fmt_id + "\"/>";
    const std::string data =
        InlineRow(1, {"v"}) + "<row r=\"2\"><c r=\"A2\" s=\"1\"><v>" + c.value + "</v></c></row>";
    auto t = ReadParts(WorkbookParts(data, "", xfs, num_fmts));
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->rows, (Rows{{c.expected}}))
        << c.num_fmt_id << " " << c.format_code << " " << c.value;
  }
  // The 1904 system: day 0 is 1904-01-01.
  const std::string data =
      InlineRow(1, {"v"}) + "<row r=\"2\"><c r=\"A2\" s=\"1\"><v>0</v></c></row>";
  for (const char* pr : {"<workbookPr date1904=\"1\"/>", "<workbookPr date1904=\"true\"/>"}) {
    auto t = ReadParts(WorkbookParts(data, "", "<xf/><xf numFmtId=\"14\"/>", "", pr));
    ASSERT_TRUE(t) << t.error().ToString();
    EXPECT_EQ(t->rows, (Rows{{"1904-01-01"}}));
  }
}

TEST(XlsxReaderTest, SharedStringsEscapesAndEmptyValues) {
  const std::string sst =
      "<si><t>_x0041__x4E2D_</t></si>"
      "<si><t>_xD83D__xDE00_</t></si>"
      "<si><t>_x0000_ _xD800_ _x12_ _X0041_ _x004G_</t></si>"
      "<si><r><t>a</t></r><r><t xml:space=\"preserve\"> b </t></r><rPh><t>ignored</t></rPh></si>"
      "<si><t xml:space=\"preserve\">  </t></si>"
      "<si/>";
  std::string data = InlineRow(1, {"a", "b", "c", "d", "e", "f"}) + "<row r=\"2\">";
  for (int i = 0; i < 6; ++i) data += "<c t=\"s\"><v>" + std::to_string(i) + "</v></c>";
  data += "</row>";
  auto t = ReadParts(WorkbookParts(data, sst));
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->rows, (Rows{{"A中", "\xF0\x9F\x98\x80", "_x0000_ _xD800_ _x12_ _X0041_ _x004G_",
                            "a b ", "  ", ""}}));
}

TEST(XlsxReaderTest, CellsWithoutReferencesAndRowsWithoutNumbers) {
  const std::string data =
      "<row><c t=\"inlineStr\"><is><t>a</t></is></c><c t=\"inlineStr\"><is><t>b</t></is></c></row>"
      "<row><c><v>1</v></c><c><v>2</v></c></row>"
      "<row r=\"5\"><c r=\"B5\"><v>3</v></c></row>"
      "<row><c r=\"A\"><v>4</v></c></row>";
  auto t = ReadParts(WorkbookParts(data));
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->rows, (Rows{{"1", "2"}, {"", "3"}, {"4", ""}}));
  EXPECT_EQ(t->lines, (std::vector<uint64_t>{2, 5, 6}));
}

TEST(XlsxReaderTest, HeaderOnlyAndEmptyHeaderCells) {
  auto t =
      ReadParts(WorkbookParts("<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t> 姓名 "
                              "</t></is></c><c r=\"D2\" t=\"inlineStr\"><is><t>x</t></is>"
                              "</c></row><row r=\"3\"><c r=\"A3\" s=\"0\"/></row>"));
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"column_1", "姓名", "column_3", "x"}));
  EXPECT_TRUE(t->rows.empty());
}

TEST(XlsxReaderTest, RowsAfterSheetDataAreIgnoredButTheRestIsChecked) {
  const Parts parts = {
      {"xl/workbook.xml", WorkbookParts("")[1].second},
      {"xl/_rels/workbook.xml.rels", WorkbookParts("")[0].second},
      {"xl/worksheets/sheet1.xml",
       "<worksheet><sheetPr><row/></sheetPr><sheetData>" + InlineRow(1, {"a"}) +
           InlineRow(2, {"1"}) + "</sheetData><mergeCells><row r=\"9\"/></mergeCells></worksheet>"},
  };
  auto t = ReadParts(parts);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->rows, (Rows{{"1"}}));
}

struct ErrorCase {
  std::string name;
  std::string data;  // the whole file
  ErrorCode code;
  std::string message;
  bool at_open = true;  // else at the first Next()
};

std::string SheetFile(const std::string& sheet_data, const std::string& sst = "") {
  return MakeZip(WorkbookParts(sheet_data, sst));
}

std::string WithSheetXml(const std::string& sheet_xml) {
  Parts parts = WorkbookParts("");
  parts.back().second = sheet_xml;
  return MakeZip(parts);
}

std::string Header() { return InlineRow(1, {"a", "b"}); }

// What precedes the rows on line 2 of a sheet from WorkbookParts.
std::string SheetPrefix() {
  return std::string("<worksheet xmlns=\"") + testing::kMainNs + "\"><sheetData>";
}

std::string Col(size_t zero_based) { return std::to_string(zero_based + 1); }

std::vector<ErrorCase> ErrorCases() {
  const std::string kSheet = "t.xlsx: xl/worksheets/sheet1.xml";
  const std::string secret = kSecret;
  const std::string truncated =
      "<worksheet><sheetData>" + Header() + "<row r=\"2\"><c><v>" + secret;
  const std::string after_root = "<worksheet><sheetData>" + Header() + "</sheetData></worksheet>";
  const std::string sst_prefix = std::string("<sst xmlns=\"") + testing::kMainNs + "\">";
  std::vector<ErrorCase> cases = {
      {"empty", "", ErrorCode::kInvalidArgument, "t.xlsx: empty file, not an .xlsx workbook"},
      {"not_zip", "姓名,手机号\n张伟," + secret + "\n", ErrorCode::kInvalidArgument,
       "t.xlsx: not a ZIP archive, so not an .xlsx workbook"},
      {"ole_xls", std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + std::string(600, '\0'),
       ErrorCode::kInvalidArgument,
       "t.xlsx: an OLE2 compound file, not an .xlsx: an Excel 97-2003 workbook (save it as "
       ".xlsx) or a password-protected workbook (not supported; save without a password)"},
      {"no_workbook", MakeZip({{"word/document.xml", "<document/>"}}), ErrorCode::kInvalidArgument,
       "t.xlsx: not an Excel workbook: the package has no xl/workbook.xml"},
      {"no_worksheet",
       MakeZip({{"xl/workbook.xml",
                 "<workbook><sheets><sheet name=\"S\" r:id=\"r1\"/></sheets>"
                 "</workbook>"}}),
       ErrorCode::kInvalidArgument, "t.xlsx: the workbook has no worksheet"},
      {"sheet_part_missing", MakeZip({WorkbookParts("")[0], WorkbookParts("")[1]}),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\" refers to xl/worksheets/sheet1.xml, which the package does not "
       "have"},
      {"workbook_malformed", MakeZip({{"xl/workbook.xml", "<workbook>\n<sheets></workbook>"}}),
       ErrorCode::kInvalidArgument,
       "t.xlsx: xl/workbook.xml:2:11: malformed XML (Start-end tags mismatch)"},
      {"workbook_wrong_root", MakeZip({{"xl/workbook.xml", "<document/>"}}),
       ErrorCode::kInvalidArgument,
       "t.xlsx: xl/workbook.xml: the root element is <document>, not "
       "<workbook>"},
      {"empty_sheet", SheetFile(""), ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\" is empty, no header"},
      {"sheet_without_values", SheetFile("<row r=\"1\"><c r=\"A1\" s=\"1\"/></row>"),
       ErrorCode::kInvalidArgument, "t.xlsx: sheet \"Sheet1\" is empty, no header"},
      {"sheet_wrong_root", WithSheetXml("<chartsheet/>"), ErrorCode::kInvalidArgument,
       kSheet + ":1:1: the root element is <chartsheet>, not <worksheet>"},
      {"end_tag_mismatch",
       SheetFile(Header() + "\n<row r=\"2\"><c r=\"A2\"><v>" + secret + "</x></c></row>"),
       ErrorCode::kInvalidArgument,
       kSheet + ":3:36: malformed XML: end tag </x> does not match <v>", false},
      {"pugixml_error",
       SheetFile(Header() + "\n<row r=\"2\"><c r=A2><v>" + secret + "</v></c></row>"),
       ErrorCode::kInvalidArgument,
       kSheet + ":3:17: malformed XML (Error parsing element attribute)", false},
      {"truncated", WithSheetXml(truncated), ErrorCode::kInvalidArgument,
       kSheet + ":1:" + Col(truncated.size()) + ": malformed XML: the part ends inside <v>", false},
      {"text_after_root", WithSheetXml(after_root + secret), ErrorCode::kInvalidArgument,
       kSheet + ":1:" + Col(after_root.size()) + ": malformed XML: text outside the root element",
       false},
      {"doctype",
       WithSheetXml("<!DOCTYPE x [<!ENTITY a \"b\">]><worksheet><sheetData/></worksheet>"),
       ErrorCode::kInvalidArgument,
       kSheet + ":1:1: malformed XML: a DOCTYPE or other declaration (Office XML has none)"},
      {"nul_byte", WithSheetXml(std::string("<worksheet>\n<sheetData>\0", 25)),
       ErrorCode::kInvalidArgument, kSheet + ":2:12: NUL byte: not XML text"},
      {"utf16", WithSheetXml("\xFF\xFE<\0w\0"), ErrorCode::kInvalidArgument,
       kSheet + ":1:1: UTF-16 XML is not supported"},
      {"unclosed_comment", WithSheetXml("<worksheet><!-- " + secret), ErrorCode::kInvalidArgument,
       kSheet + ":1:12: comment is not closed before the end of the part"},
      {"bad_shared_string",
       SheetFile(Header() + "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c></row>",
                 "<si><t>" + secret + "</t></si>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", cell A2: refers to a shared string that the workbook does not "
       "have (it has 1)",
       false},
      {"cells_out_of_order",
       SheetFile(Header() + "<row r=\"2\"><c r=\"B2\"><v>1</v></c><c r=\"A2\"><v>" + secret +
                 "</v></c></row>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", cell A2: comes after column B (cells out of order or repeated)",
       false},
      {"cell_repeated",
       SheetFile(Header() + "<row r=\"2\"><c r=\"A2\"><v>1</v></c><c r=\"A2\"><v>" + secret +
                 "</v></c></row>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", cell A2: comes after column A (cells out of order or repeated)",
       false},
      {"rows_out_of_order",
       SheetFile(InlineRow(2, {"a"}) + "<row r=\"1\"><c r=\"A1\"><v>" + secret + "</v></c></row>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", row 1: comes after row 2 (rows out of order or repeated)", false},
      {"row_number_too_big", SheetFile("<row r=\"1048577\"/>"), ErrorCode::kInvalidArgument,
       kSheet + ":2:" + Col(SheetPrefix().size()) + ": row number is not 1 to 1048576"},
      {"cell_of_another_row",
       SheetFile(Header() + "<row r=\"2\"><c r=\"A3\"><v>" + secret + "</v></c></row>"),
       ErrorCode::kInvalidArgument, "t.xlsx: sheet \"Sheet1\", row 2: holds cell A3 of another row",
       false},
      {"bad_cell_reference",
       SheetFile(Header() + "<row r=\"2\"><c r=\"XFE2\"><v>" + secret + "</v></c></row>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", row 2: a cell reference is not a column letter and a row "
       "number (A1 to XFD1048576)",
       false},
      {"invalid_utf8",
       SheetFile(Header() + "<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>" + secret +
                 "\xC3\x28</t></is></c></row>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: sheet \"Sheet1\", cell B2: the value is not valid UTF-8 text", false},
      {"invalid_utf8_shared", SheetFile(Header(), "<si><t>" + secret + "\xED\xA0\x80</t></si>"),
       ErrorCode::kInvalidArgument,
       "t.xlsx: xl/sharedStrings.xml:2:" + Col(sst_prefix.size()) +
           ": shared string 0 is not valid UTF-8 text"},
      {"char_ref_nul",
       SheetFile(Header() + "<row r=\"2\"><c r=\"B2\" t=\"str\"><v>" + secret +
                 "&#0;</v></c></row>"),
       ErrorCode::kInvalidArgument,
       kSheet + ":2:" + Col(SheetPrefix().size() + Header().size()) +
           ": malformed XML: a character reference to NUL",
       false},
      {"char_ref_nul_hex",
       SheetFile(Header() + "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>" + secret +
                 "&#x000;</t></is></c></row>"),
       ErrorCode::kInvalidArgument,
       kSheet + ":2:" + Col(SheetPrefix().size() + Header().size()) +
           ": malformed XML: a character reference to NUL",
       false},
  };
  // A sheet of 20 MiB of blank space deflates about 1000 times.
  const std::string bomb =
      "<worksheet><sheetData>" + std::string(20 << 20, ' ') + "</sheetData></worksheet>";
  cases.push_back({"zip_bomb", WithSheetXml(bomb), ErrorCode::kInvalidArgument,
                   " to " + std::to_string(bomb.size()) +
                       " bytes, more than 500 times: refusing a possible zip bomb"});
  return cases;
}

class XlsxErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(XlsxErrorTest, FailsWithExactMessage) {
  const ErrorCase& c = GetParam();
  auto reader = OpenXlsxFromString(c.data, "t.xlsx", {});
  Error error(ErrorCode::kOk, "");
  if (c.at_open) {
    ASSERT_FALSE(reader) << "opened";
    error = reader.error();
  } else {
    ASSERT_TRUE(reader) << reader.error().ToString();
    Row row;
    auto more = (*reader)->Next(row);
    ASSERT_FALSE(more) << "read a row";
    error = more.error();
  }
  EXPECT_EQ(error.code(), c.code);
  if (c.name == "zip_bomb") {
    EXPECT_TRUE(error.message().starts_with("t.xlsx: xl/worksheets/sheet1.xml: expands from "))
        << error.message();
    EXPECT_TRUE(error.message().ends_with(c.message)) << error.message();
  } else {
    EXPECT_EQ(error.message(), c.message);
  }
  EXPECT_EQ(error.message().find(kSecret), std::string::npos) << error.message();
}

INSTANTIATE_TEST_SUITE_P(All, XlsxErrorTest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& p) { return p.param.name; });

TEST(XlsxReaderTest, NamesInMessagesAreShortValidUtf8) {
  Parts parts = WorkbookParts(Header());
  for (auto& [name, content] : parts) {
    if (name != "xl/workbook.xml") continue;
    const size_t at = content.find("name=\"Sheet1\"");
    ASSERT_NE(at, std::string::npos);
    content.replace(at, 13, "name=\"客户\xFF" + std::string(100, 'x') + "\"");
  }
  ReadOptions options;
  options.sheet = std::string(70, 'y');
  auto reader = OpenXlsxFromString(MakeZip(parts), "t.xlsx", options);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reader.error().message(), "t.xlsx: no sheet named \"" + std::string(64, 'y') +
                                          "...\"; the workbook has \"客户...\"");
}

TEST(XlsxReaderTest, FieldLongerThanTheLimit) {
  ReadOptions options;
  options.max_field_bytes = 4;
  auto reader = OpenXlsxFromString(
      SheetFile(Header() + "<row r=\"2\"><c r=\"A2\"><v>1234</v></c><c r=\"B2\"><v>" +
                std::string(kSecret) + "</v></c></row>"),
      "t.xlsx", options);
  ASSERT_TRUE(reader) << reader.error().ToString();
  Row row;
  auto more = (*reader)->Next(row);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(more.error().message(),
            "t.xlsx: sheet \"Sheet1\", cell B2: value in column 2 (b) is longer than 4 bytes");

  options.max_field_bytes = 0;
  auto zero = OpenXlsxFromString(SheetFile(Header()), "t.xlsx", options);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message(), "t.xlsx: max_field_bytes must be positive");
}

TEST(XlsxReaderTest, RowLongerThanTheElementLimit) {
  // max_field_bytes 1 KiB: a row may be 1 MiB of XML (the floor).
  ReadOptions options;
  options.max_field_bytes = 1024;
  std::string big = "<row r=\"2\">";
  while (big.size() <= (1 << 20)) big += "<!-- padding -->";
  big += "</row>";
  auto reader = OpenXlsxFromString(SheetFile(Header() + big), "t.xlsx", options);
  ASSERT_TRUE(reader) << reader.error().ToString();
  Row row;
  auto more = (*reader)->Next(row);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().message(), "t.xlsx: xl/worksheets/sheet1.xml:2:" +
                                        std::to_string(SheetPrefix().size() + Header().size() + 1) +
                                        ": element is longer than 1048576 bytes");
}

TEST(XlsxReaderTest, CorruptEntryFailsAtTheEndEvenAfterTheRows) {
  // Stored, so the sheet's bytes are in the file as they are: change one
  // and the CRC no longer matches.
  std::string data = MakeZip(WorkbookParts(Header() + InlineRow(2, {"x", "y"})), false);
  const size_t at = data.find("<t>y</t>");
  ASSERT_NE(at, std::string::npos);
  data[at + 3] = 'z';
  auto reader = OpenXlsxFromString(data, "t.xlsx", {});
  ASSERT_TRUE(reader) << reader.error().ToString();
  // The row comes out; the CRC is known only at the end of the part, which
  // the next call reaches (an import rolls back on it).
  Row row;
  auto more = (*reader)->Next(row);
  ASSERT_TRUE(more && *more);
  EXPECT_EQ(row.fields, (std::vector<std::string>{"x", "z"}));
  more = (*reader)->Next(row);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(more.error().message(),
            "t.xlsx: xl/worksheets/sheet1.xml: corrupt ZIP entry: CRC error");
}

}  // namespace
}  // namespace custos::ingest
