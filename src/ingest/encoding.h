// Text encodings of customer tables: detection and streaming conversion to
// UTF-8 with bounded memory. Internal to the ingest layer (the readers in
// reader.h are the public face); tests and fuzzers may use it directly.
//
// Supported: UTF-8 (with or without BOM), GBK (Windows code page 936, as
// Excel and CRMs on Chinese Windows write it) and GB18030. GBK and GB18030
// are decoded with glibc iconv.
#ifndef CUSTOS_INGEST_ENCODING_H_
#define CUSTOS_INGEST_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custos::ingest {

enum class Encoding { kUtf8, kGbk, kGb18030 };

// "utf-8", "gbk" or "gb18030": the names ReadOptions::encoding takes.
std::string_view EncodingName(Encoding encoding);

// Parses an encoding name, case-insensitively: "utf-8"/"utf8", "gbk"/"cp936",
// "gb18030". "" means "detect" (std::nullopt). kInvalidArgument otherwise.
Result<std::optional<Encoding>> ParseEncoding(std::string_view name);

// Length of the longest prefix of `text` made of complete, well-formed UTF-8
// sequences (no overlongs, surrogates or code points above U+10FFFF). If the
// rest is a well-formed but cut-off sequence at the very end, `*truncated`
// is set to true (else false): more input may complete it.
size_t ValidUtf8Prefix(std::string_view text, bool* truncated);

inline bool IsValidUtf8(std::string_view text) {
  bool truncated = false;
  return ValidUtf8Prefix(text, &truncated) == text.size();
}

// Text helpers shared by the readers.

// `text` without surrounding whitespace: ASCII whitespace, U+00A0 (no-break
// space), U+3000 (ideographic space) and U+FEFF (a stray byte-order mark).
std::string_view TrimSpace(std::string_view text);

// A header name as the readers report it: `raw` trimmed, or "column_N"
// (N = index + 1) if that leaves nothing.
std::string HeaderName(std::string_view raw, size_t index);

// "column 3 (手机号)" for index 2: the 1-based column and its header name,
// shortened to at most 48 bytes; "column 3" if the header has no such name.
std::string ColumnLabel(const std::vector<std::string>& header, size_t index);

// Raw bytes from a file or from memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `dst`; returns how many, 0 only at the end.
  virtual Result<size_t> Read(char* dst, size_t n) = 0;
  // Total size in bytes, 0 if unknown (a pipe).
  virtual uint64_t size() const = 0;
  // The path (or stand-in name) that error messages use.
  virtual const std::string& name() const = 0;
};

// Opens a file for sequential reading. kNotFound if it does not exist,
// kPermissionDenied if it may not be read, kInvalidArgument for a directory.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// The first `max_bytes` bytes of the file at `path` (all of it if it is
// shorter), for telling formats apart by their first bytes. Errors as
// OpenFileSource and ByteSource::Read.
Result<std::string> ReadFileHead(const std::string& path, size_t max_bytes);

// A source over `data` held in memory; `name` stands in for a path.
std::unique_ptr<ByteSource> MakeStringSource(std::string data, std::string name);

// Decodes a ByteSource to UTF-8, a chunk at a time.
//
// Detection (no forced encoding): a UTF-8 BOM means UTF-8 and a GB18030 BOM
// means GB18030 (both are dropped). Otherwise ASCII passes through undecided
// until the first non-ASCII byte; the bytes from there (at least 64 KiB or
// up to the end) decide: well-formed UTF-8 means "utf-8"; else bytes that
// decode as GBK mean "gbk", and bytes that only GB18030 decodes (e.g. 4-byte
// sequences such as U+20000) mean "gb18030". A "gbk" stream becomes
// "gb18030" when it later meets a character only GB18030 decodes, so
// encoding() is final only at the end of input; while nothing but ASCII has
// been seen it says "utf-8".
//
// Memory is bounded by a few times `chunk_bytes` whatever the input size; a
// multibyte character cut by a chunk boundary is carried over to the next.
class TextStream {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{1} << 20;
  // How much of the start is examined for binary content.
  static constexpr size_t kSniffBytes = 8 << 10;

  // Reads the first kSniffBytes and checks them. `encoding` is as in
  // ReadOptions ("" detects); `chunk_bytes` 0 means kDefaultChunkBytes.
  // Errors (kInvalidArgument, message "NAME: what"): unknown encoding name,
  // binary content (a NUL byte or many control bytes in the first 8 KiB, a
  // ZIP archive), UTF-16/UTF-32 text, a UTF-8 BOM under a forced GBK or
  // GB18030.
  static Result<std::unique_ptr<TextStream>> Open(std::unique_ptr<ByteSource> source,
                                                  std::string_view encoding, size_t chunk_bytes);

  ~TextStream();
  TextStream(const TextStream&) = delete;
  TextStream& operator=(const TextStream&) = delete;

  // Appends at least one byte of UTF-8 text to `out` and returns true, or
  // returns false at the end of input (appending nothing). Text is returned
  // up to an undecodable byte; the next call fails with kInvalidArgument
  // whose message (no name, line or value) names the byte offset, e.g.
  // "byte offset 1234 is not valid gbk (detected encoding)". The caller adds
  // "FILE:LINE:COL: ". Errors are sticky: every later call returns the same.
  Result<bool> Read(std::string& out);

  // "utf-8", "gbk" or "gb18030"; see the class comment.
  std::string encoding() const;
  // Input bytes decoded so far and in total (0 if unknown).
  uint64_t bytes_consumed() const { return raw_offset_ + raw_pos_; }
  uint64_t bytes_total() const { return source_->size(); }
  const std::string& name() const { return source_->name(); }

 private:
  enum class Mode { kUndecided, kUtf8, kGb };
  class Iconv;

  TextStream(std::unique_ptr<ByteSource> source, size_t chunk_bytes);
  Status FillRaw();
  Status Check(std::optional<Encoding> forced);
  Status StartGb(Encoding primary, bool fallback);
  // Decodes from raw_ into out; may set need_more_ or error_.
  void DecodeSome(std::string& out);
  void Decide(std::string& out);
  void DecodeUtf8(std::string& out);
  // Returns bytes consumed from [p, p+n); sets need_more_ or error_.
  size_t DecodeGb(const char* p, size_t n, std::string& out);
  void SetDecodeError(uint64_t offset, std::string_view what);

  std::unique_ptr<ByteSource> source_;
  size_t chunk_bytes_;
  std::string raw_;  // undecoded input; [raw_pos_, size) pending
  size_t raw_pos_ = 0;
  uint64_t raw_offset_ = 0;  // input offset of raw_[0]
  bool eof_ = false;
  bool need_more_ = false;  // pending bytes are an incomplete unit
  Mode mode_ = Mode::kUndecided;
  bool forced_ = false;
  bool neither_ = false;  // detection found neither UTF-8 nor GBK/GB18030
  Encoding gb_name_ = Encoding::kGbk;
  std::unique_ptr<Iconv> primary_;
  std::unique_ptr<Iconv> fallback_;
  std::optional<Error> error_;
};

}  // namespace custos::ingest

#endif  // CUSTOS_INGEST_ENCODING_H_
