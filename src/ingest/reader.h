// Table readers: a file of customer data in, a header and rows of UTF-8
// strings out, streaming with bounded memory.
//
// Errors name the file, the line and the column (1-based), never a value.
#ifndef CUSTOS_INGEST_READER_H_
#define CUSTOS_INGEST_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace custos::ingest {

struct ReadOptions {
  // "" detects; otherwise one of "utf-8", "gbk", "gb18030" (case-insensitive).
  std::string encoding;
  // 0 detects among ',', '\t', ';'.
  char delimiter = 0;
  // A field longer than this is an error (kInvalidArgument), not an allocation.
  size_t max_field_bytes = 1 << 20;
  // XLSX only: the name of the sheet to read; "" reads the first worksheet.
  std::string sheet;
};

struct Row {
  std::vector<std::string> fields;  // UTF-8, one per header column
  // XLSX only: the columns (0-based, ascending) whose cell was a number, not
  // text (type "n" or none, without a date format). A spreadsheet keeps 15
  // significant digits of a number, so a 16-digit card number stored so has
  // lost its last digit whatever the cell shows. Empty for CSV and JSONL.
  std::vector<uint32_t> number_cells;
  uint64_t line = 0;                // physical line (1-based) where the row starts;
                                    // for XLSX the sheet's row number
  uint64_t number = 0;              // data row number, 1-based, header excluded
};

class RowReader {
 public:
  virtual ~RowReader() = default;
  // Column names, UTF-8, surrounding whitespace trimmed; never empty.
  virtual const std::vector<std::string>& header() const = 0;
  // Fills `row` with the next data row and returns true; false at the end.
  // Errors: kInvalidArgument "FILE:LINE:COL: what" for malformed input
  // (undecodable bytes, unterminated quote, ragged row, over-long field, NUL).
  virtual Result<bool> Next(Row& row) = 0;
  // The detected or forced encoding, as named in ReadOptions, and the format.
  virtual std::string encoding() const = 0;
  virtual std::string format() const = 0;  // "csv", "jsonl", "xlsx"
  // Progress: bytes of input consumed so far and in total (0 if unknown).
  virtual uint64_t bytes_consumed() const = 0;
  virtual uint64_t bytes_total() const = 0;
};

// Opens a CSV file: UTF-8 (BOM or not), GBK or GB18030; RFC 4180 quoting;
// CRLF or LF; delimiter detected among comma, tab, semicolon.
// Errors: kNotFound (no file), kInvalidArgument (empty file, no header,
// binary content, undecodable header), with the path in the message.
Result<std::unique_ptr<RowReader>> OpenCsv(const std::string& path, const ReadOptions& options);

// Opens a JSON Lines file (.jsonl, .ndjson): one JSON object per line, in
// UTF-8 (GBK and GB18030 are detected as for CSV). The header is the union
// of the keys of the first 1000 non-empty lines, in order of first
// appearance; a later line with another key is an error. Values: strings as
// they are, numbers as their JSON text, true/false, null or a missing key as
// "", nested objects and arrays as compact JSON. Empty lines are skipped.
// Errors: as OpenCsv; "FILE:LINE:COL" for a syntax error (COL a byte column
// of the line), "FILE:LINE" for a line that is not an object or has an
// unknown or duplicate key. A line may be at most 64 * max_field_bytes long.
Result<std::unique_ptr<RowReader>> OpenJsonl(const std::string& path, const ReadOptions& options);

// Opens an Excel workbook (.xlsx, .xlsm: Office Open XML, a ZIP of XML
// parts) and reads one worksheet: options.sheet by name (exact, else
// ignoring ASCII case), or the first worksheet in tab order.
//
// The header is the first row with a value; rows without a value are
// skipped. A missing cell, or a cell beyond the last one written in a row,
// is "". Values are the text Excel stores: shared and inline strings (rich
// text runs joined, phonetic guides dropped, _xHHHH_ escapes decoded);
// numbers exactly as written in the XML ("13812345678", and an ID number
// Excel already destroyed stays "1.10105199001011E+17" so that the detector
// flags it); booleans "TRUE"/"FALSE"; errors as "#N/A"; formulas as their
// cached result. A number whose cell has a date or time format (built-in
// ids 14-22, 45-47, the East Asian 27-36 and 50-58, or a custom format code
// with y/m/d/h/s) becomes "YYYY-MM-DD", "HH:MM:SS" or "YYYY-MM-DD HH:MM:SS"
// in the workbook's 1900 or 1904 date system ("36:00:00" for an elapsed-time
// format such as [h]:mm:ss). Row.line is the sheet's row number;
// bytes_consumed/bytes_total count the sheet's uncompressed XML; encoding()
// is "utf-8".
//
// Memory is bounded whatever the sheet's size: the shared-strings table
// (held in memory, at most 256 MiB) plus one row's XML (at most
// 64 * max_field_bytes, and at least 1 MiB) and a few 64 KiB buffers.
//
// Errors (kInvalidArgument unless said), naming the file and never a value:
//   - not a ZIP; an OLE2 file: "password-protected workbooks are not
//     supported; save without a password", or an Excel 97-2003 workbook;
//   - kNotFound: no such file, or no sheet of that name (the message lists
//     the workbook's sheet names); a chart sheet named: kInvalidArgument;
//   - malformed XML: "FILE: PART:LINE:COL: malformed XML (what)";
//   - limits: a part larger than its limit or expanding more than 500
//     times (a zip bomb), shared strings over 256 MiB, a corrupt entry (CRC);
//   - data: "FILE: sheet "NAME", cell E5: a value beyond the header's 4
//     columns (A to D)", a value longer than max_field_bytes, rows or cells
//     out of order, invalid UTF-8.
Result<std::unique_ptr<RowReader>> OpenXlsx(const std::string& path, const ReadOptions& options);

// Opens any supported table, choosing the reader by extension (.csv, .txt,
// .tsv, .jsonl, .ndjson, .xlsx) and falling back to content sniffing.
Result<std::unique_ptr<RowReader>> OpenTable(const std::string& path, const ReadOptions& options);

// Like OpenCsv, OpenJsonl and OpenXlsx, over `data` held in memory; `name`
// stands in for the path in messages. For tests and fuzzing. `chunk_bytes`
// is how many input bytes are read and decoded at a time (0: the default,
// 1 MiB); tests make it small to cut characters, quoted fields and lines
// across reads.
Result<std::unique_ptr<RowReader>> OpenCsvFromString(std::string data, const std::string& name,
                                                     const ReadOptions& options,
                                                     size_t chunk_bytes = 0);
Result<std::unique_ptr<RowReader>> OpenJsonlFromString(std::string data, const std::string& name,
                                                       const ReadOptions& options,
                                                       size_t chunk_bytes = 0);
Result<std::unique_ptr<RowReader>> OpenXlsxFromString(std::string data, const std::string& name,
                                                      const ReadOptions& options);

}  // namespace custos::ingest

#endif  // CUSTOS_INGEST_READER_H_
