// SecretBytes: key material in its own type.
//
// Guarantees: the bytes live in memory from sodium_malloc (mlock()ed so they
// are not swapped out where the OS allows it) and are zeroed when freed.
// Secrets of more than 64 bytes get guard pages of their own; smaller ones
// (keys, seeds) share guarded, locked chunks, since a sodium_malloc per key
// cost more than everything else an import does. There is no operator<<, no implicit conversion to a string, and
// equality is constant-time. Raw access is only through RevealSecret(), so
// every use is greppable.
//
// Does NOT protect against: an attacker who can read this process's memory
// (ptrace, core dumps if enabled, /proc/PID/mem), copies the caller makes of
// the revealed bytes, or CPU side channels.
//
// Thread safety: like a std::vector; const methods may be called concurrently.
#ifndef CUSTOS_CRYPTO_SECRET_BYTES_H_
#define CUSTOS_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace custos::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  // `size` zero bytes. Aborts if secure memory cannot be allocated.
  explicit SecretBytes(size_t size);
  // Copies `data` (the caller remains responsible for wiping its copy).
  static SecretBytes CopyOf(std::span<const uint8_t> data);
  // `size` bytes from the system CSPRNG.
  static SecretBytes Random(size_t size);

  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Constant-time comparison (sizes are not secret).
  bool operator==(const SecretBytes& other) const;

  // The only ways to the raw bytes.
  std::span<const uint8_t> RevealSecret() const { return {data_, size_}; }
  std::span<uint8_t> MutableSecret() { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_SECRET_BYTES_H_
