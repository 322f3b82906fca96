#include "package/byte_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace custos::package {

Status BytesSink::Write(ByteSpan data) {
  out_.insert(out_.end(), data.begin(), data.end());
  return Ok();
}

Result<size_t> SpanSource::Read(std::span<uint8_t> out) {
  const size_t n = std::min(out.size(), data_.size());
  if (n > 0) std::memcpy(out.data(), data_.data(), n);
  data_ = data_.subspan(n);
  return n;
}

Status HashingSink::Write(ByteSpan data) {
  hash_.Update(data);
  size_ += data.size();
  return next_ != nullptr ? next_->Write(data) : Ok();
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));
  return std::unique_ptr<FileSource>(new FileSource(fd, path));
}

FileSource::~FileSource() { ::close(fd_); }

Result<size_t> FileSource::Read(std::span<uint8_t> out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) {
      return Fail(Unavailable("cannot read " + path_ + ": " + std::strerror(errno)));
    }
  }
}

}  // namespace custos::package
