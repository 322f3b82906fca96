// Inventory's memory-bounded tables of keyed hashes: a per-run keyed hash
// of normalized keys (no personal data leaves the process in a table or
// its spill file), and a flat open-addressing table over those hashes that
// spills sorted runs to disk past a size. Internal to src/workflow.
#ifndef CUSTOS_WORKFLOW_KEY_TABLE_H_
#define CUSTOS_WORKFLOW_KEY_TABLE_H_

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/spill_runs.h"
#include "crypto/random.h"

namespace custos::workflow::internal {

// ---- Keyed hashing of normalized keys (SipHash-2-4, per-run random key) ----

class KeyHasher {
 public:
  KeyHasher() { crypto::RandomFill(key_); }
  ~KeyHasher() { sodium_memzero(key_.data(), key_.size()); }
  KeyHasher(const KeyHasher&) = delete;
  KeyHasher& operator=(const KeyHasher&) = delete;

  // Never 0 (0 marks an empty slot).
  uint64_t Hash(std::string_view data) const {
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     key_.data());
    uint64_t h;
    std::memcpy(&h, out, sizeof h);
    return h == 0 ? 1 : h;
  }

 private:
  std::array<uint8_t, crypto_shorthash_KEYBYTES> key_{};
};

// ---- A flat open-addressing hash table over 64-bit keyed hashes ----

struct NoValue {};

// Linear probing, power-of-two capacity, grows at 70% load. Key 0 is the
// empty marker (KeyHasher never returns it). A key and its value share a
// slot, so a probe touches one cache line. Not thread-safe.
//
// Memory is bounded: the table never grows past `max_slots`. When it would,
// its entries are written out in key order as a run of a SpillRuns (keyed
// hashes and small numbers, no personal data) and it starts again empty; a
// key that misses memory is then looked up in the runs, and if found comes
// back into memory with its value (a newer run shadows it when it leaves
// again).
template <typename V>
class FlatTable {
 public:
  static constexpr bool kHasValues = !std::is_same_v<V, NoValue>;
  static_assert(std::is_trivially_copyable_v<V>);

  // REQUIRES: max_slots is a power of two >= 1024.
  explicit FlatTable(size_t max_slots) : max_slots_(max_slots) { Resize(size_t{1} << 10); }

  // Returns the slot's value (nullptr for a set) and whether the key was
  // new. The pointer is valid until the next call. kUnavailable if the
  // spill file cannot be written or read.
  Result<std::pair<V*, bool>> FindOrInsert(uint64_t key) {
    if ((size_ + 1) * 10 > slots_.size() * 7) {
      if (slots_.size() < max_slots_) {
        Resize(slots_.size() * 2);
      } else {
        RETURN_IF_ERROR(Spill());
      }
    }
    size_t i = key & mask_;
    for (;;) {
      Slot& s = slots_[i];
      if (s.key == key) return std::pair<V*, bool>{ValueOf(s), false};
      if (s.key == 0) break;
      i = (i + 1) & mask_;
    }
    Slot& s = slots_[i];
    s.key = key;
    ++size_;
    bool found = false;
    if (spill_) {
      uint8_t value[kHasValues ? sizeof(V) : 1];
      ASSIGN_OR_RETURN(found, spill_->Find(reinterpret_cast<const uint8_t*>(&key), value));
      if constexpr (kHasValues) {
        if (found) std::memcpy(&s.value, value, sizeof(V));
      }
    }
    return std::pair<V*, bool>{ValueOf(s), !found};
  }

  // Hints that `key` will be looked up soon.
  void Prefetch(uint64_t key) const { __builtin_prefetch(&slots_[key & mask_]); }

  size_t size() const { return size_; }
  uint64_t spilled() const { return spill_ ? spill_->records() : 0; }

 private:
  struct KeyOnly {
    uint64_t key = 0;
  };
  struct KeyValue {
    uint64_t key = 0;
    V value{};
  };
  using Slot = std::conditional_t<kHasValues, KeyValue, KeyOnly>;
  static constexpr size_t kValueBytes = kHasValues ? sizeof(V) : 0;

  static V* ValueOf(Slot& s) {
    if constexpr (kHasValues) {
      return &s.value;
    } else {
      (void)s;
      return nullptr;
    }
  }

  void Resize(size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      size_t i = s.key & mask_;
      while (slots_[i].key != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  // Writes the entries out as a run, sorted at the front of the table (the
  // run's order is memcmp of the key's bytes as stored), then empties it.
  Status Spill() {
    if (!spill_) spill_ = std::make_unique<SpillRuns>(sizeof(uint64_t), kValueBytes);
    size_t n = 0;
    for (const Slot& s : slots_) {
      if (s.key != 0) slots_[n++] = s;
    }
    auto order = [](const Slot& a, const Slot& b) {
      return std::memcmp(&a.key, &b.key, sizeof a.key) < 0;
    };
    std::sort(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(n), order);
    Status status = spill_->BeginRun(n);
    uint8_t record[sizeof(uint64_t) + kValueBytes];
    for (size_t i = 0; i < n && status; ++i) {
      std::memcpy(record, &slots_[i].key, sizeof(uint64_t));
      if constexpr (kHasValues) std::memcpy(record + sizeof(uint64_t), &slots_[i].value, sizeof(V));
      status = spill_->Append(record);
    }
    if (status) status = spill_->EndRun();
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
    return status;
  }

  const size_t max_slots_;
  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  std::unique_ptr<SpillRuns> spill_;
};

}  // namespace custos::workflow::internal

#endif  // CUSTOS_WORKFLOW_KEY_TABLE_H_
