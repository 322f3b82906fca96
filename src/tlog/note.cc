#include "tlog/note.h"

#include <cstdio>

#include "crypto/kdf.h"

namespace custos::tlog {

std::string VaultKeyName(std::string_view vault_id_hex) {
  return "custos.vault/" + std::string(vault_id_hex);
}

uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& key) {
  Bytes msg(name.begin(), name.end());
  msg.push_back('\n');
  msg.push_back(0x01);  // signature type: Ed25519
  msg.insert(msg.end(), key.begin(), key.end());
  crypto::Digest d = crypto::Sha256(msg);
  return ReadU32BE(d.data());
}

std::string NoteVerifierKey(std::string_view name, const crypto::Ed25519PublicKey& key) {
  Bytes blob{0x01};
  blob.insert(blob.end(), key.begin(), key.end());
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", NoteKeyHash(name, key));
  return std::string(name) + "+" + hash + "+" + Base64Encode(blob);
}

}  // namespace custos::tlog
