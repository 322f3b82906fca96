// Tests for crypto/aead.h: FieldCipher (both suites) against published
// known-answer vectors in testdata/crypto/*.json, Seal/Open behaviour, and the
// error codes of every failure path.
//
// Vector sources (details in each JSON file's "source" fields):
//   aes256gcm.json         Wycheproof aes_gcm_test.json (256-bit key, 96-bit IV,
//                          128-bit tag) + McGrew-Viega GCM spec test cases 13-16.
//                          Test cases 17/18 use 64/480-bit IVs, which FieldCipher
//                          cannot express, so they are not included.
//   xchacha20poly1305.json draft-irtf-cfrg-xchacha-03 A.3.1 + Wycheproof
//                          xchacha20_poly1305_test.json.
#include "crypto/aead.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "base/file.h"
#include "crypto/secret_bytes.h"
#include "crypto/vector_test_util.h"

namespace custos::crypto {
namespace {

using nlohmann::json;
using testing::HexField;
using testing::Hex;
using testing::LoadVectorFile;
using testing::TestNameOf;


// --- Vector loading ---------------------------------------------------------





Bytes B(std::string_view s) {
  ByteSpan b = AsBytes(s);
  return Bytes(b.begin(), b.end());
}

bool AesGcmAvailable() { return crypto_aead_aes256gcm_is_available() != 0; }

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

template <typename R>
ErrorCode CodeOf(const R& r) {
  return r ? ErrorCode::kOk : r.error().code();
}

struct AeadVector {
  std::string id;
  std::string comment;
  FieldSuite suite = FieldSuite::kXChaCha20Poly1305;
  Bytes key, nonce, aad, msg, ct, tag;
  bool valid = false;
};

void PrintTo(const AeadVector& v, std::ostream* os) { *os << v.id; }

std::vector<AeadVector> LoadAeadVectors(const std::string& file, FieldSuite suite) {
  std::vector<AeadVector> out;
  json j = LoadVectorFile(file);
  if (j.is_null()) return out;
  for (const json& group : j.at("groups")) {
    for (const json& t : group.at("tests")) {
      AeadVector v;
      v.id = t.at("id").get<std::string>();
      v.comment = t.value("comment", "");
      v.suite = suite;
      v.key = HexField(t, "key");
      v.nonce = HexField(t, "nonce");
      v.aad = HexField(t, "aad");
      v.msg = HexField(t, "msg");
      v.ct = HexField(t, "ct");
      v.tag = HexField(t, "tag");
      v.valid = t.at("result").get<std::string>() == "valid";
      out.push_back(std::move(v));
    }
  }
  return out;
}

const std::vector<AeadVector>& AesGcmVectors() {
  static const auto* v =
      new std::vector<AeadVector>(LoadAeadVectors("aes256gcm.json", FieldSuite::kAes256Gcm));
  return *v;
}
const std::vector<AeadVector>& XChaChaVectors() {
  static const auto* v = new std::vector<AeadVector>(
      LoadAeadVectors("xchacha20poly1305.json", FieldSuite::kXChaCha20Poly1305));
  return *v;
}

// Splits a full nonce into FieldCipher's (prefix, index): prefix = all but the
// last 4 bytes, index = big-endian uint32 of the last 4 bytes.
void SplitNonce(const Bytes& nonce, FieldCipher::NoncePrefix& prefix, uint32_t& index) {
  prefix.fill(0);
  std::copy(nonce.begin(), nonce.end() - 4, prefix.begin());
  index = ReadU32BE(nonce.data() + nonce.size() - 4);
}

// --- Known-answer tests -----------------------------------------------------

TEST(AeadVectorFiles, LoadWithExpectedCounts) {
  EXPECT_EQ(AesGcmVectors().size(), 31u);
  EXPECT_EQ(XChaChaVectors().size(), 32u);
  for (const auto* set : {&AesGcmVectors(), &XChaChaVectors()}) {
    for (const AeadVector& v : *set) {
      EXPECT_EQ(v.key.size(), kKeySize) << v.id;
      EXPECT_EQ(v.tag.size(), kTagSize) << v.id;
      EXPECT_EQ(v.nonce.size(), v.suite == FieldSuite::kAes256Gcm ? 12u : 24u) << v.id;
      if (v.valid) {
        EXPECT_EQ(v.ct.size(), v.msg.size()) << v.id;
      }
    }
  }
}

class FieldCipherKat : public ::testing::TestWithParam<AeadVector> {
 protected:
  void SetUp() override {
    const AeadVector& v = GetParam();
    Result<FieldCipher> c = FieldCipher::Create(v.suite, SecretBytes::CopyOf(v.key));
    if (!c && c.error().code() == ErrorCode::kFailedPrecondition) {
      GTEST_SKIP() << "suite unavailable on this CPU: " << c.error().ToString();
    }
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    cipher_.emplace(std::move(*c));
    ASSERT_EQ(v.nonce.size(), cipher_->prefix_size() + 4);
    SplitNonce(v.nonce, prefix_, index_);
  }

  std::optional<FieldCipher> cipher_;
  FieldCipher::NoncePrefix prefix_{};
  uint32_t index_ = 0;
};

// Each vector is one test: an invalid vector must fail to open; a valid one
// must seal to exactly ct || tag, open to msg, and stop authenticating under
// any perturbation of index, prefix, associated data or ciphertext.
TEST_P(FieldCipherKat, MatchesVector) {
  const AeadVector& v = GetParam();
  const Bytes ct_and_tag = Concat(v.ct, v.tag);

  auto expect_data_loss = [&](const char* what, const FieldCipher::NoncePrefix& prefix,
                              uint32_t index, const Bytes& ct, const Bytes& aad) {
    std::string out = "stale contents";
    Status st = cipher_->OpenField(prefix, index, ct, aad, out);
    ASSERT_FALSE(st.has_value()) << what;
    EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss) << what;
    EXPECT_TRUE(out.empty()) << what << ": OpenField must not leave output on failure";
  };

  if (!v.valid) {
    expect_data_loss(v.comment.c_str(), prefix_, index_, ct_and_tag, v.aad);
    return;
  }

  // SealField appends to what is already in `out`.
  Bytes sealed = {0x5a, 0xa5};
  cipher_->SealField(prefix_, index_, v.msg, v.aad, sealed);
  EXPECT_EQ(Hex(sealed), "5aa5" + Hex(ct_and_tag));

  std::string out = "stale contents";
  Status st = cipher_->OpenField(prefix_, index_, ct_and_tag, v.aad, out);
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  EXPECT_EQ(Hex(AsBytes(out)), Hex(v.msg));

  // Bytes of NoncePrefix past prefix_size() are not part of the nonce.
  if (cipher_->prefix_size() < FieldCipher::kMaxPrefixSize) {
    FieldCipher::NoncePrefix noisy = prefix_;
    for (size_t i = cipher_->prefix_size(); i < noisy.size(); ++i) noisy[i] = 0xee;
    Bytes resealed;
    cipher_->SealField(noisy, index_, v.msg, v.aad, resealed);
    EXPECT_EQ(Hex(resealed), Hex(ct_and_tag)) << "prefix bytes past prefix_size() changed output";
  }

  expect_data_loss("next index", prefix_, index_ ^ 1u, ct_and_tag, v.aad);
  FieldCipher::NoncePrefix other_prefix = prefix_;
  other_prefix[0] ^= 0x01;
  expect_data_loss("other prefix", other_prefix, index_, ct_and_tag, v.aad);
  Bytes longer_aad = v.aad;
  longer_aad.push_back(0x00);
  expect_data_loss("extended aad", prefix_, index_, ct_and_tag, longer_aad);
  for (size_t pos : {size_t{0}, ct_and_tag.size() / 2, ct_and_tag.size() - 1}) {
    Bytes flipped = ct_and_tag;
    flipped[pos] ^= 0x80;
    expect_data_loss("flipped byte", prefix_, index_, flipped, v.aad);
  }
  Bytes truncated(ct_and_tag.begin(), ct_and_tag.end() - 1);
  expect_data_loss("truncated", prefix_, index_, truncated, v.aad);
}

std::string ParamName(const ::testing::TestParamInfo<AeadVector>& info) {
  return TestNameOf(info.param.id);
}

INSTANTIATE_TEST_SUITE_P(Aes256Gcm, FieldCipherKat, ::testing::ValuesIn(AesGcmVectors()),
                         ParamName);
INSTANTIATE_TEST_SUITE_P(XChaCha20Poly1305, FieldCipherKat, ::testing::ValuesIn(XChaChaVectors()),
                         ParamName);

// Seal's wire format is nonce(24) || ciphertext || tag, so every valid XChaCha
// vector (including draft-irtf-cfrg-xchacha-03 A.3.1) must open with Open().
class OpenInterop : public ::testing::TestWithParam<AeadVector> {};

TEST_P(OpenInterop, OpensPublishedVector) {
  const AeadVector& v = GetParam();
  const SecretBytes key = SecretBytes::CopyOf(v.key);
  const Bytes sealed = Concat(Concat(v.nonce, v.ct), v.tag);

  Result<Bytes> opened = Open(key, sealed, v.aad);
  if (!v.valid) {
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code(), ErrorCode::kDataLoss);
    return;
  }
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(Hex(*opened), Hex(v.msg));

  Result<SecretBytes> secret = OpenSecret(key, sealed, v.aad);
  ASSERT_TRUE(secret.has_value()) << secret.error().ToString();
  EXPECT_EQ(Hex(secret->RevealSecret()), Hex(v.msg));
}

INSTANTIATE_TEST_SUITE_P(XChaCha20Poly1305, OpenInterop, ::testing::ValuesIn(XChaChaVectors()),
                         ParamName);

TEST(OpenInterop, DraftA31VectorIsPresent) {
  const auto& all = XChaChaVectors();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [](const AeadVector& v) {
    return v.id == "draft-xchacha-03-A.3.1" && v.valid;
  }));
}

// --- Seal / Open ------------------------------------------------------------

class SealOpenTest : public ::testing::Test {
 protected:
  const SecretBytes key_ = SecretBytes::Random(kKeySize);
  const Bytes plaintext_ = B("the field value: 4111-1111-1111-1111");
  const Bytes ad_ = B("vault/v1/record/42");

  void ExpectDataLoss(const Bytes& sealed, const Bytes& ad, const SecretBytes& key,
                      const char* what) {
    Result<Bytes> r = Open(key, sealed, ad);
    ASSERT_FALSE(r.has_value()) << what;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << what;
    Result<SecretBytes> s = OpenSecret(key, sealed, ad);
    ASSERT_FALSE(s.has_value()) << what;
    EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss) << what;
  }
};

TEST_F(SealOpenTest, RoundTripsManySizes) {
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 63u, 64u, 65u, 1000u, 70000u}) {
    Bytes pt(n);
    for (size_t i = 0; i < n; ++i) pt[i] = static_cast<uint8_t>(i * 7 + 3);
    Bytes sealed = Seal(key_, pt, ad_);
    ASSERT_EQ(sealed.size(), n + kSealOverhead) << n;
    Result<Bytes> opened = Open(key_, sealed, ad_);
    ASSERT_TRUE(opened.has_value()) << n << ": " << opened.error().ToString();
    EXPECT_EQ(*opened, pt) << n;
    Result<SecretBytes> secret = OpenSecret(key_, sealed, ad_);
    ASSERT_TRUE(secret.has_value()) << n;
    EXPECT_EQ(secret->size(), n);
    EXPECT_TRUE(std::equal(pt.begin(), pt.end(), secret->RevealSecret().begin()));
  }
}

TEST_F(SealOpenTest, EmptyAssociatedDataRoundTrips) {
  Bytes sealed = Seal(key_, plaintext_, {});
  Result<Bytes> opened = Open(key_, sealed, {});
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext_);
  ExpectDataLoss(sealed, ad_, key_, "AD supplied at open but not at seal");
}

TEST_F(SealOpenTest, UsesAFreshNonceEachTime) {
  Bytes a = Seal(key_, plaintext_, ad_);
  Bytes b = Seal(key_, plaintext_, ad_);
  EXPECT_NE(Hex(ByteSpan(a).first(24)), Hex(ByteSpan(b).first(24)));
  EXPECT_NE(a, b);
}

TEST_F(SealOpenTest, WrongAssociatedDataIsDataLoss) {
  Bytes sealed = Seal(key_, plaintext_, ad_);
  Bytes other = ad_;
  other.back() ^= 0x01;
  ExpectDataLoss(sealed, other, key_, "modified AD");
  ExpectDataLoss(sealed, {}, key_, "missing AD");
  Bytes longer = ad_;
  longer.push_back(0);
  ExpectDataLoss(sealed, longer, key_, "extended AD");
}

TEST_F(SealOpenTest, FlippedByteInEveryRegionIsDataLoss) {
  const Bytes sealed = Seal(key_, plaintext_, ad_);
  const size_t ct_begin = 24;
  const size_t tag_begin = sealed.size() - kTagSize;
  struct Region {
    const char* name;
    size_t pos;
  };
  const Region regions[] = {
      {"nonce first byte", 0},
      {"nonce last byte", ct_begin - 1},
      {"ciphertext first byte", ct_begin},
      {"ciphertext last byte", tag_begin - 1},
      {"tag first byte", tag_begin},
      {"tag last byte", sealed.size() - 1},
  };
  for (const Region& r : regions) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      Bytes bad = sealed;
      bad[r.pos] ^= mask;
      ExpectDataLoss(bad, ad_, key_, r.name);
    }
  }
}

TEST_F(SealOpenTest, TruncatedIsDataLoss) {
  const Bytes sealed = Seal(key_, plaintext_, ad_);
  for (size_t len :
       {size_t{0}, size_t{1}, size_t{24}, kSealOverhead - 1, kSealOverhead, sealed.size() - 1}) {
    Bytes cut(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(len));
    ExpectDataLoss(cut, ad_, key_, "truncated");
  }
  // Appending bytes shifts the tag: also not authentic.
  Bytes extended = sealed;
  extended.push_back(0);
  ExpectDataLoss(extended, ad_, key_, "extended");
}

TEST_F(SealOpenTest, WrongKeyIsDataLoss) {
  const Bytes sealed = Seal(key_, plaintext_, ad_);
  SecretBytes other = key_;
  other.MutableSecret()[31] ^= 0x01;
  ExpectDataLoss(sealed, ad_, other, "one bit of the key");
  ExpectDataLoss(sealed, ad_, SecretBytes::Random(kKeySize), "random key");
}

// --- FieldCipher behaviour --------------------------------------------------

struct SuiteCase {
  FieldSuite suite;
  size_t prefix_size;
  const char* name;
};

class FieldCipherSuiteTest : public ::testing::TestWithParam<SuiteCase> {
 protected:
  void SetUp() override {
    Result<FieldCipher> c = FieldCipher::Create(GetParam().suite, SecretBytes::Random(kKeySize));
    if (!c && c.error().code() == ErrorCode::kFailedPrecondition) GTEST_SKIP() << "unavailable";
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    cipher_.emplace(std::move(*c));
  }
  std::optional<FieldCipher> cipher_;
};

TEST_P(FieldCipherSuiteTest, ReportsSuiteAndPrefixSize) {
  EXPECT_EQ(cipher_->suite(), GetParam().suite);
  EXPECT_EQ(cipher_->prefix_size(), GetParam().prefix_size);
}

TEST_P(FieldCipherSuiteTest, NewRecordPrefixIsRandomAndZeroPadded) {
  FieldCipher::NoncePrefix a = cipher_->NewRecordPrefix();
  FieldCipher::NoncePrefix b = cipher_->NewRecordPrefix();
  const size_t n = cipher_->prefix_size();
  EXPECT_FALSE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin()));
  for (size_t i = n; i < a.size(); ++i) {
    EXPECT_EQ(a[i], 0) << i;
    EXPECT_EQ(b[i], 0) << i;
  }
}

TEST_P(FieldCipherSuiteTest, RoundTripsAndBindsIndex) {
  FieldCipher::NoncePrefix prefix = cipher_->NewRecordPrefix();
  const Bytes pt = B("1990-05-17");
  const Bytes ad = B("patients.birth_date");
  for (uint32_t index : {0u, 1u, 2u, 0x7fffffffu, 0xffffffffu}) {
    Bytes ct;
    cipher_->SealField(prefix, index, pt, ad, ct);
    ASSERT_EQ(ct.size(), pt.size() + kTagSize);
    std::string out;
    ASSERT_TRUE(cipher_->OpenField(prefix, index, ct, ad, out).has_value()) << index;
    EXPECT_EQ(out, "1990-05-17");
    out = "x";
    Status moved = cipher_->OpenField(prefix, index + 1, ct, ad, out);
    ASSERT_FALSE(moved.has_value()) << "a field must not open at another index";
    EXPECT_EQ(moved.error().code(), ErrorCode::kDataLoss);
    EXPECT_TRUE(out.empty());
  }
}

TEST_P(FieldCipherSuiteTest, OtherKeyCannotOpen) {
  Result<FieldCipher> other = FieldCipher::Create(GetParam().suite, SecretBytes::Random(kKeySize));
  ASSERT_TRUE(other.has_value());
  FieldCipher::NoncePrefix prefix = cipher_->NewRecordPrefix();
  Bytes ct;
  cipher_->SealField(prefix, 0, AsBytes("secret"), {}, ct);
  std::string out;
  Status st = other->OpenField(prefix, 0, ct, {}, out);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
}

TEST_P(FieldCipherSuiteTest, IsMovable) {
  FieldCipher::NoncePrefix prefix = cipher_->NewRecordPrefix();
  Bytes ct;
  cipher_->SealField(prefix, 3, AsBytes("moved"), {}, ct);
  FieldCipher moved = std::move(*cipher_);
  std::string out;
  ASSERT_TRUE(moved.OpenField(prefix, 3, ct, {}, out).has_value());
  EXPECT_EQ(out, "moved");
}

INSTANTIATE_TEST_SUITE_P(
    Suites, FieldCipherSuiteTest,
    ::testing::Values(SuiteCase{FieldSuite::kAes256Gcm, 8, "Aes256Gcm"},
                      SuiteCase{FieldSuite::kXChaCha20Poly1305, 20, "XChaCha20Poly1305"}),
    [](const ::testing::TestParamInfo<SuiteCase>& p) { return std::string(p.param.name); });

TEST(FieldSuiteTest, ByteMappingAndNames) {
  Result<FieldSuite> one = FieldSuiteFromByte(1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, FieldSuite::kAes256Gcm);
  Result<FieldSuite> two = FieldSuiteFromByte(2);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(*two, FieldSuite::kXChaCha20Poly1305);
  EXPECT_EQ(static_cast<uint8_t>(FieldSuite::kAes256Gcm), 1);
  EXPECT_EQ(static_cast<uint8_t>(FieldSuite::kXChaCha20Poly1305), 2);
  EXPECT_EQ(FieldSuiteName(FieldSuite::kAes256Gcm), "AES-256-GCM");
  EXPECT_EQ(FieldSuiteName(FieldSuite::kXChaCha20Poly1305), "XChaCha20-Poly1305");
}

TEST(FieldSuiteTest, PreferredSuiteCanBeCreated) {
  FieldSuite s = PreferredFieldSuite();
  Result<FieldCipher> c = FieldCipher::Create(s, SecretBytes::Random(kKeySize));
  EXPECT_TRUE(c.has_value()) << FieldSuiteName(s) << ": " << c.error().ToString();
}

// --- Error-code table ---------------------------------------------------------

struct ErrorCase {
  const char* name;
  std::function<ErrorCode()> run;
  ErrorCode want;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

ErrorCode CreateWithKeySize(FieldSuite suite, size_t n) {
  return CodeOf(FieldCipher::Create(suite, SecretBytes::Random(n)));
}

ErrorCode OpenFieldWithSize(FieldSuite suite, size_t n) {
  Result<FieldCipher> c = FieldCipher::Create(suite, SecretBytes::Random(kKeySize));
  if (!c) return c.error().code();
  Bytes ct(n, 0x42);
  std::string out = "stale";
  Status st = c->OpenField(c->NewRecordPrefix(), 0, ct, {}, out);
  if (!st && !out.empty()) return ErrorCode::kInternal;  // output must be cleared
  return CodeOf(st);
}

ErrorCode OpenWithSize(size_t n) {
  return CodeOf(Open(SecretBytes::Random(kKeySize), Bytes(n, 0), {}));
}

class AeadErrorCodes : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(AeadErrorCodes, ReturnsDocumentedCode) {
  const ErrorCase& c = GetParam();
  const ErrorCode got = c.run();
  if (got == ErrorCode::kFailedPrecondition && !AesGcmAvailable()) {
    GTEST_SKIP() << "AES-256-GCM unavailable on this CPU";
  }
  EXPECT_EQ(ErrorCodeName(got), ErrorCodeName(c.want)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, AeadErrorCodes,
    ::testing::Values(
        ErrorCase{"CreateAes_Key31", [] { return CreateWithKeySize(FieldSuite::kAes256Gcm, 31); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"CreateAes_Key33", [] { return CreateWithKeySize(FieldSuite::kAes256Gcm, 33); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"CreateAes_Key0", [] { return CreateWithKeySize(FieldSuite::kAes256Gcm, 0); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"CreateAes_Key32", [] { return CreateWithKeySize(FieldSuite::kAes256Gcm, 32); },
                  ErrorCode::kOk},
        ErrorCase{"CreateXChaCha_Key31",
                  [] { return CreateWithKeySize(FieldSuite::kXChaCha20Poly1305, 31); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"CreateXChaCha_Key64",
                  [] { return CreateWithKeySize(FieldSuite::kXChaCha20Poly1305, 64); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"CreateXChaCha_Key32",
                  [] { return CreateWithKeySize(FieldSuite::kXChaCha20Poly1305, 32); },
                  ErrorCode::kOk},
        ErrorCase{"OpenFieldAes_0Bytes",
                  [] { return OpenFieldWithSize(FieldSuite::kAes256Gcm, 0); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldAes_15Bytes",
                  [] { return OpenFieldWithSize(FieldSuite::kAes256Gcm, 15); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldAes_16BytesForged",
                  [] { return OpenFieldWithSize(FieldSuite::kAes256Gcm, 16); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldXChaCha_0Bytes",
                  [] { return OpenFieldWithSize(FieldSuite::kXChaCha20Poly1305, 0); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldXChaCha_1Byte",
                  [] { return OpenFieldWithSize(FieldSuite::kXChaCha20Poly1305, 1); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldXChaCha_15Bytes",
                  [] { return OpenFieldWithSize(FieldSuite::kXChaCha20Poly1305, 15); },
                  ErrorCode::kDataLoss},
        ErrorCase{"OpenFieldXChaCha_16BytesForged",
                  [] { return OpenFieldWithSize(FieldSuite::kXChaCha20Poly1305, 16); },
                  ErrorCode::kDataLoss},
        ErrorCase{"SuiteByte_0", [] { return CodeOf(FieldSuiteFromByte(0)); },
                  ErrorCode::kDataLoss},
        ErrorCase{"SuiteByte_3", [] { return CodeOf(FieldSuiteFromByte(3)); },
                  ErrorCode::kDataLoss},
        ErrorCase{"SuiteByte_255", [] { return CodeOf(FieldSuiteFromByte(255)); },
                  ErrorCode::kDataLoss},
        ErrorCase{"SuiteByte_1", [] { return CodeOf(FieldSuiteFromByte(1)); }, ErrorCode::kOk},
        ErrorCase{"SuiteByte_2", [] { return CodeOf(FieldSuiteFromByte(2)); }, ErrorCode::kOk},
        ErrorCase{"Open_0Bytes", [] { return OpenWithSize(0); }, ErrorCode::kDataLoss},
        ErrorCase{"Open_39Bytes", [] { return OpenWithSize(kSealOverhead - 1); },
                  ErrorCode::kDataLoss},
        ErrorCase{"Open_40BytesForged", [] { return OpenWithSize(kSealOverhead); },
                  ErrorCode::kDataLoss}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------- KeyWrap

SecretBytes CountingKey(uint8_t first) {
  SecretBytes k(kKeySize);
  for (size_t i = 0; i < kKeySize; ++i) k.MutableSecret()[i] = static_cast<uint8_t>(first + i);
  return k;
}

class KeyWrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!AesGcmAvailable()) GTEST_SKIP() << "AES-256-GCM unavailable on this CPU";
  }
  const SecretBytes kek_ = CountingKey(0x00);
  const SecretBytes key_ = CountingKey(0x40);
  const Bytes ad_ = B("custos/data-key/v1example-ad");
  const Bytes salt_ = Bytes{0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
                            0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f};
};

// The v2 format against a vector made by an independent implementation
// (Python `cryptography`: HKDF-SHA256, then AESGCM):
//   sub = HKDF(SHA256, 32, salt=bytes(range(0x80, 0x90)),
//              info=b"custos/key-wrap/aes-256-gcm/v1").derive(bytes(range(32)))
//   b"\x02" + nonce + AESGCM(sub).encrypt(nonce, bytes(range(0x40, 0x60)), ad)
TEST_F(KeyWrapTest, V2OpensIndependentVector) {
  auto w_or = KeyWrap::Create(kek_, FieldSuite::kAes256Gcm, salt_);
  ASSERT_TRUE(w_or.has_value()) << w_or.error().ToString();
  KeyWrap w = std::move(*w_or);
  auto wrapped_or = HexDecode(
      "02a0a1a2a3a4a5a6a7a8a9aaab46b87d052d127c7f212ef50523e7583644e174cfbd98cd7ae70a1e68"
      "8456272f0f36adcb35ff3b49e0e15bc6d1ae70cc");
  ASSERT_TRUE(wrapped_or.has_value()) << wrapped_or.error().ToString();
  Bytes wrapped = std::move(*wrapped_or);
  ASSERT_EQ(wrapped.size(), KeyWrap::kV2Size);
  auto key_or = w.Unwrap(wrapped, ad_);
  ASSERT_TRUE(key_or.has_value()) << key_or.error().ToString();
  SecretBytes key = std::move(*key_or);
  EXPECT_TRUE(key == key_);
}

TEST_F(KeyWrapTest, AesSuiteWritesV2WithFreshNonces) {
  auto w_or = KeyWrap::Create(kek_, FieldSuite::kAes256Gcm, salt_);
  ASSERT_TRUE(w_or.has_value()) << w_or.error().ToString();
  KeyWrap w = std::move(*w_or);
  Bytes a = w.Wrap(key_, ad_);
  Bytes b = w.Wrap(key_, ad_);
  ASSERT_EQ(a.size(), 61u);
  EXPECT_EQ(a[0], 0x02);
  EXPECT_NE(Hex(ByteSpan(a).subspan(1, 12)), Hex(ByteSpan(b).subspan(1, 12)));
  auto key_or = w.Unwrap(a, ad_);
  ASSERT_TRUE(key_or.has_value()) << key_or.error().ToString();
  SecretBytes key = std::move(*key_or);
  EXPECT_TRUE(key == key_);
}

TEST_F(KeyWrapTest, XChaChaSuiteWritesV1ThatOpenSecretOpens) {
  auto w_or = KeyWrap::Create(kek_, FieldSuite::kXChaCha20Poly1305, salt_);
  ASSERT_TRUE(w_or.has_value()) << w_or.error().ToString();
  KeyWrap w = std::move(*w_or);
  Bytes v1 = w.Wrap(key_, ad_);
  ASSERT_EQ(v1.size(), 72u);
  auto direct_or = OpenSecret(kek_, v1, ad_);  // v1 is Seal's format
  ASSERT_TRUE(direct_or.has_value()) << direct_or.error().ToString();
  SecretBytes direct = std::move(*direct_or);
  EXPECT_TRUE(direct == key_);
  auto key_or = w.Unwrap(v1, ad_);
  ASSERT_TRUE(key_or.has_value()) << key_or.error().ToString();
  SecretBytes key = std::move(*key_or);
  EXPECT_TRUE(key == key_);
}

TEST_F(KeyWrapTest, ReadsV1KeysOfOlderVaults) {
  auto w_or = KeyWrap::Create(kek_, FieldSuite::kAes256Gcm, salt_);
  ASSERT_TRUE(w_or.has_value()) << w_or.error().ToString();
  KeyWrap w = std::move(*w_or);
  Bytes v1 = Seal(kek_, key_.RevealSecret(), ad_);
  auto key_or = w.Unwrap(v1, ad_);
  ASSERT_TRUE(key_or.has_value()) << key_or.error().ToString();
  SecretBytes key = std::move(*key_or);
  EXPECT_TRUE(key == key_);
}

TEST_F(KeyWrapTest, EveryDamageIsDataLoss) {
  auto w_or = KeyWrap::Create(kek_, FieldSuite::kAes256Gcm, salt_);
  ASSERT_TRUE(w_or.has_value()) << w_or.error().ToString();
  KeyWrap w = std::move(*w_or);
  auto other_or = KeyWrap::Create(CountingKey(0x01), FieldSuite::kAes256Gcm, salt_);
  ASSERT_TRUE(other_or.has_value()) << other_or.error().ToString();
  KeyWrap other = std::move(*other_or);
  const Bytes good = w.Wrap(key_, ad_);
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    EXPECT_EQ(CodeOf(w.Unwrap(bad, ad_)), ErrorCode::kDataLoss) << "byte " << i;
  }
  EXPECT_EQ(CodeOf(w.Unwrap(good, B("custos/data-key/v1other-person"))), ErrorCode::kDataLoss);
  EXPECT_EQ(CodeOf(other.Unwrap(good, ad_)), ErrorCode::kDataLoss);
  // The same key file, another vault (salt): another wrap key.
  auto elsewhere_or = KeyWrap::Create(kek_, FieldSuite::kAes256Gcm, Bytes(16, 0x11));
  ASSERT_TRUE(elsewhere_or.has_value());
  EXPECT_EQ(CodeOf(elsewhere_or->Unwrap(good, ad_)), ErrorCode::kDataLoss);
  for (size_t n : {0u, 1u, 60u, 62u, 71u, 73u}) {
    Bytes sized(n, 0x02);
    EXPECT_EQ(CodeOf(w.Unwrap(sized, ad_)), ErrorCode::kDataLoss) << n << " bytes";
  }
}

TEST(KeyWrapCreate, RefusesAKekOfTheWrongSize) {
  EXPECT_EQ(CodeOf(KeyWrap::Create(SecretBytes(31), FieldSuite::kXChaCha20Poly1305, {})),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::crypto
