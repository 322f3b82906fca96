#include "package/tar.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace custos::package {
namespace {

// ustar header layout (offset, size).
struct Field {
  size_t offset;
  size_t size;
};
constexpr Field kName{0, 100};
constexpr Field kMode{100, 8};
constexpr Field kUid{108, 8};
constexpr Field kGid{116, 8};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChecksum{148, 8};
constexpr size_t kTypeflag = 156;
constexpr Field kLinkname{157, 100};
constexpr Field kMagic{257, 6};
constexpr Field kVersion{263, 2};
constexpr Field kUname{265, 32};
constexpr Field kGname{297, 32};
constexpr Field kDevmajor{329, 8};
constexpr Field kDevminor{337, 8};
constexpr Field kPrefix{345, 155};

constexpr std::string_view kOwner = "custos";
constexpr uint32_t kFileMode = 0644;
constexpr int64_t kMaxMtime = 077777777777;
// Names with a prefix field: prefix(155) '/' name(100).
constexpr size_t kMaxReadNameSize = 256;

using Block = std::array<uint8_t, kTarBlockSize>;

std::string_view FieldText(const Block& b, Field f) {
  return {reinterpret_cast<const char*>(b.data()) + f.offset, f.size};
}

// Writes `value` as zero-filled octal in all but the field's last byte, which
// stays NUL.
void PutOctal(Block& b, Field f, uint64_t value) {
  for (size_t i = f.size - 1; i-- > 0;) {
    b[f.offset + i] = static_cast<uint8_t>('0' + (value & 7));
    value >>= 3;
  }
}

void PutText(Block& b, Field f, std::string_view text) {
  std::memcpy(b.data() + f.offset, text.data(), std::min(text.size(), f.size));
}

uint32_t Checksum(const Block& b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    const bool in_field = i >= kChecksum.offset && i < kChecksum.offset + kChecksum.size;
    sum += in_field ? uint32_t{' '} : uint32_t{b[i]};
  }
  return sum;
}

bool IsZero(const Block& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

// Octal number: optional leading spaces, one or more digits, then only NUL
// or space to the end of the field.
std::optional<uint64_t> ParseOctal(std::string_view field) {
  size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  uint64_t value = 0;
  size_t digits = 0;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
    if (value > (UINT64_MAX >> 3)) return std::nullopt;
    value = value << 3 | static_cast<uint64_t>(field[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  for (; i < field.size(); ++i) {
    if (field[i] != '\0' && field[i] != ' ') return std::nullopt;
  }
  return value;
}

// A NUL-terminated text field; bytes after the NUL must be NUL too.
std::optional<std::string_view> ParseText(std::string_view field) {
  const size_t nul = field.find('\0');
  if (nul == std::string_view::npos) return field;
  if (field.find_first_not_of('\0', nul) != std::string_view::npos) return std::nullopt;
  return field.substr(0, nul);
}

Status CheckName(std::string_view name, size_t max_size) {
  auto bad = [&](const std::string& why) {
    return Fail(InvalidArgument("tar entry name is not acceptable: " + why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > max_size) return bad("longer than " + std::to_string(max_size) + " bytes");
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) return bad("character outside printable ASCII");
    if (c == '\\') return bad("backslash");
  }
  if (name.front() == '/') return bad("absolute path");
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view part = name.substr(start, slash - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Ok();
}

std::string TypeName(char type) {
  switch (type) {
    case '1':
      return "hard link";
    case '2':
      return "symbolic link";
    case '3':
      return "character device";
    case '4':
      return "block device";
    case '5':
      return "directory";
    case '6':
      return "FIFO";
    case '7':
      return "contiguous file";
    case 'x':
    case 'g':
      return "pax extended header";
    case 'L':
    case 'K':
      return "GNU long name";
    default:
      return "unknown type";
  }
}

}  // namespace

Status CheckTarName(std::string_view name) { return CheckName(name, kTarMaxNameSize); }

// ---- writer ----------------------------------------------------------------

Status TarWriter::BeginFile(std::string_view name, uint64_t size, int64_t mtime_unix_seconds) {
  if (finished_) return Fail(FailedPrecondition("tar archive already finished"));
  if (open_) return Fail(FailedPrecondition("tar entry '" + open_name_ + "' is still open"));
  RETURN_IF_ERROR(CheckTarName(name));
  if (names_.contains(name)) {
    return Fail(InvalidArgument("tar entry '" + std::string(name) + "' added twice"));
  }
  if (size > kTarMaxFileSize) {
    return Fail(InvalidArgument("tar entry '" + std::string(name) + "' is larger than 8 GiB"));
  }
  if (mtime_unix_seconds < 0 || mtime_unix_seconds > kMaxMtime) {
    return Fail(InvalidArgument("tar entry '" + std::string(name) + "' has an mtime out of range"));
  }
  Block b{};
  PutText(b, kName, name);
  PutOctal(b, kMode, kFileMode);
  PutOctal(b, kUid, 0);
  PutOctal(b, kGid, 0);
  PutOctal(b, kSize, size);
  PutOctal(b, kMtime, static_cast<uint64_t>(mtime_unix_seconds));
  b[kTypeflag] = '0';
  PutText(b, kMagic, std::string_view("ustar\0", 6));
  PutText(b, kVersion, "00");
  PutText(b, kUname, kOwner);
  PutText(b, kGname, kOwner);
  PutOctal(b, kDevmajor, 0);
  PutOctal(b, kDevminor, 0);
  // chksum: six octal digits, NUL, space (as POSIX tar and GNU tar write it).
  const uint32_t sum = Checksum(b);
  PutOctal(b, Field{kChecksum.offset, 7}, sum);
  b[kChecksum.offset + 6] = '\0';
  b[kChecksum.offset + 7] = ' ';

  RETURN_IF_ERROR(out_.Write(b));
  names_.emplace(name);
  open_name_ = std::string(name);
  open_ = true;
  size_ = size;
  written_ = 0;
  return Ok();
}

Status TarWriter::Write(ByteSpan data) {
  if (!open_) return Fail(FailedPrecondition("no tar entry is open"));
  if (data.size() > size_ - written_) {
    return Fail(FailedPrecondition("tar entry content exceeds the size given to BeginFile"));
  }
  RETURN_IF_ERROR(out_.Write(data));
  written_ += data.size();
  return Ok();
}

Status TarWriter::EndFile() {
  if (!open_) return Fail(FailedPrecondition("no tar entry is open"));
  if (written_ != size_) {
    return Fail(FailedPrecondition("tar entry content is " + std::to_string(written_) +
                                   " bytes, but BeginFile said " + std::to_string(size_)));
  }
  open_ = false;
  static constexpr Block kZero{};
  const size_t padding = (kTarBlockSize - size_ % kTarBlockSize) % kTarBlockSize;
  return out_.Write(ByteSpan(kZero.data(), padding));
}

Status TarWriter::AddFile(std::string_view name, ByteSpan content, int64_t mtime_unix_seconds) {
  RETURN_IF_ERROR(BeginFile(name, content.size(), mtime_unix_seconds));
  RETURN_IF_ERROR(Write(content));
  return EndFile();
}

Status TarWriter::Finish() {
  if (finished_) return Fail(FailedPrecondition("tar archive already finished"));
  if (open_) return Fail(FailedPrecondition("a tar entry is still open"));
  finished_ = true;
  static constexpr std::array<uint8_t, 2 * kTarBlockSize> kEnd{};
  return out_.Write(kEnd);
}

// ---- file writer -----------------------------------------------------------

namespace {

uint64_t PaddedSize(uint64_t size) {
  return (size + kTarBlockSize - 1) / kTarBlockSize * kTarBlockSize;
}

}  // namespace

uint64_t TarFileWriter::ContentOffset(std::span<const uint64_t> leading_sizes) {
  uint64_t offset = kTarBlockSize;  // the streamed entry's header
  for (uint64_t size : leading_sizes) offset += kTarBlockSize + PaddedSize(size);
  return offset;
}

TarFileWriter::TarFileWriter(int fd, std::string name,
                             std::span<const uint64_t> leading_size_guesses)
    : fd_(fd), name_(std::move(name)), content_(*this, ContentOffset(leading_size_guesses)) {}

Status TarFileWriter::ContentSink::Write(ByteSpan data) {
  if (owner_.finished_) return Fail(FailedPrecondition("tar archive already finished"));
  RETURN_IF_ERROR(owner_.WriteAt(data, offset_ + written_));
  written_ += data.size();
  // Every 8 MiB, start writing what came before to the disk (without
  // waiting), so that the caller's closing fsync waits for the last piece
  // only, not for the whole payload (a million people: 200 MB, about 0.1 s
  // of a package). Best effort: fsync reports any error.
  constexpr uint64_t kFlushStep = uint64_t{8} << 20;
  if (written_ - flushing_from_ >= kFlushStep) {
    (void)::sync_file_range(owner_.fd_, static_cast<off_t>(offset_ + flushing_from_),
                            static_cast<off_t>(written_ - flushing_from_), SYNC_FILE_RANGE_WRITE);
    flushing_from_ = written_;
  }
  return Ok();
}

Status TarFileWriter::WriteAt(ByteSpan data, uint64_t offset) const {
  const int e = PwriteAll(fd_, data.data(), data.size(), offset);
  if (e == 0) return Ok();
  return Fail(Unavailable("cannot write " + name_ + ": " +
                          (e > 0 ? std::string(std::strerror(e)) : std::string("nothing written"))));
}

// Copies the content to start at `to`, a piece at a time, in the order that
// never overwrites a piece before it was read: front first when moving it
// towards the start of the file, back first when moving it towards the end.
Status TarFileWriter::MoveContent(uint64_t to) const {
  const uint64_t from = content_.offset();
  const uint64_t size = content_.written();
  std::vector<uint8_t> piece(std::min<uint64_t>(size, uint64_t{1} << 20));
  for (uint64_t done = 0; done < size;) {
    const uint64_t n = std::min<uint64_t>(piece.size(), size - done);
    const uint64_t at = to < from ? done : size - done - n;
    const int e = PreadAll(fd_, piece.data(), static_cast<size_t>(n), from + at);
    if (e != 0) {
      return Fail(Unavailable("cannot read back " + name_ + ": " +
                              (e < 0 ? std::string("unexpected end") : std::strerror(e))));
    }
    RETURN_IF_ERROR(WriteAt(ByteSpan(piece.data(), n), to + at));
    done += n;
  }
  return Ok();
}

Status TarFileWriter::Finish(std::span<const TarMember> leading, std::string_view name,
                             int64_t mtime) {
  if (finished_) return Fail(FailedPrecondition("tar archive already finished"));
  finished_ = true;
  Bytes head;
  BytesSink head_sink(head);
  TarWriter tar(head_sink);
  for (const TarMember& m : leading) RETURN_IF_ERROR(tar.AddFile(m.name, m.content, mtime));
  const uint64_t size = content_.written();
  RETURN_IF_ERROR(tar.BeginFile(name, size, mtime));
  if (head.size() != content_.offset()) RETURN_IF_ERROR(MoveContent(head.size()));
  RETURN_IF_ERROR(WriteAt(head, 0));
  // The content's padding and the end-of-archive marker, all zero bytes.
  const uint64_t end = head.size() + PaddedSize(size) + 2 * kTarBlockSize;
  const Bytes tail(end - head.size() - size, 0);
  RETURN_IF_ERROR(WriteAt(tail, head.size() + size));
  // Content moved towards the start leaves its old end beyond the archive's.
  if (::ftruncate(fd_, static_cast<off_t>(end)) != 0) {
    return Fail(Unavailable("cannot truncate " + name_ + ": " + std::strerror(errno)));
  }
  return Ok();
}

// ---- reader ----------------------------------------------------------------

Status TarReader::ReadExactly(std::span<uint8_t> out, const std::string& what) {
  while (!out.empty()) {
    ASSIGN_OR_RETURN(const size_t n, in_.Read(out));
    if (n == 0) return Fail(DataLoss("tar archive is truncated " + what));
    out = out.subspan(n);
  }
  return Ok();
}

Status TarReader::Skip(uint64_t n, const std::string& what) {
  std::array<uint8_t, 4096> scratch;
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, scratch.size()));
    RETURN_IF_ERROR(ReadExactly(std::span(scratch.data(), chunk), what));
    n -= chunk;
  }
  return Ok();
}

Status TarReader::CheckTail() {
  std::array<uint8_t, 4096> scratch;
  for (;;) {
    ASSIGN_OR_RETURN(const size_t n, in_.Read(scratch));
    if (n == 0) return Ok();
    if (!std::all_of(scratch.begin(), scratch.begin() + static_cast<ptrdiff_t>(n),
                     [](uint8_t x) { return x == 0; })) {
      return Fail(DataLoss("tar archive has data after its end-of-archive marker"));
    }
  }
}

Result<std::optional<TarEntry>> TarReader::Next() {
  if (error_) return Fail(*error_);
  Result<std::optional<TarEntry>> entry = NextImpl();
  if (!entry) error_ = entry.error();
  return entry;
}

Result<std::optional<TarEntry>> TarReader::NextImpl() {
  if (ended_) return std::optional<TarEntry>();
  if (!current_.empty()) {
    RETURN_IF_ERROR(Skip(remaining_ + padding_, "inside entry '" + current_ + "'"));
    remaining_ = padding_ = 0;
    current_.clear();
  }
  const std::string number = "entry " + std::to_string(entries_ + 1);
  Block b;
  RETURN_IF_ERROR(ReadExactly(b, "at the header of " + number + " (no end-of-archive marker)"));
  if (IsZero(b)) {
    Block second;
    RETURN_IF_ERROR(ReadExactly(second, "inside the end-of-archive marker"));
    if (!IsZero(second)) {
      return Fail(DataLoss("tar archive has a lone zero block before " + number));
    }
    RETURN_IF_ERROR(CheckTail());
    ended_ = true;
    return std::optional<TarEntry>();
  }
  if (entries_ == options_.max_entries) {
    return Fail(InvalidArgument("tar archive has more than " +
                                std::to_string(options_.max_entries) + " entries"));
  }
  const std::optional<uint64_t> stored_sum = ParseOctal(FieldText(b, kChecksum));
  if (!stored_sum || *stored_sum != Checksum(b)) {
    return Fail(DataLoss("tar " + number + ": header checksum mismatch"));
  }
  if (FieldText(b, kMagic) != std::string_view("ustar\0", 6) || FieldText(b, kVersion) != "00") {
    return Fail(InvalidArgument("tar " + number + ": not a POSIX ustar header" +
                                (FieldText(b, kMagic) == "ustar " ? " (GNU tar format)" : "")));
  }
  const std::optional<std::string_view> name = ParseText(FieldText(b, kName));
  const std::optional<std::string_view> prefix = ParseText(FieldText(b, kPrefix));
  if (!name || !prefix) return Fail(InvalidArgument("tar " + number + ": malformed name field"));
  TarEntry entry;
  entry.name =
      prefix->empty() ? std::string(*name) : std::string(*prefix) + "/" + std::string(*name);
  Status name_ok = CheckName(entry.name, kMaxReadNameSize);
  if (!name_ok) return Fail(name_ok.error().WithContext("tar " + number));
  const std::string what = "tar " + number + " ('" + entry.name + "')";

  const char type = static_cast<char>(b[kTypeflag]);
  if (type != '0' && type != '\0') {
    return Fail(InvalidArgument(what + ": type '" +
                                std::string(1, type >= 0x20 && type < 0x7f ? type : '?') + "' (" +
                                TypeName(type) + ") is not allowed; only regular files"));
  }
  const std::optional<std::string_view> linkname = ParseText(FieldText(b, kLinkname));
  if (!linkname || !linkname->empty()) {
    return Fail(InvalidArgument(what + ": a regular file with a link name"));
  }
  if ((b[kSize.offset] & 0x80) != 0 || (b[kMtime.offset] & 0x80) != 0) {
    return Fail(InvalidArgument(what + ": base-256 numbers are not supported"));
  }
  const std::optional<uint64_t> size = ParseOctal(FieldText(b, kSize));
  const std::optional<uint64_t> mtime = ParseOctal(FieldText(b, kMtime));
  const std::optional<uint64_t> mode = ParseOctal(FieldText(b, kMode));
  if (!size || !mtime || !mode) return Fail(InvalidArgument(what + ": malformed numeric field"));
  if (*mode > 0777) return Fail(InvalidArgument(what + ": mode has setuid, setgid or sticky bits"));
  if (*size > options_.max_entry_size) {
    return Fail(InvalidArgument(what + ": larger than the " +
                                std::to_string(options_.max_entry_size) + "-byte limit"));
  }
  if (names_.contains(entry.name)) return Fail(InvalidArgument(what + ": duplicate name"));

  entry.size = *size;
  entry.mtime = static_cast<int64_t>(*mtime);
  entry.mode = static_cast<uint32_t>(*mode);
  names_.insert(entry.name);
  ++entries_;
  current_ = entry.name;
  remaining_ = entry.size;
  padding_ = (kTarBlockSize - entry.size % kTarBlockSize) % kTarBlockSize;
  return std::optional<TarEntry>(std::move(entry));
}

Result<size_t> TarReader::Read(std::span<uint8_t> out) {
  if (error_) return Fail(*error_);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
  Status status = ReadExactly(out.first(n), "inside entry '" + current_ + "'");
  if (!status) {
    error_ = status.error();
    return Fail(*error_);
  }
  remaining_ -= n;
  return n;
}

Status TarReader::ReadContent(ByteSink& sink) {
  std::vector<uint8_t> buffer(size_t{64} * 1024);
  for (;;) {
    ASSIGN_OR_RETURN(const size_t n, Read(buffer));
    if (n == 0) return Ok();
    RETURN_IF_ERROR(sink.Write(ByteSpan(buffer.data(), n)));
  }
}

Result<std::vector<TarFile>> ReadTarArchive(ByteSpan archive, TarReadOptions options) {
  SpanSource source(archive);
  TarReader reader(source, options);
  std::vector<TarFile> files;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) return files;
    TarFile file{std::move(*entry), {}};
    BytesSink sink(file.content);
    RETURN_IF_ERROR(reader.ReadContent(sink));
    files.push_back(std::move(file));
  }
}

}  // namespace custos::package
