// Small file-system helpers. Every write that replaces a file is atomic:
// written to a temporary sibling, fsynced, then renamed over the target.
#ifndef CUSTOS_BASE_FILE_H_
#define CUSTOS_BASE_FILE_H_

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace custos {

// Opens an input file for reading (O_CLOEXEC; the caller closes it).
// Refuses anything that is not a regular file (a device such as /dev/zero
// would be read forever, a FIFO would block, a directory is no input):
// kInvalidArgument naming the path. kNotFound if it does not exist,
// kPermissionDenied if it may not be read, kUnavailable otherwise.
Result<int> OpenRegularFile(const std::string& path);

// Reads a whole (regular) file, as OpenRegularFile opens it.
Result<std::string> ReadFile(const std::string& path);

// Atomically replaces `path` with `data`, created with `mode` (e.g. 0600).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);

// A file written in pieces that appears under its name only whole: written
// to an unnamed file in `path`'s directory (O_TMPFILE; where unsupported, a
// temporary sibling), created with `mode`, then fsynced, named and renamed
// over `path` by Commit. Destroyed uncommitted, it leaves nothing; a crash
// leaves nothing either where O_TMPFILE works. Its buffer is wiped as it is
// written out. Errors (kUnavailable) name the file. Thread-compatible.
class AtomicFileWriter {
 public:
  static Result<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path,
                                                          unsigned mode = 0644);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Status Append(std::string_view data);  // buffered
  // REQUIRES: not yet committed.
  Status Commit();

 private:
  AtomicFileWriter(int fd, std::string path, std::string tmp)
      : fd_(fd), path_(std::move(path)), tmp_(std::move(tmp)) {}
  Status Flush();
  void Wipe();

  int fd_;
  std::string path_, tmp_;
  std::string buffer_;
  bool committed_ = false;
  bool unnamed_ = false;
};

// Removes what a writer of `path` killed before it could clean up left
// behind: `path.tmp-PID` of processes that no longer run (writers here name
// their temporaries so). Such a file may hold personal data (notices hold
// contacts), so it must not stay. Errors are ignored: this is hygiene.
void RemoveLeftoversOf(const std::string& path);

// fsyncs the directory that holds `path`, so that a new name is durable.
void SyncDirectoryOf(const std::string& path);

// `path` with its directory made absolute and free of symbolic links (the
// last component is kept as given; `path` itself when the directory does
// not exist).
std::string AbsolutePath(const std::string& path);

// Creates `path` exclusively with `mode`, whole or not at all (written
// unnamed, then linked); kAlreadyExists if it exists.
Status WriteFileExclusive(const std::string& path, ByteSpan data, unsigned mode);

bool FileExists(const std::string& path);

// A file created exclusively, mode 0600 exactly, in the directory of `path`,
// to be linked under `path` only once it is complete: nobody ever sees it
// partial under that name. Unnamed (O_TMPFILE) where the file system allows,
// so that even a crash leaves nothing behind; else named `PATH.tmp-PID`,
// removed on destruction (and, should the process be killed, by the next
// RemoveLeftoversOf(path)). Linked or not, destroying it closes it and
// leaves nothing but what LinkTo named. Errors (kUnavailable) name it "a
// temporary file beside PATH". Thread-compatible.
class TempFileBeside {
 public:
  static Result<std::unique_ptr<TempFileBeside>> Create(const std::string& path);
  ~TempFileBeside();
  TempFileBeside(const TempFileBeside&) = delete;
  TempFileBeside& operator=(const TempFileBeside&) = delete;

  // Open for reading and writing; owned by this object.
  int fd() const { return fd_; }
  // "a temporary file beside PATH", for messages.
  const std::string& name() const { return display_; }
  // fsync(2); before LinkTo, so that the name never points at a file whose
  // content a crash could still lose.
  Status Sync();
  // Links the file under `path` (and syncs the directory); kAlreadyExists
  // if something is there already, kUnavailable otherwise.
  Status LinkTo(const std::string& path);

 private:
  TempFileBeside(int fd, std::string name, std::string display)
      : fd_(fd), name_(std::move(name)), display_(std::move(display)) {}

  int fd_;
  std::string name_;  // empty when unnamed
  std::string display_;
};

// The directory part of `path`: "." for a bare name, "/" for "/name".
std::string DirectoryOf(const std::string& path);

// ---- Unnamed temporary files, for data that must leave memory ----

// A file in `dir` (empty: $TMPDIR, else /tmp) that has no name: O_TMPFILE,
// or created and unlinked at once. It vanishes when closed or when the
// process dies. Returns the descriptor (the caller closes it).
// kUnavailable, naming the directory, if it cannot be created.
Result<int> CreateUnnamedTempFile(const std::string& dir);
// `dir` as CreateUnnamedTempFile takes it, for messages.
std::string TempDirForMessages(const std::string& dir);
// pread/pwrite of exactly `size` bytes at `offset`, retrying after EINTR
// and short counts: 0 when done, the errno of a failed call, or -1 when a
// call moved nothing (a read past the end of the file).
int PreadAll(int fd, uint8_t* dst, size_t size, uint64_t offset);
int PwriteAll(int fd, const uint8_t* src, size_t size, uint64_t offset);
// The same for temporary files, as Status: kUnavailable on an error or a
// short file; a write error names `dir` and suggests TMPDIR (a full disk).
Status PreadFully(int fd, uint8_t* dst, size_t size, uint64_t offset);
Status PwriteFully(int fd, const uint8_t* src, size_t size, uint64_t offset,
                   const std::string& dir);

}  // namespace custos

#endif  // CUSTOS_BASE_FILE_H_
