// Known-answer tests for the RFC 9162 Merkle tree and the C2SP signed note,
// from published vectors stored as data files (testdata/merkle/, each file
// naming its source):
//   roots.json        the RFC 6962 reference tree: leaves and root per size
//   inclusion.json    published audit paths, and the transparency-dev probes
//                     (happy paths and deliberately broken proofs)
//   consistency.json  the same for consistency proofs
//   signed_note.json  golang.org/x/mod/sumdb/note: key, text, signature, and
//                     notes the reference implementation rejects
// Computed proofs must equal the published ones; every broken proof must be
// rejected with the code merkle.h promises.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/test_util.h"
#include "crypto/secret_bytes.h"
#include "crypto/signer.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace custos::tlog {
namespace {

using json = nlohmann::json;

json Load(const std::string& name) {
  std::string text = testing::Slurp(std::string(CUSTOS_TESTDATA_DIR) + "/merkle/" + name);
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

Hash HashFromHex(const std::string& hex) {
  auto b = HexDecode(hex);
  Hash h{};
  if (!b || b->size() != h.size()) {
    ADD_FAILURE() << "not a 32-byte hex hash: " << hex;
    return h;
  }
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

// A hash as the probes carry it (base64). nullopt for anything that is not
// exactly 32 bytes: the probes include "" and "WrongLeaf", which a decoder of
// fixed-size hashes rejects before any verification.
std::optional<Hash> HashFromBase64(const std::string& b64) {
  auto b = Base64Decode(b64);
  if (!b || b->size() != 32) return std::nullopt;
  Hash h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

// A probe's proof: null and [] are both the empty proof.
std::optional<std::vector<Hash>> ProofFromBase64(const json& j) {
  std::vector<Hash> out;
  if (j.is_null()) return out;
  for (const auto& e : j) {
    auto h = HashFromBase64(e.get<std::string>());
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

std::vector<std::string> HexAll(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const auto& h : hs) out.push_back(HexEncode(h));
  return out;
}

// The reference tree: leaf hashes of the eight published leaves.
std::vector<Hash> ReferenceLeafHashes() {
  std::vector<Hash> out;
  json roots = Load("roots.json");
  for (const auto& l : roots["leaves"]) {
    auto data = HexDecode(l.get<std::string>());
    if (!data) {
      ADD_FAILURE() << "bad leaf " << l;
      continue;
    }
    out.push_back(LeafHash(*data));
  }
  return out;
}

// Subtree hash over leaves [b, e) computed the naive way, from the definition.
std::function<Result<Hash>(uint64_t, uint64_t)> NaiveRange(const std::vector<Hash>& leaves) {
  return [&leaves](uint64_t b, uint64_t e) -> Result<Hash> {
    if (b > e || e > leaves.size()) return Fail(Internal("range outside the reference tree"));
    return RootFromLeafHashes(std::vector<Hash>(leaves.begin() + static_cast<long>(b),
                                                leaves.begin() + static_cast<long>(e)));
  };
}

std::string TestName(const std::string& kind, const json& probe) {
  // upstream is "testdata/<kind>/<n>/<file>.json": the name keeps <n>.
  std::string up = probe.value("upstream", "");
  std::string dir = "x";
  size_t a = up.find('/', up.find('/') + 1);
  size_t b = a == std::string::npos ? a : up.find('/', a + 1);
  if (b != std::string::npos) dir = up.substr(a + 1, b - a - 1);
  std::string out = kind + dir + "_";
  for (char c : probe.value("desc", std::string("case"))) {
    switch (c) {
      case '+': out += "plus"; break;
      case '-': out += "minus"; break;
      case '^': out += "xor"; break;
      case '*': out += "times"; break;
      default: out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
  }
  return out;
}

// ---------------------------------------------------------------- roots

TEST(MerkleKatTest, RootsOfTheReferenceTree) {
  json roots = Load("roots.json");
  ASSERT_FALSE(roots.is_discarded()) << "testdata/merkle/roots.json";
  EXPECT_EQ(HexEncode(EmptyRoot()), roots["empty_root"].get<std::string>());
  EXPECT_EQ(HexEncode(RootFromLeafHashes({})), roots["empty_root"].get<std::string>());
  std::vector<Hash> leaves = ReferenceLeafHashes();
  ASSERT_EQ(leaves.size(), 8u);
  ASSERT_EQ(roots["roots"].size(), 8u);
  for (const auto& r : roots["roots"]) {
    uint64_t size = r["size"].get<uint64_t>();
    std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<long>(size));
    EXPECT_EQ(HexEncode(RootFromLeafHashes(prefix)), r["root"].get<std::string>()) << "size " << size;
  }
}

// ---------------------------------------------------------------- published proofs

TEST(MerkleKatTest, InclusionPathsEqualThePublishedOnes) {
  json incl = Load("inclusion.json");
  ASSERT_FALSE(incl.is_discarded()) << "testdata/merkle/inclusion.json";
  json roots = Load("roots.json");
  std::vector<Hash> leaves = ReferenceLeafHashes();
  ASSERT_GE(incl["paths"].size(), 5u);
  for (const auto& p : incl["paths"]) {
    uint64_t index = p["leaf_index"].get<uint64_t>();
    uint64_t size = p["tree_size"].get<uint64_t>();
    SCOPED_TRACE("leaf " + std::to_string(index) + " of " + std::to_string(size));
    auto path = InclusionPath(index, size, NaiveRange(leaves));
    ASSERT_TRUE(path) << path.error().ToString();
    EXPECT_EQ(HexAll(*path), p["path"].get<std::vector<std::string>>());
    Hash root = HashFromHex(roots["roots"][size - 1]["root"].get<std::string>());
    EXPECT_TRUE(VerifyInclusion(index, size, leaves[index], *path, root));
  }
}

TEST(MerkleKatTest, ConsistencyProofsEqualThePublishedOnes) {
  json cons = Load("consistency.json");
  ASSERT_FALSE(cons.is_discarded()) << "testdata/merkle/consistency.json";
  json roots = Load("roots.json");
  std::vector<Hash> leaves = ReferenceLeafHashes();
  ASSERT_GE(cons["proofs"].size(), 5u);
  for (const auto& p : cons["proofs"]) {
    uint64_t s1 = p["size1"].get<uint64_t>();
    uint64_t s2 = p["size2"].get<uint64_t>();
    SCOPED_TRACE(std::to_string(s1) + " -> " + std::to_string(s2));
    auto proof = ConsistencyPath(s1, s2, NaiveRange(leaves));
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(HexAll(*proof), p["proof"].get<std::vector<std::string>>());
    Hash r1 = HashFromHex(roots["roots"][s1 - 1]["root"].get<std::string>());
    Hash r2 = HashFromHex(roots["roots"][s2 - 1]["root"].get<std::string>());
    EXPECT_TRUE(VerifyConsistency(s1, s2, r1, r2, *proof));
  }
}

// ---------------------------------------------------------------- probes

struct Case {
  std::string name;
  json probe;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.probe.dump(); }

std::vector<Case> LoadProbes(const std::string& file, const std::string& kind) {
  json j = Load(file);
  std::vector<Case> out;
  if (j.is_discarded() || !j.contains("probes")) {
    out.push_back({"load_error", json()});  // fails in the test body
    return out;
  }
  std::set<std::string> seen;
  for (const auto& p : j["probes"]) {
    std::string name = TestName(kind, p);
    while (!seen.insert(name).second) name += "_";
    out.push_back({name, p});
  }
  return out;
}

class InclusionProbeTest : public ::testing::TestWithParam<Case> {};

TEST_P(InclusionProbeTest, VerifiesIffPublishedAsValid) {
  const json& p = GetParam().probe;
  ASSERT_TRUE(p.is_object()) << "testdata/merkle/inclusion.json did not load";
  SCOPED_TRACE(p.dump());
  const bool want_err = p["wantErr"].get<bool>();
  const uint64_t index = p["leafIdx"].get<uint64_t>();
  const uint64_t size = p["treeSize"].get<uint64_t>();
  auto root = HashFromBase64(p["root"].get<std::string>());
  auto leaf = HashFromBase64(p["leafHash"].get<std::string>());
  auto proof = ProofFromBase64(p["proof"]);
  if (!root || !leaf || !proof) {
    EXPECT_TRUE(want_err) << "a published valid proof has a hash that is not 32 bytes";
    return;  // rejected by the fixed-size decoding
  }
  Status st = VerifyInclusion(index, size, *leaf, *proof, *root);
  if (!want_err) {
    EXPECT_TRUE(st) << st.error().ToString();
    // The proof the tree computes is the published one.
    std::vector<Hash> leaves = ReferenceLeafHashes();
    auto path = InclusionPath(index, size, NaiveRange(leaves));
    ASSERT_TRUE(path);
    EXPECT_EQ(HexAll(*path), HexAll(*proof));
    EXPECT_EQ(leaves[index], *leaf);
    return;
  }
  ASSERT_FALSE(st) << "a broken proof verified";
  EXPECT_EQ(st.error().code(), index >= size ? ErrorCode::kInvalidArgument : ErrorCode::kDataLoss)
      << st.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Kat, InclusionProbeTest,
                         ::testing::ValuesIn(LoadProbes("inclusion.json", "inclusion")),
                         [](const auto& p) { return p.param.name; });

class ConsistencyProbeTest : public ::testing::TestWithParam<Case> {};

TEST_P(ConsistencyProbeTest, VerifiesIffPublishedAsValid) {
  const json& p = GetParam().probe;
  ASSERT_TRUE(p.is_object()) << "testdata/merkle/consistency.json did not load";
  SCOPED_TRACE(p.dump());
  const bool want_err = p["wantErr"].get<bool>();
  const uint64_t s1 = p["size1"].get<uint64_t>();
  const uint64_t s2 = p["size2"].get<uint64_t>();
  auto r1 = HashFromBase64(p["root1"].get<std::string>());
  auto r2 = HashFromBase64(p["root2"].get<std::string>());
  auto proof = ProofFromBase64(p["proof"]);
  if (!r1 || !r2 || !proof) {
    EXPECT_TRUE(want_err) << "a published valid proof has a hash that is not 32 bytes";
    return;
  }
  Status st = VerifyConsistency(s1, s2, *r1, *r2, *proof);
  if (!want_err) {
    EXPECT_TRUE(st) << st.error().ToString();
    std::vector<Hash> leaves = ReferenceLeafHashes();
    auto path = ConsistencyPath(s1, s2, NaiveRange(leaves));
    ASSERT_TRUE(path);
    EXPECT_EQ(HexAll(*path), HexAll(*proof));
    return;
  }
  ASSERT_FALSE(st) << "a broken proof verified";
  EXPECT_EQ(st.error().code(), s1 > s2 ? ErrorCode::kInvalidArgument : ErrorCode::kDataLoss)
      << st.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Kat, ConsistencyProbeTest,
                         ::testing::ValuesIn(LoadProbes("consistency.json", "consistency")),
                         [](const auto& p) { return p.param.name; });

TEST(MerkleKatTest, EveryPublishedProofHasItsBrokenVariants) {
  // Guards against a truncated data file silently shrinking the suite.
  json incl = Load("inclusion.json");
  json cons = Load("consistency.json");
  size_t inc_bad = 0, con_bad = 0, inc_ok = 0, con_ok = 0;
  for (const auto& p : incl["probes"]) (p["wantErr"].get<bool>() ? inc_bad : inc_ok)++;
  for (const auto& p : cons["probes"]) (p["wantErr"].get<bool>() ? con_bad : con_ok)++;
  EXPECT_EQ(inc_ok, 5u);
  EXPECT_EQ(con_ok, 5u);
  EXPECT_EQ(inc_bad, 77u);
  EXPECT_EQ(con_bad, 79u);
}

// ---------------------------------------------------------------- signed note

ErrorCode CodeFromName(const std::string& name) {
  for (ErrorCode c : {ErrorCode::kInvalidArgument, ErrorCode::kDataLoss}) {
    if (ErrorCodeName(c) == name) return c;
  }
  ADD_FAILURE() << "unexpected code name " << name;
  return ErrorCode::kInternal;
}

TEST(SignedNoteKatTest, VerifierKeyParsesAndRoundTrips) {
  json n = Load("signed_note.json");
  ASSERT_FALSE(n.is_discarded()) << "testdata/merkle/signed_note.json";
  auto vk = ParseVerifierKey(n["vkey"].get<std::string>());
  ASSERT_TRUE(vk) << vk.error().ToString();
  EXPECT_EQ(vk->name, n["name"].get<std::string>());
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", vk->hash);
  EXPECT_EQ(hash, n["key_hash"].get<std::string>());
  EXPECT_EQ(NoteKeyHash(vk->name, vk->key), vk->hash);
  EXPECT_EQ(NoteVerifierKey(vk->name, vk->key), n["vkey"].get<std::string>());
  EXPECT_TRUE(ParseVerifierKey(n["other_vkey"].get<std::string>()));
}

TEST(SignedNoteKatTest, MangledVerifierKeysAreRejected) {
  json n = Load("signed_note.json");
  for (const auto& b : n["bad_vkeys"]) {
    auto r = ParseVerifierKey(b["vkey"].get<std::string>());
    ASSERT_FALSE(r) << b["desc"];
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  // The reference's recipe: every proper substring, and every one-byte increment.
  const std::string vkey = n["vkey"].get<std::string>();
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      auto r = ParseVerifierKey(vkey.substr(i, j - i));
      ASSERT_FALSE(r) << "accepted " << vkey.substr(i, j - i);
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  }
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string bad = vkey;
    ++bad[i];
    auto r = ParseVerifierKey(bad);
    ASSERT_FALSE(r) << "accepted " << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(SignedNoteKatTest, SigningTheTextGivesThePublishedNote) {
  json n = Load("signed_note.json");
  // skey: PRIVATE+KEY+<name>+<hash>+base64(0x01 || Ed25519 seed).
  const std::string skey = n["skey"].get<std::string>();
  size_t at = 0;
  for (int i = 0; i < 4; ++i) at = skey.find('+', at) + 1;  // the key follows the 4th '+'
  auto blob = Base64Decode(skey.substr(at));
  ASSERT_TRUE(blob);
  ASSERT_EQ(blob->size(), 33u);
  ASSERT_EQ((*blob)[0], 0x01);
  auto signer = crypto::Signer::FromSeed(
      crypto::SecretBytes::CopyOf(Bytes(blob->begin() + 1, blob->end())));
  ASSERT_TRUE(signer);
  auto vk = ParseVerifierKey(n["vkey"].get<std::string>());
  ASSERT_TRUE(vk);
  EXPECT_EQ(signer->public_key(), vk->key);
  // Ed25519 is deterministic: the note is byte-for-byte the published one.
  EXPECT_EQ(SignNote(n["text"].get<std::string>(), vk->name, *signer),
            n["signed"].get<std::string>());
}

TEST(SignedNoteKatTest, PublishedNotesVerify) {
  json n = Load("signed_note.json");
  auto vk = ParseVerifierKey(n["vkey"].get<std::string>());
  ASSERT_TRUE(vk);
  auto body = VerifyNote(n["signed"].get<std::string>(), *vk);
  ASSERT_TRUE(body) << body.error().ToString();
  EXPECT_EQ(*body, n["text"].get<std::string>());
  for (const auto& v : n["valid_notes"]) {
    auto b = VerifyNote(v["note"].get<std::string>(), *vk);
    ASSERT_TRUE(b) << v["desc"] << ": " << b.error().ToString();
    EXPECT_EQ(*b, n["text"].get<std::string>());
  }
  // The second signer's signature verifies under its own key.
  auto other = ParseVerifierKey(n["other_vkey"].get<std::string>());
  ASSERT_TRUE(other);
  auto b = VerifyNote(n["valid_notes"][0]["note"].get<std::string>(), *other);
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(*b, n["text"].get<std::string>());
  // And the note signed by the first key only carries no signature by it.
  auto none = VerifyNote(n["signed"].get<std::string>(), *other);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kDataLoss);
}

TEST(SignedNoteKatTest, RejectedNotesFailWithTheirCode) {
  json n = Load("signed_note.json");
  auto vk = ParseVerifierKey(n["vkey"].get<std::string>());
  ASSERT_TRUE(vk);
  ASSERT_GE(n["bad_notes"].size(), 10u);
  for (const auto& c : n["bad_notes"]) {
    std::string note = c["note"].get<std::string>();
    if (c.contains("prefix_hex")) {
      auto prefix = HexDecode(c["prefix_hex"].get<std::string>());
      ASSERT_TRUE(prefix);
      note = std::string(AsChars(*prefix)) + note;
    }
    auto r = VerifyNote(note, *vk);
    ASSERT_FALSE(r) << c["desc"] << " verified";
    EXPECT_EQ(r.error().code(), CodeFromName(c["custos_code"].get<std::string>()))
        << c["desc"] << ": " << r.error().ToString();
  }
}

}  // namespace
}  // namespace custos::tlog
