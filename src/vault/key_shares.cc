#include "vault/key_shares.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"

namespace custos::vault {
namespace {

constexpr size_t kKekSize = 32;

bool IsHex(std::string_view s, size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Wipes a std::string that held a secret before it goes.
struct WipeOnExit {
  std::string& s;
  ~WipeOnExit() { sodium_memzero(s.data(), s.size()); }
};

}  // namespace

crypto::SecretBytes FormatKeyShare(const KeyShare& s) {
  const std::string head =
      "{\"custos_key_share\":" + std::to_string(kKeyShareFormat) + ",\"vault\":\"" + s.vault +
      "\",\"split\":\"" + s.split + "\",\"key_version\":" + std::to_string(s.key_version) +
      ",\"threshold\":" + std::to_string(s.threshold) + ",\"shares\":" + std::to_string(s.shares) +
      ",\"index\":" + std::to_string(s.share.x) + ",\"value\":\"";
  const std::string tail = "\"}\n";
  const auto value = s.share.y.RevealSecret();
  crypto::SecretBytes out(head.size() + value.size() * 2 + tail.size());
  auto o = out.MutableSecret();
  std::copy(head.begin(), head.end(), o.begin());
  // sodium_bin2hex is constant-time and writes a terminating NUL: give it
  // room for one and let the tail overwrite it.
  crypto::SecretBytes hex(value.size() * 2 + 1);
  sodium_bin2hex(reinterpret_cast<char*>(hex.MutableSecret().data()), hex.size(), value.data(),
                 value.size());
  std::copy_n(hex.RevealSecret().begin(), value.size() * 2, o.begin() + head.size());
  std::copy(tail.begin(), tail.end(), o.begin() + head.size() + value.size() * 2);
  return out;
}

Result<KeyShare> ParseKeyShare(std::span<const uint8_t> text, std::string_view source) {
  const std::string where(source);
  auto bad = [&](const std::string& what) {
    return Fail(InvalidArgument(where + ": not a Custos key share (" + what + ")"));
  };
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_object()) {
    return bad("not one JSON object");
  }
  auto member = [&](const char* name) -> const nlohmann::json* {
    auto it = j.find(name);
    return it == j.end() ? nullptr : &*it;
  };
  const auto* format = member("custos_key_share");
  if (format == nullptr || !format->is_number_unsigned()) return bad("no custos_key_share");
  if (format->get<uint64_t>() != kKeyShareFormat) {
    return bad("format " + std::to_string(format->get<uint64_t>()) + ", this build reads 1");
  }
  KeyShare s;
  for (auto [name, out, size] :
       {std::tuple{"vault", &s.vault, size_t{32}}, std::tuple{"split", &s.split, size_t{32}}}) {
    const auto* m = member(name);
    if (m == nullptr || !m->is_string() || !IsHex(m->get_ref<const std::string&>(), size)) {
      return bad(std::string("\"") + name + "\" must be " + std::to_string(size) +
                 " lower-case hex digits");
    }
    *out = m->get<std::string>();
  }
  auto number = [&](const char* name, uint64_t lo, uint64_t hi) -> Result<uint64_t> {
    const auto* m = member(name);
    if (m == nullptr || !m->is_number_unsigned() || m->get<uint64_t>() < lo ||
        m->get<uint64_t>() > hi) {
      return bad(std::string("\"") + name + "\" must be a number from " + std::to_string(lo) +
                 " to " + std::to_string(hi));
    }
    return m->get<uint64_t>();
  };
  ASSIGN_OR_RETURN(uint64_t version, number("key_version", 1, UINT32_MAX));
  ASSIGN_OR_RETURN(uint64_t threshold, number("threshold", 2, 255));
  ASSIGN_OR_RETURN(uint64_t shares, number("shares", threshold, 255));
  ASSIGN_OR_RETURN(uint64_t index, number("index", 1, shares));
  s.key_version = static_cast<uint32_t>(version);
  s.threshold = static_cast<int>(threshold);
  s.shares = static_cast<int>(shares);
  s.share.x = static_cast<uint8_t>(index);
  auto* value = j.find("value") == j.end() ? nullptr : &j["value"];
  if (value == nullptr || !value->is_string()) return bad("no \"value\"");
  std::string& hex = value->get_ref<std::string&>();
  WipeOnExit wipe{hex};
  if (!IsHex(hex, kKekSize * 2)) return bad("\"value\" must be 64 lower-case hex digits");
  s.share.y = crypto::SecretBytes(kKekSize);
  size_t written = 0;
  if (sodium_hex2bin(s.share.y.MutableSecret().data(), kKekSize, hex.data(), hex.size(), nullptr,
                     &written, nullptr) != 0 ||
      written != kKekSize) {
    return bad("\"value\" is not hex");
  }
  return s;
}

Result<KeySource> CombineKeyShares(std::span<const SourcedShare> shares,
                                   std::string_view vault_id_hex) {
  if (shares.empty()) return Fail(InvalidArgument("no key share given"));
  const KeyShare& first = shares[0].share;
  if (!vault_id_hex.empty() && first.vault != vault_id_hex) {
    return Fail(InvalidArgument(shares[0].source + " is a share of vault " + first.vault +
                                ", not of this vault (" + std::string(vault_id_hex) + ")"));
  }
  std::vector<crypto::SecretShare> points;
  for (size_t i = 0; i < shares.size(); ++i) {
    const KeyShare& s = shares[i].share;
    const std::string& where = shares[i].source;
    if (s.vault != first.vault) {
      return Fail(InvalidArgument(where + " is a share of another vault (" + s.vault + ", not " +
                                  first.vault + ")"));
    }
    if (s.split != first.split || s.key_version != first.key_version ||
        s.threshold != first.threshold || s.shares != first.shares) {
      return Fail(InvalidArgument(where + " belongs to another split than " + shares[0].source +
                                  " (split " + s.split + ", key version " +
                                  std::to_string(s.key_version) + ")"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (shares[j].share.share.x == s.share.x) {
        return Fail(InvalidArgument(where + " is share " + std::to_string(s.share.x) + " again (" +
                                    shares[j].source + " is the same share)"));
      }
    }
    points.push_back(s.share);
  }
  if (static_cast<int>(points.size()) < first.threshold) {
    const int more = first.threshold - static_cast<int>(points.size());
    return Fail(FailedPrecondition(std::to_string(points.size()) + " of the " +
                                   std::to_string(first.threshold) +
                                   " shares needed: " + std::to_string(more) + " more"));
  }
  ASSIGN_OR_RETURN(crypto::SecretBytes kek, crypto::CombineShares(points));
  KeySource k;
  k.kind = KeySource::Kind::kShares;
  k.kek = std::move(kek);
  k.kek_version = first.key_version;
  return k;
}

}  // namespace custos::vault
