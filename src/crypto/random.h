// Buffered CSPRNG for nonces and fresh keys on hot paths.
//
// Fills 16 KiB at a time and hands it out, wiping what it handed out: each
// fill draws a fresh 256-bit seed from the OS generator (libsodium
// randombytes_buf, i.e. getrandom(2)) and stretches it with ChaCha20 in
// user space (randombytes_buf_deterministic). One system call per 16 KiB
// instead of one per nonce: the syscall, not the cipher, was the
// bottleneck (docs/BENCHMARKS.md); and the kernel's own ChaCha20 is plain
// C, several times slower than libsodium's vectorized one (packaging a
// million people draws 16 MB of person references).
//
// Fork-safe: a child process discards what its parent buffered.
// Thread safety: one instance per thread (ThreadRandom()).
#ifndef CUSTOS_CRYPTO_RANDOM_H_
#define CUSTOS_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace custos::crypto {

class BufferedRandom {
 public:
  BufferedRandom();
  ~BufferedRandom();
  BufferedRandom(const BufferedRandom&) = delete;
  BufferedRandom& operator=(const BufferedRandom&) = delete;

  void Fill(std::span<uint8_t> out);

 private:
  static constexpr size_t kBufferSize = 16384;
  uint8_t* buffer_ = nullptr;  // sodium_malloc.ed
  size_t used_ = kBufferSize;
  uint64_t generation_ = 0;  // fork generation the buffer was filled in
};

// The calling thread's generator.
BufferedRandom& ThreadRandom();

// Fills `out` from the calling thread's buffered generator.
inline void RandomFill(std::span<uint8_t> out) { ThreadRandom().Fill(out); }

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_RANDOM_H_
