// libFuzzer target for the age v1 decryptor (package/age.h): the header
// scanner and parser, X25519 unwrapping, the header MAC and the STREAM
// payload.
//
// The identity is fixed: the example in the C2SP age spec,
// AGE-SECRET-KEY-1GFPYYSJZ... (recipient age1zvkyg2...), so seeds encrypted
// to it reach the payload layer. The input is decrypted twice, once in one
// piece and once in small pieces that cut lines, the MAC and chunks
// everywhere; both must agree exactly (same code and message, same
// plaintext). The only codes allowed are the documented ones, plaintext is
// never longer than the input, and a success means the input really was an
// age v1 file.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_package. Seed corpus: testdata/fuzz/age_header/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/aead.h"
#include "package/age.h"

namespace {

using custos::Bytes;
using custos::ByteSpan;
using custos::ErrorCode;
using custos::package::AgeDecryptor;
using custos::package::AgeIdentity;
using custos::package::BytesSink;

constexpr std::string_view kIdentity =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  Bytes plaintext;
  bool operator==(const Outcome&) const = default;
};

Outcome Decrypt(const std::vector<AgeIdentity>& identities, ByteSpan input, size_t piece) {
  Outcome out;
  BytesSink sink(out.plaintext);
  auto decryptor = AgeDecryptor::Create(identities, sink);
  Check(decryptor.has_value());
  custos::Status status = custos::Ok();
  for (size_t i = 0; i < input.size() && status; i += piece) {
    status = decryptor->Write(input.subspan(i, std::min(piece, input.size() - i)));
  }
  if (status) status = decryptor->Finish();
  if (!status) {
    out.code = status.error().code();
    out.message = status.error().message();
    Check(!out.message.empty());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Check(custos::crypto::Initialize().has_value());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<AgeIdentity>* const identities = [] {
    auto id = AgeIdentity::Parse(kIdentity);
    Check(id.has_value());
    return new std::vector<AgeIdentity>{*id};
  }();
  const ByteSpan input(data, size);
  const Outcome whole = Decrypt(*identities, input, size == 0 ? 1 : size);
  Check(whole.code == ErrorCode::kOk || whole.code == ErrorCode::kInvalidArgument ||
        whole.code == ErrorCode::kUnauthenticated || whole.code == ErrorCode::kDataLoss);
  Check(whole.plaintext.size() <= size);
  if (whole.code == ErrorCode::kOk) {
    Check(std::string_view(reinterpret_cast<const char*>(data), size)
              .starts_with("age-encryption.org/v1\n"));
  }
  if (whole.code != ErrorCode::kOk && whole.code != ErrorCode::kDataLoss) {
    Check(whole.plaintext.empty());  // nothing is released before the header authenticates
  }
  const size_t piece = 1 + size % 13;
  Check(Decrypt(*identities, input, piece) == whole);
  return 0;
}
