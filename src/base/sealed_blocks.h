// SealedBlocks: blocks of bytes kept in an unnamed temporary file, each
// encrypted and authenticated (ChaCha20-Poly1305, IETF; the block number is
// the nonce) under a random key that exists only in this object's memory.
// For data that may hold personal information and does not fit a memory
// budget (the shared strings of a large XLSX workbook): nothing reaches the
// disk in clear, and the file is unreadable once the process is gone (it
// is unnamed: O_TMPFILE, or created and unlinked at once).
//
// Thread-compatible; once appending is over, Read may run on several
// threads at once.
#ifndef CUSTOS_BASE_SEALED_BLOCKS_H_
#define CUSTOS_BASE_SEALED_BLOCKS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custos {

class SealedBlocks {
 public:
  // `dir` holds the file; empty: $TMPDIR, else /tmp. The file is created
  // with the first block.
  explicit SealedBlocks(std::string dir = "");
  ~SealedBlocks();
  SealedBlocks(const SealedBlocks&) = delete;
  SealedBlocks& operator=(const SealedBlocks&) = delete;

  // Encrypts and writes a block; returns its number (0, 1, ...).
  // kUnavailable if the file cannot be created or written (the message
  // names the directory); after a failed write every later Append fails.
  Result<uint32_t> Append(std::string_view data);
  // Reads block `number` into `out`. kDataLoss if it does not authenticate
  // (the file was altered), kUnavailable on a read error.
  // REQUIRES: number < blocks().
  Status Read(uint32_t number, std::string& out) const;

  uint32_t blocks() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  // The size of block `number` as Read gives it. REQUIRES: number < blocks().
  size_t SizeOf(uint32_t number) const {
    return static_cast<size_t>(offsets_[number + 1] - offsets_[number]) - kTagBytes;
  }

 private:
  static constexpr size_t kTagBytes = 16;  // Poly1305

  const std::string dir_;
  std::array<uint8_t, 32> key_{};
  int fd_ = -1;
  std::vector<uint64_t> offsets_{0};     // block b is [offsets_[b], offsets_[b + 1])
  std::vector<uint8_t> sealed_;          // a block as Append writes it
  std::optional<Error> failed_;          // a write failed: Append refuses
};

}  // namespace custos

#endif  // CUSTOS_BASE_SEALED_BLOCKS_H_
