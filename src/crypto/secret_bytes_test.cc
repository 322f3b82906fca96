// Tests for crypto/secret_bytes.h (and the buffered CSPRNG in crypto/random.h
// that SecretBytes-adjacent code draws nonces from).
//
// Constant-time behaviour of operator== cannot be observed reliably in a unit
// test; these tests pin its semantics (it delegates to sodium_memcmp).
#include "crypto/secret_bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace custos::crypto {
namespace {


Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31);
  return b;
}

bool SameBytes(const SecretBytes& s, ByteSpan b) {
  auto r = s.RevealSecret();
  return r.size() == b.size() && std::equal(r.begin(), r.end(), b.begin());
}

bool AllZero(std::span<const uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

TEST(SecretBytesTest, DefaultIsEmpty) {
  SecretBytes s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.RevealSecret().empty());
  EXPECT_TRUE(s.MutableSecret().empty());
}

class SecretBytesSizeTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SecretBytesSizeTest, SizedConstructorIsZeroed) {
  SecretBytes s(GetParam());
  EXPECT_EQ(s.size(), GetParam());
  EXPECT_EQ(s.empty(), GetParam() == 0);
  EXPECT_TRUE(AllZero(s.RevealSecret()));
}

TEST_P(SecretBytesSizeTest, CopyOfCopiesExactly) {
  const Bytes src = Pattern(GetParam(), 7);
  SecretBytes s = SecretBytes::CopyOf(src);
  EXPECT_EQ(s.size(), src.size());
  EXPECT_TRUE(SameBytes(s, src));
  if (!src.empty()) {
    EXPECT_NE(s.RevealSecret().data(), src.data()) << "CopyOf must copy, not alias";
  }
}

TEST_P(SecretBytesSizeTest, RandomHasRequestedSize) {
  SecretBytes s = SecretBytes::Random(GetParam());
  EXPECT_EQ(s.size(), GetParam());
  EXPECT_EQ(s.empty(), GetParam() == 0);
  if (GetParam() >= 16) {
    // 2^-128 chance of a false failure for 16 bytes.
    EXPECT_FALSE(AllZero(s.RevealSecret()));
    EXPECT_FALSE(s == SecretBytes::Random(GetParam())) << "two random draws collided";
  }
}

TEST_P(SecretBytesSizeTest, MutableSecretWritesThrough) {
  SecretBytes s(GetParam());
  const Bytes want = Pattern(GetParam(), 99);
  std::copy(want.begin(), want.end(), s.MutableSecret().begin());
  EXPECT_TRUE(SameBytes(s, want));
}

INSTANTIATE_TEST_SUITE_P(Sizes, SecretBytesSizeTest,
                         ::testing::Values(size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{31},
                                           size_t{32}, size_t{33}, size_t{64}, size_t{4095},
                                           size_t{4096}, size_t{4097}, size_t{100000}));

// --- operator== -------------------------------------------------------------------

struct EqualityCase {
  const char* name;
  Bytes a;
  Bytes b;
  bool equal;
};
void PrintTo(const EqualityCase& c, std::ostream* os) { *os << c.name; }

class SecretBytesEqualityTest : public ::testing::TestWithParam<EqualityCase> {};

TEST_P(SecretBytesEqualityTest, ComparesContentsAndSize) {
  const EqualityCase& c = GetParam();
  const SecretBytes a = SecretBytes::CopyOf(c.a);
  const SecretBytes b = SecretBytes::CopyOf(c.b);
  EXPECT_EQ(a == b, c.equal);
  EXPECT_EQ(b == a, c.equal) << "must be symmetric";
  EXPECT_TRUE(a == a);
}

Bytes WithByte(Bytes b, size_t pos, uint8_t mask) {
  b[pos] ^= mask;
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Table, SecretBytesEqualityTest,
    ::testing::Values(
        EqualityCase{"BothEmpty", {}, {}, true}, EqualityCase{"EmptyVsOneZeroByte", {}, {0}, false},
        EqualityCase{"SameOneByte", {0x42}, {0x42}, true},
        EqualityCase{"SameKey", Pattern(32, 1), Pattern(32, 1), true},
        EqualityCase{"FirstByteDiffers", Pattern(32, 1), WithByte(Pattern(32, 1), 0, 0x01), false},
        EqualityCase{"MiddleBitDiffers", Pattern(32, 1), WithByte(Pattern(32, 1), 16, 0x40), false},
        EqualityCase{"LastByteDiffers", Pattern(32, 1), WithByte(Pattern(32, 1), 31, 0x80), false},
        EqualityCase{"PrefixIsNotEqual", Pattern(32, 1), Pattern(31, 1), false},
        EqualityCase{"TrailingZeroMatters", Bytes(16, 0), Bytes(17, 0), false},
        EqualityCase{"LargeEqual", Pattern(5000, 3), Pattern(5000, 3), true}),
    [](const ::testing::TestParamInfo<EqualityCase>& p) { return std::string(p.param.name); });

// --- Copy and move --------------------------------------------------------------

TEST(SecretBytesTest, MoveConstructionLeavesSourceEmpty) {
  const Bytes want = Pattern(32, 5);
  SecretBytes src = SecretBytes::CopyOf(want);
  const uint8_t* storage = src.RevealSecret().data();
  SecretBytes dst(std::move(src));
  EXPECT_TRUE(SameBytes(dst, want));
  EXPECT_EQ(dst.RevealSecret().data(), storage) << "move must transfer, not copy";
  EXPECT_TRUE(src.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(src.size(), 0u);
  EXPECT_EQ(src.RevealSecret().data(), nullptr);
}

TEST(SecretBytesTest, MoveAssignmentLeavesSourceEmptyAndReplacesTarget) {
  const Bytes want = Pattern(48, 9);
  SecretBytes src = SecretBytes::CopyOf(want);
  SecretBytes dst = SecretBytes::CopyOf(Pattern(8, 1));  // old contents are released
  dst = std::move(src);
  EXPECT_TRUE(SameBytes(dst, want));
  EXPECT_TRUE(src.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(src.RevealSecret().data(), nullptr);

  SecretBytes empty;
  dst = std::move(empty);
  EXPECT_TRUE(dst.empty());
}

TEST(SecretBytesTest, SelfMoveAssignmentKeepsContents) {
  const Bytes want = Pattern(32, 2);
  SecretBytes s = SecretBytes::CopyOf(want);
  SecretBytes& alias = s;
  s = std::move(alias);
  EXPECT_TRUE(SameBytes(s, want));
}

TEST(SecretBytesTest, CopyConstructionIsDeep) {
  const Bytes want = Pattern(32, 4);
  SecretBytes original = SecretBytes::CopyOf(want);
  SecretBytes copy(original);
  EXPECT_TRUE(copy == original);
  EXPECT_NE(copy.RevealSecret().data(), original.RevealSecret().data());
  original.MutableSecret()[0] ^= 0xff;
  EXPECT_TRUE(SameBytes(copy, want)) << "copy must not alias the original";
  EXPECT_FALSE(copy == original);
}

TEST(SecretBytesTest, CopyAssignmentIsDeep) {
  const Bytes want = Pattern(20, 6);
  SecretBytes original = SecretBytes::CopyOf(want);
  SecretBytes copy = SecretBytes::CopyOf(Pattern(3, 0));
  copy = original;
  EXPECT_TRUE(copy == original);
  EXPECT_NE(copy.RevealSecret().data(), original.RevealSecret().data());
  copy.MutableSecret()[19] ^= 0x01;
  EXPECT_TRUE(SameBytes(original, want)) << "original must not alias the copy";

  const SecretBytes& alias = original;
  original = alias;  // self-assignment
  EXPECT_TRUE(SameBytes(original, want));
}

TEST(SecretBytesTest, CopiesOfEmptyAreEmpty) {
  SecretBytes empty;
  SecretBytes copy(empty);
  EXPECT_TRUE(copy.empty());
  SecretBytes assigned = SecretBytes::CopyOf(Pattern(4, 0));
  assigned = empty;
  EXPECT_TRUE(assigned.empty());
  EXPECT_TRUE(assigned == empty);
}

TEST(SecretBytesTest, WorksInContainers) {
  std::vector<SecretBytes> keys;
  for (uint8_t i = 0; i < 50; ++i) keys.push_back(SecretBytes::CopyOf(Pattern(32, i)));
  for (uint8_t i = 0; i < 50; ++i) EXPECT_TRUE(SameBytes(keys[i], Pattern(32, i))) << int{i};
}

// --- BufferedRandom -------------------------------------------------------------

TEST(RandomTest, FillsAcrossBufferBoundaries) {
  // 16 KiB buffer: odd sizes walk the refill boundary.
  for (size_t n : {size_t{0}, size_t{1}, size_t{24}, size_t{4095}, size_t{4096}, size_t{4097},
                   size_t{10000}, size_t{16383}, size_t{16384}, size_t{16385}, size_t{40000}}) {
    std::vector<uint8_t> a(n, 0), b(n, 0);
    RandomFill(a);
    RandomFill(b);
    if (n >= 16) {
      EXPECT_NE(a, b) << n;
      // No 32-byte window of zeros: the buffer is wiped after use, so handing
      // out wiped bytes would show up as zeros.
      for (size_t i = 0; i + 32 <= n; i += 32) {
        EXPECT_FALSE(AllZero(std::span<const uint8_t>(a).subspan(i, 32))) << n << "@" << i;
      }
    }
  }
}

// Every refill is seeded afresh: 64 KiB drawn in 32-byte pieces (four
// refills) hold no repeated piece, and each byte value appears about as
// often as any other (a stuck or repeating stream would fail one of these).
TEST(RandomTest, RefillsNeverRepeatAndLookUniform) {
  BufferedRandom r;
  std::set<std::array<uint8_t, 32>> seen;
  std::array<size_t, 256> counts{};
  for (int i = 0; i < 2048; ++i) {
    std::array<uint8_t, 32> piece{};
    r.Fill(piece);
    EXPECT_TRUE(seen.insert(piece).second) << "piece " << i << " repeats";
    for (uint8_t b : piece) ++counts[b];
  }
  for (size_t v = 0; v < 256; ++v) {
    EXPECT_GT(counts[v], 128u) << v;  // expected 256 each (65,536 bytes)
    EXPECT_LT(counts[v], 400u) << v;
  }
}

TEST(RandomTest, SeparateInstancesProduceDifferentStreams) {
  BufferedRandom r1;
  BufferedRandom r2;
  std::array<uint8_t, 32> a{}, b{};
  r1.Fill(a);
  r2.Fill(b);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace custos::crypto
