#include "base/sealed_blocks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "base/test_util.h"

namespace custos {
namespace {

TEST(SealedBlocks, ReadsBackEveryBlockInAnyOrder) {
  SealedBlocks blocks;
  std::mt19937_64 rng(1);
  std::vector<std::string> written;
  for (int i = 0; i < 200; ++i) {
    std::string data(rng() % 5000, '\0');  // the empty block too
    for (char& c : data) c = static_cast<char>(rng());
    auto n = blocks.Append(data);
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_EQ(*n, static_cast<uint32_t>(i));
    written.push_back(std::move(data));
  }
  EXPECT_EQ(blocks.blocks(), 200u);
  std::string out;
  for (int k = 0; k < 1000; ++k) {
    const auto i = static_cast<uint32_t>(rng() % written.size());
    ASSERT_TRUE(blocks.Read(i, out).has_value());
    ASSERT_EQ(out, written[i]) << i;
  }
}

// The descriptors of this process open on unnamed files in `dir`.
std::vector<int> UnnamedFilesIn(const std::string& dir) {
  std::vector<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.starts_with(dir + "/")) fds.push_back(std::stoi(e.path().filename()));
  }
  return fds;
}

// What reaches the disk is not the data, and a flipped byte is caught.
TEST(SealedBlocks, TheFileHoldsNoClearTextAndAlterationIsDataLoss) {
  custos::testing::TempDir dir;
  SealedBlocks blocks(dir.path());
  const std::string canary = "CANARY-张三明-11010519491231002X";
  ASSERT_TRUE(blocks.Append(canary).has_value());
  ASSERT_TRUE(blocks.Append(canary).has_value());
  const std::vector<int> fds = UnnamedFilesIn(dir.path());
  ASSERT_EQ(fds.size(), 1u);
  std::string on_disk(4096, '\0');
  const ssize_t n = ::pread(fds[0], on_disk.data(), on_disk.size(), 0);
  ASSERT_GT(n, 0);
  on_disk.resize(static_cast<size_t>(n));
  EXPECT_EQ(on_disk.find("CANARY"), std::string::npos);
  EXPECT_EQ(on_disk.find("11010519491231002X"), std::string::npos);
  // Block 1 starts after block 0 (the canary and a 16-byte tag).
  uint8_t b;
  const off_t at = static_cast<off_t>(canary.size() + 16 + 3);
  ASSERT_EQ(::pread(fds[0], &b, 1, at), 1);
  b ^= 0x01;
  ASSERT_EQ(::pwrite(fds[0], &b, 1, at), 1);
  std::string out;
  ASSERT_TRUE(blocks.Read(0, out).has_value());
  EXPECT_EQ(out, canary);
  auto damaged = blocks.Read(1, out);
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().code(), ErrorCode::kDataLoss);
  EXPECT_TRUE(out.empty());
}

// A block that could not be written used up its number as a nonce: no
// later block may be sealed under the same key.
TEST(SealedBlocks, AFailedWriteStopsAllLaterBlocks) {
  Result<uint32_t> big = 0, after = 0;
  {
    custos::testing::FileSizeLimit limit(4096);
    SealedBlocks blocks;
    big = blocks.Append(std::string(8192, 'x'));
    after = blocks.Append("y");
  }
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), ErrorCode::kUnavailable);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), ErrorCode::kUnavailable);
}

TEST(SealedBlocks, AnUnwritableDirectoryIsUnavailable) {
  SealedBlocks blocks("/nonexistent-custos-dir");
  auto n = blocks.Append("张三明");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(n.error().message().find("/nonexistent-custos-dir"), std::string::npos);
  EXPECT_EQ(n.error().message().find("张三明"), std::string::npos);
}

}  // namespace
}  // namespace custos
