#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fail(NotFound("no such file: " + path));
    return Fail(Unavailable(Errno("cannot open", path)));
  }
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
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Fail(Unavailable(Errno("cannot create", tmp)));
  Status st = WriteAll(fd, data.data(), data.size(), tmp);
  if (st && ::fsync(fd) != 0) st = Fail(Unavailable(Errno("cannot sync", tmp)));
  ::close(fd);
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Fail(Unavailable(Errno("cannot rename onto", path)));
  }
  if (!st) ::unlink(tmp.c_str());
  return st;
}

Status WriteFileExclusive(const std::string& path, ByteSpan data, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Fail(AlreadyExists("file already exists: " + path));
    return Fail(Unavailable(Errno("cannot create", path)));
  }
  // The umask may have narrowed the mode; make it exact.
  ::fchmod(fd, mode);
  Status st = WriteAll(fd, reinterpret_cast<const char*>(data.data()), data.size(), path);
  if (st && ::fsync(fd) != 0) st = Fail(Unavailable(Errno("cannot sync", path)));
  ::close(fd);
  if (!st) ::unlink(path.c_str());
  return st;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace custos
