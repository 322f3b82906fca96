#include "ingest/encoding.h"

#include <fcntl.h>
#include <iconv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "base/file.h"
#include "base/sealed_file.h"

namespace custos::ingest {
namespace {

// Bytes after the first non-ASCII byte that detection looks at, at least.
constexpr size_t kSampleBytes = 64 << 10;

std::string ErrnoText(int err) { return std::generic_category().message(err); }

bool IsAsciiWord(uint64_t w) { return (w & 0x8080808080808080ULL) == 0; }

// Length of the ASCII prefix of [p, p + n).
size_t AsciiPrefix(const char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (!IsAsciiWord(w)) break;
  }
  while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
  return i;
}

const char* IconvName(Encoding e) {
  switch (e) {
    case Encoding::kUtf8:
      return "UTF-8";
    case Encoding::kGbk:
      return "GBK";
    case Encoding::kGb18030:
      return "GB18030";
  }
  return "UTF-8";
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, uint64_t size, std::string name)
      : fd_(fd), size_(size), name_(std::move(name)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* dst, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return Fail(Unavailable(name_ + ": read failed: " + ErrnoText(errno)));
    }
  }
  uint64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  uint64_t size_;
  std::string name_;
};

class StringSource final : public ByteSource {
 public:
  StringSource(std::string data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}

  Result<size_t> Read(char* dst, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (k > 0) std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t size() const override { return data_.size(); }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  size_t pos_ = 0;
  std::string name_;
};

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8:
      return "utf-8";
    case Encoding::kGbk:
      return "gbk";
    case Encoding::kGb18030:
      return "gb18030";
  }
  return "utf-8";
}

Result<std::optional<Encoding>> ParseEncoding(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower.empty()) return std::optional<Encoding>();
  if (lower == "utf-8" || lower == "utf8") return std::optional<Encoding>(Encoding::kUtf8);
  if (lower == "gbk" || lower == "cp936") return std::optional<Encoding>(Encoding::kGbk);
  if (lower == "gb18030") return std::optional<Encoding>(Encoding::kGb18030);
  return Fail(InvalidArgument("unknown encoding \"" + std::string(name) +
                              "\"; expected utf-8, gbk or gb18030"));
}

size_t ValidUtf8Prefix(std::string_view text, bool* truncated) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  *truncated = false;
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      i += AsciiPrefix(text.data() + i, n - i);
      continue;
    }
    const unsigned char c = p[i];
    size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) {
        *truncated = true;
        return i;
      }
      const unsigned char b = p[i + k];
      const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
      if (!ok) return i;
    }
    i += len;
  }
  return i;
}

std::string_view TrimSpace(std::string_view text) {
  for (;;) {
    if (text.empty()) return text;
    const auto c = static_cast<unsigned char>(text.front());
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      text.remove_prefix(1);
    } else if (text.starts_with("\xC2\xA0")) {
      text.remove_prefix(2);
    } else if (text.starts_with("\xE3\x80\x80") || text.starts_with("\xEF\xBB\xBF")) {
      text.remove_prefix(3);
    } else {
      break;
    }
  }
  for (;;) {
    if (text.empty()) return text;
    const auto c = static_cast<unsigned char>(text.back());
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      text.remove_suffix(1);
    } else if (text.ends_with("\xC2\xA0")) {
      text.remove_suffix(2);
    } else if (text.ends_with("\xE3\x80\x80") || text.ends_with("\xEF\xBB\xBF")) {
      text.remove_suffix(3);
    } else {
      break;
    }
  }
  return text;
}

std::string HeaderName(std::string_view raw, size_t index) {
  const std::string_view trimmed = TrimSpace(raw);
  if (trimmed.empty()) return "column_" + std::to_string(index + 1);
  return std::string(trimmed);
}

std::string ColumnLabel(const std::vector<std::string>& header, size_t index) {
  constexpr size_t kMaxNameBytes = 48;
  std::string label = "column " + std::to_string(index + 1);
  if (index >= header.size()) return label;
  std::string_view name = header[index];
  if (name.size() > kMaxNameBytes) {
    size_t cut = kMaxNameBytes;
    // Back up to a character boundary (never inside a UTF-8 sequence).
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    label += " (" + std::string(name.substr(0, cut)) + "...)";
  } else {
    label += " (" + std::string(name) + ")";
  }
  return label;
}

// A sealed file named by the path (base/sealed_file.h: an upload to the
// server), read block by block.
class SealedSource final : public ByteSource {
 public:
  SealedSource(std::shared_ptr<const SealedFile> file, std::string name)
      : file_(std::move(file)), name_(std::move(name)) {}
  ~SealedSource() override { std::fill(block_.begin(), block_.end(), '\0'); }

  Result<size_t> Read(char* dst, size_t n) override {
    if (at_ == block_.size()) {
      if (next_ == file_->blocks()) return size_t{0};
      RETURN_IF_ERROR(file_->ReadBlock(next_++, block_));
      at_ = 0;
    }
    const size_t take = std::min(n, block_.size() - at_);
    std::memcpy(dst, block_.data() + at_, take);
    at_ += take;
    return take;
  }
  uint64_t size() const override { return file_->size(); }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<const SealedFile> file_;
  std::string name_;
  std::string block_;
  size_t at_ = 0;
  uint32_t next_ = 0;
};

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  if (auto sealed = FindSealedFile(path)) {
    return std::unique_ptr<ByteSource>(std::make_unique<SealedSource>(std::move(sealed), path));
  }
  ASSIGN_OR_RETURN(int fd, OpenRegularFile(path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(InvalidArgument(path + ": cannot stat: " + ErrnoText(err)));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, size, path));
}

std::unique_ptr<ByteSource> MakeStringSource(std::string data, std::string name) {
  return std::make_unique<StringSource>(std::move(data), std::move(name));
}

Result<std::string> ReadFileHead(const std::string& path, size_t max_bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  std::string head(max_bytes, '\0');
  size_t got = 0;
  while (got < head.size()) {
    ASSIGN_OR_RETURN(size_t n, source->Read(head.data() + got, head.size() - got));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  return head;
}

// An iconv descriptor converting `encoding` to UTF-8.
class TextStream::Iconv {
 public:
  static Result<std::unique_ptr<Iconv>> Open(Encoding encoding) {
    iconv_t cd = ::iconv_open("UTF-8", IconvName(encoding));
    if (cd == reinterpret_cast<iconv_t>(-1)) {
      return Fail(Internal(std::string("iconv cannot decode ") + IconvName(encoding) +
                           " (are glibc's gconv modules installed?)"));
    }
    return std::unique_ptr<Iconv>(new Iconv(cd, encoding));
  }
  ~Iconv() { ::iconv_close(cd_); }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;

  // iconv(3): returns false with errno set on a stop short of the end.
  bool Convert(char** in, size_t* in_left, char** out, size_t* out_left) {
    return ::iconv(cd_, in, in_left, out, out_left) != static_cast<size_t>(-1);
  }
  Encoding encoding() const { return encoding_; }

 private:
  Iconv(iconv_t cd, Encoding encoding) : cd_(cd), encoding_(encoding) {}
  iconv_t cd_;
  Encoding encoding_;
};

TextStream::TextStream(std::unique_ptr<ByteSource> source, size_t chunk_bytes)
    : source_(std::move(source)), chunk_bytes_(chunk_bytes) {}

TextStream::~TextStream() = default;

Result<std::unique_ptr<TextStream>> TextStream::Open(std::unique_ptr<ByteSource> source,
                                                     std::string_view encoding,
                                                     size_t chunk_bytes) {
  auto forced = ParseEncoding(encoding);
  if (!forced) return Fail(forced.error().WithContext(source->name()));
  std::unique_ptr<TextStream> stream(
      new TextStream(std::move(source), chunk_bytes == 0 ? kDefaultChunkBytes : chunk_bytes));
  while (!stream->eof_ && stream->raw_.size() < kSniffBytes) {
    RETURN_IF_ERROR(stream->FillRaw());
  }
  RETURN_IF_ERROR(stream->Check(*forced));
  return stream;
}

Status TextStream::Check(std::optional<Encoding> forced) {
  const std::string_view head(raw_.data(), std::min(raw_.size(), kSniffBytes));
  const std::string& name = source_->name();
  if (head.starts_with(std::string_view("\xFF\xFE\0\0", 4)) ||
      head.starts_with(std::string_view("\0\0\xFE\xFF", 4))) {
    return Fail(InvalidArgument(name + ": UTF-32 text is not supported; save it as UTF-8"));
  }
  if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
    return Fail(InvalidArgument(name + ": UTF-16 text (Excel \"Unicode Text\") is not supported; "
                                       "save it as \"CSV UTF-8\""));
  }
  if (head.starts_with("PK\x03\x04")) {
    return Fail(
        InvalidArgument(name + ": binary, not a table (a ZIP archive such as an XLSX workbook)"));
  }
  if (head.find('\0') != std::string_view::npos) {
    return Fail(InvalidArgument(name + ": binary, not a table (NUL bytes in the first 8 KiB)"));
  }
  size_t control = 0;
  for (char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1A &&
        c != 0x1B) {
      ++control;
    }
  }
  if (control > head.size() / 16) {
    return Fail(InvalidArgument(name + ": binary, not a table (control bytes in the first 8 KiB)"));
  }

  forced_ = forced.has_value();
  if (head.starts_with("\xEF\xBB\xBF")) {
    if (forced && *forced != Encoding::kUtf8) {
      return Fail(InvalidArgument(name + ": starts with a UTF-8 byte-order mark, but encoding " +
                                  std::string(EncodingName(*forced)) + " was requested"));
    }
    raw_pos_ = 3;
    mode_ = Mode::kUtf8;
    return Ok();
  }
  if (head.starts_with("\x84\x31\x95\x33") && (!forced || *forced == Encoding::kGb18030)) {
    raw_pos_ = 4;
    return StartGb(Encoding::kGb18030, /*fallback=*/true);
  }
  if (!forced) return Ok();
  switch (*forced) {
    case Encoding::kUtf8:
      mode_ = Mode::kUtf8;
      return Ok();
    case Encoding::kGbk:
      return StartGb(Encoding::kGbk, /*fallback=*/false);
    case Encoding::kGb18030:
      // GBK as a fallback only adds the single byte 0x80 (the euro sign of
      // code page 936), which Excel writes and strict GB18030 lacks.
      return StartGb(Encoding::kGb18030, /*fallback=*/true);
  }
  return Ok();
}

Status TextStream::StartGb(Encoding primary, bool fallback) {
  auto p = Iconv::Open(primary);
  if (!p) return Fail(p.error().WithContext(source_->name()));
  primary_ = std::move(*p);
  fallback_.reset();
  if (fallback) {
    auto f = Iconv::Open(primary == Encoding::kGbk ? Encoding::kGb18030 : Encoding::kGbk);
    if (!f) return Fail(f.error().WithContext(source_->name()));
    fallback_ = std::move(*f);
  }
  gb_name_ = primary;
  mode_ = Mode::kGb;
  return Ok();
}

std::string TextStream::encoding() const {
  switch (mode_) {
    case Mode::kUndecided:
    case Mode::kUtf8:
      return "utf-8";
    case Mode::kGb:
      return std::string(EncodingName(gb_name_));
  }
  return "utf-8";
}

Status TextStream::FillRaw() {
  if (raw_pos_ > 0) {
    raw_.erase(0, raw_pos_);
    raw_offset_ += raw_pos_;
    raw_pos_ = 0;
  }
  const size_t old = raw_.size();
  raw_.resize(old + chunk_bytes_);
  auto n = source_->Read(raw_.data() + old, chunk_bytes_);
  if (!n) {
    raw_.resize(old);
    error_ = n.error();
    return Fail(n.error());
  }
  raw_.resize(old + *n);
  if (*n == 0) eof_ = true;
  return Ok();
}

Result<bool> TextStream::Read(std::string& out) {
  for (;;) {
    if (error_) return Fail(*error_);
    if (raw_pos_ == raw_.size() || need_more_) {
      if (!eof_) {
        RETURN_IF_ERROR(FillRaw());
        need_more_ = false;
        continue;
      }
      if (raw_pos_ == raw_.size()) return false;
    }
    const size_t before = out.size();
    DecodeSome(out);
    if (out.size() > before) return true;
  }
}

void TextStream::SetDecodeError(uint64_t offset, std::string_view what) {
  std::string message = "byte offset " + std::to_string(offset) + " ";
  if (neither_) {
    message += "is not valid UTF-8, GBK or GB18030";
  } else {
    message += std::string(what) + " " + encoding() +
               (forced_ ? " (requested encoding)" : " (detected encoding)");
  }
  error_ = InvalidArgument(std::move(message));
}

void TextStream::DecodeSome(std::string& out) {
  switch (mode_) {
    case Mode::kUndecided: {
      const char* p = raw_.data() + raw_pos_;
      const size_t n = raw_.size() - raw_pos_;
      const size_t ascii = AsciiPrefix(p, n);
      out.append(p, ascii);
      raw_pos_ += ascii;
      if (ascii == n) return;
      if (n - ascii < kSampleBytes && !eof_) {
        need_more_ = true;
        return;
      }
      Decide(out);
      return;
    }
    case Mode::kUtf8:
      DecodeUtf8(out);
      return;
    case Mode::kGb: {
      const size_t consumed = DecodeGb(raw_.data() + raw_pos_, raw_.size() - raw_pos_, out);
      raw_pos_ += consumed;
      return;
    }
  }
}

void TextStream::Decide(std::string& out) {
  const char* p = raw_.data() + raw_pos_;
  const size_t n = raw_.size() - raw_pos_;
  bool truncated = false;
  const size_t utf8_ok = ValidUtf8Prefix(std::string_view(p, n), &truncated);
  if (utf8_ok == n || (truncated && !eof_)) {
    mode_ = Mode::kUtf8;
    DecodeUtf8(out);
    return;
  }
  if (Status s = StartGb(Encoding::kGbk, /*fallback=*/true); !s) {
    error_ = s.error();
    return;
  }
  const size_t before = out.size();
  const size_t gb_ok = DecodeGb(p, n, out);
  if (!error_) {
    raw_pos_ += gb_ok;
    return;
  }
  // Neither decodes the sample: keep whichever goes further, so that the
  // error names the first byte that neither explains.
  neither_ = true;
  if (utf8_ok >= gb_ok) {
    out.resize(before);
    error_.reset();
    need_more_ = false;
    primary_.reset();
    fallback_.reset();
    mode_ = Mode::kUtf8;
    DecodeUtf8(out);
  } else {
    raw_pos_ += gb_ok;
    SetDecodeError(raw_offset_ + raw_pos_, "");
  }
}

void TextStream::DecodeUtf8(std::string& out) {
  const char* p = raw_.data() + raw_pos_;
  const size_t n = raw_.size() - raw_pos_;
  bool truncated = false;
  const size_t ok = ValidUtf8Prefix(std::string_view(p, n), &truncated);
  out.append(p, ok);
  raw_pos_ += ok;
  if (ok == n) return;
  if (truncated && !eof_) {
    need_more_ = true;
  } else if (truncated) {
    SetDecodeError(raw_offset_ + raw_pos_, "starts a character cut off by the end of input in");
  } else {
    SetDecodeError(raw_offset_ + raw_pos_, "is not valid");
  }
}

size_t TextStream::DecodeGb(const char* p, size_t n, std::string& out) {
  const size_t old = out.size();
  out.resize(old + n + n / 2 + 16);
  char* in = const_cast<char*>(p);
  size_t in_left = n;
  char* op = out.data() + old;
  size_t out_left = out.size() - old;
  // Makes room for at least `need` more output bytes.
  auto grow = [&](size_t need) {
    const size_t used = static_cast<size_t>(op - out.data());
    out.resize(out.size() + std::max(need, in_left + 16));
    op = out.data() + used;
    out_left = out.size() - used;
  };
  while (in_left > 0) {
    if (primary_->Convert(&in, &in_left, &op, &out_left)) break;
    const int err = errno;
    if (err == E2BIG) {
      grow(in_left + 16);
      continue;
    }
    if (err == EINVAL) {  // an incomplete character at the end
      if (!eof_) {
        need_more_ = true;
      } else {
        SetDecodeError(raw_offset_ + raw_pos_ + static_cast<size_t>(in - p),
                       "starts a character cut off by the end of input in");
      }
      break;
    }
    // EILSEQ: a sequence the primary cannot decode; the fallback may.
    bool progressed = false;
    int fallback_err = err;
    if (fallback_) {
      if (out_left < 16) grow(16);
      char* in2 = in;
      size_t left2 = std::min<size_t>(in_left, 4);
      const size_t left2_before = left2;
      if (!fallback_->Convert(&in2, &left2, &op, &out_left)) fallback_err = errno;
      if (left2 < left2_before) {
        progressed = true;
        in_left -= left2_before - left2;
        in = in2;
        if (gb_name_ == Encoding::kGbk && fallback_->encoding() == Encoding::kGb18030) {
          // Only GB18030 decodes this: it is the file's encoding from now on.
          std::swap(primary_, fallback_);
          gb_name_ = Encoding::kGb18030;
        }
      }
    }
    if (progressed) continue;
    if (fallback_err == EINVAL && in_left < 4 && !eof_) {
      need_more_ = true;  // maybe a 4-byte GB18030 sequence, cut off
    } else if (fallback_err == EINVAL && in_left < 4) {
      SetDecodeError(raw_offset_ + raw_pos_ + static_cast<size_t>(in - p),
                     "starts a character cut off by the end of input in");
    } else {
      SetDecodeError(raw_offset_ + raw_pos_ + static_cast<size_t>(in - p), "is not valid");
    }
    break;
  }
  out.resize(static_cast<size_t>(op - out.data()));
  return static_cast<size_t>(in - p);
}

}  // namespace custos::ingest
