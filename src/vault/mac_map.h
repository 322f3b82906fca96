// MacMap: an open-addressing hash map from 16-byte blind-index MACs to person
// numbers, for an import's "have we seen this person" lookups. 24 bytes per
// slot, no per-entry allocation: a million people cost ~32 MB, where a
// std::unordered_map cost ~70 MB and a cache miss per probe chain.
//
// MACs are uniformly random, so their first 8 bytes are the hash.
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

  std::optional<int64_t> Find(const Key& k) const {
    if (slots_.empty()) return std::nullopt;
    for (size_t i = Home(k);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == 0) return std::nullopt;
      if (s.key == k) return s.value;
    }
  }

  // Inserts or overwrites. REQUIRES: value != 0 (0 marks an empty slot).
  void Put(const Key& k, int64_t value) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    for (size_t i = Home(k);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == 0) {
        s.key = k;
        s.value = value;
        ++size_;
        return;
      }
      if (s.key == k) {
        s.value = value;
        return;
      }
    }
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    Key key{};
    int64_t value = 0;
  };

  size_t Home(const Key& k) const {
    uint64_t h;
    std::memcpy(&h, k.data(), sizeof h);
    return static_cast<size_t>(h) & mask_;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.value != 0) Put(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_MAC_MAP_H_
