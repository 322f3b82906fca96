#include "tlog/note.h"

#include <cstdio>
#include <cstring>

#include "crypto/kdf.h"

namespace custos::tlog {
namespace {
constexpr std::string_view kEmDash = "\xE2\x80\x94 ";  // U+2014 and a space
constexpr uint8_t kAlgEd25519 = 0x01;

// Standard base64 (RFC 4648 section 4) and nothing else. Base64Decode alone
// is not enough: libsodium 1.0.18 (Debian 12) decodes bytes >= 0x80 as if
// they were base64 digits, so "LX\xbb..." parsed as a root hash (found by
// fuzz/note_fuzzer.cc).
Result<Bytes> StrictBase64(std::string_view text) {
  for (unsigned char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return Fail(InvalidArgument("malformed base64"));
  }
  return Base64Decode(text);
}

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == '+') return false;
  }
  return true;
}
}  // namespace

std::string VaultKeyName(std::string_view vault_id_hex) {
  return "custos.vault/" + std::string(vault_id_hex);
}

uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& key) {
  Bytes msg(name.begin(), name.end());
  msg.push_back('\n');
  msg.push_back(kAlgEd25519);
  msg.insert(msg.end(), key.begin(), key.end());
  crypto::Digest d = crypto::Sha256(msg);
  return ReadU32BE(d.data());
}

std::string NoteVerifierKey(std::string_view name, const crypto::Ed25519PublicKey& key) {
  Bytes blob{kAlgEd25519};
  blob.insert(blob.end(), key.begin(), key.end());
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", NoteKeyHash(name, key));
  return std::string(name) + "+" + hash + "+" + Base64Encode(blob);
}

Result<VerifierKey> ParseVerifierKey(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto bad = [](const std::string& why) {
    return Fail(InvalidArgument("malformed verifier key: " + why));
  };
  size_t p1 = text.find('+');
  if (p1 == std::string_view::npos) return bad("expected name+hash+key");
  size_t p2 = text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return bad("expected name+hash+key");
  VerifierKey vk;
  vk.name = std::string(text.substr(0, p1));
  if (!ValidKeyName(vk.name)) return bad("invalid key name");
  std::string_view hash_hex = text.substr(p1 + 1, p2 - p1 - 1);
  auto hash = HexDecode(hash_hex);
  if (hash_hex.size() != 8 || !hash) return bad("key hash must be 8 hex digits");
  vk.hash = ReadU32BE(hash->data());
  auto blob = StrictBase64(text.substr(p2 + 1));
  if (!blob) return bad("key is not base64");
  if (blob->size() != 33 || (*blob)[0] != kAlgEd25519) return bad("not an Ed25519 key");
  std::memcpy(vk.key.data(), blob->data() + 1, 32);
  if (NoteKeyHash(vk.name, vk.key) != vk.hash) return bad("key hash does not match name and key");
  return vk;
}

std::string SignNote(std::string_view body, std::string_view key_name,
                     const crypto::Signer& signer) {
  crypto::Ed25519Signature sig = signer.Sign(AsBytes(body));
  Bytes blob;
  AppendU32BE(blob, NoteKeyHash(key_name, signer.public_key()));
  blob.insert(blob.end(), sig.begin(), sig.end());
  std::string note(body);
  note += "\n";
  note += kEmDash;
  note += key_name;
  note += " ";
  note += Base64Encode(blob);
  note += "\n";
  return note;
}

Result<std::string> VerifyNote(std::string_view note, const VerifierKey& key) {
  size_t sep = note.find("\n\n");
  if (sep == std::string_view::npos) {
    return Fail(InvalidArgument("malformed note: no blank line before the signatures"));
  }
  std::string_view body = note.substr(0, sep + 1);
  std::string_view sigs = note.substr(sep + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return Fail(InvalidArgument("malformed note: signature block must end with a newline"));
  }
  bool found = false;
  while (!sigs.empty()) {
    size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (line.substr(0, kEmDash.size()) != kEmDash) {
      return Fail(InvalidArgument("malformed note: signature line does not start with an em dash"));
    }
    line.remove_prefix(kEmDash.size());
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      return Fail(InvalidArgument("malformed note: signature line without a signature"));
    }
    std::string_view name = line.substr(0, sp);
    auto blob = StrictBase64(line.substr(sp + 1));
    if (!blob || blob->size() < 5) {
      return Fail(InvalidArgument("malformed note: signature is not base64"));
    }
    if (name != key.name || ReadU32BE(blob->data()) != key.hash) continue;  // someone else's
    found = true;
    if (blob->size() != 4 + 64 ||
        !crypto::VerifyEd25519(key.key, AsBytes(body), ByteSpan(blob->data() + 4, 64))) {
      return Fail(DataLoss("the note's signature by " + key.name + " does not verify"));
    }
  }
  if (!found) return Fail(DataLoss("the note carries no signature by " + key.name));
  return std::string(body);
}

std::string FormatCheckpoint(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(c.root) + "\n";
}

Result<Checkpoint> ParseCheckpoint(std::string_view body) {
  auto bad = [](const std::string& why) {
    return Fail(InvalidArgument("malformed checkpoint: " + why));
  };
  auto next_line = [&](std::string_view& rest, std::string_view& line) {
    size_t eol = rest.find('\n');
    if (eol == std::string_view::npos) return false;
    line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    return true;
  };
  std::string_view rest = body, origin, size, root;
  if (!next_line(rest, origin) || !next_line(rest, size) || !next_line(rest, root)) {
    return bad("expected origin, size and root hash lines");
  }
  Checkpoint c;
  if (origin.empty()) return bad("empty origin");
  c.origin = std::string(origin);
  if (size.empty() || size.size() > 20 || (size.size() > 1 && size[0] == '0')) {
    return bad("tree size must be a decimal number without leading zeros");
  }
  for (char ch : size) {
    if (ch < '0' || ch > '9') return bad("tree size must be a decimal number");
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (c.size > (UINT64_MAX - d) / 10) return bad("tree size overflows");
    c.size = c.size * 10 + d;
  }
  auto h = StrictBase64(root);
  if (!h || h->size() != 32) return bad("root hash must be 32 bytes of base64");
  std::memcpy(c.root.data(), h->data(), 32);
  // Extension lines (rest) are allowed by the spec and ignored here.
  while (!rest.empty()) {
    std::string_view ext;
    if (!next_line(rest, ext) || ext.empty()) return bad("malformed extension line");
  }
  return c;
}

}  // namespace custos::tlog
