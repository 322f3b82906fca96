// libFuzzer target for the proof verifiers (RFC 9162 2.1.3.2 and 2.1.4.2)
// and the audit entry parser, the code that judges what an outside party
// hands in. Must never crash or hang, whatever the sizes (up to 2^64 - 1)
// and however long the proof.
//
// Input: the first byte picks a mode, the rest is read as big-endian fields.
//   0  VerifyInclusion(index u64, size u64, leaf, root, path...) on raw bytes
//   1  VerifyConsistency(size1 u64, size2 u64, root1, root2, path...)
//   2  a real tree of 1..64 leaves: the proof it computes for the chosen
//      index (or sizes) verifies, and a proof altered by the input's bytes
//      verifies only if it is the same proof (no second valid proof)
//   3  ParseEntry over the rest
// Errors must carry the codes merkle.h and audit_log.h promise.
//
// Seed corpus: testdata/fuzz/proof/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tlog/audit_log.h"
#include "tlog/merkle.h"

namespace {

using custos::ErrorCode;
namespace tlog = custos::tlog;
using tlog::Hash;

void Check(bool ok) {
  if (!ok) std::abort();
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t left() const { return n_; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return v;
  }
  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  Hash H() {
    Hash h{};
    for (auto& b : h) b = Byte();
    return h;
  }
  std::vector<Hash> Path() {
    std::vector<Hash> out;
    while (n_ >= 32 && out.size() < 200) out.push_back(H());
    return out;
  }
  std::string Rest() {
    std::string s(reinterpret_cast<const char*>(p_), n_);
    n_ = 0;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

void CheckVerifyCode(const custos::Status& st, bool impossible_sizes) {
  if (st) return;
  Check(st.error().code() ==
        (impossible_sizes ? ErrorCode::kInvalidArgument : ErrorCode::kDataLoss));
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) {
    std::string d = "entry " + std::to_string(i);
    out.push_back(tlog::LeafHash(custos::AsBytes(d)));
  }
  return out;
}

std::function<custos::Result<Hash>(uint64_t, uint64_t)> Range(const std::vector<Hash>& leaves) {
  return [&leaves](uint64_t b, uint64_t e) -> custos::Result<Hash> {
    Check(b < e && e <= leaves.size());
    return tlog::RootFromLeafHashes(std::vector<Hash>(leaves.begin() + static_cast<long>(b),
                                                      leaves.begin() + static_cast<long>(e)));
  };
}

// Alters a proof as the input says: flip a bit, drop, duplicate or insert.
std::vector<Hash> Alter(std::vector<Hash> path, Reader& r) {
  const uint8_t op = r.Byte();
  const size_t at = path.empty() ? 0 : r.Byte() % (path.size() + 1);
  switch (op % 4) {
    case 0:
      if (at < path.size()) path[at][r.Byte() % 32] ^= static_cast<uint8_t>(1u << (r.Byte() % 8));
      break;
    case 1:
      if (at < path.size()) path.erase(path.begin() + static_cast<long>(at));
      break;
    case 2:
      if (at < path.size()) path.insert(path.begin() + static_cast<long>(at), path[at]);
      break;
    default:
      path.insert(path.begin() + static_cast<long>(at), r.H());
  }
  return path;
}

void RealTree(Reader& r) {
  const size_t n = 1 + r.Byte() % 64;
  const std::vector<Hash> leaves = Leaves(n);
  const uint64_t a = r.Byte() % n, b = r.Byte() % n;
  // Inclusion of leaf min(a,b) in the tree of max(a,b) + 1 leaves.
  const uint64_t index = std::min(a, b), size = std::max(a, b) + 1;
  const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<long>(size));
  const Hash root = tlog::RootFromLeafHashes(prefix);
  auto path = tlog::InclusionPath(index, size, Range(leaves));
  Check(path.has_value());
  Check(tlog::VerifyInclusion(index, size, leaves[index], *path, root).has_value());
  std::vector<Hash> altered = Alter(*path, r);
  if (tlog::VerifyInclusion(index, size, leaves[index], altered, root)) Check(altered == *path);

  // Consistency between sizes index + 1 and size.
  const uint64_t old_size = index + 1;
  const Hash old_root = tlog::RootFromLeafHashes(
      std::vector<Hash>(leaves.begin(), leaves.begin() + static_cast<long>(old_size)));
  auto proof = tlog::ConsistencyPath(old_size, size, Range(leaves));
  Check(proof.has_value());
  Check(tlog::VerifyConsistency(old_size, size, old_root, root, *proof).has_value());
  altered = Alter(*proof, r);
  if (tlog::VerifyConsistency(old_size, size, old_root, root, altered)) Check(altered == *proof);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  switch (r.Byte() % 4) {
    case 0: {
      const uint64_t index = r.U64(), tree_size = r.U64();
      const Hash leaf = r.H(), root = r.H();
      const std::vector<Hash> path = r.Path();
      CheckVerifyCode(tlog::VerifyInclusion(index, tree_size, leaf, path, root),
                      index >= tree_size);
      break;
    }
    case 1: {
      const uint64_t s1 = r.U64(), s2 = r.U64();
      const Hash r1 = r.H(), r2 = r.H();
      const std::vector<Hash> path = r.Path();
      CheckVerifyCode(tlog::VerifyConsistency(s1, s2, r1, r2, path), s1 > s2);
      break;
    }
    case 2:
      RealTree(r);
      break;
    default: {
      const std::string entry = r.Rest();
      auto e = tlog::ParseEntry(entry);
      if (!e) {
        Check(e.error().code() == ErrorCode::kDataLoss);
      } else {
        Check(e->event.objects.is_object());
        Check(entry.find(' ') == std::string::npos || entry.find('"') < entry.find(' '));
      }
    }
  }
  return 0;
}
