// Helpers for the package tests only: running the real tools (age,
// age-keygen, ssh-keygen, tar) the formats must interoperate with.
#ifndef CUSTOS_PACKAGE_TEST_SUPPORT_H_
#define CUSTOS_PACKAGE_TEST_SUPPORT_H_

#include <string>

#include "base/bytes.h"

namespace custos::package::testing {

// True if `tool` is on PATH.
bool HaveTool(const std::string& tool);

struct RunResult {
  int exit_code = -1;  // -1 if the command did not exit normally
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh in directory `dir`, stdin from /dev/null
// unless the command redirects it.
RunResult RunShell(const std::string& dir, const std::string& command);

// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

// Lower-case hex SHA-256.
std::string Sha256Hex(ByteSpan data);

// Deterministic pseudo-random bytes (for payloads).
Bytes PatternBytes(size_t n, uint32_t seed);

}  // namespace custos::package::testing

#endif  // CUSTOS_PACKAGE_TEST_SUPPORT_H_
