/* killpoint: an LD_PRELOAD library that kills its process at the Nth
 * durable write, so that a test can interrupt a command at every point
 * where what is on disk changes for good (tests/crash_e2e.sh).
 *
 * Durable writes counted: fsync, fdatasync, rename, renameat, renameat2,
 * link, linkat (SQLite's commits and checkpoints, Custos's own files).
 *
 *   KILLPOINT_AT=N      SIGKILL the process just before the Nth such call
 *                       (the call does not happen).
 *   KILLPOINT_COUNT=F   write the number of such calls to F when the
 *                       process exits (to learn how many points to try).
 *
 * Counting is process-wide and thread-safe; children do not inherit the
 * count (the library's constructor runs again in them). */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace {
std::atomic<long> calls{0};
long kill_at = -1;
const char* count_file = nullptr;
}  // namespace

extern "C" {

__attribute__((constructor)) static void killpoint_init() {
  const char* at = std::getenv("KILLPOINT_AT");
  if (at != nullptr && *at != '\0') kill_at = std::atol(at);
  count_file = std::getenv("KILLPOINT_COUNT");
}

__attribute__((destructor)) static void killpoint_fini() {
  if (count_file == nullptr || *count_file == '\0') return;
  FILE* f = std::fopen(count_file, "w");
  if (f == nullptr) return;
  std::fprintf(f, "%ld\n", calls.load());
  std::fclose(f);
}

static void point() {
  const long n = calls.fetch_add(1) + 1;
  if (n == kill_at) kill(getpid(), SIGKILL);
}

#define NEXT(name) (reinterpret_cast<decltype(&name)>(dlsym(RTLD_NEXT, #name)))

int fsync(int fd) {
  point();
  return NEXT(fsync)(fd);
}

int fdatasync(int fd) {
  point();
  return NEXT(fdatasync)(fd);
}

int rename(const char* from, const char* to) {
  point();
  return NEXT(rename)(from, to);
}

int renameat(int fromdir, const char* from, int todir, const char* to) {
  point();
  return NEXT(renameat)(fromdir, from, todir, to);
}

int renameat2(int fromdir, const char* from, int todir, const char* to, unsigned int flags) {
  point();
  return NEXT(renameat2)(fromdir, from, todir, to, flags);
}

int link(const char* from, const char* to) {
  point();
  return NEXT(link)(from, to);
}

int linkat(int fromdir, const char* from, int todir, const char* to, int flags) {
  point();
  return NEXT(linkat)(fromdir, from, todir, to, flags);
}

}  // extern "C"
