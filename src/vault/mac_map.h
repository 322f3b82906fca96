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
// Thread-compatible.
#ifndef CUSTOS_VAULT_MAC_MAP_H_
#define CUSTOS_VAULT_MAC_MAP_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace custos::vault {

class MacMap {
 public:
  using Key = std::array<uint8_t, 16>;
  static constexpr int64_t kMaxValue = int64_t{0xffffffff};

  std::optional<int64_t> Find(const Key& k) const { return shards_[ShardOf(k)].Find(k); }
  // Inserts or overwrites. REQUIRES: 0 < value <= kMaxValue (0 marks an
  // empty slot).
  void Put(const Key& k, int64_t value) { (void)Assign(k, value); }
  // Maps k to value; true if that changed anything (k was absent or mapped
  // elsewhere). One probe where Find then Put takes two.
  // REQUIRES: 0 < value <= kMaxValue.
  bool Assign(const Key& k, int64_t value) { return shards_[ShardOf(k)].Assign(k, value); }
  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) n += s.size();
    return n;
  }

 private:
  // Byte 11: stored in the slot, and not among the hash's bytes (0-7).
  static size_t ShardOf(const Key& k) { return k[11]; }

  class Shard {
   public:
    std::optional<int64_t> Find(const Key& k) const {
      if (slots_.empty()) return std::nullopt;
      const Slot probe = SlotOf(k, 0);
      for (size_t i = Home(k);; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.value == 0) return std::nullopt;
        if (std::memcmp(s.key, probe.key, sizeof probe.key) == 0) return s.value;
      }
    }
    bool Assign(const Key& k, int64_t value) {
      if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
      const Slot put = SlotOf(k, value);
      for (size_t i = Home(k);; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.value == 0) {
          s = put;
          ++size_;
          return true;
        }
        if (std::memcmp(s.key, put.key, sizeof put.key) == 0) {
          if (s.value == put.value) return false;
          s.value = put.value;
          return true;
        }
      }
    }
    size_t size() const { return size_; }

   private:
    struct Slot {
      uint8_t key[12] = {};
      uint32_t value = 0;
    };
    static_assert(sizeof(Slot) == 16);

    static Slot SlotOf(const Key& k, int64_t value) {
      Slot s;
      std::memcpy(s.key, k.data(), sizeof s.key);
      s.value = static_cast<uint32_t>(value);
      return s;
    }
    size_t Home(const Key& k) const { return HomeOfBytes(k.data()); }
    size_t HomeOfBytes(const uint8_t* p) const {
      uint64_t h;
      std::memcpy(&h, p, sizeof h);
      return static_cast<size_t>(h) & mask_;
    }
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

    std::vector<Slot> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
  };

  std::array<Shard, 256> shards_;
};

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_MAC_MAP_H_
