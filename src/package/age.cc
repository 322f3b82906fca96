#include "package/age.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "base/time.h"
#include "crypto/kdf.h"
#include "package/bech32.h"

namespace custos::package {
namespace {

constexpr std::string_view kVersionLine = "age-encryption.org/v1";
constexpr std::string_view kIntro = "age-encryption.org/";
constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kX25519Label = "age-encryption.org/v1/X25519";
constexpr size_t kFileKeySize = 16;
constexpr size_t kNonceSize = 16;
constexpr size_t kTagSize = crypto_aead_chacha20poly1305_ietf_ABYTES;
constexpr size_t kEncryptedChunkSize = kAgeChunkSize + kTagSize;
constexpr size_t kWrappedKeySize = kFileKeySize + kTagSize;
constexpr size_t kBodyColumns = 64;

static_assert(kTagSize == 16);
static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);

// ---- base64 without padding (RFC 4648 section 4, canonical) -----------------

std::string RawBase64Encode(ByteSpan data) {
  std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict: only the 64 alphabet characters, no padding, and the unused bits of
// the last character zero (libsodium rejects those), so every value has
// exactly one accepted encoding.
std::optional<Bytes> RawBase64Decode(std::string_view text) {
  if (!std::all_of(text.begin(), text.end(), IsBase64Char)) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;
  Bytes out(text.size() / 4 * 3 + 2);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

// ---- primitives ------------------------------------------------------------

Result<crypto::SecretBytes> Hkdf(const crypto::SecretBytes& ikm, ByteSpan salt,
                                 std::string_view info) {
  return crypto::HkdfSha256(ikm, salt, AsBytes(info), 32);
}

// STREAM nonce: 11-byte big-endian chunk counter, then the last-chunk flag.
std::array<uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> ChunkNonce(uint64_t counter,
                                                                            bool last) {
  std::array<uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<uint8_t>(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
  return nonce;
}

// HMAC-SHA-256 over the header up to and including "---", keyed with
// HKDF(file key, salt = empty, info = "header").
Result<crypto::Digest> HeaderMac(const crypto::SecretBytes& file_key, std::string_view mac_input) {
  ASSIGN_OR_RETURN(crypto::SecretBytes key, Hkdf(file_key, {}, "header"));
  return crypto::HmacSha256(key).Mac(AsBytes(mac_input));
}

// ---- header parsing --------------------------------------------------------

struct Stanza {
  std::vector<std::string> args;
  Bytes body;
  size_t line = 0;  // 1-based line number of the "->" line
};

struct X25519Stanza {
  X25519PublicKey share;
  std::array<uint8_t, kWrappedKeySize> wrapped_key;
};

struct ParsedHeader {
  std::vector<Stanza> stanzas;
  std::vector<X25519Stanza> x25519;  // the X25519 stanzas, in order
  size_t mac_input_size = 0;         // bytes up to and including "---"
  std::array<uint8_t, 32> mac{};
};

Error HeaderError(size_t line, const std::string& why) {
  return InvalidArgument("age header line " + std::to_string(line) + ": " + why);
}

Error Truncated(const std::string& where) { return DataLoss("age file is truncated " + where); }

// Checks the version line; `complete` is false while only a prefix of it has
// arrived, so non-age input is rejected before it is buffered.
Status CheckIntro(std::string_view line, bool complete) {
  if (!complete) {
    const size_t n = std::min(line.size(), kIntro.size());
    const size_t a = std::min(line.size(), kArmorBegin.size());
    if (line.substr(0, n) == kIntro.substr(0, n) || line.substr(0, a) == kArmorBegin.substr(0, a)) {
      return Ok();
    }
    return Fail(InvalidArgument("not an age file (it does not start with 'age-encryption.org/')"));
  }
  if (line == kVersionLine) return Ok();
  if (line.starts_with(kIntro)) {
    std::string_view version = line.substr(kIntro.size());
    const bool printable =
        version.size() <= 32 &&
        std::all_of(version.begin(), version.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    return Fail(InvalidArgument("unsupported age format version" +
                                (printable ? " '" + std::string(version) + "'" : std::string()) +
                                "; only v1 is supported"));
  }
  if (line.starts_with(kArmorBegin)) {
    return Fail(InvalidArgument(
        "ASCII-armored age files are not supported; dearmor it first (age -d reads both)"));
  }
  return Fail(InvalidArgument("not an age file (it does not start with 'age-encryption.org/')"));
}

// Validates an X25519 stanza's shape. The spec makes these MUSTs of the
// X25519 identity; checking them for every X25519 stanza, whoever it is for,
// keeps the outcome independent of which identities the reader holds.
Result<X25519Stanza> CheckX25519Stanza(const Stanza& s) {
  if (s.args.size() != 2) {
    return Fail(HeaderError(s.line, "X25519 stanza must have exactly 2 arguments, has " +
                                        std::to_string(s.args.size())));
  }
  std::optional<Bytes> share = RawBase64Decode(s.args[1]);
  if (!share || share->size() != 32) {
    return Fail(HeaderError(s.line, "X25519 share is not the canonical base64 of 32 bytes"));
  }
  if (s.body.size() != kWrappedKeySize) {
    return Fail(HeaderError(
        s.line, "X25519 stanza body must be 32 bytes, is " + std::to_string(s.body.size())));
  }
  X25519Stanza out;
  std::memcpy(out.share.data(), share->data(), 32);
  std::memcpy(out.wrapped_key.data(), s.body.data(), kWrappedKeySize);
  return out;
}

// Parses the header text (version line through the MAC line). With
// complete == false the text ends early: malformed lines are still reported
// as such, and running out of lines is truncation (kDataLoss).
Result<ParsedHeader> ParseHeader(std::string_view text, bool complete) {
  size_t pos = 0;
  size_t line_number = 0;
  size_t line_start = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;
    line_start = pos;
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_number;
    return line;
  };
  auto truncated = [&]() { return Fail(Truncated("inside the header")); };

  std::optional<std::string_view> line = next_line();
  if (!line) return truncated();
  RETURN_IF_ERROR(CheckIntro(*line, true));

  ParsedHeader header;
  for (;;) {
    line = next_line();
    if (!line) return truncated();
    if (line->starts_with("---")) {
      if (line->size() != 4 + 43 || (*line)[3] != ' ') {
        return Fail(
            HeaderError(line_number, "malformed MAC line (want '--- ' and 43 base64 characters)"));
      }
      std::optional<Bytes> mac = RawBase64Decode(line->substr(4));
      if (!mac || mac->size() != 32) {
        return Fail(HeaderError(line_number, "header MAC is not the canonical base64 of 32 bytes"));
      }
      if (header.stanzas.empty()) return Fail(HeaderError(line_number, "no recipient stanzas"));
      std::memcpy(header.mac.data(), mac->data(), 32);
      header.mac_input_size = line_start + 3;
      break;
    }
    if (!line->starts_with("-> ")) {
      return Fail(HeaderError(line_number,
                              line->starts_with("->")
                                  ? "stanza has no arguments"
                                  : "expected a recipient stanza ('-> ') or the MAC ('--- ')"));
    }
    Stanza stanza;
    stanza.line = line_number;
    std::string_view rest = line->substr(3);
    for (;;) {
      const size_t sp = rest.find(' ');
      std::string_view arg = rest.substr(0, sp);
      if (arg.empty()) return Fail(HeaderError(line_number, "empty stanza argument"));
      if (!std::all_of(arg.begin(), arg.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
        return Fail(HeaderError(line_number, "stanza argument has a character outside VCHAR"));
      }
      stanza.args.emplace_back(arg);
      if (sp == std::string_view::npos) break;
      rest = rest.substr(sp + 1);
    }
    // Body: full 64-column lines, then one shorter (possibly empty) line.
    std::string body_text;
    for (;;) {
      line = next_line();
      if (!line) return truncated();
      if (line->size() > kBodyColumns) {
        return Fail(HeaderError(line_number, "stanza body line longer than 64 columns"));
      }
      if (!std::all_of(line->begin(), line->end(), IsBase64Char)) {
        return Fail(HeaderError(line_number,
                                line->starts_with("---")
                                    ? "stanza body must end with a line shorter than 64 columns"
                                    : "stanza body line is not unpadded base64"));
      }
      body_text += *line;
      if (line->size() < kBodyColumns) break;
    }
    std::optional<Bytes> body = RawBase64Decode(body_text);
    if (!body) return Fail(HeaderError(line_number, "stanza body is not canonical base64"));
    stanza.body = std::move(*body);
    if (stanza.args[0] == "X25519") {
      ASSIGN_OR_RETURN(X25519Stanza x, CheckX25519Stanza(stanza));
      header.x25519.push_back(x);
    }
    header.stanzas.push_back(std::move(stanza));
  }
  if (complete && pos != text.size()) {
    return Fail(Internal("age header scanner and parser disagree"));
  }
  return header;
}

}  // namespace

// ---- keys ------------------------------------------------------------------

Result<AgeRecipient> AgeRecipient::Parse(std::string_view text) {
  auto bad = [](const std::string& why) {
    return Fail(InvalidArgument("not an X25519 age recipient (age1...): " + why));
  };
  Result<Bech32Data> decoded = Bech32Decode(text);
  if (!decoded) return bad(decoded.error().message());
  if (decoded->hrp != kRecipientHrp) return bad("wrong prefix '" + decoded->hrp + "'");
  if (decoded->data.size() != 32) return bad("key is not 32 bytes");
  X25519PublicKey key;
  std::memcpy(key.data(), decoded->data.data(), 32);
  return AgeRecipient(key);
}

std::string AgeRecipient::ToString() const { return Bech32Encode(kRecipientHrp, key_, false); }

Result<AgeIdentity> AgeIdentity::Parse(std::string_view text) {
  // Never echo the text or the decoder's details: they are about a secret.
  auto bad = [](const std::string& why) {
    return Fail(InvalidArgument("not an X25519 age identity (AGE-SECRET-KEY-1...): " + why));
  };
  Result<Bech32Data> decoded = Bech32Decode(text);
  if (!decoded) return bad("malformed Bech32 or bad checksum");
  crypto::SecretBytes scalar = crypto::SecretBytes::CopyOf(decoded->data);
  sodium_memzero(decoded->data.data(), decoded->data.size());
  if (decoded->hrp != kIdentityHrp) return bad("wrong prefix");
  if (scalar.size() != 32) return bad("key is not 32 bytes");
  X25519PublicKey pub;
  crypto_scalarmult_base(pub.data(), scalar.RevealSecret().data());
  return AgeIdentity(std::move(scalar), AgeRecipient::FromPublicKey(pub));
}

AgeIdentity AgeIdentity::Generate() {
  crypto::SecretBytes scalar = crypto::SecretBytes::Random(32);
  X25519PublicKey pub;
  crypto_scalarmult_base(pub.data(), scalar.RevealSecret().data());
  return AgeIdentity(std::move(scalar), AgeRecipient::FromPublicKey(pub));
}

crypto::SecretBytes AgeIdentity::EncodeSecret() const {
  std::string text = Bech32Encode(kIdentityHrp, scalar_.RevealSecret(), true);
  crypto::SecretBytes out = crypto::SecretBytes::CopyOf(AsBytes(text));
  sodium_memzero(text.data(), text.size());
  return out;
}

Result<crypto::SecretBytes> AgeIdentity::SharedSecret(const X25519PublicKey& share) const {
  crypto::SecretBytes shared(32);
  if (crypto_scalarmult(shared.MutableSecret().data(), scalar_.RevealSecret().data(),
                        share.data()) != 0) {
    return Fail(InvalidArgument("X25519 share is a low-order point"));
  }
  return shared;
}

Result<std::vector<AgeIdentity>> ParseAgeIdentityFile(std::string_view text) {
  std::vector<AgeIdentity> identities;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.starts_with('#')) continue;
    Result<AgeIdentity> identity = AgeIdentity::Parse(line);
    if (!identity) {
      return Fail(InvalidArgument("identity file line " + std::to_string(line_number) +
                                  ": not an X25519 age identity (AGE-SECRET-KEY-1...); plugin and "
                                  "SSH identities are not supported"));
    }
    identities.push_back(std::move(*identity));
  }
  if (identities.empty()) return Fail(InvalidArgument("identity file holds no identities"));
  return identities;
}

crypto::SecretBytes FormatAgeIdentityFile(const AgeIdentity& identity,
                                          int64_t created_unix_seconds) {
  const std::string head = "# created: " + FormatRfc3339(created_unix_seconds) +
                           "\n# public key: " + identity.recipient().ToString() + "\n";
  const crypto::SecretBytes secret = identity.EncodeSecret();
  crypto::SecretBytes out(head.size() + secret.size() + 1);
  uint8_t* p = out.MutableSecret().data();
  std::memcpy(p, head.data(), head.size());
  std::memcpy(p + head.size(), secret.RevealSecret().data(), secret.size());
  p[head.size() + secret.size()] = '\n';
  return out;
}

AgeKeyPair GenerateAgeKeyPair() {
  const AgeIdentity identity = AgeIdentity::Generate();
  return AgeKeyPair{identity.EncodeSecret(), identity.recipient().ToString()};
}

// ---- encryption ------------------------------------------------------------

struct AgeEncryptor::State {
  ByteSink* out = nullptr;
  std::string prefix;  // header text followed by the payload nonce
  bool prefix_written = false;
  crypto::SecretBytes payload_key;
  crypto::SecretBytes buffer{kAgeChunkSize};  // plaintext of the current chunk
  size_t buffered = 0;
  Bytes sealed = Bytes(kEncryptedChunkSize);
  uint64_t counter = 0;
  bool done = false;  // finished or failed

  Status WritePrefix() {
    if (prefix_written) return Ok();
    prefix_written = true;
    return out->Write(AsBytes(prefix));
  }

  Status SealChunk(bool last) {
    const auto nonce = ChunkNonce(counter, last);
    unsigned long long sealed_size = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(
        sealed.data(), &sealed_size, buffer.RevealSecret().data(), buffered, nullptr, 0, nullptr,
        nonce.data(), payload_key.RevealSecret().data());
    sodium_memzero(buffer.MutableSecret().data(), buffered);
    buffered = 0;
    ++counter;
    return out->Write(ByteSpan(sealed.data(), static_cast<size_t>(sealed_size)));
  }
};

AgeEncryptor::AgeEncryptor(std::unique_ptr<State> state) : state_(std::move(state)) {}
AgeEncryptor::AgeEncryptor(AgeEncryptor&&) noexcept = default;
AgeEncryptor& AgeEncryptor::operator=(AgeEncryptor&&) noexcept = default;
AgeEncryptor::~AgeEncryptor() = default;

Result<AgeEncryptor> AgeEncryptor::Create(std::span<const AgeRecipient> recipients, ByteSink& out) {
  if (recipients.empty()) return Fail(InvalidArgument("age: no recipients"));
  auto state = std::make_unique<State>();
  state->out = &out;
  const crypto::SecretBytes file_key = crypto::SecretBytes::Random(kFileKeySize);

  std::string header(kVersionLine);
  header += '\n';
  for (size_t i = 0; i < recipients.size(); ++i) {
    const X25519PublicKey& recipient = recipients[i].public_key();
    const crypto::SecretBytes ephemeral = crypto::SecretBytes::Random(32);
    X25519PublicKey share;
    crypto_scalarmult_base(share.data(), ephemeral.RevealSecret().data());
    crypto::SecretBytes shared(32);
    if (crypto_scalarmult(shared.MutableSecret().data(), ephemeral.RevealSecret().data(),
                          recipient.data()) != 0) {
      return Fail(InvalidArgument("age recipient " + std::to_string(i + 1) +
                                  " is not a usable X25519 public key (low-order point)"));
    }
    Bytes salt(share.begin(), share.end());
    salt.insert(salt.end(), recipient.begin(), recipient.end());
    ASSIGN_OR_RETURN(crypto::SecretBytes wrap_key, Hkdf(shared, salt, kX25519Label));
    std::array<uint8_t, kWrappedKeySize> wrapped;
    const std::array<uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> zero_nonce{};
    crypto_aead_chacha20poly1305_ietf_encrypt(
        wrapped.data(), nullptr, file_key.RevealSecret().data(), kFileKeySize, nullptr, 0, nullptr,
        zero_nonce.data(), wrap_key.RevealSecret().data());
    // A 32-byte body encodes to 43 columns: one short line ends the stanza.
    header += "-> X25519 " + RawBase64Encode(share) + "\n" + RawBase64Encode(wrapped) + "\n";
  }
  header += "---";
  ASSIGN_OR_RETURN(const crypto::Digest mac, HeaderMac(file_key, header));
  header += " " + RawBase64Encode(mac) + "\n";

  std::array<uint8_t, kNonceSize> nonce;
  randombytes_buf(nonce.data(), nonce.size());
  ASSIGN_OR_RETURN(state->payload_key, Hkdf(file_key, nonce, "payload"));
  header.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  state->prefix = std::move(header);
  return AgeEncryptor(std::move(state));
}

uint64_t AgeEncryptor::EncryptedSize(uint64_t plaintext_size) const {
  const uint64_t chunks =
      plaintext_size == 0 ? 1 : (plaintext_size + kAgeChunkSize - 1) / kAgeChunkSize;
  return state_->prefix.size() + plaintext_size + chunks * kTagSize;
}

Status AgeEncryptor::Write(ByteSpan plaintext) {
  State& s = *state_;
  if (s.done) return Fail(FailedPrecondition("age encryptor already finished or failed"));
  Status status = [&]() -> Status {
    RETURN_IF_ERROR(s.WritePrefix());
    while (!plaintext.empty()) {
      // A full chunk is sealed only once more data arrives: if none does, it
      // is the final chunk and Finish seals it with the last-chunk flag.
      if (s.buffered == kAgeChunkSize) RETURN_IF_ERROR(s.SealChunk(false));
      const size_t n = std::min(kAgeChunkSize - s.buffered, plaintext.size());
      std::memcpy(s.buffer.MutableSecret().data() + s.buffered, plaintext.data(), n);
      s.buffered += n;
      plaintext = plaintext.subspan(n);
    }
    return Ok();
  }();
  if (!status) s.done = true;
  return status;
}

Status AgeEncryptor::Finish() {
  State& s = *state_;
  if (s.done) return Fail(FailedPrecondition("age encryptor already finished or failed"));
  s.done = true;
  RETURN_IF_ERROR(s.WritePrefix());
  return s.SealChunk(true);
}

// ---- decryption ------------------------------------------------------------

struct AgeDecryptor::State {
  enum class Phase { kHeader, kNonce, kChunks };

  ByteSink* out = nullptr;
  std::vector<AgeIdentity> identities;
  Phase phase = Phase::kHeader;
  std::optional<Error> error;  // latched: every later call returns it

  // Header: bytes so far, and where the current (incomplete) line starts.
  std::string header;
  size_t line_start = 0;

  std::array<uint8_t, kNonceSize> nonce{};
  size_t nonce_size = 0;
  crypto::SecretBytes file_key;
  crypto::SecretBytes payload_key;

  Bytes chunk = Bytes(kEncryptedChunkSize);  // ciphertext of the current chunk
  size_t chunk_size = 0;
  crypto::SecretBytes plaintext{kAgeChunkSize};
  uint64_t counter = 0;

  // Consumes header bytes from `data`. Stops at the end of the MAC line,
  // leaving the rest of `data` for the payload.
  Status ConsumeHeader(ByteSpan& data) {
    while (!data.empty() && phase == Phase::kHeader) {
      const void* nl = std::memchr(data.data(), '\n', data.size());
      const size_t take =
          nl != nullptr ? static_cast<size_t>(static_cast<const uint8_t*>(nl) - data.data()) + 1
                        : data.size();
      if (line_start == 0 && header.size() < 64) {
        // Reject non-age input from its first bytes, before buffering it
        // (64 bytes decide it; checking later pieces again would be quadratic).
        std::string probe = header;
        probe.append(reinterpret_cast<const char*>(data.data()), std::min<size_t>(take, 64));
        if (!probe.empty() && probe.back() == '\n') probe.pop_back();
        RETURN_IF_ERROR(CheckIntro(probe, false));
      }
      if (header.size() + take > kAgeMaxHeaderSize) {
        return Fail(InvalidArgument("age header is larger than " +
                                    std::to_string(kAgeMaxHeaderSize) + " bytes"));
      }
      header.append(reinterpret_cast<const char*>(data.data()), take);
      data = data.subspan(take);
      if (nl == nullptr) break;
      std::string_view line(header.data() + line_start, header.size() - 1 - line_start);
      if (line_start == 0) RETURN_IF_ERROR(CheckIntro(line, true));
      line_start = header.size();
      // No stanza line can start with '-' but "->", and base64 has no '-', so
      // the first line starting with "---" ends the header.
      if (line.starts_with("---")) RETURN_IF_ERROR(OpenHeader());
    }
    return Ok();
  }

  Status OpenHeader() {
    ASSIGN_OR_RETURN(ParsedHeader parsed, ParseHeader(header, true));
    for (const AgeIdentity& identity : identities) {
      const X25519PublicKey& recipient = identity.recipient().public_key();
      for (const X25519Stanza& stanza : parsed.x25519) {
        ASSIGN_OR_RETURN(crypto::SecretBytes shared, identity.SharedSecret(stanza.share));
        Bytes salt(stanza.share.begin(), stanza.share.end());
        salt.insert(salt.end(), recipient.begin(), recipient.end());
        ASSIGN_OR_RETURN(crypto::SecretBytes wrap_key, Hkdf(shared, salt, kX25519Label));
        crypto::SecretBytes key(kFileKeySize);
        const std::array<uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> zero_nonce{};
        if (crypto_aead_chacha20poly1305_ietf_decrypt(
                key.MutableSecret().data(), nullptr, nullptr, stanza.wrapped_key.data(),
                stanza.wrapped_key.size(), nullptr, 0, zero_nonce.data(),
                wrap_key.RevealSecret().data()) == 0) {
          file_key = std::move(key);
          break;
        }
      }
      if (!file_key.empty()) break;
    }
    if (file_key.empty()) {
      return Fail(Unauthenticated("no identity matches any of the age file's " +
                                  std::to_string(parsed.stanzas.size()) + " recipient stanza(s) (" +
                                  std::to_string(parsed.x25519.size()) + " X25519)"));
    }
    ASSIGN_OR_RETURN(const crypto::Digest mac, HeaderMac(file_key, std::string_view(header).substr(
                                                                       0, parsed.mac_input_size)));
    if (sodium_memcmp(mac.data(), parsed.mac.data(), mac.size()) != 0) {
      return Fail(DataLoss("age header MAC does not verify: the header was modified"));
    }
    header.clear();
    header.shrink_to_fit();
    phase = Phase::kNonce;
    return Ok();
  }

  Status ConsumeNonce(ByteSpan& data) {
    const size_t n = std::min(kNonceSize - nonce_size, data.size());
    std::memcpy(nonce.data() + nonce_size, data.data(), n);
    nonce_size += n;
    data = data.subspan(n);
    if (nonce_size == kNonceSize) {
      ASSIGN_OR_RETURN(payload_key, Hkdf(file_key, nonce, "payload"));
      phase = Phase::kChunks;
    }
    return Ok();
  }

  bool OpenChunk(bool last, size_t* size) {
    const auto chunk_nonce = ChunkNonce(counter, last);
    unsigned long long n = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(
            plaintext.MutableSecret().data(), &n, nullptr, chunk.data(), chunk_size, nullptr, 0,
            chunk_nonce.data(), payload_key.RevealSecret().data()) != 0) {
      return false;
    }
    *size = static_cast<size_t>(n);
    return true;
  }

  Status Release(size_t size) {
    ++counter;
    chunk_size = 0;
    Status status = out->Write(ByteSpan(plaintext.RevealSecret().data(), size));
    sodium_memzero(plaintext.MutableSecret().data(), size);
    return status;
  }

  std::string ChunkName() const { return "age payload chunk " + std::to_string(counter + 1); }

  // A full chunk with more data after it: it must be a non-final chunk.
  Status OpenMiddleChunk() {
    size_t size = 0;
    if (OpenChunk(false, &size)) return Release(size);
    if (OpenChunk(true, &size)) {
      // A valid final chunk followed by more bytes. Its plaintext is authentic
      // (released, as age does), but the file is not.
      const std::string name = ChunkName();
      RETURN_IF_ERROR(Release(size));
      return Fail(DataLoss("age file has data after its final chunk (" + name + ")"));
    }
    return Fail(DataLoss(ChunkName() + " does not authenticate"));
  }

  Status ConsumeChunks(ByteSpan& data) {
    while (!data.empty()) {
      if (chunk_size == kEncryptedChunkSize) RETURN_IF_ERROR(OpenMiddleChunk());
      const size_t n = std::min(kEncryptedChunkSize - chunk_size, data.size());
      std::memcpy(chunk.data() + chunk_size, data.data(), n);
      chunk_size += n;
      data = data.subspan(n);
    }
    return Ok();
  }

  Status Consume(ByteSpan data) {
    if (phase == Phase::kHeader) RETURN_IF_ERROR(ConsumeHeader(data));
    if (phase == Phase::kNonce) RETURN_IF_ERROR(ConsumeNonce(data));
    if (phase == Phase::kChunks) RETURN_IF_ERROR(ConsumeChunks(data));
    return Ok();
  }

  Status End() {
    switch (phase) {
      case Phase::kHeader:
        if (header.empty()) return Fail(DataLoss("age file is empty"));
        // Report a malformed line in what did arrive before the truncation.
        RETURN_IF_ERROR(ParseHeader(std::string_view(header).substr(0, line_start), false));
        return Fail(Truncated("inside the header"));
      case Phase::kNonce:
        return Fail(Truncated(nonce_size == 0 ? "after the header (no payload nonce)"
                                              : "inside the payload nonce"));
      case Phase::kChunks:
        break;
    }
    if (chunk_size == 0) {
      return Fail(Truncated(counter == 0
                                ? "after the payload nonce (no chunks)"
                                : "after chunk " + std::to_string(counter) + " (no final chunk)"));
    }
    if (chunk_size < kTagSize) return Fail(Truncated("inside " + ChunkName()));
    if (chunk_size == kTagSize && counter > 0) {
      return Fail(
          DataLoss(ChunkName() + " is an empty final chunk, which only an empty payload may have"));
    }
    size_t size = 0;
    if (OpenChunk(true, &size)) return Release(size);
    if (chunk_size == kEncryptedChunkSize && OpenChunk(false, &size)) {
      const std::string name = ChunkName();
      RETURN_IF_ERROR(Release(size));
      return Fail(Truncated("after " + name + " (no final chunk)"));
    }
    return Fail(DataLoss(ChunkName() + " does not authenticate"));
  }
};

AgeDecryptor::AgeDecryptor(std::unique_ptr<State> state) : state_(std::move(state)) {}
AgeDecryptor::AgeDecryptor(AgeDecryptor&&) noexcept = default;
AgeDecryptor& AgeDecryptor::operator=(AgeDecryptor&&) noexcept = default;
AgeDecryptor::~AgeDecryptor() = default;

Result<AgeDecryptor> AgeDecryptor::Create(std::span<const AgeIdentity> identities, ByteSink& out) {
  if (identities.empty()) return Fail(InvalidArgument("age: no identities"));
  auto state = std::make_unique<State>();
  state->out = &out;
  state->identities.assign(identities.begin(), identities.end());
  return AgeDecryptor(std::move(state));
}

Status AgeDecryptor::Write(ByteSpan ciphertext) {
  State& s = *state_;
  if (s.error) return Fail(*s.error);
  Status status = s.Consume(ciphertext);
  if (!status) s.error = status.error();
  return status;
}

Status AgeDecryptor::Finish() {
  State& s = *state_;
  if (s.error) return Fail(*s.error);
  Status status = s.End();
  s.error = status ? FailedPrecondition("age decryptor already finished") : status.error();
  return status;
}

// ---- conveniences ----------------------------------------------------------

Status AgeEncrypt(std::span<const AgeRecipient> recipients, ByteSource& in, ByteSink& out) {
  ASSIGN_OR_RETURN(AgeEncryptor encryptor, AgeEncryptor::Create(recipients, out));
  crypto::SecretBytes buffer(kAgeChunkSize);  // plaintext: wiped when freed
  for (;;) {
    ASSIGN_OR_RETURN(const size_t n, in.Read(buffer.MutableSecret()));
    if (n == 0) break;
    RETURN_IF_ERROR(encryptor.Write(buffer.RevealSecret().first(n)));
  }
  return encryptor.Finish();
}

Status AgeDecrypt(std::span<const AgeIdentity> identities, ByteSource& in, ByteSink& out) {
  ASSIGN_OR_RETURN(AgeDecryptor decryptor, AgeDecryptor::Create(identities, out));
  std::vector<uint8_t> buffer(kEncryptedChunkSize);
  for (;;) {
    ASSIGN_OR_RETURN(const size_t n, in.Read(buffer));
    if (n == 0) break;
    RETURN_IF_ERROR(decryptor.Write(ByteSpan(buffer.data(), n)));
  }
  return decryptor.Finish();
}

Result<Bytes> AgeEncryptBytes(std::span<const AgeRecipient> recipients, ByteSpan plaintext) {
  Bytes out;
  BytesSink sink(out);
  SpanSource source(plaintext);
  RETURN_IF_ERROR(AgeEncrypt(recipients, source, sink));
  return out;
}

Result<Bytes> AgeDecryptBytes(std::span<const AgeIdentity> identities, ByteSpan ciphertext) {
  Bytes out;
  BytesSink sink(out);
  SpanSource source(ciphertext);
  RETURN_IF_ERROR(AgeDecrypt(identities, source, sink));
  return out;
}

}  // namespace custos::package
