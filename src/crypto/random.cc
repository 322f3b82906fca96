#include "crypto/random.h"

#include <sodium.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace custos::crypto {
namespace {
// Bumped in a forked child, so that no buffer the parent filled is handed out
// by both processes (which would repeat nonces).
std::atomic<uint64_t> fork_generation{0};
void OnFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }
const int kAtForkRegistered = pthread_atfork(nullptr, nullptr, &OnFork);
}  // namespace

BufferedRandom::BufferedRandom() {
  if (sodium_init() < 0) std::abort();  // sodium_malloc needs it
  buffer_ = static_cast<uint8_t*>(sodium_malloc(kBufferSize));
  if (buffer_ == nullptr) std::abort();
}

BufferedRandom::~BufferedRandom() { sodium_free(buffer_); }

void BufferedRandom::Fill(std::span<uint8_t> out) {
  (void)kAtForkRegistered;
  uint64_t gen = fork_generation.load(std::memory_order_relaxed);
  if (gen != generation_) {
    sodium_memzero(buffer_, kBufferSize);
    used_ = kBufferSize;
    generation_ = gen;
  }
  size_t done = 0;
  while (done < out.size()) {
    if (used_ == kBufferSize) {
      uint8_t seed[randombytes_SEEDBYTES];
      randombytes_buf(seed, sizeof seed);
      randombytes_buf_deterministic(buffer_, kBufferSize, seed);
      sodium_memzero(seed, sizeof seed);
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
