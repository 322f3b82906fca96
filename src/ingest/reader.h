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
};

struct Row {
  std::vector<std::string> fields;  // UTF-8, one per header column
  uint64_t line = 0;                // physical line (1-based) where the row starts
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

// Opens any supported table, choosing the reader by extension (.csv, .txt,
// .tsv, .jsonl, .ndjson, .xlsx) and falling back to content sniffing.
Result<std::unique_ptr<RowReader>> OpenTable(const std::string& path, const ReadOptions& options);

// Like OpenCsv and OpenJsonl, over `data` held in memory; `name` stands in
// for the path in messages. For tests and fuzzing. `chunk_bytes` is how many
// input bytes are read and decoded at a time (0: the default, 1 MiB); tests
// make it small to cut characters, quoted fields and lines across reads.
Result<std::unique_ptr<RowReader>> OpenCsvFromString(std::string data, const std::string& name,
                                                     const ReadOptions& options,
                                                     size_t chunk_bytes = 0);
Result<std::unique_ptr<RowReader>> OpenJsonlFromString(std::string data, const std::string& name,
                                                       const ReadOptions& options,
                                                       size_t chunk_bytes = 0);

}  // namespace custos::ingest

#endif  // CUSTOS_INGEST_READER_H_
