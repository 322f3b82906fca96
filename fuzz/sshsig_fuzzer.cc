// libFuzzer target for SSHSIG signatures (package/sshsig.h) and, on the
// same input, the OpenSSH private key loader (package/ssh_private_key.h):
// both dearmor and parse SSH wire data.
//
// The input is taken as an armored signature and verified against a fixed
// key, namespace and message (those of testdata/sshsig/: the key
// ed25519_key.pub, namespace "custos-test", message.txt), so the seed
// signatures reach the Ed25519 check. Invariants: only the documented codes;
// parsing and verification agree (a signature that verifies also parses,
// with the expected key and namespace); a key that loads signs messages that
// verify under its own public key.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_package. Seed corpus: testdata/fuzz/sshsig/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/aead.h"
#include "package/ssh_key.h"
#include "package/ssh_private_key.h"
#include "package/sshsig.h"

namespace {

using custos::AsBytes;
using custos::ErrorCode;

constexpr std::string_view kPublicKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIxrJPplBfZTeYCuC5scKW3rEPXYXP4izgz6CN4WUwHb custos-test";
constexpr std::string_view kNamespace = "custos-test";
constexpr std::string_view kMessage = "manifest: {\"files\":[\"payload.jsonl.age\"]}\n";

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Check(custos::crypto::Initialize().has_value());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const custos::crypto::Ed25519PublicKey key = [] {
    auto k = custos::package::ParseSshEd25519PublicKey(kPublicKey);
    Check(k.has_value());
    return *k;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto parsed = custos::package::ParseSshSignature(text);
  if (!parsed) Check(parsed.error().code() == ErrorCode::kInvalidArgument);
  const custos::Status verified =
      custos::package::SshSigVerify(text, key, kNamespace, AsBytes(kMessage));
  if (verified) {
    Check(parsed.has_value() && parsed->public_key == key && parsed->ns == kNamespace);
  } else {
    const ErrorCode code = verified.error().code();
    Check(code == ErrorCode::kInvalidArgument || code == ErrorCode::kDataLoss ||
          code == ErrorCode::kUnauthenticated);
    Check(parsed.has_value() == (code != ErrorCode::kInvalidArgument));
  }

  const auto private_key = custos::package::ParseOpenSshPrivateKey(text);
  if (private_key) {
    const auto sig = custos::package::SshSigSign(private_key->signer, "fuzz", AsBytes(text));
    Check(sig.has_value());
    Check(
        custos::package::SshSigVerify(*sig, private_key->signer.public_key(), "fuzz", AsBytes(text))
            .has_value());
  } else {
    const ErrorCode code = private_key.error().code();
    Check(code == ErrorCode::kInvalidArgument || code == ErrorCode::kDataLoss);
  }
  return 0;
}
