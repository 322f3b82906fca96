// Byte streams: how the package formats (age, tar) move data that is too
// large to hold in memory, one chunk at a time.
//
// A ByteSink receives bytes; a ByteSource hands them out. Both are narrow
// interfaces so a format can be tested against memory and run against files
// (or a tar entry, or an age decryptor) without knowing which.
//
// Thread safety: none of these classes is safe for concurrent use.
#ifndef CUSTOS_PACKAGE_BYTE_STREAM_H_
#define CUSTOS_PACKAGE_BYTE_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/kdf.h"

namespace custos::package {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Appends `data`. After an error the sink is unusable; writers stop.
  virtual Status Write(ByteSpan data) = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes into `out`. Returns 0 only at the end of
  // the input (or when out is empty).
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
};

// Appends to a caller-owned Bytes. REQUIRES: `out` outlives the sink.
class BytesSink final : public ByteSink {
 public:
  explicit BytesSink(Bytes& out) : out_(out) {}
  Status Write(ByteSpan data) override;

 private:
  Bytes& out_;
};

// Counts and hashes (SHA-256) what passes through, and hands it on to
// `next` if there is one. REQUIRES: `next` outlives the sink.
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next = nullptr) : next_(next) {}
  Status Write(ByteSpan data) override;
  uint64_t size() const { return size_; }
  crypto::Digest Finish() { return hash_.Finish(); }

 private:
  ByteSink* next_;
  crypto::Sha256Stream hash_;
  uint64_t size_ = 0;
};

// Reads from caller-owned memory. REQUIRES: the memory outlives the source.
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(ByteSpan data) : data_(data) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  size_t remaining() const { return data_.size(); }

 private:
  ByteSpan data_;
};

// Reads a file from its start. Errors name the file.
class FileSource final : public ByteSource {
 public:
  // kNotFound if there is no such file, kUnavailable if it cannot be opened.
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  Result<size_t> Read(std::span<uint8_t> out) override;  // kUnavailable on a read error

 private:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace custos::package

#endif  // CUSTOS_PACKAGE_BYTE_STREAM_H_
