// The handover package's container: a minimal POSIX ustar archive
// (POSIX.1-1988 / pax "ustar" format) of regular files, which stock
// `tar -tvf` and `tar -xf` read.
//
//   512-byte header | content | zero padding to 512 | ... | 2 zero blocks
//
// Header fields written (octal numbers NUL-terminated, zero-filled):
//   name[100]   the file name, at most 100 bytes, prefix[155] empty
//   mode "0000644"  uid/gid "0000000"  size[12]  mtime[12]  chksum[8]
//   typeflag '0'  magic "ustar\0"  version "00"  uname/gname "custos"
//
// Names (writer and reader alike) are relative paths of printable ASCII,
// '/'-separated, without empty, "." or ".." components or backslashes. The
// reader accepts only regular files (typeflag '0' or NUL) and rejects links,
// devices, directories, pax and GNU extension headers, duplicate names,
// base-256 numbers, bad checksums, truncation, and anything but zero bytes
// after the end-of-archive marker.
//
// Error codes: kInvalidArgument for what the format forbids or Custos does
// not accept (a bad name, an entry type, too many entries); kDataLoss for a
// bad checksum, truncation or trailing data. Messages name the entry (by
// number, and by name once its header checked out).
//
// Thread safety: a TarWriter or TarReader is used by one thread at a time.
#ifndef CUSTOS_PACKAGE_TAR_H_
#define CUSTOS_PACKAGE_TAR_H_

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "package/byte_stream.h"

namespace custos::package {

inline constexpr size_t kTarBlockSize = 512;
inline constexpr size_t kTarMaxNameSize = 100;
// The largest size an 11-digit octal field holds (8 GiB - 1).
inline constexpr uint64_t kTarMaxFileSize = 077777777777ull;

// kInvalidArgument unless `name` is an acceptable entry name (see above).
Status CheckTarName(std::string_view name);

// Writes an archive to a sink, one file at a time:
//
//   TarWriter tar(sink);
//   RETURN_IF_ERROR(tar.BeginFile("payload.jsonl.age", size, mtime));
//   RETURN_IF_ERROR(tar.Write(piece));   // exactly `size` bytes in total
//   RETURN_IF_ERROR(tar.EndFile());
//   RETURN_IF_ERROR(tar.Finish());       // the end-of-archive marker
class TarWriter {
 public:
  // REQUIRES: `out` outlives the writer.
  explicit TarWriter(ByteSink& out) : out_(out) {}

  // kInvalidArgument on a bad or duplicate name, a size above
  // kTarMaxFileSize, or an mtime outside 0..8^11-1; kFailedPrecondition if
  // a file is open or the archive finished.
  Status BeginFile(std::string_view name, uint64_t size, int64_t mtime_unix_seconds);
  // kFailedPrecondition past the size given to BeginFile.
  Status Write(ByteSpan data);
  // kFailedPrecondition unless exactly `size` bytes were written.
  Status EndFile();
  // BeginFile + Write + EndFile.
  Status AddFile(std::string_view name, ByteSpan content, int64_t mtime_unix_seconds);
  // Writes two zero blocks. No file may be open.
  Status Finish();

 private:
  ByteSink& out_;
  std::set<std::string, std::less<>> names_;
  std::string open_name_;  // for messages
  bool open_ = false;
  bool finished_ = false;
  uint64_t size_ = 0;
  uint64_t written_ = 0;
};

// A file for TarFileWriter::Finish to put in front of the streamed entry.
struct TarMember {
  std::string_view name;
  ByteSpan content;
};

// Writes an archive into a file whose last entry is large and streamed, and
// whose other entries are known only once it is complete (the package: the
// manifest holds the payload's size and hash). The streamed content goes
// straight to its final offset, so it is written once instead of being
// spooled to a temporary file and copied:
//
//   TarFileWriter tar(fd, name, {manifest_size_guess, sig_size_guess});
//   RETURN_IF_ERROR(tar.content().Write(piece));   // any number of times
//   RETURN_IF_ERROR(tar.Finish({{"manifest.json", m}, {"manifest.json.sig", s}},
//                              "payload.jsonl.age", mtime));
//
// The bytes are exactly those TarWriter writes for the same entries. Where
// the content starts depends on the sizes of the leading entries (each
// padded to whole blocks), so the writer starts it where the guessed sizes
// put it; when Finish finds they do not, it moves the content within the
// file (one more pass over it): a wrong guess costs time, never correctness.
//
// Error codes: those of TarWriter for names, sizes and mtimes (checked by
// Finish); kFailedPrecondition for a write after Finish or a second Finish;
// kUnavailable on an I/O error (e.g. disk full). After an error the file
// holds no usable archive.
class TarFileWriter {
 public:
  // REQUIRES: `fd` is an empty regular file open for reading and writing,
  // which the caller owns, closes, and does not otherwise write while the
  // writer is in use. `name` appears in error messages.
  TarFileWriter(int fd, std::string name, std::span<const uint64_t> leading_size_guesses);
  TarFileWriter(const TarFileWriter&) = delete;
  TarFileWriter& operator=(const TarFileWriter&) = delete;

  // The streamed entry's content, in order. Valid as long as the writer.
  ByteSink& content() { return content_; }
  uint64_t content_size() const { return content_.written(); }

  // Writes `leading` and the streamed entry's header (`name`; all entries
  // with `mtime`) in front of the content, then its padding and the
  // end-of-archive marker; the file then holds exactly the archive.
  Status Finish(std::span<const TarMember> leading, std::string_view name, int64_t mtime);

  // Where the content starts in an archive whose leading entries have
  // these sizes: their headers and padded contents, and its own header.
  static uint64_t ContentOffset(std::span<const uint64_t> leading_sizes);

 private:
  class ContentSink final : public ByteSink {
   public:
    ContentSink(const TarFileWriter& owner, uint64_t offset) : owner_(owner), offset_(offset) {}
    Status Write(ByteSpan data) override;
    uint64_t offset() const { return offset_; }
    uint64_t written() const { return written_; }

   private:
    const TarFileWriter& owner_;
    uint64_t offset_;
    uint64_t written_ = 0;
    uint64_t flushing_from_ = 0;  // content bytes before this were handed to writeback
  };

  Status WriteAt(ByteSpan data, uint64_t offset) const;
  Status MoveContent(uint64_t to) const;

  int fd_;
  std::string name_;
  ContentSink content_;
  bool finished_ = false;
};

struct TarEntry {
  std::string name;
  uint64_t size = 0;
  int64_t mtime = 0;  // Unix seconds
  uint32_t mode = 0;  // permission bits as stored
};

struct TarReadOptions {
  size_t max_entries = 64;
  uint64_t max_entry_size = kTarMaxFileSize;
};

// Reads an archive from a source, validating as it goes.
//
//   TarReader tar(source);
//   for (;;) {
//     ASSIGN_OR_RETURN(std::optional<TarEntry> entry, tar.Next());
//     if (!entry) break;                    // end marker and clean tail seen
//     RETURN_IF_ERROR(tar.ReadContent(sink));
//   }
class TarReader {
 public:
  // REQUIRES: `in` outlives the reader.
  explicit TarReader(ByteSource& in, TarReadOptions options = {}) : in_(in), options_(options) {}

  // The next entry's header, skipping whatever of the previous entry's
  // content was not read. std::nullopt once the end-of-archive marker (and
  // nothing but zero bytes after it) has been read. After an error every
  // later call returns it again.
  Result<std::optional<TarEntry>> Next();

  // Reads up to out.size() bytes of the current entry's content; 0 at its end.
  Result<size_t> Read(std::span<uint8_t> out);
  // Reads the rest of the current entry's content into `sink`.
  Status ReadContent(ByteSink& sink);

 private:
  Status ReadExactly(std::span<uint8_t> out, const std::string& what);
  Status Skip(uint64_t n, const std::string& what);
  Status CheckTail();
  Result<std::optional<TarEntry>> NextImpl();

  ByteSource& in_;
  TarReadOptions options_;
  std::set<std::string, std::less<>> names_;
  size_t entries_ = 0;
  std::string current_;     // name of the current entry, for messages
  uint64_t remaining_ = 0;  // content bytes of the current entry not yet read
  uint64_t padding_ = 0;    // padding after the current entry's content
  bool ended_ = false;
  std::optional<Error> error_;
};

// A whole archive in memory (for small archives and tests).
struct TarFile {
  TarEntry entry;
  Bytes content;
};
Result<std::vector<TarFile>> ReadTarArchive(ByteSpan archive, TarReadOptions options = {});

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_TAR_H_
