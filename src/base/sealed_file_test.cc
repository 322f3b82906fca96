#include "base/sealed_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/test_util.h"

namespace custos {
namespace {

std::string Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string ReadAll(const SealedFile& f) {
  std::string all, block;
  for (uint32_t b = 0; b < f.blocks(); ++b) {
    EXPECT_TRUE(f.ReadBlock(b, block).has_value());
    all += block;
  }
  return all;
}

TEST(SealedFile, ReadsBackWhatWasWrittenInPiecesOfAnySize) {
  testing::TempDir dir;
  SealedFile f(dir.path());
  const std::string data = Random(3 * SealedFile::kBlockBytes + 12345, 1);
  std::mt19937_64 rng(2);
  for (size_t at = 0; at < data.size();) {
    // Small pieces and pieces larger than a block, as a socket gives them.
    const size_t n = std::min(data.size() - at,
                              static_cast<size_t>(rng() % 2 ? rng() % 9000 : rng() % (3 << 20)));
    ASSERT_TRUE(f.Write(std::string_view(data).substr(at, n)).has_value());
    at += n;
  }
  ASSERT_TRUE(f.Finish().has_value());
  EXPECT_EQ(f.size(), data.size());
  EXPECT_EQ(f.blocks(), 4u);
  // Several readers at once, as an import reads while it hashes.
  std::vector<std::thread> readers;
  std::vector<std::string> got(4);
  for (size_t i = 0; i < got.size(); ++i) readers.emplace_back([&, i] { got[i] = ReadAll(f); });
  for (auto& t : readers) t.join();
  for (const std::string& g : got) EXPECT_TRUE(g == data);
}

TEST(SealedFile, NothingOfItReachesTheDiskInClear) {
  testing::TempDir dir;
  SealedFile f(dir.path());
  const std::string canary = "110101199003077777 canary 13800138000";
  std::string data;
  while (data.size() < 2 * SealedFile::kBlockBytes) data += canary + "\n";
  ASSERT_TRUE(f.Write(data).has_value());
  ASSERT_TRUE(f.Finish().has_value());
  // The file is unnamed: nothing in the directory; its bytes through /proc.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (ec || target.string().rfind(dir.path(), 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_GE(bytes.size(), data.size());
    EXPECT_EQ(bytes.find("canary"), std::string::npos);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(SealedFile, ANameFindsTheFileUntilItIsUnnamed) {
  testing::TempDir dir;
  auto f = std::make_shared<SealedFile>(dir.path());
  ASSERT_TRUE(f->Write("a,b\n1,2\n").has_value());
  ASSERT_TRUE(f->Finish().has_value());
  const std::string name = dir.File("upload.csv");
  EXPECT_EQ(FindSealedFile(name), nullptr);
  NameSealedFile(name, f);
  EXPECT_EQ(FindSealedFile(name), f);
  EXPECT_EQ(ReadAll(*FindSealedFile(name)), "a,b\n1,2\n");
  UnnameSealedFile(name);
  EXPECT_EQ(FindSealedFile(name), nullptr);
}

}  // namespace
}  // namespace custos
