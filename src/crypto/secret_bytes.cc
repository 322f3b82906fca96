#include "crypto/secret_bytes.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace custos::crypto {
namespace {
// sodium_malloc needs sodium_init (page size, canary); run it once, first.
void EnsureSodium() {
  static const bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) std::abort();
}

// Small secrets (keys, seeds) come from 64-byte slots carved out of large
// sodium_malloc'ed chunks: one sodium_malloc costs an mmap, two mprotects, an
// mlock and a munmap, which dominated an import that creates a data key per
// person. The chunks are locked and guarded as a whole; slots are zeroed
// when freed and reused. Chunks live until the process exits.
class SmallSecretPool {
 public:
  static constexpr size_t kSlot = 64;
  static constexpr size_t kSlotsPerChunk = 1024;

  uint8_t* Allocate() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) {
      auto* chunk = static_cast<uint8_t*>(sodium_malloc(kSlot * kSlotsPerChunk));
      if (chunk == nullptr) std::abort();  // out of secure memory: no safe way on
      for (size_t i = kSlotsPerChunk; i-- > 0;) free_.push_back(chunk + i * kSlot);
    }
    uint8_t* p = free_.back();
    free_.pop_back();
    return p;
  }
  void Free(uint8_t* p) {
    sodium_memzero(p, kSlot);
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(p);
  }

 private:
  std::mutex mu_;
  std::vector<uint8_t*> free_;
};

SmallSecretPool& Pool() {
  static auto* pool = new SmallSecretPool();  // never destroyed: outlives static SecretBytes
  return *pool;
}

uint8_t* AllocateSecret(size_t size) {
  EnsureSodium();
  uint8_t* p = size <= SmallSecretPool::kSlot ? Pool().Allocate()
                                              : static_cast<uint8_t*>(sodium_malloc(size));
  if (p == nullptr) std::abort();  // out of secure memory: no safe way on
  std::memset(p, 0, size);
  return p;
}

void FreeSecret(uint8_t* p, size_t size) {
  if (size <= SmallSecretPool::kSlot) {
    Pool().Free(p);
  } else {
    sodium_free(p);  // sodium_free zeroes before unmapping
  }
}
}  // namespace

SecretBytes::SecretBytes(size_t size) : size_(size) {
  if (size == 0) return;
  data_ = AllocateSecret(size);
}

SecretBytes SecretBytes::CopyOf(std::span<const uint8_t> data) {
  SecretBytes s(data.size());
  if (!data.empty()) std::memcpy(s.data_, data.data(), data.size());
  return s;
}

SecretBytes SecretBytes::Random(size_t size) {
  SecretBytes s(size);
  if (size) randombytes_buf(s.data_, size);
  return s;
}

SecretBytes::SecretBytes(const SecretBytes& other) : SecretBytes(CopyOf(other.RevealSecret())) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) *this = CopyOf(other.RevealSecret());
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_) FreeSecret(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_) FreeSecret(data_, size_);
}

bool SecretBytes::operator==(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace custos::crypto
