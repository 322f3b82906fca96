// libFuzzer target for the signed-note and checkpoint parsers
// (docs/formats/checkpoint.md): ParseVerifierKey, VerifyNote with a fixed
// key, and ParseCheckpoint, over the same arbitrary input.
//
// Beyond "no crash": every error is kInvalidArgument or kDataLoss; a key that
// parses has the hash of its name and key; a note that verifies yields a body
// that is a prefix of the input, ends in a newline and is followed by a blank
// line; a checkpoint that parses formats back to a prefix of its text and
// parses again to itself, and signing it with the fixed key gives a note that
// verifies.
//
// Seed corpus: testdata/fuzz/note/ (notes signed by the fixed key, whose
// seed is 32 bytes of 0x07, and by others; verifier keys; checkpoints).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/secret_bytes.h"
#include "crypto/signer.h"
#include "tlog/note.h"

namespace {

using custos::ErrorCode;
namespace tlog = custos::tlog;

void Check(bool ok) {
  if (!ok) std::abort();
}

template <typename R>
void CheckErrorCode(const R& r) {
  if (!r) {
    ErrorCode c = r.error().code();
    Check(c == ErrorCode::kInvalidArgument || c == ErrorCode::kDataLoss);
    Check(!r.error().message().empty());
  }
}

// The key the seeds are signed with.
const custos::crypto::Signer& FixedSigner() {
  static const custos::crypto::Signer signer = *custos::crypto::Signer::FromSeed(
      custos::crypto::SecretBytes::CopyOf(custos::Bytes(32, 0x07)));
  return signer;
}
constexpr std::string_view kKeyName = "custos.vault/00112233445566778899aabbccddeeff";

const tlog::VerifierKey& FixedKey() {
  static const tlog::VerifierKey key =
      *tlog::ParseVerifierKey(tlog::NoteVerifierKey(kKeyName, FixedSigner().public_key()));
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto vk = tlog::ParseVerifierKey(input);
  CheckErrorCode(vk);
  if (vk) {
    Check(!vk->name.empty());
    Check(tlog::NoteKeyHash(vk->name, vk->key) == vk->hash);
  }

  auto body = tlog::VerifyNote(input, FixedKey());
  CheckErrorCode(body);
  if (body) {
    Check(!body->empty() && body->back() == '\n');
    Check(input.substr(0, body->size()) == *body);
    Check(input.substr(body->size(), 1) == "\n");
    auto c = tlog::ParseCheckpoint(*body);
    CheckErrorCode(c);
  }

  auto c = tlog::ParseCheckpoint(input);
  CheckErrorCode(c);
  if (c) {
    const std::string text = tlog::FormatCheckpoint(*c);
    Check(input.substr(0, text.size()) == text);  // extension lines may follow
    auto again = tlog::ParseCheckpoint(text);
    Check(again && again->origin == c->origin && again->size == c->size && again->root == c->root);
    // A checkpoint that parses can be signed, and the note verifies.
    const std::string note = tlog::SignNote(text, kKeyName, FixedSigner());
    auto verified = tlog::VerifyNote(note, FixedKey());
    Check(verified && *verified == text);
  }
  return 0;
}
