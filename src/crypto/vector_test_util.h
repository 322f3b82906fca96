// Shared by the crypto tests: loading known-answer vector files from
// testdata/crypto and naming parameterized cases. Tests only.
#ifndef CUSTOS_CRYPTO_VECTOR_TEST_UTIL_H_
#define CUSTOS_CRYPTO_VECTOR_TEST_UTIL_H_

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "base/bytes.h"
#include "base/file.h"

namespace custos::crypto::testing {

using json = nlohmann::json;

// testdata/crypto/NAME parsed, or null (with a message) if unreadable.
inline json LoadVectorFile(const std::string& name) {
  const std::string path = std::string(CUSTOS_TESTDATA_DIR) + "/crypto/" + name;
  Result<std::string> text = ReadFile(path);
  if (!text) {
    std::fprintf(stderr, "cannot read %s: %s\n", path.c_str(), text.error().ToString().c_str());
    return json();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "malformed JSON in %s\n", path.c_str());
    return json();
  }
  return j;
}

// A hex member of a vector; aborts on bad hex (a broken data file).
inline Bytes HexField(const json& test, const char* field) {
  Result<Bytes> b = HexDecode(test.at(field).get<std::string>());
  if (!b) {
    std::fprintf(stderr, "bad hex in field %s of %s\n", field, test.dump().c_str());
    std::abort();
  }
  return *b;
}

// GoogleTest parameter names may only hold [A-Za-z0-9_].
inline std::string TestNameOf(const std::string& id) {
  std::string s = id;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

inline std::string Hex(ByteSpan b) { return HexEncode(b); }

}  // namespace custos::crypto::testing

#endif  // CUSTOS_CRYPTO_VECTOR_TEST_UTIL_H_
