#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/test_util.h"

namespace custos {
namespace {

using custos::testing::TempDir;

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFileWriter, TheFileAppearsWholeOnlyOnCommit) {
  TempDir dir;
  const std::string path = dir.File("out.csv");
  ASSERT_TRUE(WriteFileAtomic(path, "old").has_value());
  auto w = AtomicFileWriter::Create(path, 0600);
  ASSERT_TRUE(w.has_value());
  const std::string big(3 << 20, 'x');  // past the 1 MiB buffer
  ASSERT_TRUE((*w)->Append("head,").has_value());
  ASSERT_TRUE((*w)->Append(big).has_value());
  ASSERT_TRUE((*w)->Append(",tail").has_value());
  EXPECT_EQ(*ReadFile(path), "old");  // untouched until the commit
  ASSERT_TRUE((*w)->Commit().has_value());
  EXPECT_EQ(*ReadFile(path), "head," + big + ",tail");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  w->reset();
  EXPECT_EQ(FilesIn(dir.path()), 1u);  // no temporary left
}

TEST(AtomicFileWriter, AbandonedLeavesNothing) {
  TempDir dir;
  {
    auto w = AtomicFileWriter::Create(dir.File("out.csv"), 0600);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Append("partial").has_value());
  }
  EXPECT_EQ(FilesIn(dir.path()), 0u);
}

TEST(AtomicFileWriter, AMissingDirectoryIsUnavailableAndNamed) {
  auto w = AtomicFileWriter::Create("/nonexistent-custos-dir/out.csv", 0600);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(w.error().message().find("/nonexistent-custos-dir/out.csv"), std::string::npos);
}

TEST(AtomicFileWriter, ANewFileLeavesNoTemporaryNameAtAnyMoment) {
  TempDir dir;
  const std::string path = dir.File("notices.csv");
  auto w = AtomicFileWriter::Create(path, 0600);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->Append("ref,mobile\n").has_value());
  ASSERT_TRUE((*w)->Commit().has_value());
  EXPECT_EQ(FilesIn(dir.path()), 1u);
  EXPECT_EQ(*ReadFile(path), "ref,mobile\n");
}

// What a writer killed before this version cleaned up left behind: its
// temporary, with whatever it held (notices hold mobiles). The next writer
// of that file removes it; a running writer's temporary is left alone.
TEST(AtomicFileWriter, LeftoversOfDeadWritersAreRemoved) {
  TempDir dir;
  const std::string path = dir.File("notices.csv");
  // A pid that runs no process: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const std::string stale = path + ".tmp-" + std::to_string(dead);
  const std::string alive = path + ".tmp-1";  // init runs
  const std::string other = dir.File("other.csv.tmp-" + std::to_string(dead));
  for (const auto& f : {stale, alive, other}) ASSERT_TRUE(WriteFileAtomic(f, "13812345678"));
  auto w = AtomicFileWriter::Create(path, 0600);
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(alive));
  EXPECT_TRUE(std::filesystem::exists(other));  // another file's business
}

TEST(WriteFileExclusive, CreatesWholeOrRefusesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.File("k.key");
  const Bytes key(32, 7);
  ASSERT_TRUE(WriteFileExclusive(path, key, 0600).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto again = WriteFileExclusive(path, Bytes(32, 9), 0600);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(path), std::string(32, '\x07'));
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

// What a package is built in: invisible under its name until linked, and
// gone without a trace if never linked.
TEST(TempFileBeside, AppearsOnlyWhenLinkedAndWhole) {
  TempDir dir;
  const std::string path = dir.File("T1.tar");
  auto f = TempFileBeside::Create(path);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_NE((*f)->name().find(path), std::string::npos);
  ASSERT_EQ(::write((*f)->fd(), "archive", 7), 7);
  EXPECT_FALSE(FileExists(path));
  ASSERT_TRUE((*f)->Sync().has_value());
  ASSERT_TRUE((*f)->LinkTo(path).has_value());
  f->reset();
  EXPECT_EQ(*ReadFile(path), "archive");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(FilesIn(dir.path()), 1u);  // no temporary left
}

TEST(TempFileBeside, NeverLinkedLeavesNothing) {
  TempDir dir;
  {
    auto f = TempFileBeside::Create(dir.File("T1.tar"));
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(::write((*f)->fd(), "partial", 7), 7);
  }
  EXPECT_EQ(FilesIn(dir.path()), 0u);
}

TEST(TempFileBeside, LinkingOverAnExistingFileIsAlreadyExists) {
  TempDir dir;
  const std::string path = dir.File("T1.tar");
  ASSERT_TRUE(WriteFileAtomic(path, "someone else's"));
  auto f = TempFileBeside::Create(path);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(::write((*f)->fd(), "archive", 7), 7);
  auto linked = (*f)->LinkTo(path);
  ASSERT_FALSE(linked.has_value());
  EXPECT_EQ(linked.error().code(), ErrorCode::kAlreadyExists);
  f->reset();
  EXPECT_EQ(*ReadFile(path), "someone else's");
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(TempFileBeside, AMissingDirectoryIsUnavailableAndNamed) {
  auto f = TempFileBeside::Create("/nonexistent-custos-dir/T1.tar");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(f.error().message().find("beside /nonexistent-custos-dir/T1.tar"), std::string::npos)
      << f.error().message();
}

struct NotAFile {
  const char* name;
  std::string path;
  const char* kind;
};

TEST(OpenRegularFile, RefusesWhatIsNotARegularFileAtOnce) {
  TempDir dir;
  const std::string fifo = dir.File("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);  // opening it must not wait for a writer
  for (const NotAFile& c : {NotAFile{"device", "/dev/zero", "a character device"},
                            NotAFile{"directory", dir.path(), "a directory"},
                            NotAFile{"fifo", fifo, "a pipe"}}) {
    auto fd = OpenRegularFile(c.path);
    ASSERT_FALSE(fd.has_value()) << c.name;
    EXPECT_EQ(fd.error().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(fd.error().message().find(c.path + " is " + c.kind), std::string::npos)
        << fd.error().message();
    auto read = ReadFile(c.path);
    ASSERT_FALSE(read.has_value()) << c.name;
    EXPECT_EQ(read.error().code(), ErrorCode::kInvalidArgument) << c.name;
  }
  auto missing = OpenRegularFile(dir.File("nothing"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir.File("f"), "x"));
  auto fd = OpenRegularFile(dir.File("f"));
  ASSERT_TRUE(fd.has_value());
  ::close(*fd);
}

}  // namespace
}  // namespace custos
