#include "package/byte_stream.h"

#include <algorithm>
#include <cstring>

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

}  // namespace custos::package
