#include "crypto/id_cipher.h"

#include <gtest/gtest.h>

#include <set>

namespace custos::crypto {
namespace {

TEST(IdCipherTest, RoundTripsAndRejectsForeignIds) {
  auto key = SecretBytes::CopyOf(Bytes(32, 0x42));
  auto c = IdCipher::Create(key);
  ASSERT_TRUE(c);
  std::set<std::array<uint8_t, 16>> seen;
  for (uint64_t n : {0ull, 1ull, 2ull, 255ull, 1ull << 40, ~0ull}) {
    auto id = c->Encode(n);
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_EQ(c->Decode(id), n);
    auto altered = id;
    altered[3] ^= 1;
    EXPECT_EQ(c->Decode(altered), std::nullopt);
  }
  auto other = IdCipher::Create(SecretBytes::CopyOf(Bytes(32, 0x43)));
  EXPECT_EQ(other->Decode(c->Encode(7)), std::nullopt);
  EXPECT_EQ(c->Decode(Bytes(15, 0)), std::nullopt);
  EXPECT_EQ(IdCipher::Create(SecretBytes::CopyOf(Bytes(16, 1))).error().code(),
            ErrorCode::kInvalidArgument);
}

// AES-256 known answer (FIPS-197 appendix C.3): key 00..1f, block
// 00112233445566778899aabbccddeeff -> 8ea2b7ca516745bfeafc49904b496089.
// Encode(n) enciphers BE64(n) || 0^8, so check Decode against it.
TEST(IdCipherTest, IsRawAes256) {
  Bytes k(32);
  for (int i = 0; i < 32; ++i) k[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  auto c = IdCipher::Create(SecretBytes::CopyOf(k));
  ASSERT_TRUE(c);
  // The FIPS block does not end in 8 zero bytes, so it is "not an id".
  EXPECT_EQ(c->Decode(*HexDecode("8ea2b7ca516745bfeafc49904b496089")), std::nullopt);
}

}  // namespace
}  // namespace custos::crypto
