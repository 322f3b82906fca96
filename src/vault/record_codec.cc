#include "vault/record_codec.h"

#include <algorithm>
#include <cstring>

namespace custos::vault {
namespace {

constexpr std::string_view kFieldLabel = "custos/field/v1";

// The associated data of a record's fields share everything up to the field
// name: BuildAdHead writes that once per record, SetAdField the rest.
void BuildAdHead(const RecordContext& ctx, Bytes& ad) {
  ad.assign(kFieldLabel.begin(), kFieldLabel.end());
  AppendLengthPrefixed(ad, ctx.vault_id);
  AppendLengthPrefixed(ad, ctx.person_uid);
  AppendLengthPrefixed(ad, AsBytes(ctx.dataset));
}
void SetAdField(size_t head, const std::string& field, crypto::FieldSuite suite, Bytes& ad) {
  ad.resize(head);
  AppendLengthPrefixed(ad, AsBytes(field));
  AppendU32BE(ad, kDataKeyVersion);
  ad.push_back(static_cast<uint8_t>(suite));
}

void AppendU16BE(Bytes& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// Unsigned LEB128.
void AppendVarint(Bytes& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

// Reads an unsigned LEB128 of at most 5 bytes; false if truncated or too long.
bool ReadVarint(ByteSpan body, size_t& at, uint32_t& v) {
  v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (at >= body.size()) return false;
    uint8_t b = body[at++];
    if (shift == 28 && (b & 0xF0) != 0) return false;
    v |= static_cast<uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::string EncodeRecordMeta(const RecordMeta& meta) {
  if (meta.damaged.empty()) return {};
  std::string out = "damaged=";
  for (size_t i = 0; i < meta.damaged.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(meta.damaged[i]);
  }
  return out;
}

Result<RecordMeta> ParseRecordMeta(std::string_view text) {
  RecordMeta meta;
  auto bad = [] { return Fail(DataLoss("a record's metadata is malformed")); };
  while (!text.empty()) {
    const size_t semi = text.find(';');
    std::string_view item = text.substr(0, semi);
    text.remove_prefix(semi == std::string_view::npos ? text.size() : semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad();
    const std::string_view key = item.substr(0, eq);
    std::string_view list = item.substr(eq + 1);
    if (key != "damaged") continue;  // later keys: ignored by this build
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view n = list.substr(0, comma);
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
      if (n.empty() || n.size() > 5) return bad();
      uint32_t v = 0;
      for (char c : n) {
        if (c < '0' || c > '9') return bad();
        v = v * 10 + static_cast<uint32_t>(c - '0');
      }
      if (v >= kRecordMetaPosition || (!meta.damaged.empty() && v <= meta.damaged.back())) {
        return bad();
      }
      meta.damaged.push_back(v);
    }
  }
  return meta;
}

Bytes SealRecord(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                 const std::vector<std::string>& values, std::string_view meta) {
  Bytes body;
  SealRecordInto(cipher, ctx, values, body, meta);
  return body;
}

void SealRecordInto(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                    const std::vector<std::string>& values, Bytes& body, std::string_view meta) {
  const auto& names = *ctx.field_names;
  size_t total = meta.size() + 8 + crypto::kTagSize;
  uint32_t count = meta.empty() ? 0 : 1;
  // Only as many values as there are columns (a caller may carry more).
  const size_t n = std::min(values.size(), names.size());
  for (size_t i = 0; i < n; ++i) {
    if (!values[i].empty()) {
      total += values[i].size() + 4 + crypto::kTagSize;
      ++count;
    }
  }
  body.reserve(body.size() + 8 + cipher.prefix_size() + total);
  body.push_back(kRecordFormatVersion);
  body.push_back(static_cast<uint8_t>(cipher.suite()));
  AppendU32BE(body, kDataKeyVersion);
  auto prefix = cipher.NewRecordPrefix();
  // resize + memcpy rather than insert: g++ 12 warns falsely on the latter.
  const size_t at = body.size();
  body.resize(at + cipher.prefix_size());
  std::memcpy(body.data() + at, prefix.data(), cipher.prefix_size());
  AppendU16BE(body, count);
  Bytes ad;
  ad.reserve(128);
  BuildAdHead(ctx, ad);
  const size_t head = ad.size();
  for (uint32_t i = 0; i < n; ++i) {
    if (values[i].empty()) continue;
    AppendVarint(body, i);
    AppendVarint(body, static_cast<uint32_t>(values[i].size() + crypto::kTagSize));
    SetAdField(head, names[i], cipher.suite(), ad);
    cipher.SealField(prefix, i, AsBytes(values[i]), ad, body);
  }
  if (!meta.empty()) {
    AppendVarint(body, kRecordMetaPosition);
    AppendVarint(body, static_cast<uint32_t>(meta.size() + crypto::kTagSize));
    SetAdField(head, std::string(kRecordMetaName), cipher.suite(), ad);
    cipher.SealField(prefix, kRecordMetaPosition, AsBytes(meta), ad, body);
  }
}

Result<crypto::FieldSuite> RecordSuite(ByteSpan body) {
  if (body.size() < 2) return Fail(DataLoss("record header is truncated"));
  if (body[0] != kRecordFormatVersion) {
    return Fail(DataLoss("unknown record format version " + std::to_string(body[0])));
  }
  return crypto::FieldSuiteFromByte(body[1]);
}

namespace {

// Walks a body, opening the fields `want` accepts (all when it is null) and
// the metadata when `with_meta`.
Status OpenFields(const crypto::FieldCipher& cipher, const RecordContext& ctx, ByteSpan body,
                  const std::vector<bool>* want, bool with_meta, std::vector<OpenedField>& out) {
  ASSIGN_OR_RETURN(crypto::FieldSuite suite, RecordSuite(body));
  if (suite != cipher.suite()) return Fail(DataLoss("record suite does not match its key"));
  const size_t p = cipher.prefix_size();
  if (body.size() < 6 + p + 2) return Fail(DataLoss("record header is truncated"));
  uint32_t key_version = ReadU32BE(body.data() + 2);
  if (key_version != kDataKeyVersion) {
    return Fail(DataLoss("unknown data key version " + std::to_string(key_version)));
  }
  crypto::FieldCipher::NoncePrefix prefix{};
  std::memcpy(prefix.data(), body.data() + 6, p);
  size_t at = 6 + p;
  uint32_t count = uint32_t{body[at]} << 8 | body[at + 1];
  at += 2;
  const auto& names = *ctx.field_names;
  const size_t first = out.size();
  if (want == nullptr) out.reserve(first + count);
  // One buffer a thread, reused: a million records opened in a bulk read
  // allocated a million of these. (Associated data holds no field value.)
  thread_local Bytes ad;
  bool ad_ready = false;
  size_t head = 0;
  int64_t last = -1;
  for (uint32_t n = 0; n < count; ++n) {
    uint32_t pos = 0, len = 0;
    if (!ReadVarint(body, at, pos) || !ReadVarint(body, at, len)) {
      out.resize(first);
      return Fail(DataLoss("record is truncated"));
    }
    const bool is_meta = pos == kRecordMetaPosition;
    if (static_cast<int64_t>(pos) <= last || (pos >= names.size() && !is_meta)) {
      out.resize(first);
      return Fail(DataLoss("record has a field position out of order or out of range"));
    }
    last = pos;
    if (len < crypto::kTagSize || body.size() - at < len) {
      out.resize(first);
      return Fail(DataLoss("record field length runs past the end"));
    }
    const bool wanted = is_meta ? with_meta : want == nullptr || (pos < want->size() && (*want)[pos]);
    if (wanted) {
      if (!ad_ready) {  // built once per record, and only if a field is opened
        BuildAdHead(ctx, ad);
        head = ad.size();
        ad_ready = true;
      }
      static const std::string kMetaName(kRecordMetaName);
      SetAdField(head, is_meta ? kMetaName : names[pos], suite, ad);
      OpenedField& f = out.emplace_back();
      f.position = pos;
      f.status = cipher.OpenField(prefix, pos, body.subspan(at, len), ad, f.value);
    }
    at += len;
  }
  if (at != body.size()) {
    out.resize(first);
    return Fail(DataLoss("record has trailing bytes"));
  }
  return Ok();
}

}  // namespace

Result<std::vector<OpenedField>> OpenRecord(const crypto::FieldCipher& cipher,
                                            const RecordContext& ctx, ByteSpan body) {
  std::vector<OpenedField> out;
  RETURN_IF_ERROR(OpenFields(cipher, ctx, body, nullptr, /*with_meta=*/true, out));
  return out;
}

Status OpenRecordFields(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                        ByteSpan body, const std::vector<bool>& wanted, bool with_meta,
                        std::vector<OpenedField>& out) {
  return OpenFields(cipher, ctx, body, &wanted, with_meta, out);
}

Status ApplyRecordMeta(std::vector<OpenedField>& fields) {
  OpenedField meta = std::move(fields.back());
  fields.pop_back();
  RETURN_IF_ERROR(meta.status);
  ASSIGN_OR_RETURN(RecordMeta m, ParseRecordMeta(meta.value));
  for (OpenedField& f : fields) {
    f.damaged = std::binary_search(m.damaged.begin(), m.damaged.end(), f.position);
  }
  return Ok();
}

Result<uint32_t> CountRecordValues(ByteSpan body) {
  // Dropping nothing parses and checks the whole body.
  uint32_t dropped = 0;
  ASSIGN_OR_RETURN(Bytes same, DropRecordFields(body, {}, &dropped));
  ASSIGN_OR_RETURN(crypto::FieldSuite suite, RecordSuite(same));
  const size_t p = suite == crypto::FieldSuite::kAes256Gcm ? 8 : 20;
  const size_t at = 6 + p;
  uint32_t count = uint32_t{same[at]} << 8 | same[at + 1];
  // The metadata, when present, is the last entry.
  size_t pos = at + 2;
  for (uint32_t n = 0; n < count; ++n) {
    uint32_t position = 0, len = 0;
    if (!ReadVarint(same, pos, position) || !ReadVarint(same, pos, len)) {
      return Fail(DataLoss("record is truncated"));
    }
    if (position == kRecordMetaPosition) return count - 1;
    pos += len;
  }
  return count;
}

Result<Bytes> DropRecordFields(ByteSpan body, const std::vector<bool>& drop, uint32_t* dropped) {
  ASSIGN_OR_RETURN(crypto::FieldSuite suite, RecordSuite(body));
  const size_t p = suite == crypto::FieldSuite::kAes256Gcm ? 8 : 20;
  if (body.size() < 6 + p + 2) return Fail(DataLoss("record header is truncated"));
  size_t at = 6 + p;
  uint32_t count = uint32_t{body[at]} << 8 | body[at + 1];
  at += 2;
  Bytes out(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(6 + p));
  Bytes fields;
  uint32_t kept = 0, removed = 0;
  int64_t last = -1;
  for (uint32_t n = 0; n < count; ++n) {
    const size_t start = at;
    uint32_t pos = 0, len = 0;
    if (!ReadVarint(body, at, pos) || !ReadVarint(body, at, len)) {
      return Fail(DataLoss("record is truncated"));
    }
    if (static_cast<int64_t>(pos) <= last) return Fail(DataLoss("record has a field position out of order"));
    last = pos;
    if (len < crypto::kTagSize || body.size() - at < len) {
      return Fail(DataLoss("record field length runs past the end"));
    }
    at += len;
    if (pos < drop.size() && drop[pos]) {
      ++removed;
      continue;
    }
    fields.insert(fields.end(), body.begin() + static_cast<std::ptrdiff_t>(start),
                  body.begin() + static_cast<std::ptrdiff_t>(at));
    ++kept;
  }
  if (at != body.size()) return Fail(DataLoss("record has trailing bytes"));
  AppendU16BE(out, kept);
  out.insert(out.end(), fields.begin(), fields.end());
  if (dropped != nullptr) *dropped = removed;
  return out;
}

}  // namespace custos::vault
