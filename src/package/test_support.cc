#include "package/test_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "base/test_util.h"
#include "crypto/aead.h"
#include "crypto/kdf.h"

namespace custos::package::testing {
namespace {

class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(crypto::Initialize().has_value()); }
};
[[maybe_unused]] ::testing::Environment* const kSodiumEnv =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

}  // namespace

bool HaveTool(const std::string& tool) {
  const std::string command = "command -v " + ShellQuote(tool) + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

RunResult RunShell(const std::string& dir, const std::string& command) {
  const custos::testing::TempDir capture;
  const std::string out_path = capture.File("stdout");
  const std::string err_path = capture.File("stderr");
  const std::string full = "cd " + ShellQuote(dir) + " && ( " + command + " ) </dev/null >" +
                           ShellQuote(out_path) + " 2>" + ShellQuote(err_path);
  const int status = std::system(full.c_str());
  RunResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = custos::testing::Slurp(out_path);
  result.err = custos::testing::Slurp(err_path);
  return result;
}

std::string Sha256Hex(ByteSpan data) { return crypto::Sha256Hex(data); }

Bytes PatternBytes(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<uint8_t>(x >> 24);
  }
  return out;
}

}  // namespace custos::package::testing
