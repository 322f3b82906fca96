// IdCipher: a keyed pseudorandom permutation on 64-bit integers, giving
// opaque 128-bit ids for internal row numbers.
//
//   id = AES-256(key, BE64(n) || 8 zero bytes)
//
// Anyone without the key learns nothing from an id (not even the order of
// two ids); the key holder maps an id back to n, and a random or altered
// 16-byte string is recognised as no id at all (its last 8 bytes do not
// decrypt to zero, except with probability 2^-64). So ids need no storage
// and no index.
//
// Thread safety: Encode/Decode are const but reuse one OpenSSL context: use
// one IdCipher per thread.
#ifndef CUSTOS_CRYPTO_ID_CIPHER_H_
#define CUSTOS_CRYPTO_ID_CIPHER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret_bytes.h"

namespace custos::crypto {

class IdCipher {
 public:
  // REQUIRES: key.size() == 32. kInternal if OpenSSL cannot set it up.
  static Result<IdCipher> Create(const SecretBytes& key);
  IdCipher(IdCipher&&) noexcept;
  IdCipher& operator=(IdCipher&&) noexcept;
  ~IdCipher();

  std::array<uint8_t, 16> Encode(uint64_t n) const;
  // nullopt if `id` is not the encoding of any integer under this key.
  std::optional<uint64_t> Decode(ByteSpan id) const;

 private:
  struct State;
  explicit IdCipher(std::unique_ptr<State> s);
  std::unique_ptr<State> state_;
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_ID_CIPHER_H_
