#include "package/ssh_key.h"

#include <cstring>

namespace custos::package {
namespace {
constexpr std::string_view kKeyType = "ssh-ed25519";

void AppendSshString(Bytes& out, ByteSpan s) { AppendLengthPrefixed(out, s); }
}  // namespace

std::string SshEd25519PublicKeyLine(const crypto::Ed25519PublicKey& key, std::string_view comment) {
  Bytes blob;
  AppendSshString(blob, AsBytes(kKeyType));
  AppendSshString(blob, key);
  std::string line = std::string(kKeyType) + " " + Base64Encode(blob);
  if (!comment.empty()) line += " " + std::string(comment);
  return line;
}

Result<crypto::Ed25519PublicKey> ParseSshEd25519PublicKey(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
    line.remove_suffix(1);
  }
  auto bad = [](const std::string& why) {
    return Fail(InvalidArgument("not an ssh-ed25519 public key: " + why));
  };
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return bad("expected 'ssh-ed25519 AAAA...'");
  if (line.substr(0, sp) != kKeyType) {
    return bad("key type is '" + std::string(line.substr(0, sp)) + "'; only ssh-ed25519 is supported");
  }
  std::string_view b64 = line.substr(sp + 1);
  b64 = b64.substr(0, b64.find(' '));
  auto blob = Base64Decode(b64);
  if (!blob) return bad("malformed base64");
  const Bytes& b = *blob;
  if (b.size() != 4 + kKeyType.size() + 4 + 32 || ReadU32BE(b.data()) != kKeyType.size() ||
      std::memcmp(b.data() + 4, kKeyType.data(), kKeyType.size()) != 0 ||
      ReadU32BE(b.data() + 4 + kKeyType.size()) != 32) {
    return bad("malformed key blob");
  }
  crypto::Ed25519PublicKey key;
  std::memcpy(key.data(), b.data() + 4 + kKeyType.size() + 4, 32);
  return key;
}

}  // namespace custos::package
