// RFC 9162 section 2.1 Merkle trees (RFC 6962 hashing):
//   leaf hash  = SHA-256(0x00 || entry)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
// and verification of inclusion and consistency proofs (RFC 9162 2.1.3.2,
// 2.1.4.2). Pure functions; safe to call from any thread.
#ifndef CUSTOS_TLOG_MERKLE_H_
#define CUSTOS_TLOG_MERKLE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace custos::tlog {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(ByteSpan entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// Root of a list of leaf hashes (for tests and small trees; O(n)).
Hash RootFromLeafHashes(const std::vector<Hash>& leaves);

// The RFC 9162 inclusion proof of leaf `index` in a tree of `size` leaves,
// given a function returning the hash of the complete-or-right-edge subtree
// covering [begin, end). Reads O(log n) subtree hashes.
Result<std::vector<Hash>> InclusionPath(uint64_t index, uint64_t size,
                                        const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash);

// The RFC 9162 consistency proof between sizes old_size <= new_size.
Result<std::vector<Hash>> ConsistencyPath(uint64_t old_size, uint64_t new_size,
                                          const std::function<Result<Hash>(uint64_t, uint64_t)>& range_hash);

// kDataLoss naming what failed when the proof does not verify;
// kInvalidArgument for an index/size combination that cannot exist.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& path, const Hash& root);
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& path);

}  // namespace custos::tlog

#endif  // CUSTOS_TLOG_MERKLE_H_
