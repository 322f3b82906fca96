// The ZIP container of an .xlsx workbook, read with libzip (internal to
// src/ingest): parts are found by name and streamed out, each checked
// against a size limit and against zip bombs before any byte is inflated.
#ifndef CUSTOS_INGEST_ZIP_ARCHIVE_H_
#define CUSTOS_INGEST_ZIP_ARCHIVE_H_

#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "base/result.h"

namespace custos::ingest::internal {

// How much of a part is decompressed at a time.
inline constexpr size_t kZipReadChunk = 64 << 10;

// Zip bombs: a part bigger than kZipRatioCheckAbove may expand at most
// kZipMaxExpansion times. Spreadsheet XML compresses 5-20x; deflate's
// ceiling is about 1000x, reached only by long runs of one byte.
inline constexpr uint64_t kZipRatioCheckAbove = 8 << 20;
inline constexpr uint64_t kZipMaxExpansion = 500;

// One part of the package, streamed out of the archive. Owns the open
// entry; must not outlive the ZipArchive that opened it.
class ZipEntryReader {
 public:
  ZipEntryReader(zip_file_t* file, std::string where, uint64_t size)
      : file_(file), where_(std::move(where)), size_(size) {}
  ~ZipEntryReader();
  ZipEntryReader(const ZipEntryReader&) = delete;
  ZipEntryReader& operator=(const ZipEntryReader&) = delete;

  // Appends up to `n` bytes to `out`; returns how many, 0 only at the end.
  // kInvalidArgument "WHERE: corrupt ZIP entry: ..." for a bad CRC, bad
  // compressed data, or more bytes than the entry declares.
  Result<size_t> Read(std::string& out, size_t n);
  // Uncompressed bytes read so far, and the entry's declared size.
  uint64_t consumed() const { return consumed_; }
  uint64_t size() const { return size_; }
  // "FILE: PART", for messages.
  const std::string& where() const { return where_; }

 private:
  zip_file_t* file_;
  std::string where_;
  uint64_t size_;
  uint64_t consumed_ = 0;
};

// An open ZIP archive, from a file or from memory. Thread-compatible.
class ZipArchive {
 public:
  // `path` (or `name`, for an in-memory archive) is what messages use.
  // Errors: kNotFound (no file), kUnavailable (cannot read), kInternal (out
  // of memory), kInvalidArgument (not a ZIP, or a corrupt one).
  static Result<std::unique_ptr<ZipArchive>> OpenFile(const std::string& path);
  static Result<std::unique_ptr<ZipArchive>> OpenMemory(std::string data, const std::string& name);

  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::string& name() const { return name_; }
  // Whether the archive has `part` (names compared ignoring ASCII case).
  bool Has(const std::string& part) const;
  // Opens a part for streaming; checks it against `max_bytes` and the
  // expansion limit. kInvalidArgument if it is missing, encrypted, too
  // large, or expands too much.
  Result<std::unique_ptr<ZipEntryReader>> Open(const std::string& part, uint64_t max_bytes) const;
  // The whole of a part; errors as Open and ZipEntryReader::Read.
  Result<std::string> ReadWhole(const std::string& part, uint64_t max_bytes) const;

 private:
  ZipArchive(std::string name, std::string data) : name_(std::move(name)), data_(std::move(data)) {}
  static Result<std::unique_ptr<ZipArchive>> Finish(std::unique_ptr<ZipArchive> archive, zip_t* zip,
                                                    int code);

  std::string name_;
  std::string data_;  // must outlive zip_ (an in-memory source points into it)
  zip_t* zip_ = nullptr;
};

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_ZIP_ARCHIVE_H_
