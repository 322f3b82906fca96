// Tests for crypto/signer.h against published Ed25519 vectors in
// testdata/crypto/ed25519.json: RFC 8032 section 7.1 (TEST 1, 2, 3, 1024,
// SHA(abc)) and Wycheproof eddsa_test.json (valid signatures, which double as
// signing vectors because Ed25519 is deterministic, and invalid ones).
#include "crypto/signer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
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






struct Ed25519Vector {
  std::string id;
  std::string comment;
  Bytes seed, public_key, msg, sig;
  bool valid = false;
};
void PrintTo(const Ed25519Vector& v, std::ostream* os) { *os << v.id; }

std::vector<Ed25519Vector> LoadEd25519Vectors() {
  std::vector<Ed25519Vector> out;
  json j = LoadVectorFile("ed25519.json");
  if (j.is_null()) return out;
  for (const json& group : j.at("groups")) {
    for (const json& t : group.at("tests")) {
      Ed25519Vector v;
      v.id = t.at("id").get<std::string>();
      v.comment = t.value("comment", "");
      v.seed = HexField(t, "seed");
      v.public_key = HexField(t, "public_key");
      v.msg = HexField(t, "msg");
      v.sig = HexField(t, "sig");
      v.valid = t.at("result").get<std::string>() == "valid";
      out.push_back(std::move(v));
    }
  }
  return out;
}

const std::vector<Ed25519Vector>& Ed25519Vectors() {
  static const auto* v = new std::vector<Ed25519Vector>(LoadEd25519Vectors());
  return *v;
}

Ed25519PublicKey ToPublicKey(const Bytes& b) {
  Ed25519PublicKey k{};
  if (b.size() != k.size()) std::abort();
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

TEST(Ed25519VectorFile, Loads) {
  const auto& all = Ed25519Vectors();
  EXPECT_EQ(all.size(), 44u);
  for (const char* id : {"rfc8032-test1", "rfc8032-test2", "rfc8032-test3", "rfc8032-test1024"}) {
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const Ed25519Vector& v) {
      return v.id == id;
    })) << id;
  }
  for (const Ed25519Vector& v : all) {
    EXPECT_EQ(v.seed.size(), 32u) << v.id;
    EXPECT_EQ(v.public_key.size(), 32u) << v.id;
    if (v.valid) {
      EXPECT_EQ(v.sig.size(), 64u) << v.id;
    }
  }
}

class Ed25519Kat : public ::testing::TestWithParam<Ed25519Vector> {};

TEST_P(Ed25519Kat, MatchesVector) {
  const Ed25519Vector& v = GetParam();
  const Ed25519PublicKey pk = ToPublicKey(v.public_key);

  Result<Signer> signer = Signer::FromSeed(SecretBytes::CopyOf(v.seed));
  ASSERT_TRUE(signer.has_value()) << signer.error().ToString();
  EXPECT_EQ(Hex(signer->public_key()), Hex(v.public_key)) << "public key derived from seed";

  if (!v.valid) {
    EXPECT_FALSE(VerifyEd25519(pk, v.msg, v.sig)) << v.comment;
    return;
  }

  const Ed25519Signature sig = signer->Sign(v.msg);
  EXPECT_EQ(Hex(sig), Hex(v.sig)) << "Ed25519 signing is deterministic";
  EXPECT_TRUE(VerifyEd25519(pk, v.msg, v.sig));

  // Flipped bits in the message, the signature (R and S halves) and the key.
  Bytes msg = v.msg;
  if (msg.empty()) {
    msg.push_back(0);
  } else {
    msg[msg.size() / 2] ^= 0x01;
  }
  EXPECT_FALSE(VerifyEd25519(pk, msg, v.sig)) << "modified message";
  for (size_t bit : {size_t{0}, size_t{100}, size_t{255}, size_t{256}, size_t{300}, size_t{511}}) {
    Bytes bad = v.sig;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(VerifyEd25519(pk, v.msg, bad)) << "signature bit " << bit;
  }
  for (size_t byte : {size_t{0}, size_t{17}, size_t{31}}) {
    Ed25519PublicKey bad = pk;
    bad[byte] ^= 0x02;
    EXPECT_FALSE(VerifyEd25519(bad, v.msg, v.sig)) << "key byte " << byte;
  }
  // Truncated or extended signatures are rejected, not read out of bounds.
  EXPECT_FALSE(VerifyEd25519(pk, v.msg, ByteSpan(v.sig).first(63)));
  Bytes longer = v.sig;
  longer.push_back(0);
  EXPECT_FALSE(VerifyEd25519(pk, v.msg, longer));
}

INSTANTIATE_TEST_SUITE_P(Published, Ed25519Kat, ::testing::ValuesIn(Ed25519Vectors()),
                         [](const ::testing::TestParamInfo<Ed25519Vector>& p) {
                           return TestNameOf(p.param.id);
                         });

TEST(SignerTest, RandomSeedRoundTrip) {
  const SecretBytes seed = SecretBytes::Random(32);
  Result<Signer> s = Signer::FromSeed(seed);
  ASSERT_TRUE(s.has_value());
  const Bytes msg = {'a', 'u', 'd', 'i', 't'};
  Ed25519Signature sig = s->Sign(msg);
  EXPECT_TRUE(VerifyEd25519(s->public_key(), msg, sig));
  EXPECT_EQ(Hex(s->Sign(msg)), Hex(sig));

  Result<Signer> same = Signer::FromSeed(seed);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(Hex(same->public_key()), Hex(s->public_key()));

  Result<Signer> other = Signer::FromSeed(SecretBytes::Random(32));
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(Hex(other->public_key()), Hex(s->public_key()));
  EXPECT_FALSE(VerifyEd25519(other->public_key(), msg, sig));
}

TEST(SignerTest, SignerIsMovable) {
  Result<Signer> s = Signer::FromSeed(SecretBytes::Random(32));
  ASSERT_TRUE(s.has_value());
  const Ed25519PublicKey pk = s->public_key();
  Signer moved = std::move(*s);
  EXPECT_EQ(Hex(moved.public_key()), Hex(pk));
  const Bytes msg = {1, 2, 3};
  EXPECT_TRUE(VerifyEd25519(pk, msg, moved.Sign(msg)));
}

// --- Error-code table ---------------------------------------------------------

struct SeedSizeCase {
  size_t size;
  ErrorCode want;
};
void PrintTo(const SeedSizeCase& c, std::ostream* os) { *os << c.size << " bytes"; }

class SignerFromSeedErrors : public ::testing::TestWithParam<SeedSizeCase> {};

TEST_P(SignerFromSeedErrors, ReturnsDocumentedCode) {
  Result<Signer> s = Signer::FromSeed(SecretBytes::Random(GetParam().size));
  const ErrorCode got = s ? ErrorCode::kOk : s.error().code();
  EXPECT_EQ(ErrorCodeName(got), ErrorCodeName(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(Table, SignerFromSeedErrors,
                         ::testing::Values(SeedSizeCase{0, ErrorCode::kInvalidArgument},
                                           SeedSizeCase{16, ErrorCode::kInvalidArgument},
                                           SeedSizeCase{31, ErrorCode::kInvalidArgument},
                                           SeedSizeCase{32, ErrorCode::kOk},
                                           SeedSizeCase{33, ErrorCode::kInvalidArgument},
                                           SeedSizeCase{64, ErrorCode::kInvalidArgument}),
                         [](const ::testing::TestParamInfo<SeedSizeCase>& p) {
                           return "Seed" + std::to_string(p.param.size) + "Bytes";
                         });

}  // namespace
}  // namespace custos::crypto
