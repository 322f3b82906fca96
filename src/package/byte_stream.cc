#include "package/byte_stream.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

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

Status FdSink::Write(ByteSpan data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Unavailable("cannot write " + name_ + ": " + std::strerror(errno)));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Ok();
}

Result<size_t> FdSource::Read(std::span<uint8_t> out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) {
      return Fail(Unavailable("cannot read " + name_ + ": " + std::strerror(errno)));
    }
  }
}

Status Pump(ByteSource& source, ByteSink& sink) {
  std::vector<uint8_t> buffer(size_t{64} * 1024);
  for (;;) {
    ASSIGN_OR_RETURN(const size_t n, source.Read(buffer));
    if (n == 0) return Ok();
    RETURN_IF_ERROR(sink.Write(ByteSpan(buffer.data(), n)));
  }
}

}  // namespace custos::package
