// SpillRuns: sorted runs of fixed-size records (key || value) in unnamed
// temporary files, for the hash tables of a streaming pass (an import's or
// an inventory's "have we seen this person") that must stay within a memory
// budget whatever the size of the input.
//
// A table that reaches its budget writes its entries out in key order as a
// run (BeginRun, Append..., EndRun) and starts again empty; a lookup that
// misses the table then asks Find, which consults the runs newest first, so
// that a key written to several runs reads as its newest value.
//
// Each run keeps in memory a blocked Bloom filter and every 256th key: the
// lookup of a key in no run costs about one cache miss per run, and one of
// a key in a run (or a false positive) one 256-record read, mostly from the
// page cache. Filters take 10 bits a record (about 1% false positives)
// while the runs' records fit `filter_budget` bytes that way, then fewer
// (at 4 bits about 15%; none when under a bit): memory stays bounded, and
// lookups of absent keys in very large runs slow down instead. The two
// newest runs are merged while the older is not larger than the newer, so
// there are at most about log2(records / smallest run) runs.
//
// Keys are compared with memcmp and must be uniformly random bytes (MACs,
// keyed hashes): the filter uses the key's first 8 bytes as its hash.
//
// What reaches the disk is what the caller puts in the records: callers
// store MACs and keyed hashes, never personal data. The files are unnamed
// (O_TMPFILE; elsewhere created and unlinked at once), so they vanish when
// closed or when the process dies.
//
// Thread-compatible.
#ifndef CUSTOS_BASE_SPILL_RUNS_H_
#define CUSTOS_BASE_SPILL_RUNS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace custos {

class SpillRuns {
 public:
  static constexpr size_t kDefaultFilterBudget = size_t{16} << 20;

  // REQUIRES: key_size >= 8. `dir` holds the temporary files; empty: $TMPDIR,
  // else /tmp.
  SpillRuns(size_t key_size, size_t value_size, std::string dir = "",
            size_t filter_budget = kDefaultFilterBudget);
  ~SpillRuns();
  SpillRuns(const SpillRuns&) = delete;
  SpillRuns& operator=(const SpillRuns&) = delete;

  size_t key_size() const { return key_size_; }
  size_t value_size() const { return value_size_; }
  size_t record_size() const { return key_size_ + value_size_; }

  // Starts a run of at most `max_records` records (sizes its filter).
  // kUnavailable if the temporary file cannot be created.
  // REQUIRES: no run is being written.
  Status BeginRun(uint64_t max_records);
  // REQUIRES: a run is being written; keys strictly ascending within it;
  // fewer than max_records appended so far. kUnavailable on a write error
  // (e.g. the disk is full: the message names the directory).
  Status Append(const uint8_t* record);
  // Completes the run, then merges runs as described above.
  Status EndRun();

  // Copies into value_out (value_size bytes) the value of `key` in the
  // newest run holding it: true if found. kUnavailable on a read error.
  Result<bool> Find(const uint8_t* key, uint8_t* value_out) const;

  size_t runs() const { return runs_.size(); }
  uint64_t records() const;     // on disk, in all runs (a key may be in several)
  size_t memory_bytes() const;  // filters and sparse indexes
  // Bits a record in the newest run's filter (for tests and reports).
  unsigned newest_filter_bits() const;

 private:
  struct Run;
  class RunReader;

  Result<int> CreateFile() const;
  // Begins a run of at most max_records, its filter sized as if `total`
  // records were on disk once it is done.
  Status StartRun(uint64_t max_records, uint64_t total);
  Status Flush();
  Status MergeNewestTwo();
  Status MergeNewestTwoOnce();

  const size_t key_size_;
  const size_t value_size_;
  const std::string dir_;
  const size_t filter_budget_;
  std::vector<std::unique_ptr<Run>> runs_;
  std::unique_ptr<Run> open_;           // the run being written
  std::vector<uint8_t> out_;            // its write buffer
  mutable std::vector<uint8_t> block_;  // Find's read buffer
};

// SpillBytes: a growable array of bytes, one per item numbered from 0 (an
// inventory's flags per person), of which at most `resident_pages` pages of
// 1 MiB stay in memory; the least recently used page goes to an unnamed
// temporary file when another is needed. Suits accesses that mostly touch
// recent items. Bytes never written read as 0.
//
// Thread-compatible.
class SpillBytes {
 public:
  static constexpr size_t kPageBytes = size_t{1} << 20;

  // REQUIRES: resident_pages >= 1. `dir` as for SpillRuns.
  explicit SpillBytes(size_t resident_pages = 16, std::string dir = "");
  ~SpillBytes();
  SpillBytes(const SpillBytes&) = delete;
  SpillBytes& operator=(const SpillBytes&) = delete;

  // The byte of item i, valid until the next call. kUnavailable if a page
  // cannot be written out or read back.
  Result<uint8_t*> At(uint64_t i);

  size_t pages_written() const { return pages_written_; }

 private:
  struct Page {
    uint64_t number = 0;
    uint64_t last_use = 0;
    std::unique_ptr<uint8_t[]> bytes;
  };

  const size_t resident_pages_;
  const std::string dir_;
  int fd_ = -1;
  std::vector<Page> resident_;
  std::vector<bool> on_disk_;  // by page number
  uint64_t clock_ = 0;
  size_t pages_written_ = 0;
};

}  // namespace custos

#endif  // CUSTOS_BASE_SPILL_RUNS_H_
