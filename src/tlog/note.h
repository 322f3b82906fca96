// C2SP signed-note keys (https://c2sp.org/signed-note), Ed25519 only.
#ifndef CUSTOS_TLOG_NOTE_H_
#define CUSTOS_TLOG_NOTE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/signer.h"

namespace custos::tlog {

// The key name a vault signs notes with: "custos.vault/<vault id hex>".
std::string VaultKeyName(std::string_view vault_id_hex);

// Key hash: the first 4 bytes, big-endian, of SHA-256(name || "\n" || 0x01 || public key).
uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& key);

// Verifier key: "<name>+<hash as 8 hex digits>+<base64(0x01 || public key)>".
std::string NoteVerifierKey(std::string_view name, const crypto::Ed25519PublicKey& key);

}  // namespace custos::tlog

#endif  // CUSTOS_TLOG_NOTE_H_
