#include "package/ssh_wire.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "crypto/kdf.h"

namespace custos::package {

bool SshWireReader::ReadU32(uint32_t& out) {
  if (data_.size() < 4) return false;
  out = ReadU32BE(data_.data());
  data_ = data_.subspan(4);
  return true;
}

bool SshWireReader::ReadString(ByteSpan& out) {
  if (data_.size() < 4) return false;
  const uint32_t n = ReadU32BE(data_.data());
  if (data_.size() - 4 < n) return false;
  out = data_.subspan(4, n);
  data_ = data_.subspan(4 + size_t{n});
  return true;
}

bool SshWireReader::ReadBytes(size_t n, ByteSpan& out) {
  if (data_.size() < n) return false;
  out = data_.first(n);
  data_ = data_.subspan(n);
  return true;
}

void AppendSshString(Bytes& out, ByteSpan data) { AppendLengthPrefixed(out, data); }

Bytes SshEd25519PublicKeyBlob(const crypto::Ed25519PublicKey& key) {
  Bytes blob;
  AppendSshString(blob, kSshEd25519);
  AppendSshString(blob, ByteSpan(key));
  return blob;
}

Result<crypto::Ed25519PublicKey> ParseSshEd25519PublicKeyBlob(ByteSpan blob) {
  SshWireReader r(blob);
  ByteSpan type;
  ByteSpan key;
  if (!r.ReadString(type)) return Fail(InvalidArgument("malformed SSH public key blob"));
  if (AsChars(type) != kSshEd25519) {
    std::string name(AsChars(type).substr(0, 40));
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      name = "?";
    }
    return Fail(InvalidArgument("SSH key type is '" + name + "'; only ssh-ed25519 is supported"));
  }
  if (!r.ReadString(key) || key.size() != 32 || !r.empty()) {
    return Fail(InvalidArgument("malformed ssh-ed25519 public key blob"));
  }
  crypto::Ed25519PublicKey out;
  std::memcpy(out.data(), key.data(), 32);
  return out;
}

std::string SshFingerprint(const crypto::Ed25519PublicKey& key) {
  const crypto::Digest digest = crypto::Sha256(SshEd25519PublicKeyBlob(key));
  std::string b64 = Base64Encode(digest);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

std::string SshArmor(std::string_view label, ByteSpan data) {
  constexpr size_t kColumns = 70;  // what ssh-keygen writes
  const std::string b64 = Base64Encode(data);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += kColumns) {
    out.append(b64, i, kColumns);
    out += '\n';
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<Bytes> SshDearmor(std::string_view text, std::string_view label, std::string_view what) {
  constexpr size_t kMaxColumns = 76;  // PROTOCOL.sshsig: SHOULD wrap at 76
  auto bad = [&](const std::string& why) {
    return Fail(InvalidArgument(std::string(what) + ": " + why));
  };
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  if (!text.starts_with(begin + "\n")) return bad("does not start with '" + begin + "'");
  text.remove_prefix(begin.size() + 1);

  std::string b64;
  b64.reserve(text.size());  // no reallocation leaves copies of a key behind
  size_t line_number = 1;
  for (;;) {
    ++line_number;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line == end) {
      if (nl != std::string_view::npos && nl + 1 != text.size()) {
        return bad("data after '" + end + "'");
      }
      break;
    }
    if (nl == std::string_view::npos) return bad("no '" + end + "' line");
    if (line.ends_with('\r'))
      return bad("line " + std::to_string(line_number) + " ends in CR (CRLF line endings)");
    if (line.empty() || line.size() > kMaxColumns) {
      return bad("line " + std::to_string(line_number) + " is empty or longer than 76 columns");
    }
    b64 += line;
    text.remove_prefix(nl + 1);
  }
  if (b64.empty()) return bad("no base64 data");
  Result<Bytes> decoded = Base64Decode(b64);
  sodium_memzero(b64.data(), b64.size());  // it may encode a private key
  if (!decoded) return bad("malformed or non-canonical base64");
  return decoded;
}

}  // namespace custos::package
