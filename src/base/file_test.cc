#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace custos
