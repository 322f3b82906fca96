// SealedFile: a file's bytes kept on disk in sealed blocks (sealed_blocks.h:
// an unnamed temporary file, each block encrypted under a key that exists
// only in this process's memory), written once in order and then read by
// any number of readers. For uploads to the server that may be large and
// hold personal data: they neither sit whole in memory nor reach the disk
// in clear.
//
// A sealed file can be given a path (Name) for the commands that read it:
// ingest::OpenFileSource reads a named sealed file instead of the file at
// that path.
//
// Thread safety: Write and Finish from one thread; after Finish, reads from
// any thread. The registry of names is thread-safe.
#ifndef CUSTOS_BASE_SEALED_FILE_H_
#define CUSTOS_BASE_SEALED_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/sealed_blocks.h"

namespace custos {

class SealedFile {
 public:
  // Plaintext bytes per block.
  static constexpr size_t kBlockBytes = 1 << 20;

  // `dir` holds the unnamed file (empty: $TMPDIR, else /tmp).
  explicit SealedFile(std::string dir) : blocks_(std::move(dir)) {}

  // Appends bytes. kUnavailable if the disk refuses them (naming the
  // directory); after a failure every later call fails.
  Status Write(std::string_view data);
  // Seals what is still buffered. REQUIRES: called once, after the writes.
  Status Finish();

  uint64_t size() const { return size_; }
  uint32_t blocks() const { return blocks_.blocks(); }
  // Block `number`'s bytes (kDataLoss if the file was altered). Safe from
  // several threads at once. REQUIRES: Finish() succeeded.
  Status ReadBlock(uint32_t number, std::string& out) const { return blocks_.Read(number, out); }

 private:
  SealedBlocks blocks_;
  std::string pending_;
  uint64_t size_ = 0;
};

// Names `file` by `path` until Unname(path) (or until another file takes
// the name).
void NameSealedFile(const std::string& path, std::shared_ptr<const SealedFile> file);
void UnnameSealedFile(const std::string& path);
// The sealed file named `path`, or null.
std::shared_ptr<const SealedFile> FindSealedFile(const std::string& path);

}  // namespace custos

#endif  // CUSTOS_BASE_SEALED_FILE_H_
