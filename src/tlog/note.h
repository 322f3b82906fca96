// C2SP signed notes (https://c2sp.org/signed-note) and tlog checkpoints
// (https://c2sp.org/tlog-checkpoint), Ed25519 only. docs/formats/checkpoint.md.
#ifndef CUSTOS_TLOG_NOTE_H_
#define CUSTOS_TLOG_NOTE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/signer.h"
#include "tlog/merkle.h"

namespace custos::tlog {

// The key name a vault signs notes with: "custos.vault/<vault id hex>".
std::string VaultKeyName(std::string_view vault_id_hex);

// Key hash: the first 4 bytes, big-endian, of SHA-256(name || "\n" || 0x01 || public key).
uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& key);

// Verifier key: "<name>+<hash as 8 hex digits>+<base64(0x01 || public key)>".
std::string NoteVerifierKey(std::string_view name, const crypto::Ed25519PublicKey& key);

struct VerifierKey {
  std::string name;
  uint32_t hash = 0;
  crypto::Ed25519PublicKey key{};
};
// kInvalidArgument unless a well-formed Ed25519 verifier key whose hash matches.
Result<VerifierKey> ParseVerifierKey(std::string_view text);

// Signs `body` (which must end in "\n" and hold no blank line) and returns the note.
std::string SignNote(std::string_view body, std::string_view key_name,
                     const crypto::Signer& signer);

// Verifies a note against one key: returns the body. kInvalidArgument for a
// malformed note; kDataLoss when no signature line is by this key or the
// signature does not verify.
Result<std::string> VerifyNote(std::string_view note, const VerifierKey& key);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
};

std::string FormatCheckpoint(const Checkpoint& c);
// Strict: origin line, decimal size without leading zeros, 32-byte base64
// root, each ending in "\n"; extension lines are accepted and ignored.
// kInvalidArgument otherwise.
Result<Checkpoint> ParseCheckpoint(std::string_view body);

}  // namespace custos::tlog

#endif  // CUSTOS_TLOG_NOTE_H_
