#include "tlog/merkle.h"

#include <openssl/evp.h>

#include <bit>
#include <cstdlib>
#include <cstring>

namespace custos::tlog {
namespace {

// SHA-256 through a fetched EVP_MD and a reused context: the one-shot API
// fetches the algorithm on every call, which costs more than the hash of a
// short leaf (performance.md).
class Sha256 {
 public:
  Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (!md_ || !ctx_) std::abort();
  }
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Hash Of(uint8_t prefix, const uint8_t* a, size_t na, const uint8_t* b, size_t nb) {
    Hash h;
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 || EVP_DigestUpdate(ctx_, &prefix, 1) != 1 ||
        (na && EVP_DigestUpdate(ctx_, a, na) != 1) || (nb && EVP_DigestUpdate(ctx_, b, nb) != 1) ||
        EVP_DigestFinal_ex(ctx_, h.data(), &len) != 1) {
      std::abort();  // OpenSSL failing on SHA-256 is a broken invariant
    }
    return h;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

Sha256& ThreadSha() {
  thread_local Sha256 sha;
  return sha;
}

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

Status PathFor(uint64_t m, uint64_t begin, uint64_t end,
               const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash,
               std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (n <= 1) return Ok();
  uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(PathFor(m, begin, begin + k, range_hash, out));
    ASSIGN_OR_RETURN(Hash h, range_hash(begin + k, end));
    out.push_back(h);
  } else {
    RETURN_IF_ERROR(PathFor(m - k, begin + k, end, range_hash, out));
    ASSIGN_OR_RETURN(Hash h, range_hash(begin, begin + k));
    out.push_back(h);
  }
  return Ok();
}

// RFC 9162 2.1.4.1 SUBPROOF(m, D[begin:end], b).
Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool b,
                const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash,
                std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!b) {
      ASSIGN_OR_RETURN(Hash h, range_hash(begin, end));
      out.push_back(h);
    }
    return Ok();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(m, begin, begin + k, b, range_hash, out));
    ASSIGN_OR_RETURN(Hash h, range_hash(begin + k, end));
    out.push_back(h);
  } else {
    RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, range_hash, out));
    ASSIGN_OR_RETURN(Hash h, range_hash(begin, begin + k));
    out.push_back(h);
  }
  return Ok();
}

}  // namespace

Hash LeafHash(ByteSpan entry) { return ThreadSha().Of(0x00, entry.data(), entry.size(), nullptr, 0); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return ThreadSha().Of(0x01, left.data(), left.size(), right.data(), right.size());
}

Hash EmptyRoot() {
  Hash h;
  unsigned int len = 0;
  EVP_Digest(nullptr, 0, h.data(), &len, EVP_sha256(), nullptr);
  return h;
}

Hash RootFromLeafHashes(const std::vector<Hash>& leaves) {
  if (leaves.empty()) return EmptyRoot();
  std::function<Hash(size_t, size_t)> mth = [&](size_t b, size_t e) -> Hash {
    if (e - b == 1) return leaves[b];
    size_t k = SplitPoint(e - b);
    return NodeHash(mth(b, b + k), mth(b + k, e));
  };
  return mth(0, leaves.size());
}

Result<std::vector<Hash>> InclusionPath(
    uint64_t index, uint64_t size,
    const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash) {
  if (index >= size) {
    return Fail(InvalidArgument("leaf index " + std::to_string(index) +
                                " is not in a tree of size " + std::to_string(size)));
  }
  std::vector<Hash> out;
  RETURN_IF_ERROR(PathFor(index, 0, size, range_hash, out));
  return out;
}

Result<std::vector<Hash>> ConsistencyPath(
    uint64_t old_size, uint64_t new_size,
    const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash) {
  if (old_size > new_size) {
    return Fail(InvalidArgument("old size " + std::to_string(old_size) +
                                " is larger than new size " + std::to_string(new_size)));
  }
  std::vector<Hash> out;
  if (old_size == 0 || old_size == new_size) return out;
  RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, range_hash, out));
  return out;
}

// RFC 9162 2.1.3.2.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& path, const Hash& root) {
  if (index >= size) {
    return Fail(InvalidArgument("leaf index " + std::to_string(index) +
                                " is not in a tree of size " + std::to_string(size)));
  }
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : path) {
    if (sn == 0) return Fail(DataLoss("inclusion proof is longer than the tree is deep"));
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail(DataLoss("inclusion proof is shorter than the tree is deep"));
  if (r != root) return Fail(DataLoss("inclusion proof does not lead to the root"));
  return Ok();
}

// RFC 9162 2.1.4.2.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& path) {
  if (old_size > new_size) {
    return Fail(InvalidArgument("old size is larger than new size"));
  }
  if (old_size == new_size) {
    if (!path.empty()) return Fail(DataLoss("consistency proof between equal sizes is not empty"));
    if (old_root != new_root) return Fail(DataLoss("equal sizes but different roots"));
    return Ok();
  }
  if (old_size == 0) {
    if (!path.empty()) return Fail(DataLoss("consistency proof from the empty tree is not empty"));
    return Ok();
  }
  if (path.empty()) return Fail(DataLoss("consistency proof is empty"));
  std::vector<Hash> p = path;
  if (std::has_single_bit(old_size)) p.insert(p.begin(), old_root);
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = p[0], sr = p[0];
  for (size_t i = 1; i < p.size(); ++i) {
    if (sn == 0) return Fail(DataLoss("consistency proof is too long"));
    const Hash& c = p[i];
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail(DataLoss("consistency proof is too short"));
  if (fr != old_root) return Fail(DataLoss("consistency proof does not reproduce the old root"));
  if (sr != new_root) return Fail(DataLoss("consistency proof does not reproduce the new root"));
  return Ok();
}

}  // namespace custos::tlog
