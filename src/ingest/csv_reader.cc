// CSV reading: RFC 4180 over a decoded UTF-8 stream.
//
// The parser is a small state machine over a large buffer of decoded text.
// Field bytes go straight into the caller's Row strings (cleared, not
// reallocated), so the buffer never has to hold a whole record and memory
// stays bounded by the chunk size plus one row of at most max_field_bytes
// per field.
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/encoding.h"
#include "ingest/reader.h"
#include "ingest/sticky_end.h"

namespace custos::ingest {
namespace {

// Excel's limit; also bounds the header row's memory.
constexpr size_t kMaxColumns = 16384;
// Delimiter detection looks at up to this many lines within as many bytes.
constexpr size_t kDetectLines = 20;
constexpr size_t kDetectBytes = 64 << 10;

// Per-line counts of each candidate delimiter outside quotes, over the
// complete lines at the start of `text` (the last line only if `at_end`).
char DetectDelimiter(std::string_view text, bool at_end) {
  constexpr std::array<char, 3> kCandidates = {',', '\t', ';'};
  std::vector<std::array<size_t, 3>> lines;
  std::array<size_t, 3> counts = {0, 0, 0};
  bool in_quotes = false;
  bool line_has_content = false;
  size_t i = 0;
  for (; i < text.size() && lines.size() < kDetectLines; ++i) {
    const char c = text[i];
    if (c == '"') {
      in_quotes = !in_quotes;  // a doubled quote toggles twice: no change
      line_has_content = true;
    } else if (!in_quotes && (c == '\n' || c == '\r')) {
      if (line_has_content) lines.push_back(counts);
      counts = {0, 0, 0};
      line_has_content = false;
    } else {
      line_has_content = true;
      if (!in_quotes) {
        for (size_t k = 0; k < kCandidates.size(); ++k) {
          if (c == kCandidates[k]) ++counts[k];
        }
      }
    }
  }
  if (line_has_content && (at_end || lines.empty())) lines.push_back(counts);
  if (lines.empty()) return ',';
  // A candidate found the same number of times (> 0) on every line wins;
  // among those, the most frequent. Else the most frequent in the header.
  int best = -1;
  for (size_t k = 0; k < kCandidates.size(); ++k) {
    const size_t n = lines[0][k];
    if (n == 0) continue;
    const bool consistent =
        std::all_of(lines.begin(), lines.end(), [&](const auto& l) { return l[k] == n; });
    if (consistent && (best < 0 || n > lines[0][static_cast<size_t>(best)])) {
      best = static_cast<int>(k);
    }
  }
  if (best >= 0) return kCandidates[static_cast<size_t>(best)];
  size_t best_count = 0;
  char chosen = ',';
  for (size_t k = 0; k < kCandidates.size(); ++k) {
    if (lines[0][k] > best_count) {
      best_count = lines[0][k];
      chosen = kCandidates[k];
    }
  }
  return chosen;
}

class CsvReader final : public RowReader {
 public:
  CsvReader(std::unique_ptr<TextStream> stream, const ReadOptions& options)
      : stream_(std::move(stream)), max_field_bytes_(options.max_field_bytes) {}

  // Detects the delimiter and reads the header.
  Status Init(char delimiter);

  const std::vector<std::string>& header() const override { return header_; }
  Result<bool> Next(Row& row) override;
  std::string encoding() const override { return stream_->encoding(); }
  std::string format() const override { return "csv"; }
  uint64_t bytes_consumed() const override { return stream_->bytes_consumed(); }
  uint64_t bytes_total() const override { return stream_->bytes_total(); }

 private:
  enum Class : uint8_t { kPlain = 0, kSpecial = 1 };

  // Parses one record. Fields go to fields[0..] (growing it if `grow`, else
  // excess fields are counted but dropped). Returns false at the end of
  // input; sets *count and *start_line for a record.
  Result<bool> ParseRecord(std::vector<std::string>& fields, bool grow, size_t* count,
                           uint64_t* start_line);
  // Skips empty lines (and the LF of a CRLF that ended the last record).
  // Returns false at the end of input.
  Result<bool> SkipEmptyLines();
  // Appends decoded text to buf_ (discarding consumed text first). Returns
  // false at the end of input; a decoding error is located at line_, `col`.
  Result<bool> Refill(size_t col);
  Result<std::string*> FieldAt(std::vector<std::string>& fields, bool grow, size_t col);
  Status Append(std::string* field, const char* p, size_t n, size_t col);
  // Appends to `field` the bytes from pos_ up to the first that `stops`
  // marks, and moves pos_ to it. Returns whether it found one in buf_ (not
  // only the end of the buffer).
  Result<bool> AppendRun(const std::array<uint8_t, 256>& stops, std::string* field, size_t col);
  Error NulByteError(size_t col) const;
  Error ErrorAt(uint64_t line, size_t col, std::string_view what) const;

  std::unique_ptr<TextStream> stream_;
  size_t max_field_bytes_;
  char delim_ = ',';
  std::array<uint8_t, 256> unquoted_{};  // ends an unquoted run
  std::array<uint8_t, 256> quoted_{};    // ends a quoted run
  std::vector<std::string> header_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t line_ = 1;        // physical line of buf_[pos_]
  uint64_t field_line_ = 1;  // line where the current field starts
  bool after_cr_ = false;    // the last byte consumed was a CR
  bool done_ = false;
  uint64_t rows_ = 0;
  std::string excess_;  // fields beyond the header, of a ragged row
  std::optional<Error> error_;
};

Error CsvReader::ErrorAt(uint64_t line, size_t col, std::string_view what) const {
  return InvalidArgument(stream_->name() + ":" + std::to_string(line) + ":" +
                         std::to_string(col + 1) + ": " + std::string(what));
}

Result<bool> CsvReader::Refill(size_t col) {
  if (pos_ == buf_.size()) {
    buf_.clear();
  } else {
    buf_.erase(0, pos_);
  }
  pos_ = 0;
  auto more = stream_->Read(buf_);
  if (!more) {
    if (more.error().code() != ErrorCode::kInvalidArgument) return Fail(more.error());
    return Fail(ErrorAt(line_, col, more.error().message()));
  }
  return *more;
}

Result<std::string*> CsvReader::FieldAt(std::vector<std::string>& fields, bool grow, size_t col) {
  field_line_ = line_;
  std::string* field;
  if (col < fields.size()) {
    field = &fields[col];
  } else if (grow) {
    if (col >= kMaxColumns) {
      return Fail(ErrorAt(line_, col, "more than " + std::to_string(kMaxColumns) + " columns"));
    }
    field = &fields.emplace_back();
  } else {
    field = &excess_;
  }
  field->clear();
  return field;
}

Status CsvReader::Append(std::string* field, const char* p, size_t n, size_t col) {
  if (n > max_field_bytes_ - std::min(max_field_bytes_, field->size())) {
    const std::string label = ColumnLabel(header_, col);
    return Fail(ErrorAt(
        field_line_, col,
        "field in " + label + " is longer than " + std::to_string(max_field_bytes_) + " bytes"));
  }
  field->append(p, n);
  return Ok();
}

Result<bool> CsvReader::SkipEmptyLines() {
  for (;;) {
    if (pos_ == buf_.size()) {
      ASSIGN_OR_RETURN(bool more, Refill(0));
      if (!more) return false;
    }
    const char c = buf_[pos_];
    if (c == '\n') {
      if (!after_cr_) ++line_;
      after_cr_ = false;
    } else if (c == '\r') {
      ++line_;
      after_cr_ = true;
    } else {
      break;
    }
    ++pos_;
  }
  after_cr_ = false;
  return true;
}

Result<bool> CsvReader::ParseRecord(std::vector<std::string>& fields, bool grow, size_t* count,
                                    uint64_t* start_line) {
  ASSIGN_OR_RETURN(const bool has_record, SkipEmptyLines());
  if (!has_record) return false;
  *start_line = line_;

  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteSeen };
  State state = State::kFieldStart;
  size_t col = 0;
  uint64_t quote_line = line_;
  std::string* field = nullptr;
  ASSIGN_OR_RETURN(field, FieldAt(fields, grow, col));
  // At the delimiter or line break that ends a field, at buf_[pos_]: starts
  // the next field, or ends the record and returns true.
  auto end_field = [&]() -> Result<bool> {
    if (buf_[pos_] != delim_) {
      after_cr_ = buf_[pos_] == '\r';
      ++line_;
      ++pos_;
      *count = col + 1;
      return true;
    }
    ++pos_;
    ++col;
    ASSIGN_OR_RETURN(field, FieldAt(fields, grow, col));
    state = State::kFieldStart;
    return false;
  };
  for (;;) {
    if (pos_ == buf_.size()) {
      ASSIGN_OR_RETURN(bool more, Refill(col));
      if (!more) {
        if (state == State::kQuoted) {
          return Fail(ErrorAt(quote_line, col,
                              "quoted field in " + ColumnLabel(header_, col) +
                                  " is not closed: no closing quote before the end of the file"));
        }
        *count = col + 1;
        return true;
      }
    }
    switch (state) {
      case State::kFieldStart:
        if (buf_[pos_] == '"') {
          state = State::kQuoted;
          quote_line = line_;
          ++pos_;
        } else {
          state = State::kUnquoted;
        }
        break;

      case State::kUnquoted: {
        ASSIGN_OR_RETURN(const bool stopped, AppendRun(unquoted_, field, col));
        if (!stopped) break;
        const char c = buf_[pos_];
        if (c != delim_ && c != '\n' && c != '\r') return Fail(NulByteError(col));
        ASSIGN_OR_RETURN(const bool record_ends, end_field());
        if (record_ends) return true;
        break;
      }

      case State::kQuoted: {
        const size_t run_start = pos_;
        ASSIGN_OR_RETURN(const bool stopped, AppendRun(quoted_, field, col));
        if (pos_ > run_start) after_cr_ = false;
        if (!stopped) break;
        const char c = buf_[pos_];
        if (c == '"') {
          state = State::kQuoteSeen;
        } else if (c == '\n' || c == '\r') {
          // A line break inside quotes is data; it still counts as a line.
          if (c == '\r' || !after_cr_) ++line_;
          after_cr_ = c == '\r';
          RETURN_IF_ERROR(Append(field, &c, 1, col));
        } else {
          return Fail(NulByteError(col));
        }
        ++pos_;
        break;
      }

      case State::kQuoteSeen: {
        after_cr_ = false;
        const char c = buf_[pos_];
        if (c == '"') {  // a doubled quote is one quote
          RETURN_IF_ERROR(Append(field, &c, 1, col));
          ++pos_;
          state = State::kQuoted;
        } else if (c == delim_ || c == '\n' || c == '\r') {
          ASSIGN_OR_RETURN(const bool record_ends, end_field());
          if (record_ends) return true;
        } else {
          // Text after a closing quote ("ab"c): kept, as Excel and Python do.
          state = State::kUnquoted;
        }
        break;
      }
    }
  }
}

Result<bool> CsvReader::AppendRun(const std::array<uint8_t, 256>& stops, std::string* field,
                                  size_t col) {
  size_t i = pos_;
  while (i < buf_.size() && stops[static_cast<uint8_t>(buf_[i])] == kPlain) ++i;
  if (i > pos_) {
    RETURN_IF_ERROR(Append(field, buf_.data() + pos_, i - pos_, col));
    pos_ = i;
  }
  return i < buf_.size();
}

Error CsvReader::NulByteError(size_t col) const {
  return ErrorAt(line_, col,
                 "NUL byte in " + ColumnLabel(header_, col) + ": binary content, not a table");
}

Status CsvReader::Init(char delimiter) {
  // Fill the first kDetectBytes of text without consuming any; a decoding
  // error stays pending in the stream and surfaces with its line. Detection
  // sees the same text however the input is chunked.
  bool at_end = false;
  while (buf_.size() < kDetectBytes) {
    auto more = stream_->Read(buf_);
    if (!more) {
      if (more.error().code() != ErrorCode::kInvalidArgument) return Fail(more.error());
      break;
    }
    if (!*more) {
      at_end = true;
      break;
    }
  }
  if (delimiter != 0) {
    delim_ = delimiter;
  } else {
    const std::string_view head = std::string_view(buf_).substr(0, kDetectBytes);
    delim_ = DetectDelimiter(head, at_end && head.size() == buf_.size());
  }
  for (char c : {'\n', '\r', '\0', delim_}) unquoted_[static_cast<uint8_t>(c)] = kSpecial;
  for (char c : {'\n', '\r', '\0', '"'}) quoted_[static_cast<uint8_t>(c)] = kSpecial;

  std::vector<std::string> raw;
  size_t count = 0;
  uint64_t start_line = 0;
  ASSIGN_OR_RETURN(bool found, ParseRecord(raw, /*grow=*/true, &count, &start_line));
  if (!found) return Fail(InvalidArgument(stream_->name() + ": empty file, no header"));
  header_.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) header_.push_back(HeaderName(raw[i], i));
  return Ok();
}

Result<bool> CsvReader::Next(Row& row) {
  if (error_) return Fail(*error_);
  if (done_) return false;
  const size_t ncols = header_.size();
  row.fields.resize(ncols);
  size_t count = 0;
  uint64_t start_line = 0;
  ASSIGN_OR_RETURN(const bool found,
                   internal::KeepEnd(ParseRecord(row.fields, /*grow=*/false, &count, &start_line),
                                     &error_, &done_));
  if (!found) return false;
  if (count != ncols) {
    const size_t col = std::min(count, ncols);
    std::string what = "row has " + std::to_string(count) + (count == 1 ? " field" : " fields") +
                       ", the header has " + std::to_string(ncols);
    if (count < ncols) what += " (" + ColumnLabel(header_, col) + " and after are missing)";
    error_ = ErrorAt(start_line, col, what);
    return Fail(*error_);
  }
  row.line = start_line;
  row.number = ++rows_;
  return true;
}

Result<std::unique_ptr<RowReader>> OpenCsvSource(std::unique_ptr<ByteSource> source,
                                                 const ReadOptions& options, size_t chunk_bytes) {
  const std::string name = source->name();
  const char d = options.delimiter;
  if (d == '"' || d == '\n' || d == '\r' || static_cast<unsigned char>(d) >= 0x80) {
    return Fail(InvalidArgument(name + ": the delimiter cannot be a quote, a line break or a "
                                       "non-ASCII byte"));
  }
  if (options.max_field_bytes == 0) {
    return Fail(InvalidArgument(name + ": max_field_bytes must be positive"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TextStream> stream,
                   TextStream::Open(std::move(source), options.encoding, chunk_bytes));
  auto reader = std::make_unique<CsvReader>(std::move(stream), options);
  RETURN_IF_ERROR(reader->Init(d));
  return std::unique_ptr<RowReader>(std::move(reader));
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenCsv(const std::string& path, const ReadOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  return OpenCsvSource(std::move(source), options, 0);
}

Result<std::unique_ptr<RowReader>> OpenCsvFromString(std::string data, const std::string& name,
                                                     const ReadOptions& options,
                                                     size_t chunk_bytes) {
  return OpenCsvSource(MakeStringSource(std::move(data), name), options, chunk_bytes);
}

}  // namespace custos::ingest
