// JSON Lines reading: one object per line, parsed with nlohmann's SAX
// interface so that numbers keep their exact text and nested values become
// compact JSON without building a document per line.
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/json_text.h"
#include "ingest/encoding.h"
#include "ingest/reader.h"

namespace custos::ingest {
namespace {

using Json = nlohmann::json;
using Values = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kHeaderLines = 1000;
constexpr size_t kMaxColumns = 16384;
constexpr size_t kLineBytesPerField = 64;

// Shortens a key for an error message (keys are names, not values, but may
// be long).
std::string KeyForMessage(std::string_view key) {
  constexpr size_t kMax = 48;
  if (key.size() <= kMax) return std::string(key);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  return std::string(key.substr(0, cut)) + "...";
}

// SAX handler for one line: collects (key, value text) pairs of the top-level
// object. Returning false stops the parse; the reason is in the members.
class LineSax {
 public:
  LineSax(Values* values, size_t max_field_bytes)
      : values_(values), max_field_bytes_(max_field_bytes) {}

  bool null() { return Scalar("", "null"); }
  bool boolean(bool b) { return Scalar(b ? "true" : "false", b ? "true" : "false"); }
  bool number_integer(Json::number_integer_t v) {
    const std::string s = std::to_string(v);
    return Scalar(s, s);
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    const std::string s = std::to_string(v);
    return Scalar(s, s);
  }
  // `text` is the number exactly as written (1.50 stays 1.50).
  bool number_float(Json::number_float_t, const std::string& text) { return Scalar(text, text); }
  bool string(std::string& s) {
    if (depth_ == 0) return NotObject();
    if (depth_ == 1) return Emit(std::move(s));
    BeginNested();
    (void)AppendJsonString(nested_, s);  // parsed JSON: valid UTF-8
    return true;
  }
  bool binary(Json::binary_t&) { return NotObject(); }  // not produced by JSON text
  bool start_object(std::size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    BeginNested();
    nested_ += '{';
    first_.push_back(true);
    ++depth_;
    return true;
  }
  bool key(std::string& k) {
    if (depth_ == 1) {
      key_ = std::move(k);
      return true;
    }
    if (!first_.back()) nested_ += ',';
    first_.back() = false;
    (void)AppendJsonString(nested_, k);
    nested_ += ':';
    after_key_ = true;
    return true;
  }
  bool end_object() {
    --depth_;
    if (depth_ == 0) return true;
    nested_ += '}';
    first_.pop_back();
    return depth_ == 1 ? Emit(std::move(nested_)) : true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return NotObject();
    BeginNested();
    nested_ += '[';
    first_.push_back(true);
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    nested_ += ']';
    first_.pop_back();
    return depth_ == 1 ? Emit(std::move(nested_)) : true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token: may be data*/,
                   const nlohmann::detail::exception& /*its message quotes data*/) {
    syntax_error_at_ = position;
    return false;
  }

  bool not_object() const { return not_object_; }
  std::optional<size_t> syntax_error_at() const { return syntax_error_at_; }
  const std::optional<std::string>& too_long_key() const { return too_long_key_; }
  const std::optional<std::string>& nul_key() const { return nul_key_; }

 private:
  bool NotObject() {
    not_object_ = true;
    return false;
  }
  // A value inside a nested container: separate it from the one before.
  void BeginNested() {
    if (depth_ == 1) {
      nested_.clear();
      first_.clear();
    } else if (after_key_) {
      after_key_ = false;
    } else {
      if (!first_.back()) nested_ += ',';
      first_.back() = false;
    }
  }
  bool Scalar(std::string_view top, std::string_view nested) {
    if (depth_ == 0) return NotObject();
    if (depth_ == 1) return Emit(std::string(top));
    BeginNested();
    nested_ += nested;
    return true;
  }
  bool Emit(std::string value) {
    if (value.size() > max_field_bytes_) {
      too_long_key_ = key_;
      return false;
    }
    if (value.find('\0') != std::string::npos) {
      nul_key_ = key_;
      return false;
    }
    values_->emplace_back(std::move(key_), std::move(value));
    key_.clear();
    return true;
  }

  Values* values_;
  size_t max_field_bytes_;
  int depth_ = 0;
  std::string key_;          // the current top-level key
  std::string nested_;       // compact JSON of the nested value being built
  std::vector<bool> first_;  // per open nested container: nothing written yet
  bool after_key_ = false;   // a nested object's key was just written
  bool not_object_ = false;
  std::optional<size_t> syntax_error_at_;
  std::optional<std::string> too_long_key_;
  std::optional<std::string> nul_key_;
};

class JsonlReader final : public RowReader {
 public:
  JsonlReader(std::unique_ptr<TextStream> stream, const ReadOptions& options)
      : stream_(std::move(stream)),
        max_field_bytes_(options.max_field_bytes),
        max_line_bytes_(options.max_field_bytes > SIZE_MAX / kLineBytesPerField
                            ? SIZE_MAX
                            : options.max_field_bytes * kLineBytesPerField) {}

  // Reads ahead up to kHeaderLines lines to collect the header.
  Status Init();

  const std::vector<std::string>& header() const override { return header_; }
  Result<bool> Next(Row& row) override;
  std::string encoding() const override { return stream_->encoding(); }
  std::string format() const override { return "jsonl"; }
  uint64_t bytes_consumed() const override { return stream_->bytes_consumed(); }
  uint64_t bytes_total() const override { return stream_->bytes_total(); }

 private:
  struct Pending {
    uint64_t line;
    Values values;
  };

  // The next line that is not blank, without its line break; the view lives
  // until the next call. Returns false at the end of input.
  Result<bool> NextLine(std::string_view* text, uint64_t* line);
  Status ParseLine(std::string_view text, uint64_t line, Values& values) const;
  Status FillRow(Values& values, uint64_t line, Row& row);
  std::string Where(uint64_t line) const { return stream_->name() + ":" + std::to_string(line); }

  std::unique_ptr<TextStream> stream_;
  size_t max_field_bytes_;
  size_t max_line_bytes_;
  std::string buf_;
  size_t pos_ = 0;
  std::string carry_;  // the start of a line cut by the end of buf_
  bool carrying_ = false;
  bool input_done_ = false;
  uint64_t next_line_ = 1;
  std::vector<std::string> header_;
  std::unordered_map<std::string, size_t> index_;  // key as written -> column
  std::deque<Pending> pending_;
  std::optional<Error> deferred_;  // met while reading ahead; after pending_
  std::optional<Error> error_;     // sticky
  Values values_;
  std::vector<bool> seen_;
  uint64_t rows_ = 0;
};

Result<bool> JsonlReader::NextLine(std::string_view* text, uint64_t* line) {
  for (;;) {
    if (!carrying_) carry_.clear();
    std::string_view piece;
    bool complete = false;
    if (pos_ < buf_.size()) {
      const char* start = buf_.data() + pos_;
      const size_t avail = buf_.size() - pos_;
      const void* nl = std::memchr(start, '\n', avail);
      const size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
      piece = std::string_view(start, len);
      pos_ += nl ? len + 1 : len;
      complete = nl != nullptr;
    } else if (input_done_) {
      if (!carrying_) return false;
      complete = true;  // the last line has no line break
    } else {
      buf_.clear();
      pos_ = 0;
      auto more = stream_->Read(buf_);
      if (!more) {
        if (more.error().code() != ErrorCode::kInvalidArgument) return Fail(more.error());
        return Fail(InvalidArgument(Where(next_line_) + ": " + more.error().message()));
      }
      if (!*more) input_done_ = true;
      continue;
    }
    if ((carrying_ ? carry_.size() : 0) + piece.size() > max_line_bytes_) {
      return Fail(InvalidArgument(Where(next_line_) + ": line is longer than " +
                                  std::to_string(max_line_bytes_) + " bytes"));
    }
    if (!complete) {
      carry_.append(piece);
      carrying_ = true;
      continue;
    }
    std::string_view whole = piece;
    if (carrying_) {
      carry_.append(piece);
      whole = carry_;
      carrying_ = false;  // carry_ is cleared on the next call
    }
    *line = next_line_++;
    if (whole.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (whole.ends_with('\r')) whole.remove_suffix(1);
    *text = whole;
    return true;
  }
}

Status JsonlReader::ParseLine(std::string_view text, uint64_t line, Values& values) const {
  values.clear();
  LineSax sax(&values, max_field_bytes_);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception&) {
    return Fail(InvalidArgument(Where(line) + ": malformed JSON"));
  }
  if (ok) return Ok();
  if (sax.not_object()) return Fail(InvalidArgument(Where(line) + ":1: not a JSON object"));
  if (sax.too_long_key()) {
    return Fail(InvalidArgument(Where(line) + ": value of key \"" +
                                KeyForMessage(*sax.too_long_key()) + "\" is longer than " +
                                std::to_string(max_field_bytes_) + " bytes"));
  }
  if (sax.nul_key()) {
    return Fail(InvalidArgument(Where(line) + ": value of key \"" + KeyForMessage(*sax.nul_key()) +
                                "\" contains a NUL character"));
  }
  const size_t at = sax.syntax_error_at().value_or(0);
  return Fail(
      InvalidArgument(Where(line) + ":" + std::to_string(at > 0 ? at : 1) + ": malformed JSON"));
}

Status JsonlReader::FillRow(Values& values, uint64_t line, Row& row) {
  const size_t ncols = header_.size();
  row.fields.resize(ncols);
  for (std::string& f : row.fields) f.clear();
  seen_.assign(ncols, false);
  for (auto& [key, value] : values) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      return Fail(InvalidArgument(Where(line) + ": key \"" + KeyForMessage(key) +
                                  "\" is not among the keys of the first " +
                                  std::to_string(kHeaderLines) + " lines"));
    }
    if (seen_[it->second]) {
      return Fail(InvalidArgument(Where(line) + ": duplicate key \"" + KeyForMessage(key) + "\""));
    }
    seen_[it->second] = true;
    row.fields[it->second].swap(value);
  }
  row.line = line;
  row.number = ++rows_;
  return Ok();
}

Status JsonlReader::Init() {
  while (pending_.size() < kHeaderLines) {
    std::string_view text;
    uint64_t line = 0;
    auto more = NextLine(&text, &line);
    if (!more) {
      if (more.error().code() != ErrorCode::kInvalidArgument) return Fail(more.error());
      deferred_ = more.error();
      break;
    }
    if (!*more) break;
    Pending p{line, {}};
    if (Status s = ParseLine(text, line, p.values); !s) {
      deferred_ = s.error();
      break;
    }
    for (const auto& kv : p.values) {
      if (index_.contains(kv.first)) continue;
      if (header_.size() >= kMaxColumns) {
        deferred_ =
            InvalidArgument(Where(line) + ": more than " + std::to_string(kMaxColumns) + " keys");
        break;
      }
      index_.emplace(kv.first, header_.size());
      header_.push_back(HeaderName(kv.first, header_.size()));
    }
    if (deferred_) break;
    pending_.push_back(std::move(p));
  }
  if (header_.empty()) {
    if (deferred_) return Fail(*deferred_);
    if (pending_.empty()) return Fail(InvalidArgument(stream_->name() + ": empty file, no header"));
    return Fail(InvalidArgument(stream_->name() + ": no keys in the first " +
                                std::to_string(pending_.size()) + " lines, no header"));
  }
  return Ok();
}

Result<bool> JsonlReader::Next(Row& row) {
  if (error_) return Fail(*error_);
  Status s = Ok();
  if (!pending_.empty()) {
    Pending& p = pending_.front();
    s = FillRow(p.values, p.line, row);
    pending_.pop_front();
  } else if (deferred_) {
    s = Fail(*deferred_);
  } else {
    std::string_view text;
    uint64_t line = 0;
    auto more = NextLine(&text, &line);
    if (!more) {
      s = Fail(more.error());
    } else if (!*more) {
      return false;
    } else {
      s = ParseLine(text, line, values_);
      if (s) s = FillRow(values_, line, row);
    }
  }
  if (!s) {
    error_ = s.error();
    return Fail(*error_);
  }
  return true;
}

Result<std::unique_ptr<RowReader>> OpenJsonlSource(std::unique_ptr<ByteSource> source,
                                                   const ReadOptions& options, size_t chunk_bytes) {
  if (options.max_field_bytes == 0) {
    return Fail(InvalidArgument(source->name() + ": max_field_bytes must be positive"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TextStream> stream,
                   TextStream::Open(std::move(source), options.encoding, chunk_bytes));
  auto reader = std::make_unique<JsonlReader>(std::move(stream), options);
  RETURN_IF_ERROR(reader->Init());
  return std::unique_ptr<RowReader>(std::move(reader));
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenJsonl(const std::string& path, const ReadOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  return OpenJsonlSource(std::move(source), options, 0);
}

Result<std::unique_ptr<RowReader>> OpenJsonlFromString(std::string data, const std::string& name,
                                                       const ReadOptions& options,
                                                       size_t chunk_bytes) {
  return OpenJsonlSource(MakeStringSource(std::move(data), name), options, chunk_bytes);
}

}  // namespace custos::ingest
