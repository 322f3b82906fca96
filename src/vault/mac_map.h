// MacMap: an open-addressing hash map from blind-index MACs to person
// numbers, for an import's "have we seen this person" lookups. 16 bytes per
// slot and no per-entry allocation: a million people (two grouping MACs
// each) cost 64 MB, where std::unordered_map cost ~140 MB and a cache miss
// per probe chain.
//
// A slot keeps the MAC's first 12 bytes: MACs are uniformly random, so two
// of a few million identifiers share a 96-bit prefix with probability about
// 2^-50, and the first 8 bytes serve as the hash. Values are person numbers
// below 2^32.
//
// The table is 256 shards (by the MAC's 12th byte) that grow one at a time,
// so growing never holds two copies of the whole map (a 1.5x peak when one
// table doubled).
//
// Memory is bounded: a shard never grows past `max_shard_slots`. When one
// would, every shard's entries are written out in order as a run of a
// SpillRuns (a temporary file of MACs and person numbers, no personal data)
// and the table starts again empty; lookups that miss the table then ask
// the runs, newest first. The default, 16,384 slots a shard, is 64 MB and
// holds about 2.8 million MACs before the first spill; past it the map
// costs ~1.3 bytes a MAC more (the runs' filters and indexes).
//
// Thread-compatible.
#ifndef CUSTOS_VAULT_MAC_MAP_H_
#define CUSTOS_VAULT_MAC_MAP_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/spill_runs.h"

namespace custos::vault {

class MacMap {
 public:
  using Key = std::array<uint8_t, 16>;
  static constexpr int64_t kMaxValue = int64_t{0xffffffff};
  static constexpr size_t kDefaultMaxShardSlots = 16384;

  // REQUIRES: max_shard_slots is a power of two >= 64. `spill_dir`: where
  // runs go (empty: $TMPDIR, else /tmp).
  explicit MacMap(size_t max_shard_slots = kDefaultMaxShardSlots, std::string spill_dir = "")
      : max_shard_slots_(max_shard_slots), spill_dir_(std::move(spill_dir)) {}

  // kUnavailable if a run cannot be read back.
  Result<std::optional<int64_t>> Find(const Key& k) const {
    const Shard& shard = shards_[ShardOf(k)];
    const Probe p = shard.Find(k);
    if (p.found) return std::optional<int64_t>(shard.ValueAt(p.index));
    return FindSpilled(k);
  }
  // Inserts or overwrites. REQUIRES: 0 < value <= kMaxValue (0 marks an
  // empty slot). kUnavailable if a run cannot be written or read.
  Status Put(const Key& k, int64_t value) { return Assign(k, value).map([](bool) {}); }
  // Maps k to value; true if that changed anything (k was absent or mapped
  // elsewhere). REQUIRES: 0 < value <= kMaxValue.
  Result<bool> Assign(const Key& k, int64_t value) {
    Shard& shard = shards_[ShardOf(k)];
    Probe p = shard.Find(k);
    if (p.found) return shard.Overwrite(p.index, value);
    if (spill_) {
      ASSIGN_OR_RETURN(std::optional<int64_t> old, FindSpilled(k));
      if (old == value) return false;
    }
    if (shard.NeedsRoom()) {
      if (shard.capacity() >= max_shard_slots_) {
        RETURN_IF_ERROR(Spill());
      } else {
        shard.Grow();
      }
      p = shard.Find(k);
    }
    shard.Insert(p.index, k, value);
    return true;
  }
  // Entries in memory (a spilled key may also be there).
  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) n += s.size();
    return n;
  }
  // Entries written to runs, and the runs' memory.
  uint64_t spilled() const { return spill_ ? spill_->records() : 0; }
  size_t spill_memory_bytes() const { return spill_ ? spill_->memory_bytes() : 0; }

 private:
  struct Probe {
    size_t index;
    bool found;
  };

  // Byte 11: stored in the slot, and not among the hash's bytes (0-7).
  static size_t ShardOf(const Key& k) { return k[11]; }

  class Shard {
   public:
    struct Slot {
      uint8_t key[12] = {};
      uint32_t value = 0;
    };
    static_assert(sizeof(Slot) == 16);

    // Where k is, or the empty slot where it would go.
    Probe Find(const Key& k) const {
      if (slots_.empty()) return {0, false};
      for (size_t i = HomeOfBytes(k.data());; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.value == 0) return {i, false};
        if (std::memcmp(s.key, k.data(), sizeof s.key) == 0) return {i, true};
      }
    }
    int64_t ValueAt(size_t i) const { return slots_[i].value; }
    bool Overwrite(size_t i, int64_t value) {
      const auto v = static_cast<uint32_t>(value);
      if (slots_[i].value == v) return false;
      slots_[i].value = v;
      return true;
    }
    bool NeedsRoom() const { return (size_ + 1) * 10 > slots_.size() * 7; }
    // REQUIRES: i is the empty slot Find returned, with no change since.
    void Insert(size_t i, const Key& k, int64_t value) {
      std::memcpy(slots_[i].key, k.data(), sizeof slots_[i].key);
      slots_[i].value = static_cast<uint32_t>(value);
      ++size_;
    }
    size_t size() const { return size_; }
    size_t capacity() const { return slots_.size(); }

    void Grow() {
      std::vector<Slot> old = std::move(slots_);
      slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
      mask_ = slots_.size() - 1;
      for (const Slot& s : old) {
        if (s.value == 0) continue;
        size_t i = HomeOfBytes(s.key);
        while (slots_[i].value != 0) i = (i + 1) & mask_;
        slots_[i] = s;
      }
    }
    // Sorts the entries by key at the front of the table (no memory of its
    // own), calls f on each, then empties the table, keeping its capacity.
    template <typename F>
    Status Drain(F&& f) {
      size_t n = 0;
      for (const Slot& s : slots_) {
        if (s.value != 0) slots_[n++] = s;
      }
      std::sort(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(n),
                [](const Slot& a, const Slot& b) { return std::memcmp(a.key, b.key, 11) < 0; });
      Status status = Ok();
      for (size_t i = 0; i < n && status; ++i) status = f(slots_[i]);
      std::fill(slots_.begin(), slots_.end(), Slot{});
      size_ = 0;
      return status;
    }

   private:
    size_t HomeOfBytes(const uint8_t* p) const {
      uint64_t h;
      std::memcpy(&h, p, sizeof h);
      return static_cast<size_t>(h) & mask_;
    }

    std::vector<Slot> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
  };

  // A run record: the shard byte first, so that shards drained in order
  // write keys in ascending order; then the key's other 11 bytes and the
  // value (little-endian).
  static constexpr size_t kRecordKey = 12;
  static std::array<uint8_t, kRecordKey> RecordKeyOf(const uint8_t* key12) {
    std::array<uint8_t, kRecordKey> r;
    r[0] = key12[11];
    std::memcpy(r.data() + 1, key12, 11);
    return r;
  }

  Result<std::optional<int64_t>> FindSpilled(const Key& k) const {
    if (!spill_) return std::optional<int64_t>();
    const auto rk = RecordKeyOf(k.data());
    uint8_t v[4];
    ASSIGN_OR_RETURN(bool found, spill_->Find(rk.data(), v));
    if (!found) return std::optional<int64_t>();
    return std::optional<int64_t>(int64_t{v[0]} | int64_t{v[1]} << 8 | int64_t{v[2]} << 16 |
                                  int64_t{v[3]} << 24);
  }

  Status Spill() {
    if (!spill_) spill_ = std::make_unique<SpillRuns>(kRecordKey, 4, spill_dir_);
    RETURN_IF_ERROR(spill_->BeginRun(size()));
    for (Shard& shard : shards_) {
      RETURN_IF_ERROR(shard.Drain([&](const typename Shard::Slot& s) -> Status {
        uint8_t rec[kRecordKey + 4];
        const auto rk = RecordKeyOf(s.key);
        std::memcpy(rec, rk.data(), kRecordKey);
        for (int b = 0; b < 4; ++b) rec[kRecordKey + b] = static_cast<uint8_t>(s.value >> (8 * b));
        return spill_->Append(rec);
      }));
    }
    return spill_->EndRun();
  }

  size_t max_shard_slots_;
  std::string spill_dir_;
  std::array<Shard, 256> shards_;
  std::unique_ptr<SpillRuns> spill_;
};

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_MAC_MAP_H_
