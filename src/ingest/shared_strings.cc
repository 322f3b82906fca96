#include "ingest/shared_strings.h"

#include <algorithm>
#include <cstring>

namespace custos::ingest {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t U32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

SharedStrings::SharedStrings(size_t memory_budget, uint32_t strings_per_block,
                             std::string spill_dir)
    : memory_budget_(memory_budget),
      strings_per_block_(strings_per_block),
      spill_dir_(std::move(spill_dir)) {}

Status SharedStrings::Add(std::string_view text) {
  strings_.append(text);
  ends_.push_back(static_cast<uint32_t>(strings_.size()));
  ++size_;
  text_bytes_ += text.size();
  if (!blocks_) {
    if (strings_.size() + 4 * ends_.size() > memory_budget_) return Spill();
    return Ok();
  }
  if (ends_.size() == strings_per_block_) return SealOpen(ends_.size());
  return Ok();
}

// Seals `count` strings as a block: their texts are text[base, ends[count
// - 1]), string k ending at ends[k]. A block holds the count, then each
// string's end within the block's text (4 bytes each, little-endian), then
// the text.
Status SharedStrings::SealBlock(std::string_view text, const uint32_t* ends, size_t count,
                                uint32_t base) {
  const uint32_t end = ends[count - 1];
  std::string block;
  block.reserve(4 + 4 * count + (end - base));
  PutU32(block, static_cast<uint32_t>(count));
  for (size_t k = 0; k < count; ++k) PutU32(block, ends[k] - base);
  block.append(text.substr(base, end - base));
  RETURN_IF_ERROR(blocks_->Append(block).map([](uint32_t) {}));
  open_first_ += static_cast<uint32_t>(count);
  return Ok();
}

// Seals the first `strings` of the open strings as a block.
Status SharedStrings::SealOpen(size_t strings) {
  RETURN_IF_ERROR(SealBlock(strings_, ends_.data(), strings, 0));
  const uint32_t text_end = ends_[strings - 1];
  strings_.erase(0, text_end);
  ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(strings));
  for (uint32_t& e : ends_) e -= text_end;
  return Ok();
}

Status SharedStrings::Spill() {
  blocks_ = std::make_unique<SealedBlocks>(spill_dir_);
  // Whole blocks from the front, each cut straight from `all`; the rest
  // stays open.
  std::string all;
  all.swap(strings_);
  std::vector<uint32_t> ends;
  ends.swap(ends_);
  const size_t whole = ends.size() / strings_per_block_ * strings_per_block_;
  uint32_t base = 0;  // start in `all` of the first string not yet sealed
  for (size_t first = 0; first < whole; first += strings_per_block_) {
    RETURN_IF_ERROR(SealBlock(all, ends.data() + first, strings_per_block_, base));
    base = ends[first + strings_per_block_ - 1];
  }
  strings_.assign(all, base, std::string::npos);
  for (size_t j = whole; j < ends.size(); ++j) ends_.push_back(ends[j] - base);
  std::string().swap(all);
  strings_.shrink_to_fit();
  return Ok();
}

Result<std::string_view> SharedStrings::Get(uint32_t i) {
  if (i >= open_first_) {
    const size_t local = i - open_first_;
    const uint32_t begin = local == 0 ? 0 : ends_[local - 1];
    return std::string_view(strings_).substr(begin, ends_[local] - begin);
  }
  const uint32_t b = i / strings_per_block_;
  if (slot_of_block_.size() <= b) slot_of_block_.resize(blocks_->blocks(), -1);
  int32_t slot = slot_of_block_[b];
  if (slot < 0) {
    std::string data;
    // Make room: the hand passes over blocks used since it last came by,
    // and takes the first that was not.
    while (!opened_.empty() && cache_bytes_ + blocks_->SizeOf(b) > memory_budget_) {
      hand_ %= opened_.size();
      Opened& victim = opened_[hand_];
      if (victim.referenced) {
        victim.referenced = false;
        ++hand_;
        continue;
      }
      cache_bytes_ -= victim.data.size();
      slot_of_block_[victim.block] = -1;
      if (data.capacity() == 0) data = std::move(victim.data);  // reuse its memory
      if (hand_ + 1 < opened_.size()) {  // the last slot moves into the freed one
        victim = std::move(opened_.back());
        slot_of_block_[victim.block] = static_cast<int32_t>(hand_);
      }
      opened_.pop_back();
    }
    RETURN_IF_ERROR(blocks_->Read(b, data));
    cache_bytes_ += data.size();
    slot = static_cast<int32_t>(opened_.size());
    opened_.push_back({b, false, std::move(data)});
    slot_of_block_[b] = slot;
  }
  Opened& o = opened_[static_cast<size_t>(slot)];
  o.referenced = true;
  const std::string& d = o.data;
  const uint32_t count = U32At(d, 0);
  const size_t local = i % strings_per_block_;
  const size_t text = 4 + 4 * size_t{count};
  const uint32_t begin = local == 0 ? 0 : U32At(d, 4 + 4 * (local - 1));
  const uint32_t end = U32At(d, 4 + 4 * local);
  return std::string_view(d).substr(text + begin, end - begin);
}

}  // namespace custos::ingest
