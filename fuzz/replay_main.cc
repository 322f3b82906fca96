// Replays fuzz inputs without libFuzzer, so that every seed corpus runs in
// the normal (gcc) build under ctest: calls LLVMFuzzerTestOneInput once per
// regular file in the directories (or files) named on the command line,
// directories in sorted order, recursively.
//
//   csv_reader_replay testdata/fuzz/csv_reader/
//
// Exit status: 0 when every input ran (a failed check in the target aborts
// the process); 2 on a usage error, a missing path or no inputs at all, so
// that a misplaced corpus does not pass vacuously.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

bool RunFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  // A copy of exactly the input's size, so that AddressSanitizer sees reads
  // past the end; libFuzzer never passes a null pointer, not even for "".
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  static const uint8_t kEmpty = 0;
  LLVMFuzzerTestOneInput(data.empty() ? &kEmpty : data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    std::error_code ec;
    if (fs::is_regular_file(arg, ec)) {
      if (!RunFile(arg)) return 2;
      ++ran;
      continue;
    }
    if (!fs::is_directory(arg, ec)) {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", arg.c_str());
      return 2;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(arg)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      if (!RunFile(f)) return 2;
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  std::fprintf(stderr, "replay: %zu inputs, no failure\n", ran);
  return 0;
}
