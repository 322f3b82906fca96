// Tests for crypto/kdf.h against published known-answer vectors in
// testdata/crypto/*.json, plus properties and error codes.
//
// Vector sources (details in each JSON file's "source" fields):
//   hkdf_sha256.json  RFC 5869 Appendix A test cases 1-3.
//   hmac_sha256.json  RFC 4231 test cases 1-4, 6, 7 (case 5 truncates the
//                     output and is skipped) + RFC 4868 2.7.2.1.
//   sha256.json       FIPS 180-2/180-4 examples: "abc", 448-bit and 896-bit
//                     messages, one million 'a'; and SHA-256("").
//   argon2id.json     Argon2id v1.3, p = 1, 16-byte salt, no secret, no AD:
//                     libsodium's own test/default/pwhash_argon2id.{c,exp}
//                     (tv/tv2; crypto_pwhash with the default algorithm,
//                     Argon2id v1.3, and the first 16 bytes of each salt), and
//                     Argon2 reference-CLI outputs published in cosmjs
//                     argon2.spec.ts (salt "ABCDEFGHIJKLMNOP", p = 1).
//                     The phc-winner-argon2 vectors for "password"/"somesalt"
//                     are NOT usable: "somesalt" is 8 bytes and libsodium's
//                     crypto_pwhash only takes 16-byte salts.
#include "crypto/kdf.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "base/file.h"
#include "crypto/aead.h"
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



// All tests of a file, whether it has "groups" or a flat "tests" array.
std::vector<json> AllTests(const json& file) {
  std::vector<json> out;
  if (file.is_null()) return out;
  if (file.contains("groups")) {
    for (const json& g : file.at("groups")) {
      for (const json& t : g.at("tests")) out.push_back(t);
    }
  } else {
    for (const json& t : file.at("tests")) out.push_back(t);
  }
  return out;
}



Bytes B(std::string_view s) {
  ByteSpan b = AsBytes(s);
  return Bytes(b.begin(), b.end());
}

template <typename R>
ErrorCode CodeOf(const R& r) {
  return r ? ErrorCode::kOk : r.error().code();
}

// --- HKDF-SHA256 ----------------------------------------------------------------

struct HkdfVector {
  std::string id;
  Bytes ikm, salt, info, okm;
};
void PrintTo(const HkdfVector& v, std::ostream* os) { *os << v.id; }

std::vector<HkdfVector> HkdfVectors() {
  std::vector<HkdfVector> out;
  for (const json& t : AllTests(LoadVectorFile("hkdf_sha256.json"))) {
    out.push_back({t.at("id").get<std::string>(), HexField(t, "ikm"), HexField(t, "salt"),
                   HexField(t, "info"), HexField(t, "okm")});
  }
  return out;
}

class HkdfKat : public ::testing::TestWithParam<HkdfVector> {};

TEST_P(HkdfKat, DerivesOkm) {
  const HkdfVector& v = GetParam();
  Result<SecretBytes> okm = HkdfSha256(SecretBytes::CopyOf(v.ikm), v.salt, v.info, v.okm.size());
  ASSERT_TRUE(okm.has_value()) << okm.error().ToString();
  EXPECT_EQ(Hex(okm->RevealSecret()), Hex(v.okm));
  // HKDF output is a prefix-stable stream: a shorter request is a prefix.
  Result<SecretBytes> shorter = HkdfSha256(SecretBytes::CopyOf(v.ikm), v.salt, v.info, 16);
  ASSERT_TRUE(shorter.has_value());
  EXPECT_EQ(Hex(shorter->RevealSecret()), Hex(ByteSpan(v.okm).first(16)));
}

INSTANTIATE_TEST_SUITE_P(Rfc5869, HkdfKat, ::testing::ValuesIn(HkdfVectors()),
                         [](const ::testing::TestParamInfo<HkdfVector>& p) {
                           return TestNameOf(p.param.id);
                         });

TEST(HkdfTest, VectorFileHasAllThreeRfcCases) { EXPECT_EQ(HkdfVectors().size(), 3u); }

TEST(HkdfTest, InputsSeparateOutputs) {
  const SecretBytes ikm = SecretBytes::CopyOf(B("input keying material"));
  auto derive = [&](std::string_view salt, std::string_view info) {
    Result<SecretBytes> r = HkdfSha256(ikm, AsBytes(salt), AsBytes(info), 32);
    EXPECT_TRUE(r.has_value());
    return r ? Hex(r->RevealSecret()) : std::string();
  };
  const std::string base = derive("salt", "info");
  EXPECT_EQ(derive("salt", "info"), base);
  EXPECT_NE(derive("salt", "info2"), base);
  EXPECT_NE(derive("salt2", "info"), base);
  Result<SecretBytes> other =
      HkdfSha256(SecretBytes::CopyOf(B("other ikm")), AsBytes("salt"), AsBytes("info"), 32);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(Hex(other->RevealSecret()), base);
}

TEST(HkdfTest, OutputLengthLimit) {
  const SecretBytes ikm = SecretBytes::Random(32);
  Result<SecretBytes> max = HkdfSha256(ikm, {}, {}, 255 * 32);  // RFC 5869: L <= 255 * HashLen
  ASSERT_TRUE(max.has_value()) << max.error().ToString();
  EXPECT_EQ(max->size(), 255u * 32u);
  EXPECT_FALSE(HkdfSha256(ikm, {}, {}, 255 * 32 + 1).has_value());
}

// --- HMAC-SHA256 ---------------------------------------------------------------

struct HmacVector {
  std::string id;
  Bytes key, data, mac;
};
void PrintTo(const HmacVector& v, std::ostream* os) { *os << v.id; }

std::vector<HmacVector> HmacVectors() {
  std::vector<HmacVector> out;
  for (const json& t : AllTests(LoadVectorFile("hmac_sha256.json"))) {
    out.push_back({t.at("id").get<std::string>(), HexField(t, "key"), HexField(t, "data"),
                   HexField(t, "mac")});
  }
  return out;
}

class HmacKat : public ::testing::TestWithParam<HmacVector> {};

TEST_P(HmacKat, ComputesMac) {
  const HmacVector& v = GetParam();
  ASSERT_EQ(v.mac.size(), 32u);
  HmacSha256 hmac(SecretBytes::CopyOf(v.key));
  EXPECT_EQ(Hex(hmac.Mac(v.data)), Hex(v.mac));
  // Mac() does not consume the precomputed state: same answer again, and an
  // unrelated message in between does not disturb it.
  Digest other = hmac.Mac(AsBytes("something else"));
  EXPECT_NE(Hex(other), Hex(v.mac));
  EXPECT_EQ(Hex(hmac.Mac(v.data)), Hex(v.mac));
}

INSTANTIATE_TEST_SUITE_P(Rfc, HmacKat, ::testing::ValuesIn(HmacVectors()),
                         [](const ::testing::TestParamInfo<HmacVector>& p) {
                           return TestNameOf(p.param.id);
                         });

TEST(HmacTest, VectorFileHasRfc4231Cases) {
  int rfc4231 = 0;
  for (const HmacVector& v : HmacVectors()) rfc4231 += v.id.rfind("rfc4231-", 0) == 0;
  EXPECT_EQ(rfc4231, 6);
}

TEST(HmacTest, KeySeparatesMacs) {
  HmacSha256 a(SecretBytes::CopyOf(B("key a")));
  HmacSha256 b(SecretBytes::CopyOf(B("key b")));
  EXPECT_NE(Hex(a.Mac(AsBytes("msg"))), Hex(b.Mac(AsBytes("msg"))));
  EXPECT_NE(Hex(a.Mac(AsBytes("msg"))), Hex(a.Mac(AsBytes("msh"))));
}

// --- SHA-256 -------------------------------------------------------------------

struct ShaVector {
  std::string id;
  Bytes msg, digest;
};
void PrintTo(const ShaVector& v, std::ostream* os) { *os << v.id; }

std::vector<ShaVector> ShaVectors() {
  std::vector<ShaVector> out;
  for (const json& t : AllTests(LoadVectorFile("sha256.json"))) {
    ShaVector v;
    v.id = t.at("id").get<std::string>();
    if (t.contains("repeat")) {
      const std::string unit = t.at("repeat").get<std::string>();
      const size_t count = t.at("count").get<size_t>();
      for (size_t i = 0; i < count; ++i) v.msg.insert(v.msg.end(), unit.begin(), unit.end());
    } else {
      v.msg = B(t.at("msg_ascii").get<std::string>());
    }
    v.digest = HexField(t, "digest");
    out.push_back(std::move(v));
  }
  return out;
}

class Sha256Kat : public ::testing::TestWithParam<ShaVector> {};

TEST_P(Sha256Kat, OneShot) {
  const ShaVector& v = GetParam();
  EXPECT_EQ(Hex(Sha256(v.msg)), Hex(v.digest));
}

TEST_P(Sha256Kat, StreamEqualsOneShotAtOddSplits) {
  const ShaVector& v = GetParam();
  const ByteSpan msg = v.msg;
  {
    Sha256Stream s;
    EXPECT_EQ(Hex(s.Finish()), Hex(Sha256({})));
  }
  // One Update with everything, and an empty Update mixed in.
  {
    Sha256Stream s;
    s.Update({});
    s.Update(msg);
    s.Update({});
    EXPECT_EQ(Hex(s.Finish()), Hex(v.digest));
  }
  // Chunks of odd, block-misaligned sizes, cycling.
  for (size_t first : {size_t{1}, size_t{3}, size_t{55}, size_t{63}, size_t{65}}) {
    const size_t sizes[] = {first, 7, 64, 1, 129, 13};
    Sha256Stream s;
    size_t at = 0;
    for (size_t i = 0; at < msg.size(); ++i) {
      size_t n = std::min(sizes[i % std::size(sizes)], msg.size() - at);
      s.Update(msg.subspan(at, n));
      at += n;
    }
    EXPECT_EQ(Hex(s.Finish()), Hex(v.digest)) << "first chunk " << first;
  }
  // Every two-way split of short messages.
  if (msg.size() <= 128) {
    for (size_t k = 0; k <= msg.size(); ++k) {
      Sha256Stream s;
      s.Update(msg.first(k));
      s.Update(msg.subspan(k));
      EXPECT_EQ(Hex(s.Finish()), Hex(v.digest)) << "split at " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fips180, Sha256Kat, ::testing::ValuesIn(ShaVectors()),
                         [](const ::testing::TestParamInfo<ShaVector>& p) {
                           return TestNameOf(p.param.id);
                         });

TEST(Sha256Test, VectorFileHasNistExamples) { EXPECT_EQ(ShaVectors().size(), 5u); }

// --- Argon2id ------------------------------------------------------------------

struct Argon2Vector {
  std::string id;
  std::string passphrase;
  Bytes salt;
  Argon2Params params;
  size_t out_size = 0;
  Bytes out;  // empty when an error is expected
  ErrorCode error = ErrorCode::kOk;
};
void PrintTo(const Argon2Vector& v, std::ostream* os) { *os << v.id; }

ErrorCode ErrorCodeFromName(const std::string& name) {
  if (name == "kInvalidArgument") return ErrorCode::kInvalidArgument;
  if (name == "kUnavailable") return ErrorCode::kUnavailable;
  std::fprintf(stderr, "unknown error code name %s in argon2id.json\n", name.c_str());
  std::abort();
}

std::vector<Argon2Vector> Argon2Vectors() {
  std::vector<Argon2Vector> out;
  for (const json& t : AllTests(LoadVectorFile("argon2id.json"))) {
    Argon2Vector v;
    v.id = t.at("id").get<std::string>();
    Bytes pw = HexField(t, "passphrase_hex");
    v.passphrase.assign(pw.begin(), pw.end());
    v.salt = HexField(t, "salt");
    v.params.ops_limit = t.at("ops_limit").get<uint64_t>();
    v.params.mem_limit = t.at("mem_limit").get<uint64_t>();
    if (t.contains("error")) {
      v.error = ErrorCodeFromName(t.at("error").get<std::string>());
      v.out_size = t.at("out_size").get<size_t>();
    } else {
      v.out = HexField(t, "out");
      v.out_size = v.out.size();
    }
    out.push_back(std::move(v));
  }
  return out;
}

class Argon2idKat : public ::testing::TestWithParam<Argon2Vector> {};

TEST_P(Argon2idKat, DerivesPublishedOutput) {
  const Argon2Vector& v = GetParam();
  ASSERT_EQ(v.salt.size(), kArgon2SaltSize);
  Result<SecretBytes> r = Argon2id(v.passphrase, v.salt, v.params, v.out_size);
  if (v.error != ErrorCode::kOk) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(ErrorCodeName(r.error().code()), ErrorCodeName(v.error));
    return;
  }
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Hex(r->RevealSecret()), Hex(v.out));
}

INSTANTIATE_TEST_SUITE_P(Published, Argon2idKat, ::testing::ValuesIn(Argon2Vectors()),
                         [](const ::testing::TestParamInfo<Argon2Vector>& p) {
                           return TestNameOf(p.param.id);
                         });

TEST(Argon2idTest, VectorFileLoads) { EXPECT_EQ(Argon2Vectors().size(), 27u); }

// Cheap parameters for the property tests below.
constexpr Argon2Params kFast{.ops_limit = 1, .mem_limit = 64 * 1024};

TEST(Argon2idTest, IsDeterministic) {
  const Bytes salt(16, 0x11);
  Result<SecretBytes> a = Argon2id("correct horse", salt, kFast);
  Result<SecretBytes> b = Argon2id("correct horse", salt, kFast);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->size(), 32u);  // default out_size
  EXPECT_TRUE(*a == *b);
}

TEST(Argon2idTest, EveryInputChangesTheOutput) {
  const Bytes salt(16, 0x11);
  Result<SecretBytes> base = Argon2id("correct horse", salt, kFast);
  ASSERT_TRUE(base.has_value());
  const std::string base_hex = Hex(base->RevealSecret());

  auto hex_of = [](Result<SecretBytes> r) {
    EXPECT_TRUE(r.has_value());
    return r ? Hex(r->RevealSecret()) : std::string();
  };
  Bytes other_salt = salt;
  other_salt[15] ^= 1;
  EXPECT_NE(hex_of(Argon2id("correct horsf", salt, kFast)), base_hex) << "passphrase";
  EXPECT_NE(hex_of(Argon2id("correct horse", other_salt, kFast)), base_hex) << "salt";
  EXPECT_NE(hex_of(Argon2id("correct horse", salt, {.ops_limit = 2, .mem_limit = kFast.mem_limit})),
            base_hex)
      << "ops_limit";
  EXPECT_NE(hex_of(Argon2id("correct horse", salt, {.ops_limit = 1, .mem_limit = 128 * 1024})),
            base_hex)
      << "mem_limit";
  // Argon2's output length is an input to H0: a longer output is not an extension.
  const std::string longer = hex_of(Argon2id("correct horse", salt, kFast, 64));
  EXPECT_EQ(longer.size(), 128u);
  EXPECT_NE(longer.substr(0, 64), base_hex) << "out_size";
}

TEST(Argon2idTest, EmptyPassphraseIsAllowed) {
  Result<SecretBytes> r = Argon2id("", Bytes(16, 0), kFast);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->size(), 32u);
}

// --- Argon2id error-code table ---------------------------------------------------

struct ErrorCase {
  const char* name;
  std::function<ErrorCode()> run;
  ErrorCode want;
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

ErrorCode Argon2Code(size_t salt_size, uint64_t ops, uint64_t mem, size_t out_size = 32) {
  return CodeOf(
      Argon2id("pw", Bytes(salt_size, 0x5a), {.ops_limit = ops, .mem_limit = mem}, out_size));
}

class Argon2idErrorCodes : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(Argon2idErrorCodes, ReturnsDocumentedCode) {
  const ErrorCase& c = GetParam();
  EXPECT_EQ(ErrorCodeName(c.run()), ErrorCodeName(c.want)) << c.name;
}

// libsodium limits (1.0.18): crypto_pwhash_SALTBYTES = 16, OPSLIMIT_MIN = 1,
// OPSLIMIT_MAX = 2^32 - 1, MEMLIMIT_MIN = 8192 bytes, BYTES_MIN = 16; Custos
// additionally caps mem_limit at 4 GiB.
INSTANTIATE_TEST_SUITE_P(
    Table, Argon2idErrorCodes,
    ::testing::Values(
        ErrorCase{"Salt0", [] { return Argon2Code(0, 1, 65536); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Salt8_somesalt", [] { return Argon2Code(8, 1, 65536); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"Salt15", [] { return Argon2Code(15, 1, 65536); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Salt17", [] { return Argon2Code(17, 1, 65536); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Salt32", [] { return Argon2Code(32, 1, 65536); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Salt16", [] { return Argon2Code(16, 1, 65536); }, ErrorCode::kOk},
        ErrorCase{"Ops0", [] { return Argon2Code(16, 0, 65536); }, ErrorCode::kInvalidArgument},
        ErrorCase{"OpsAbove2To32", [] { return Argon2Code(16, 1ull << 32, 65536); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"Mem8191", [] { return Argon2Code(16, 1, 8191); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Mem8192", [] { return Argon2Code(16, 1, 8192); }, ErrorCode::kOk},
        ErrorCase{"MemAbove4GiB", [] { return Argon2Code(16, 1, (4ull << 30) + 1024); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"Out15", [] { return Argon2Code(16, 1, 65536, 15); },
                  ErrorCode::kInvalidArgument},
        ErrorCase{"Out0", [] { return Argon2Code(16, 1, 65536, 0); }, ErrorCode::kInvalidArgument},
        ErrorCase{"Out16", [] { return Argon2Code(16, 1, 65536, 16); }, ErrorCode::kOk}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace custos::crypto
