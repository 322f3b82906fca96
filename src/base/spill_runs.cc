#include "base/spill_runs.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/file.h"

namespace custos {
namespace {

constexpr uint64_t kIndexEvery = 256;          // records per indexed block
constexpr uint64_t kFilterBitsPerRecord = 10;  // at most
constexpr size_t kWriteBuffer = size_t{1} << 20;
constexpr size_t kMergeReadBuffer = size_t{256} << 10;

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashOf(const uint8_t* key) {
  uint64_t h;
  std::memcpy(&h, key, sizeof h);
  return h;
}

}  // namespace

// A run: its file, its Bloom filter (512-bit blocks, one block a key) and
// the first key of every kIndexEvery records.
struct SpillRuns::Run {
  int fd = -1;
  uint64_t count = 0;
  uint64_t bytes = 0;            // written to fd
  std::vector<uint64_t> filter;  // 8 words a block; empty: no filter
  uint64_t blocks = 0;
  unsigned bits = 0;           // per record
  int probes = 0;              // bits set per key: bits x ln 2, the optimum
  std::vector<uint8_t> index;  // keys, one per kIndexEvery records

  ~Run() {
    if (fd >= 0) ::close(fd);
  }
  void SizeFilter(uint64_t max_records, unsigned bits_per_record) {
    bits = bits_per_record;
    if (bits == 0) return;
    probes = std::max(1, static_cast<int>(bits * 0.693 + 0.5));
    blocks = std::max<uint64_t>(1, (max_records * bits + 511) / 512);
    filter.assign(blocks * 8, 0);
  }
  // The filter block and the 7 bits within it that stand for a key.
  template <typename F>
  void ForEachBit(uint64_t h, F&& f) const {
    const uint64_t a = Mix(h);
    const uint64_t block = a % blocks;
    uint64_t positions = Mix(h ^ 0x9e3779b97f4a7c15ULL);
    for (int i = 0; i < probes; ++i, positions >>= 9) {
      const uint64_t bit = positions & 511;
      f(block * 8 + bit / 64, uint64_t{1} << (bit % 64));
    }
  }
  void Add(uint64_t h) {
    if (filter.empty()) return;
    ForEachBit(h, [&](uint64_t word, uint64_t mask) { filter[word] |= mask; });
  }
  bool MayContain(uint64_t h) const {
    if (filter.empty()) return true;
    bool all = true;
    ForEachBit(h, [&](uint64_t word, uint64_t mask) { all = all && (filter[word] & mask); });
    return all;
  }
};

// Reads a run's records in order through a buffer (for merging).
class SpillRuns::RunReader {
 public:
  RunReader(const Run& run, size_t record_size)
      : run_(run),
        record_size_(record_size),
        buffer_((kMergeReadBuffer / record_size) * record_size) {}

  // The current record, or nullptr at the end.
  Result<const uint8_t*> Current() {
    if (pos_ < end_) return buffer_.data() + pos_;
    if (next_record_ == run_.count) return nullptr;
    const uint64_t n = std::min<uint64_t>(buffer_.size() / record_size_, run_.count - next_record_);
    const size_t bytes = static_cast<size_t>(n * record_size_);
    RETURN_IF_ERROR(PreadFully(run_.fd, buffer_.data(), bytes, next_record_ * record_size_));
    next_record_ += n;
    pos_ = 0;
    end_ = bytes;
    return buffer_.data();
  }
  void Next() { pos_ += record_size_; }

 private:
  const Run& run_;
  const size_t record_size_;
  std::vector<uint8_t> buffer_;
  uint64_t next_record_ = 0;
  size_t pos_ = 0;
  size_t end_ = 0;
};

SpillRuns::SpillRuns(size_t key_size, size_t value_size, std::string dir, size_t filter_budget)
    : key_size_(key_size),
      value_size_(value_size),
      dir_(std::move(dir)),
      filter_budget_(filter_budget) {
  assert(key_size >= 8);
}

SpillRuns::~SpillRuns() = default;

uint64_t SpillRuns::records() const {
  uint64_t n = 0;
  for (const auto& r : runs_) n += r->count;
  return n;
}

unsigned SpillRuns::newest_filter_bits() const { return runs_.empty() ? 0 : runs_.back()->bits; }

size_t SpillRuns::memory_bytes() const {
  size_t n = 0;
  for (const auto& r : runs_) n += r->filter.size() * 8 + r->index.size();
  return n;
}

Result<int> SpillRuns::CreateFile() const { return CreateUnnamedTempFile(dir_); }

Status SpillRuns::BeginRun(uint64_t max_records) {
  return StartRun(max_records, records() + max_records);
}

Status SpillRuns::StartRun(uint64_t max_records, uint64_t total) {
  assert(!open_);
  auto run = std::make_unique<Run>();
  ASSIGN_OR_RETURN(run->fd, CreateFile());
  // The budget as if all `total` records were filtered alike.
  const uint64_t affordable =
      total == 0 ? kFilterBitsPerRecord : uint64_t{filter_budget_} * 8 / total;
  run->SizeFilter(max_records, static_cast<unsigned>(std::min(kFilterBitsPerRecord, affordable)));
  open_ = std::move(run);
  out_.clear();
  out_.reserve(kWriteBuffer);
  return Ok();
}

Status SpillRuns::Flush() {
  Status written = PwriteFully(open_->fd, out_.data(), out_.size(), open_->bytes, dir_);
  if (!written) {
    open_.reset();
    return written;
  }
  open_->bytes += out_.size();
  out_.clear();
  return Ok();
}

Status SpillRuns::Append(const uint8_t* record) {
  if (!open_) return Fail(Internal("a spill run was abandoned after an earlier error"));
  Run& r = *open_;
  if (r.count % kIndexEvery == 0) r.index.insert(r.index.end(), record, record + key_size_);
  r.Add(HashOf(record));
  ++r.count;
  out_.insert(out_.end(), record, record + record_size());
  if (out_.size() + record_size() > kWriteBuffer) return Flush();
  return Ok();
}

Status SpillRuns::EndRun() {
  if (!open_) return Fail(Internal("a spill run was abandoned after an earlier error"));
  RETURN_IF_ERROR(Flush());
  if (open_->count == 0) {
    open_.reset();
    return Ok();
  }
  open_->index.shrink_to_fit();
  runs_.push_back(std::move(open_));
  // Like a binary counter: equal runs pair up, so each record is rewritten
  // about log2(runs) times in all.
  while (runs_.size() >= 2 && runs_[runs_.size() - 2]->count <= runs_.back()->count) {
    RETURN_IF_ERROR(MergeNewestTwo());
  }
  std::vector<uint8_t>().swap(out_);
  return Ok();
}

Status SpillRuns::MergeNewestTwo() {
  Status merged = MergeNewestTwoOnce();
  if (!merged) open_.reset();  // the partial run is dropped; the two remain
  return merged;
}

Status SpillRuns::MergeNewestTwoOnce() {
  const size_t n = runs_.size();
  RunReader older(*runs_[n - 2], record_size());
  RunReader newer(*runs_[n - 1], record_size());
  // The merged run replaces the two: the records filtered stay as many.
  RETURN_IF_ERROR(StartRun(runs_[n - 2]->count + runs_[n - 1]->count, records()));
  for (;;) {
    ASSIGN_OR_RETURN(const uint8_t* a, older.Current());
    ASSIGN_OR_RETURN(const uint8_t* b, newer.Current());
    if (!a && !b) break;
    const int c = !a ? 1 : !b ? -1 : std::memcmp(a, b, key_size_);
    if (c < 0) {
      RETURN_IF_ERROR(Append(a));
      older.Next();
    } else {
      RETURN_IF_ERROR(Append(b));  // on equal keys the newer value wins
      newer.Next();
      if (c == 0) older.Next();
    }
  }
  RETURN_IF_ERROR(Flush());
  open_->index.shrink_to_fit();
  runs_.resize(n - 2);
  runs_.push_back(std::move(open_));
  return Ok();
}

Result<bool> SpillRuns::Find(const uint8_t* key, uint8_t* value_out) const {
  const uint64_t h = HashOf(key);
  const size_t rs = record_size();
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    const Run& r = **it;
    if (!r.MayContain(h)) continue;
    // The last block whose first key is <= key.
    const uint64_t blocks = r.index.size() / key_size_;
    uint64_t lo = 0, hi = blocks;  // first block whose first key is > key
    while (lo < hi) {
      const uint64_t mid = (lo + hi) / 2;
      if (std::memcmp(r.index.data() + mid * key_size_, key, key_size_) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) continue;
    const uint64_t first = (lo - 1) * kIndexEvery;
    const uint64_t count = std::min<uint64_t>(kIndexEvery, r.count - first);
    block_.resize(static_cast<size_t>(count * rs));
    RETURN_IF_ERROR(PreadFully(r.fd, block_.data(), block_.size(), first * rs));
    uint64_t a = 0, b = count;
    while (a < b) {
      const uint64_t mid = (a + b) / 2;
      const int c = std::memcmp(block_.data() + mid * rs, key, key_size_);
      if (c == 0) {
        if (value_size_ > 0)
          std::memcpy(value_out, block_.data() + mid * rs + key_size_, value_size_);
        return true;
      }
      if (c < 0) {
        a = mid + 1;
      } else {
        b = mid;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------- SpillBytes

SpillBytes::SpillBytes(size_t resident_pages, std::string dir)
    : resident_pages_(resident_pages), dir_(std::move(dir)) {
  assert(resident_pages >= 1);
}

SpillBytes::~SpillBytes() {
  if (fd_ >= 0) ::close(fd_);
}

Result<uint8_t*> SpillBytes::At(uint64_t i) {
  const uint64_t number = i / kPageBytes;
  const size_t offset = static_cast<size_t>(i % kPageBytes);
  ++clock_;
  for (Page& p : resident_) {
    if (p.number == number) {
      p.last_use = clock_;
      return p.bytes.get() + offset;
    }
  }
  Page* page;
  if (resident_.size() < resident_pages_) {
    resident_.push_back({number, clock_, std::make_unique<uint8_t[]>(kPageBytes)});
    page = &resident_.back();
  } else {  // write out the least recently used page, and reuse its memory
    page = &*std::min_element(resident_.begin(), resident_.end(),
                              [](const Page& a, const Page& b) { return a.last_use < b.last_use; });
    if (fd_ < 0) {
      ASSIGN_OR_RETURN(fd_, CreateUnnamedTempFile(dir_));
    }
    RETURN_IF_ERROR(
        PwriteFully(fd_, page->bytes.get(), kPageBytes, page->number * kPageBytes, dir_));
    if (on_disk_.size() <= page->number) on_disk_.resize(page->number + 1);
    on_disk_[page->number] = true;
    ++pages_written_;
    page->number = number;
    page->last_use = clock_;
  }
  if (number < on_disk_.size() && on_disk_[number]) {
    Status read = PreadFully(fd_, page->bytes.get(), kPageBytes, number * kPageBytes);
    if (!read) {  // the page holds no page's bytes now: drop it
      resident_.erase(resident_.begin() + (page - resident_.data()));
      return Fail(read.error());
    }
  } else {
    std::memset(page->bytes.get(), 0, kPageBytes);
  }
  return page->bytes.get() + offset;
}

}  // namespace custos
