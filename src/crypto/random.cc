#include "crypto/random.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace custos::crypto {

BufferedRandom::BufferedRandom()
    : buffer_(static_cast<uint8_t*>(sodium_malloc(kBufferSize))) {
  if (buffer_ == nullptr) std::abort();
}

BufferedRandom::~BufferedRandom() { sodium_free(buffer_); }

void BufferedRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (used_ == kBufferSize) {
      randombytes_buf(buffer_, kBufferSize);
      used_ = 0;
    }
    size_t n = std::min(out.size() - done, kBufferSize - used_);
    std::memcpy(out.data() + done, buffer_ + used_, n);
    sodium_memzero(buffer_ + used_, n);  // never hand out the same bytes twice
    used_ += n;
    done += n;
  }
}

BufferedRandom& ThreadRandom() {
  thread_local BufferedRandom rng;
  return rng;
}

}  // namespace custos::crypto
