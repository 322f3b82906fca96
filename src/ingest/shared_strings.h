// SharedStrings: an XLSX workbook's shared-string table, looked up by index
// as the sheet's cells refer to it, within a memory budget.
//
// While the strings fit `memory_budget` bytes (text plus 4 bytes a string)
// they are held in memory. Past it they are cut into blocks of
// `strings_per_block` strings (so that string i is in block i / that, with
// no search), sealed with a key that exists only in memory
// (SealedBlocks: an unnamed temporary file, nothing in clear on disk), and
// looked up through a cache of opened blocks that also stays within
// `memory_budget`. Workbooks list strings in order of first use, so a sheet
// read from the top mostly touches the newest blocks and a few hot early
// ones (genders, bank names).
//
// Thread-compatible.
#ifndef CUSTOS_INGEST_SHARED_STRINGS_H_
#define CUSTOS_INGEST_SHARED_STRINGS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/sealed_blocks.h"

namespace custos::ingest {

class SharedStrings {
 public:
  static constexpr size_t kDefaultMemoryBudget = size_t{48} << 20;
  static constexpr uint32_t kDefaultStringsPerBlock = 64;

  // `spill_dir`: where the sealed blocks go (empty: $TMPDIR, else /tmp).
  explicit SharedStrings(size_t memory_budget = kDefaultMemoryBudget,
                         uint32_t strings_per_block = kDefaultStringsPerBlock,
                         std::string spill_dir = "");

  // Appends string number size(). kUnavailable if a block cannot be written.
  // REQUIRES: text.size() < 2^32 and size() < 2^32 - 1.
  Status Add(std::string_view text);
  // String i, valid until the next call. kUnavailable or kDataLoss if its
  // block cannot be read back. REQUIRES: i < size().
  Result<std::string_view> Get(uint32_t i);

  uint32_t size() const { return size_; }
  bool spilled() const { return blocks_ != nullptr; }
  uint64_t text_bytes() const { return text_bytes_; }

 private:
  // Seals the first `strings` open strings as a block, drops them from memory.
  // Seals `count` strings as a block: text[base, ends[count - 1]), string
  // k ending at ends[k].
  Status SealBlock(std::string_view text, const uint32_t* ends, size_t count, uint32_t base);
  Status SealOpen(size_t strings);
  Status Spill();

  const size_t memory_budget_;
  const uint32_t strings_per_block_;
  const std::string spill_dir_;
  uint32_t size_ = 0;
  uint64_t text_bytes_ = 0;
  // The strings from open_first_ on: all of them until the first spill.
  std::string strings_;
  std::vector<uint32_t> ends_;  // end of each in strings_
  uint32_t open_first_ = 0;
  // Sealed blocks: block b holds strings [b, b + 1) x strings_per_block_.
  std::unique_ptr<SealedBlocks> blocks_;
  // Opened blocks, replaced by the CLOCK algorithm (an approximation of
  // least recently used at O(1) a lookup): slot_of_block_[b] is b's index
  // in opened_, or -1.
  struct Opened {
    uint32_t block = 0;
    bool referenced = false;
    std::string data;  // u32 count, u32 ends x count, text (little-endian)
  };
  std::vector<int32_t> slot_of_block_;
  std::vector<Opened> opened_;
  size_t hand_ = 0;
  size_t cache_bytes_ = 0;
};

}  // namespace custos::ingest

#endif  // CUSTOS_INGEST_SHARED_STRINGS_H_
