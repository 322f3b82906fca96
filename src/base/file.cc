#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace custos {

namespace {
std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Fail(Unavailable(Errno("cannot write", path)));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Ok();
}
}  // namespace

Result<int> OpenRegularFile(const std::string& path) {
  // O_NONBLOCK so that opening a FIFO does not wait for a writer; it is
  // refused below, and a regular file ignores the flag, cleared anyway.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Fail(NotFound(path + ": no such file"));
    if (err == EACCES || err == EPERM) return Fail(PermissionDenied(path + ": permission denied"));
    return Fail(Unavailable("cannot open " + path + ": " + std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(Unavailable("cannot stat " + path + ": " + std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a pipe"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return Fail(InvalidArgument(path + " is " + kind + ", not a file; give a regular file"));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

Result<std::string> ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(int fd, OpenRegularFile(path));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Fail(Unavailable(Errno("cannot read", path)));
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode) {
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> w, AtomicFileWriter::Create(path, mode));
  RETURN_IF_ERROR(w->Append(data));
  return w->Commit();
}

void RemoveLeftoversOf(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  const std::string prefix = base + ".tmp-";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string suffix = name.substr(prefix.size());
    if (suffix.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::atol(suffix.c_str());
    if (pid <= 0) continue;
    if (pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) {
      continue;  // its writer may still be at work
    }
    ::unlink((dir + "/" + name).c_str());
  }
  ::closedir(d);
}

void SyncDirectoryOf(const std::string& path) {
  const int fd = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

std::string AbsolutePath(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  char* dir = ::realpath(DirectoryOf(path).c_str(), nullptr);
  if (dir == nullptr) return path;
  std::string out = dir;
  std::free(dir);
  if (out != "/") out += '/';
  return out + base;
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const std::string& path,
                                                                   unsigned mode) {
  RemoveLeftoversOf(path);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  // Unnamed until complete where the file system allows (O_TMPFILE), so a
  // crash leaves nothing behind; else the named temporary.
  const std::string dir = DirectoryOf(path);
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  bool unnamed = fd >= 0;
  if (!unnamed) fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Fail(Unavailable(Errno("cannot create", tmp)));
  ::fchmod(fd, mode);  // exact, whatever the umask
  auto w = std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(fd, path, std::move(tmp)));
  w->unnamed_ = unnamed;
  return w;
}

AtomicFileWriter::~AtomicFileWriter() {
  Wipe();
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !unnamed_) ::unlink(tmp_.c_str());
}

void AtomicFileWriter::Wipe() {
  if (!buffer_.empty()) sodium_memzero(buffer_.data(), buffer_.size());
  buffer_.clear();
}

Status AtomicFileWriter::Flush() {
  Status st = WriteAll(fd_, buffer_.data(), buffer_.size(), tmp_);
  Wipe();  // it may hold personal data (notices hold contacts)
  return st;
}

Status AtomicFileWriter::Append(std::string_view data) {
  constexpr size_t kBuffer = size_t{1} << 20;
  if (buffer_.size() + data.size() > kBuffer) {
    RETURN_IF_ERROR(Flush());
    if (data.size() > kBuffer) return WriteAll(fd_, data.data(), data.size(), tmp_);
  }
  buffer_.append(data);
  return Ok();
}

Status AtomicFileWriter::Commit() {
  RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) return Fail(Unavailable(Errno("cannot sync", tmp_)));
  if (unnamed_) {
    // Nothing there yet: named in one step, so no moment exists at which a
    // crash could leave a temporary name behind.
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      ::close(fd_);
      fd_ = -1;
      unnamed_ = false;
      committed_ = true;
      SyncDirectoryOf(path_);
      return Ok();
    }
    if (errno != EEXIST) return Fail(Unavailable(Errno("cannot create", path_)));
  }
  if (unnamed_) {  // replacing: the temporary name first, as rename replaces atomically
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    ::unlink(tmp_.c_str());  // a leftover of a crashed run with our pid
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      return Fail(Unavailable(Errno("cannot create", tmp_)));
    }
    unnamed_ = false;  // named now: removed on failure below
  }
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Fail(Unavailable(Errno("cannot write", tmp_)));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Fail(Unavailable(Errno("cannot rename onto", path_)));
  }
  committed_ = true;
  SyncDirectoryOf(path_);
  return Ok();
}

Status WriteFileExclusive(const std::string& path, ByteSpan data, unsigned mode) {
  // Written whole under no name, then linked (which fails if the name is
  // taken): a crash leaves either no file or the whole one, never a short
  // key file that a second run would take for a damaged one.
  const std::string dir = DirectoryOf(path);
  std::string tmp;
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) {
    tmp = path + ".tmp-" + std::to_string(::getpid());
    RemoveLeftoversOf(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  }
  if (fd < 0) return Fail(Unavailable(Errno("cannot create", path)));
  // The umask may have narrowed the mode; make it exact.
  ::fchmod(fd, mode);
  Status st = WriteAll(fd, reinterpret_cast<const char*>(data.data()), data.size(), path);
  if (st && ::fsync(fd) != 0) st = Fail(Unavailable(Errno("cannot sync", path)));
  if (st) {
    const int rc = tmp.empty() ? ::linkat(AT_FDCWD, ("/proc/self/fd/" + std::to_string(fd)).c_str(),
                                          AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW)
                               : ::link(tmp.c_str(), path.c_str());
    if (rc != 0) {
      st = errno == EEXIST ? Fail(AlreadyExists("file already exists: " + path))
                           : Fail(Unavailable(Errno("cannot create", path)));
    }
  }
  ::close(fd);
  if (!tmp.empty()) ::unlink(tmp.c_str());
  if (st) SyncDirectoryOf(path);
  return st;
}

Result<std::unique_ptr<TempFileBeside>> TempFileBeside::Create(const std::string& path) {
  std::string display = "a temporary file beside " + path;
  int fd = ::open(DirectoryOf(path).c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  std::string name;
  if (fd < 0) {
    // Named as every temporary here, so that a later run removes it should
    // this process be killed.
    RemoveLeftoversOf(path);
    name = path + ".tmp-" + std::to_string(::getpid());
    fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(Unavailable(Errno("cannot create", display)));
  }
  auto file =
      std::unique_ptr<TempFileBeside>(new TempFileBeside(fd, std::move(name), std::move(display)));
  // The umask may have narrowed the mode; make it exact.
  if (::fchmod(fd, 0600) != 0) return Fail(Unavailable(Errno("cannot prepare", file->display_)));
  return file;
}

TempFileBeside::~TempFileBeside() {
  ::close(fd_);
  if (!name_.empty()) ::unlink(name_.c_str());
}

Status TempFileBeside::Sync() {
  if (::fsync(fd_) != 0) return Fail(Unavailable(Errno("cannot sync", display_)));
  return Ok();
}

Status TempFileBeside::LinkTo(const std::string& path) {
  int rc = 0;
  if (name_.empty()) {  // unnamed: linked through its descriptor (open(2), O_TMPFILE)
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    rc = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    rc = ::link(name_.c_str(), path.c_str());
  }
  if (rc != 0) {
    if (errno == EEXIST) return Fail(AlreadyExists(path + " exists"));
    return Fail(Unavailable(Errno("cannot create", path)));
  }
  SyncDirectoryOf(path);
  return Ok();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

int PreadAll(int fd, uint8_t* dst, size_t size, uint64_t offset) {
  for (size_t done = 0; done < size;) {
    const ssize_t got = ::pread(fd, dst + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) return -1;
    done += static_cast<size_t>(got);
  }
  return 0;
}

int PwriteAll(int fd, const uint8_t* src, size_t size, uint64_t offset) {
  for (size_t done = 0; done < size;) {
    const ssize_t put = ::pwrite(fd, src + done, size - done, static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return errno;
    if (put == 0) return -1;
    done += static_cast<size_t>(put);
  }
  return 0;
}

Status PreadFully(int fd, uint8_t* dst, size_t size, uint64_t offset) {
  const int e = PreadAll(fd, dst, size, offset);
  if (e == 0) return Ok();
  return Fail(Unavailable("cannot read back a temporary file: " +
                          (e > 0 ? std::string(std::strerror(e))
                                 : std::string("it is shorter than written"))));
}

Result<int> CreateUnnamedTempFile(const std::string& requested) {
  std::string dir = requested;
  if (dir.empty()) {
    const char* env = std::getenv("TMPDIR");
    dir = env && *env ? env : "/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = dir + "/custos-spill-XXXXXX";
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return Fail(Unavailable("cannot create a temporary file in " + dir + ": " +
                            std::string(std::strerror(errno)) +
                            " (set TMPDIR to a writable directory)"));
  }
  ::unlink(name.c_str());
  return fd;
}

std::string TempDirForMessages(const std::string& dir) { return dir.empty() ? "$TMPDIR" : dir; }

Status PwriteFully(int fd, const uint8_t* src, size_t size, uint64_t offset,
                   const std::string& dir) {
  const int e = PwriteAll(fd, src, size, offset);
  if (e == 0) return Ok();
  return Fail(Unavailable("cannot write a temporary file in " + TempDirForMessages(dir) + ": " +
                          (e > 0 ? std::string(std::strerror(e)) : std::string("nothing written")) +
                          " (set TMPDIR to a directory with more free space)"));
}

}  // namespace custos
