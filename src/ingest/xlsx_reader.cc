// XLSX reading: an Office Open XML workbook (a ZIP package of XML parts)
// read with libzip and pugixml.
//
//   book.xlsx (ZIP)
//   ├─ _rels/.rels                  -> the main part (xl/workbook.xml)
//   ├─ xl/workbook.xml              sheet names, r:id, the 1904 date flag
//   ├─ xl/_rels/workbook.xml.rels   r:id -> worksheets/sheetN.xml, styles, shared strings
//   ├─ xl/styles.xml                cellXfs: style index -> number format (dates)
//   ├─ xl/sharedStrings.xml         <sst><si>...</si>...</sst>, held in memory
//   └─ xl/worksheets/sheetN.xml     <worksheet>...<sheetData><row>...</row>...</sheetData>
//
// This file reads the workbook, its styles, its shared strings and one
// sheet. Beneath it: zip_archive.h (the ZIP and its limits), ole2.h (an
// encrypted workbook or an .xls where an .xlsx was expected),
// xlsx_package.h (parts parsed whole, relationships), xml_stream.h (parts
// streamed an element at a time) and xlsx_dates.h (date formats).
//
// Memory. pugixml builds whole documents, and a sheet of a million rows is
// hundreds of megabytes of XML, so the sheet (and the shared strings) are
// never loaded whole: ElementStream (xml_stream.h) decompresses a part
// 64 KiB at a time and cuts out one child element of <sheetData> (one
// <row>) or of <sst> (one <si>) at a time, which pugixml then parses on its
// own. Peak memory is therefore about: the shared strings (at most
// SharedStrings::kDefaultMemoryBudget in memory, the rest sealed in a
// temporary file with a cache of the same size) + one row's XML (at most max_element_bytes_:
// 64 * max_field_bytes, at least 1 MiB) and its pugixml document + the
// decompression buffers; not the size of the sheet. Measured: 26 MB peak
// RSS for 200,000 rows with 605,000 shared strings (73 MB of XML), 5.6 MB
// for 1,000,000 rows of inline strings (381 MB of XML).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/encoding.h"
#include "ingest/ole2.h"
#include "ingest/reader.h"
#include "ingest/shared_strings.h"
#include "ingest/sticky_end.h"
#include "ingest/xlsx_dates.h"
#include "ingest/xlsx_package.h"
#include "ingest/xlsx_text.h"
#include "ingest/xml_stream.h"
#include "ingest/zip_archive.h"

namespace custos::ingest {
namespace {

using internal::AppendText;
using internal::Attr;
using internal::BuiltinDateKind;
using internal::CheckNotOle;
using internal::Child;
using internal::CustomDateKind;
using internal::DateKind;
using internal::DecodeXEscapes;
using internal::ElementStream;
using internal::FormatSerial;
using internal::ForMessage;
using internal::IsLocal;
using internal::IsoDateCell;
using internal::KeepEnd;
using internal::kXmlParseFlags;
using internal::LoadRelationships;
using internal::LoadXmlPart;
using internal::Quoted;
using internal::Relationship;
using internal::TextOf;
using internal::TrimAscii;
using internal::ZipArchive;
using internal::ZipEntryReader;

// Streamed parts: a sheet and the shared-strings table, uncompressed.
constexpr uint64_t kMaxSheetPartBytes = uint64_t{8} << 30;
constexpr uint64_t kMaxSharedStringsPartBytes = uint64_t{2} << 30;
// Strings a workbook may have (shared string indexes are read as 32 bits).
constexpr uint64_t kMaxSharedStrings = uint64_t{0xffffffff} - 1;
// Excel's limits.
constexpr uint32_t kMaxSheetRows = 1048576;
constexpr uint32_t kMaxSheetColumns = 16384;

// A shared or inline string: its <t>, or the <t> of each rich-text run <r>.
// Phonetic guides (<rPh>, furigana/pinyin) are not part of the value.
std::string RichText(const pugi::xml_node& si) {
  std::string out;
  for (pugi::xml_node c : si.children()) {
    if (IsLocal(c, "t")) {
      AppendText(c, out);
    } else if (IsLocal(c, "r")) {
      for (pugi::xml_node t : c.children()) {
        if (IsLocal(t, "t")) AppendText(t, out);
      }
    }
  }
  return out;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  s = TrimAscii(s);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "A" for 0, "XFD" for 16383.
std::string ColumnLetters(uint32_t col) {
  std::string s;
  uint32_t n = col + 1;
  while (n > 0) {
    s.insert(s.begin(), static_cast<char>('A' + (n - 1) % 26));
    n = (n - 1) / 26;
  }
  return s;
}

// A sheet as the workbook lists it, with its relationship (null if the
// package has no part for it).
struct SheetEntry {
  std::string name;
  const Relationship* rel = nullptr;
};

// The sheets of <workbook> in tab order; the entries point into `rels`.
std::vector<SheetEntry> ListSheets(const pugi::xml_node& workbook,
                                   const std::map<std::string, Relationship>& rels) {
  std::vector<SheetEntry> sheets;
  for (pugi::xml_node s : Child(workbook, "sheets").children()) {
    if (!IsLocal(s, "sheet")) continue;
    SheetEntry entry{s.attribute("name").value(), nullptr};
    const auto it = rels.find(Attr(s, "id", /*prefixed=*/true).value());
    if (it != rels.end() && !it->second.external) entry.rel = &it->second;
    sheets.push_back(std::move(entry));
  }
  return sheets;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// The sheet named `wanted` (exactly, else ignoring ASCII case: Excel's
// sheet names are case-insensitive), or the first worksheet if `wanted` is
// empty. `file` names the workbook in messages. Errors: kNotFound (no such
// sheet; the message lists the sheets), kInvalidArgument (no worksheet, or
// the sheet named has no part or is not a worksheet).
Result<const SheetEntry*> ChooseSheet(const std::vector<SheetEntry>& sheets,
                                      const std::string& wanted, const std::string& file) {
  if (wanted.empty()) {
    for (const SheetEntry& s : sheets) {
      if (s.rel != nullptr && s.rel->type == "worksheet") return &s;
    }
    return Fail(InvalidArgument(file + ": the workbook has no worksheet"));
  }
  const SheetEntry* chosen = nullptr;
  for (const SheetEntry& s : sheets) {
    if (s.name == wanted) chosen = &s;
  }
  if (chosen == nullptr) {
    for (const SheetEntry& s : sheets) {
      if (EqualsIgnoringAsciiCase(s.name, wanted)) chosen = &s;
    }
  }
  if (chosen == nullptr) {
    std::string names;
    for (const SheetEntry& s : sheets) names += (names.empty() ? "" : ", ") + Quoted(s.name);
    return Fail(NotFound(file + ": no sheet named " + Quoted(wanted) + "; the workbook has " +
                         (names.empty() ? "no sheets" : names)));
  }
  if (chosen->rel == nullptr) {
    return Fail(
        InvalidArgument(file + ": sheet " + Quoted(chosen->name) + " has no part in the package"));
  }
  if (chosen->rel->type != "worksheet") {
    return Fail(InvalidArgument(
        file + ": sheet " + Quoted(chosen->name) +
        (chosen->rel->type == "chartsheet" ? " is a chart sheet" : " is not a worksheet") +
        ", not a table"));
  }
  return chosen;
}

class XlsxReader final : public RowReader {
 public:
  XlsxReader(std::unique_ptr<ZipArchive> zip, const ReadOptions& options)
      : zip_(std::move(zip)),
        name_(zip_->name()),
        max_field_bytes_(options.max_field_bytes),
        max_element_bytes_(std::max<size_t>(size_t{1} << 20, options.max_field_bytes > SIZE_MAX / 64
                                                                 ? SIZE_MAX
                                                                 : options.max_field_bytes * 64)) {}

  // Finds the sheet, loads styles and shared strings, reads the header.
  Status Init(const std::string& sheet);

  const std::vector<std::string>& header() const override { return header_; }
  Result<bool> Next(Row& row) override;
  std::string encoding() const override { return "utf-8"; }
  std::string format() const override { return "xlsx"; }
  uint64_t bytes_consumed() const override { return sheet_ ? sheet_->bytes_consumed() : 0; }
  uint64_t bytes_total() const override { return sheet_ ? sheet_->bytes_total() : 0; }

 private:
  struct Cell {
    uint32_t col = 0;
    std::string value;
    bool number = false;  // a number cell (not text, not a date)
  };

  Status LoadStyles(const std::string& part);
  Status LoadSharedStrings(const std::string& part);
  // Opens the sheet's part and reads its first row with a value as the
  // header.
  Status ReadHeader(const std::string& sheet_part);
  // Reads the next row that has a value into cells_[0, ncells_) and
  // row_number_; false at the end of the sheet.
  Result<bool> NextSheetRow();
  // `number` tells whether the cell held a number (not a date or text).
  Result<bool> CellValue(const pugi::xml_node& c, uint32_t col, std::string& out, bool* number);
  std::string CellWhere(uint32_t col) const {
    return name_ + ": sheet " + Quoted(sheet_name_) + ", cell " + ColumnLetters(col) +
           std::to_string(row_number_);
  }

  std::unique_ptr<ZipArchive> zip_;  // declared first: outlives sheet_'s open entry
  std::string name_;
  size_t max_field_bytes_;
  size_t max_element_bytes_;
  std::string sheet_name_;
  bool date1904_ = false;
  std::vector<DateKind> xf_kinds_;  // by cellXfs index
  SharedStrings shared_;
  std::unique_ptr<ElementStream> sheet_;
  pugi::xml_document doc_;
  std::vector<std::string> header_;
  std::vector<Cell> cells_;
  size_t ncells_ = 0;
  uint32_t row_number_ = 0;
  uint64_t rows_ = 0;
  bool done_ = false;
  std::optional<Error> error_;
};

Status XlsxReader::LoadStyles(const std::string& part) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, LoadXmlPart(*zip_, part, "styleSheet"));
  const pugi::xml_node sheet = doc.document_element();
  std::map<uint32_t, DateKind> custom;
  for (pugi::xml_node f : Child(sheet, "numFmts").children()) {
    if (!IsLocal(f, "numFmt")) continue;
    const std::optional<uint64_t> id = ParseUint(f.attribute("numFmtId").value());
    if (id && *id <= UINT32_MAX) {
      custom[static_cast<uint32_t>(*id)] = CustomDateKind(f.attribute("formatCode").value());
    }
  }
  for (pugi::xml_node xf : Child(sheet, "cellXfs").children()) {
    if (!IsLocal(xf, "xf")) continue;
    DateKind kind = DateKind::kNone;
    const std::optional<uint64_t> id = ParseUint(xf.attribute("numFmtId").value());
    if (id && *id <= UINT32_MAX) {
      const auto it = custom.find(static_cast<uint32_t>(*id));
      kind = it != custom.end() ? it->second : BuiltinDateKind(static_cast<uint32_t>(*id));
    }
    xf_kinds_.push_back(kind);
  }
  return Ok();
}

Status XlsxReader::LoadSharedStrings(const std::string& part) {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry,
                   zip_->Open(part, kMaxSharedStringsPartBytes));
  ElementStream sst(std::move(entry), "sst", "", max_element_bytes_);
  pugi::xml_document doc;
  for (;;) {
    std::string_view element;
    ASSIGN_OR_RETURN(bool more, sst.Next(&element));
    if (!more) break;
    const pugi::xml_parse_result r =
        doc.load_buffer(element.data(), element.size(), kXmlParseFlags, pugi::encoding_utf8);
    if (!r) {
      return Fail(InvalidArgument(sst.WhereInElement(static_cast<size_t>(r.offset)) +
                                  ": malformed XML (" + r.description() + ")"));
    }
    const pugi::xml_node si = doc.first_child();
    if (!IsLocal(si, "si")) continue;
    const std::string text = DecodeXEscapes(RichText(si));
    if (!IsValidUtf8(text) || text.find('\0') != std::string::npos) {
      return Fail(InvalidArgument(sst.WhereInElement(0) + ": shared string " +
                                  std::to_string(shared_.size()) + " is not valid UTF-8 text"));
    }
    if (shared_.size() >= kMaxSharedStrings) {
      return Fail(InvalidArgument(name_ + ": " + ForMessage(part, 128) + ": more than " +
                                  std::to_string(kMaxSharedStrings) + " shared strings"));
    }
    RETURN_IF_ERROR(shared_.Add(text));
  }
  return Ok();
}

Status XlsxReader::Init(const std::string& sheet) {
  // The main part, from the package relationships (usually xl/workbook.xml).
  std::string workbook_part = "xl/workbook.xml";
  ASSIGN_OR_RETURN(auto package_rels, LoadRelationships(*zip_, ""));
  for (const auto& [id, rel] : package_rels) {
    if (rel.type == "officeDocument" && !rel.external) workbook_part = rel.target;
  }
  if (!zip_->Has(workbook_part)) {
    return Fail(InvalidArgument(name_ + ": not an Excel workbook: the package has no " +
                                ForMessage(workbook_part, 128)));
  }
  ASSIGN_OR_RETURN(pugi::xml_document workbook, LoadXmlPart(*zip_, workbook_part, "workbook"));
  const pugi::xml_node wb = workbook.document_element();
  const std::string_view d1904 = Child(wb, "workbookPr").attribute("date1904").value();
  date1904_ = d1904 == "1" || d1904 == "true";

  ASSIGN_OR_RETURN(auto rels, LoadRelationships(*zip_, workbook_part));
  const std::vector<SheetEntry> sheets = ListSheets(wb, rels);
  ASSIGN_OR_RETURN(const SheetEntry* chosen, ChooseSheet(sheets, sheet, name_));
  sheet_name_ = chosen->name;
  if (!zip_->Has(chosen->rel->target)) {
    return Fail(InvalidArgument(name_ + ": sheet " + Quoted(sheet_name_) + " refers to " +
                                ForMessage(chosen->rel->target, 128) +
                                ", which the package does not have"));
  }
  const std::string sheet_part = chosen->rel->target;
  for (const auto& [id, rel] : rels) {
    if (rel.external || !zip_->Has(rel.target)) continue;
    if (rel.type == "styles" && xf_kinds_.empty()) {
      RETURN_IF_ERROR(LoadStyles(rel.target));
    } else if (rel.type == "sharedStrings" && shared_.size() == 0) {
      RETURN_IF_ERROR(LoadSharedStrings(rel.target));
    }
  }
  return ReadHeader(sheet_part);
}

Status XlsxReader::ReadHeader(const std::string& sheet_part) {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry,
                   zip_->Open(sheet_part, kMaxSheetPartBytes));
  sheet_ = std::make_unique<ElementStream>(std::move(entry), "worksheet", "sheetData",
                                           max_element_bytes_);
  ASSIGN_OR_RETURN(bool found, NextSheetRow());
  if (!found) {
    return Fail(InvalidArgument(name_ + ": sheet " + Quoted(sheet_name_) + " is empty, no header"));
  }
  const uint32_t width = cells_[ncells_ - 1].col + 1;
  std::vector<std::string> raw(width);
  for (size_t i = 0; i < ncells_; ++i) raw[cells_[i].col] = std::move(cells_[i].value);
  header_.reserve(width);
  for (uint32_t i = 0; i < width; ++i) header_.push_back(HeaderName(raw[i], i));
  return Ok();
}

Result<bool> XlsxReader::CellValue(const pugi::xml_node& c, uint32_t col, std::string& out,
                                   bool* number) {
  out.clear();
  *number = false;
  const std::string_view type = c.attribute("t").value();
  const pugi::xml_node v = Child(c, "v");
  if (type == "s") {
    if (!v) return true;
    const std::optional<uint64_t> index = ParseUint(TextOf(v));
    if (!index || *index >= shared_.size()) {
      return Fail(InvalidArgument(CellWhere(col) +
                                  ": refers to a shared string that the "
                                  "workbook does not have (it has " +
                                  std::to_string(shared_.size()) + ")"));
    }
    ASSIGN_OR_RETURN(std::string_view text, shared_.Get(static_cast<uint32_t>(*index)));
    out.assign(text);
    return true;
  }
  if (type == "inlineStr") {
    const pugi::xml_node is = Child(c, "is");
    out = DecodeXEscapes(is ? RichText(is) : TextOf(v));
  } else if (type == "str") {
    out = DecodeXEscapes(TextOf(v));
  } else if (type == "b") {
    const std::string text(TrimAscii(TextOf(v)));
    out = text == "1" ? "TRUE" : text == "0" ? "FALSE" : text;
  } else if (type == "d") {
    out = IsoDateCell(TextOf(v));
  } else if (type == "e") {
    out = TextOf(v);
  } else {  // "n", absent, or unknown: a number, kept exactly as written
    out = TrimAscii(TextOf(v));
    if (!out.empty() && (type.empty() || type == "n")) {
      *number = true;
      const std::optional<uint64_t> style = ParseUint(c.attribute("s").value());
      if (style && *style < xf_kinds_.size()) {
        const DateKind kind = xf_kinds_[static_cast<size_t>(*style)];
        if (kind != DateKind::kNone) {
          out = FormatSerial(out, kind, date1904_);
          *number = false;
        }
      }
    }
  }
  if (!IsValidUtf8(out) || out.find('\0') != std::string::npos) {
    return Fail(InvalidArgument(CellWhere(col) + ": the value is not valid UTF-8 text"));
  }
  return true;
}

// Parses "C5" into a column (0-based) and a row (1-based, 0 if absent).
bool ParseCellRef(std::string_view ref, uint32_t* col, uint32_t* row) {
  size_t i = 0;
  uint32_t c = 0;
  while (i < ref.size() && i < 3 &&
         ((ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z'))) {
    const char up = ref[i] >= 'a' ? static_cast<char>(ref[i] - 'a' + 'A') : ref[i];
    c = c * 26 + static_cast<uint32_t>(up - 'A' + 1);
    ++i;
  }
  if (i == 0 || c > kMaxSheetColumns) return false;
  uint32_t r = 0;
  const size_t digits = i;
  while (i < ref.size() && ref[i] >= '0' && ref[i] <= '9' && i - digits < 8) {
    r = r * 10 + static_cast<uint32_t>(ref[i] - '0');
    ++i;
  }
  if (i != ref.size()) return false;
  *col = c - 1;
  *row = r;
  return true;
}

Result<bool> XlsxReader::NextSheetRow() {
  for (;;) {
    std::string_view element;
    ASSIGN_OR_RETURN(bool more, sheet_->Next(&element));
    if (!more) return false;
    const pugi::xml_parse_result r =
        doc_.load_buffer(element.data(), element.size(), kXmlParseFlags, pugi::encoding_utf8);
    if (!r) {
      return Fail(InvalidArgument(sheet_->WhereInElement(static_cast<size_t>(r.offset)) +
                                  ": malformed XML (" + r.description() + ")"));
    }
    const pugi::xml_node row = doc_.first_child();
    if (!IsLocal(row, "row")) continue;
    auto sheet_where = [&] { return name_ + ": sheet " + Quoted(sheet_name_); };
    uint32_t number = row_number_ + 1;
    if (const pugi::xml_attribute ra = row.attribute("r")) {
      const std::optional<uint64_t> n = ParseUint(ra.value());
      if (!n || *n == 0 || *n > kMaxSheetRows) {
        return Fail(InvalidArgument(sheet_->WhereInElement(0) + ": row number is not 1 to " +
                                    std::to_string(kMaxSheetRows)));
      }
      if (*n <= row_number_) {
        return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(*n) +
                                    ": comes after row " + std::to_string(row_number_) +
                                    " (rows out of order or repeated)"));
      }
      number = static_cast<uint32_t>(*n);
    }
    if (number > kMaxSheetRows) {
      return Fail(InvalidArgument(sheet_where() + ": more than " + std::to_string(kMaxSheetRows) +
                                  " rows"));
    }
    row_number_ = number;
    ncells_ = 0;
    int64_t last_col = -1;
    for (pugi::xml_node c : row.children()) {
      if (!IsLocal(c, "c")) continue;
      uint32_t col = static_cast<uint32_t>(last_col + 1);
      if (const pugi::xml_attribute ref = c.attribute("r")) {
        uint32_t ref_row = 0;
        if (!ParseCellRef(ref.value(), &col, &ref_row)) {
          return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                      ": a cell reference is not a column letter and a row "
                                      "number (A1 to XFD1048576)"));
        }
        if (ref_row != 0 && ref_row != number) {
          return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                      ": holds cell " + ColumnLetters(col) +
                                      std::to_string(ref_row) + " of another row"));
        }
      }
      if (col >= kMaxSheetColumns) {
        return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                    ": more than " + std::to_string(kMaxSheetColumns) +
                                    " columns"));
      }
      if (static_cast<int64_t>(col) <= last_col) {
        return Fail(InvalidArgument(CellWhere(col) + ": comes after column " +
                                    ColumnLetters(static_cast<uint32_t>(last_col)) +
                                    " (cells out of order or repeated)"));
      }
      last_col = col;
      if (ncells_ == cells_.size()) cells_.emplace_back();
      Cell& cell = cells_[ncells_];
      RETURN_IF_ERROR(CellValue(c, col, cell.value, &cell.number));
      if (cell.value.empty()) continue;
      if (cell.value.size() > max_field_bytes_) {
        return Fail(InvalidArgument(CellWhere(col) + ": value in " + ColumnLabel(header_, col) +
                                    " is longer than " + std::to_string(max_field_bytes_) +
                                    " bytes"));
      }
      cell.col = col;
      ++ncells_;
    }
    if (ncells_ > 0) return true;  // rows without a value are skipped, as blank CSV lines are
  }
}

Result<bool> XlsxReader::Next(Row& row) {
  if (error_) return Fail(*error_);
  if (done_) return false;
  ASSIGN_OR_RETURN(const bool found, KeepEnd(NextSheetRow(), &error_, &done_));
  if (!found) return false;
  const size_t ncols = header_.size();
  row.fields.resize(ncols);
  for (std::string& f : row.fields) f.clear();
  row.number_cells.clear();
  for (size_t i = 0; i < ncells_; ++i) {
    Cell& cell = cells_[i];
    if (cell.col >= ncols) {
      error_ = InvalidArgument(CellWhere(cell.col) + ": a value beyond the header's " +
                               std::to_string(ncols) + (ncols == 1 ? " column" : " columns") +
                               " (A to " + ColumnLetters(static_cast<uint32_t>(ncols - 1)) + ")");
      return Fail(*error_);
    }
    row.fields[cell.col].swap(cell.value);
    if (cell.number) row.number_cells.push_back(cell.col);
  }
  row.line = row_number_;
  row.number = ++rows_;
  return true;
}

Result<std::unique_ptr<RowReader>> OpenXlsxArchive(std::unique_ptr<ZipArchive> zip,
                                                   const ReadOptions& options) {
  if (options.max_field_bytes == 0) {
    return Fail(InvalidArgument(zip->name() + ": max_field_bytes must be positive"));
  }
  auto reader = std::make_unique<XlsxReader>(std::move(zip), options);
  RETURN_IF_ERROR(reader->Init(options.sheet));
  return std::unique_ptr<RowReader>(std::move(reader));
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenXlsx(const std::string& path, const ReadOptions& options) {
  RETURN_IF_ERROR(CheckNotOle(path));
  ASSIGN_OR_RETURN(std::unique_ptr<ZipArchive> zip, ZipArchive::OpenFile(path));
  return OpenXlsxArchive(std::move(zip), options);
}

Result<std::unique_ptr<RowReader>> OpenXlsxFromString(std::string data, const std::string& name,
                                                      const ReadOptions& options) {
  RETURN_IF_ERROR(CheckNotOle(data, name));
  ASSIGN_OR_RETURN(std::unique_ptr<ZipArchive> zip, ZipArchive::OpenMemory(std::move(data), name));
  return OpenXlsxArchive(std::move(zip), options);
}

}  // namespace custos::ingest
