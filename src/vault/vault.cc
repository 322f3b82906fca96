#include "vault/vault.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file.h"
#include "base/time.h"
#include "crypto/random.h"
#include "vault/doc_reader.h"
#include "vault/record_codec.h"

namespace custos::vault {
namespace {

// Format 2: data keys may be wrapped in the v2 format (AES-256-GCM,
// docs/formats/field-ciphertext.md), which builds of format 1 would take
// for damage; they refuse the vault instead. A format-1 vault is marked 2
// when this build opens it, before it can write a v2 key.
constexpr std::string_view kFormat = "custos-vault-2";
constexpr std::string_view kFormatBeforeKeyWrapV2 = "custos-vault-1";

// Meta keys.
constexpr std::string_view kMetaFormat = "format";
constexpr std::string_view kMetaVaultId = "vault_id";
constexpr std::string_view kMetaKekSource = "kek_source";
constexpr std::string_view kMetaArgon2 = "argon2id";  // salt(16) || BE64 ops || BE64 mem
constexpr std::string_view kMetaKekVersion = "kek_version";
constexpr std::string_view kMetaIndexRoot = "index_root";
constexpr std::string_view kMetaSigningSeed = "signing_seed";
constexpr std::string_view kMetaFieldSuite = "field_suite";
constexpr std::string_view kMetaCreatedAt = "created_at";

constexpr std::string_view kLabelDataKey = "custos/data-key/v1";
constexpr std::string_view kLabelIndexRoot = "custos/index-root/v1";
constexpr std::string_view kLabelSigningSeed = "custos/signing-seed/v1";

Bytes U32Bytes(uint32_t v) {
  Bytes b;
  AppendU32BE(b, v);
  return b;
}

struct KekParams {
  bool passphrase = false;
  Bytes salt;
  crypto::Argon2Params argon;
};

Bytes EncodeArgon(const KekParams& p) {
  Bytes b = p.salt;
  AppendU64BE(b, p.argon.ops_limit);
  AppendU64BE(b, p.argon.mem_limit);
  return b;
}

Result<crypto::SecretBytes> DeriveKek(const KeySource& src, const KekParams& params) {
  if (src.kind == KeySource::Kind::kKeyFile) return ReadKeyFile(src.key_file);
  if (src.kind == KeySource::Kind::kShares) return src.kek;
  ASSIGN_OR_RETURN(crypto::SecretBytes pass, ReadPassphrase(src.passphrase_env));
  return crypto::Argon2id(AsChars(pass.RevealSecret()), params.salt, params.argon);
}

Result<Bytes> RequireMeta(store::Store& s, std::string_view key, const std::string& path) {
  ASSIGN_OR_RETURN(std::optional<Bytes> v, s.GetMeta(key));
  if (!v) return Fail(DataLoss(path + ": vault metadata '" + std::string(key) + "' is missing"));
  return std::move(*v);
}

}  // namespace

// ---------------------------------------------------------------- PersonId

Result<PersonId> PersonId::Parse(std::string_view hex) {
  if (hex.size() != 32) {
    return Fail(InvalidArgument("a person id is 32 hex digits (as `custos find` prints it)"));
  }
  auto b = HexDecode(hex);
  if (!b) return Fail(InvalidArgument("a person id is 32 hex digits (as `custos find` prints it)"));
  return FromBytes(*b);
}

Result<PersonId> PersonId::FromBytes(ByteSpan b) {
  if (b.size() != 16) return Fail(DataLoss("person id must be 16 bytes"));
  PersonId p;
  std::memcpy(p.bytes_.data(), b.data(), 16);
  return p;
}

// ---------------------------------------------------------------- Vault

Vault::~Vault() = default;

std::string Vault::kek_source() const { return passphrase_ ? "passphrase" : "key-file"; }

Bytes Vault::WrapAd(std::string_view label, std::optional<ByteSpan> person,
                    uint32_t kek_version) const {
  Bytes ad;
  WrapAdInto(label, person, kek_version, ad);
  return ad;
}

void Vault::WrapAdInto(std::string_view label, std::optional<ByteSpan> person,
                       uint32_t kek_version, Bytes& ad) const {
  ad.assign(label.begin(), label.end());
  AppendLengthPrefixed(ad, id_);
  if (person) AppendLengthPrefixed(ad, *person);
  AppendU32BE(ad, kek_version);
}

Bytes Vault::WrapDataKey(const crypto::KeyWrap& wrap, uint32_t kek_version,
                         const crypto::SecretBytes& key, ByteSpan uid) const {
  return wrap.Wrap(key, WrapAd(kLabelDataKey, uid, kek_version));
}

Result<crypto::SecretBytes> Vault::UnwrapDataKey(const store::PersonRow& row) const {
  return UnwrapDataKey(row.wrapped_key, row.kek_version, IdOf(row.pk));
}

Result<crypto::SecretBytes> Vault::UnwrapDataKey(ByteSpan wrapped_key, uint32_t kek_version,
                                                 const PersonId& id) const {
  crypto::SecretBytes key(crypto::kKeySize);
  RETURN_IF_ERROR(UnwrapDataKeyInto(wrapped_key, kek_version, id, key));
  return key;
}

Status Vault::UnwrapDataKeyInto(ByteSpan wrapped_key, uint32_t kek_version, const PersonId& id,
                                crypto::SecretBytes& key) const {
  if (kek_version > kek_version_) {
    return Fail(Unauthenticated("the key of this vault was rotated (to version " +
                                std::to_string(kek_version) +
                                ") by another process while this command ran; run it again "
                                "with the new key"));
  }
  if (kek_version != kek_version_) {
    return Fail(DataLoss("data key of person " + id.ToString() +
                         " is wrapped under key version " + std::to_string(kek_version) +
                         ", the vault is at " + std::to_string(kek_version_)));
  }
  // The associated data, built in one thread-local buffer (this runs once a
  // person in a bulk read).
  thread_local Bytes ad;
  WrapAdInto(kLabelDataKey, id.bytes(), kek_version_, ad);
  Status st = key_wrap_->UnwrapInto(wrapped_key, ad, key);
  if (!st && st.error().code() == ErrorCode::kFailedPrecondition) return st;
  if (!st) {
    return Fail(DataLoss("the wrapped data key of person " + id.ToString() +
                         " failed its integrity check"));
  }
  return Ok();
}

Result<crypto::FieldCipher> Vault::CipherForRow(const store::PersonRow& row) const {
  return CipherForKey(row.wrapped_key, row.kek_version, IdOf(row.pk));
}

Result<crypto::FieldCipher> Vault::CipherForKey(ByteSpan wrapped_key, uint32_t kek_version,
                                                const PersonId& id) const {
  ASSIGN_OR_RETURN(crypto::SecretBytes key, UnwrapDataKey(wrapped_key, kek_version, id));
  return crypto::FieldCipher::Create(suite_, key);
}

Result<std::unique_ptr<Vault>> Vault::Create(const std::string& path, const KeySource& key,
                                             const std::string& actor,
                                             const OpenOptions& options) {
  RETURN_IF_ERROR(crypto::Initialize());
  if (FileExists(path)) return Fail(AlreadyExists("a vault already exists at " + path));
  if (key.kind == KeySource::Kind::kShares) {
    return Fail(InvalidArgument("a new vault needs a key file or a passphrase; split it later"));
  }
  std::unique_ptr<Vault> v(new Vault());
  v->path_ = path;
  v->set_actor(actor);
  v->options_ = options;
  v->id_.resize(16);
  crypto::RandomFill(v->id_);
  v->suite_ = crypto::PreferredFieldSuite();

  KekParams params;
  if (key.kind == KeySource::Kind::kKeyFile) {
    if (key.key_file.empty()) return Fail(InvalidArgument("--key-file needs a path"));
    if (FileExists(key.key_file)) {
      ASSIGN_OR_RETURN(v->kek_, ReadKeyFile(key.key_file));
    } else {
      ASSIGN_OR_RETURN(v->kek_, CreateKeyFile(key.key_file));
    }
  } else {
    params.passphrase = true;
    params.salt.resize(crypto::kArgon2SaltSize);
    crypto::RandomFill(params.salt);
    ASSIGN_OR_RETURN(v->kek_, DeriveKek(key, params));
    v->passphrase_ = true;
  }
  v->index_root_ = crypto::SecretBytes::Random(32);
  auto seed = crypto::SecretBytes::Random(32);
  ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
  v->signer_ = std::make_unique<crypto::Signer>(std::move(signer));
  RETURN_IF_ERROR(v->DeriveKeys());

  ASSIGN_OR_RETURN(v->store_, store::CreateStore(path, {options.lock_wait}));
  auto& s = *v->store_;
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(s.Begin());
    RETURN_IF_ERROR(s.PutMeta(kMetaFormat, AsBytes(kFormat)));
    RETURN_IF_ERROR(s.PutMeta(kMetaVaultId, v->id_));
    RETURN_IF_ERROR(s.PutMeta(kMetaKekSource, AsBytes(v->kek_source())));
    if (params.passphrase) RETURN_IF_ERROR(s.PutMeta(kMetaArgon2, EncodeArgon(params)));
    RETURN_IF_ERROR(s.PutMeta(kMetaKekVersion, U32Bytes(v->kek_version_)));
    RETURN_IF_ERROR(s.PutMeta(kMetaFieldSuite, Bytes{static_cast<uint8_t>(v->suite_)}));
    Bytes created;
    AppendU64BE(created, static_cast<uint64_t>(NowUnixSeconds()));
    RETURN_IF_ERROR(s.PutMeta(kMetaCreatedAt, created));
    RETURN_IF_ERROR(s.PutMeta(kMetaIndexRoot, crypto::Seal(v->kek_, v->index_root_.RevealSecret(),
                                                           v->WrapAd(kLabelIndexRoot, {}, v->kek_version_))));
    RETURN_IF_ERROR(s.PutMeta(kMetaSigningSeed, crypto::Seal(v->kek_, seed.RevealSecret(),
                                                             v->WrapAd(kLabelSigningSeed, {}, v->kek_version_))));
    ASSIGN_OR_RETURN(v->audit_, tlog::AuditLog::Open(s, tlog::VaultKeyName(v->IdHex()), *v->signer_));
    tlog::Event e = v->MakeEvent("vault.init");
    e.objects = {{"vault", v->IdHex()},
                 {"key_source", v->kek_source()},
                 {"field_cipher", crypto::FieldSuiteName(v->field_suite())}};
    RETURN_IF_ERROR(v->audit_->Append(e).map([](uint64_t) {}));
    RETURN_IF_ERROR(v->audit_->SignCheckpoint());
    return s.Commit();
  }();
  if (!st) {
    v->audit_.reset();
    (void)store::DiscardNewStore(std::move(v->store_), path);
    return Fail(st.error());
  }
  return v;
}

Result<std::unique_ptr<Vault>> Vault::Open(const std::string& path, const KeySource& key,
                                           const std::string& actor,
                                           const OpenOptions& options) {
  RETURN_IF_ERROR(crypto::Initialize());
  std::unique_ptr<Vault> v(new Vault());
  v->path_ = path;
  v->set_actor(actor);
  v->options_ = options;
  ASSIGN_OR_RETURN(v->store_, store::OpenStore(path, {options.lock_wait, options.mmap_bytes}));
  auto& s = *v->store_;
  ASSIGN_OR_RETURN(Bytes format, RequireMeta(s, kMetaFormat, path));
  if (AsChars(format) == kFormatBeforeKeyWrapV2) {
    RETURN_IF_ERROR(s.Begin());
    Status marked = s.PutMeta(kMetaFormat, AsBytes(kFormat));
    if (marked) marked = s.Commit();
    if (!marked) {
      s.Rollback();
      return Fail(marked.error().WithContext("cannot mark " + path + " as format " +
                                             std::string(kFormat)));
    }
  } else if (AsChars(format) != kFormat) {
    return Fail(FailedPrecondition(path + " is a vault of format '" + std::string(AsChars(format)) +
                                   "', which this build of Custos does not read"));
  }
  ASSIGN_OR_RETURN(v->id_, RequireMeta(s, kMetaVaultId, path));
  if (v->id_.size() != 16) return Fail(DataLoss(path + ": vault id is damaged"));
  ASSIGN_OR_RETURN(Bytes source, RequireMeta(s, kMetaKekSource, path));
  v->passphrase_ = AsChars(source) == "passphrase";
  ASSIGN_OR_RETURN(Bytes version, RequireMeta(s, kMetaKekVersion, path));
  if (version.size() != 4) return Fail(DataLoss(path + ": key version is damaged"));
  v->kek_version_ = ReadU32BE(version.data());
  ASSIGN_OR_RETURN(Bytes suite, RequireMeta(s, kMetaFieldSuite, path));
  if (suite.size() != 1) return Fail(DataLoss(path + ": field suite is damaged"));
  ASSIGN_OR_RETURN(v->suite_, crypto::FieldSuiteFromByte(suite[0]));

  const bool shares = key.kind == KeySource::Kind::kShares;
  if (shares && key.kek_version != v->kek_version_) {
    return Fail(FailedPrecondition(
        "the shares are of key version " + std::to_string(key.kek_version) + "; the vault " + path +
        " is at key version " + std::to_string(v->kek_version_) +
        " (the key was rotated since): split the new key (custos keys split)"));
  }
  bool wants_passphrase = key.kind == KeySource::Kind::kPassphrase;
  if (!shares && wants_passphrase != v->passphrase_) {
    return Fail(Unauthenticated(
        path + " is protected by " + (v->passphrase_ ? "a passphrase" : "a key file") +
        "; use " + (v->passphrase_ ? "--passphrase-env VAR (or CUSTOS_PASSPHRASE)"
                                   : "--key-file FILE (or CUSTOS_KEY_FILE)")));
  }
  KekParams params;
  if (v->passphrase_) {
    ASSIGN_OR_RETURN(Bytes a, RequireMeta(s, kMetaArgon2, path));
    if (a.size() != 16 + 16) return Fail(DataLoss(path + ": passphrase parameters are damaged"));
    params.passphrase = true;
    params.salt.assign(a.begin(), a.begin() + 16);
    params.argon.ops_limit = ReadU64BE(a.data() + 16);
    params.argon.mem_limit = ReadU64BE(a.data() + 24);
  }
  ASSIGN_OR_RETURN(v->kek_, DeriveKek(key, params));

  ASSIGN_OR_RETURN(Bytes wrapped_root, RequireMeta(s, kMetaIndexRoot, path));
  auto root = crypto::OpenSecret(v->kek_, wrapped_root, v->WrapAd(kLabelIndexRoot, {}, v->kek_version_));
  if (!root) {
    const char* what = shares           ? "key rebuilt from the shares"
                       : v->passphrase_ ? "passphrase"
                                        : "key file";
    return Fail(Unauthenticated("the " + std::string(what) + " does not open the vault " + path +
                                " (wrong key, or the key was rotated)"));
  }
  v->index_root_ = std::move(*root);
  ASSIGN_OR_RETURN(Bytes wrapped_seed, RequireMeta(s, kMetaSigningSeed, path));
  auto seed = crypto::OpenSecret(v->kek_, wrapped_seed, v->WrapAd(kLabelSigningSeed, {}, v->kek_version_));
  if (!seed) return Fail(DataLoss(path + ": the vault's signing key failed its integrity check"));
  ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(*seed));
  v->signer_ = std::make_unique<crypto::Signer>(std::move(signer));
  RETURN_IF_ERROR(v->DeriveKeys());
  ASSIGN_OR_RETURN(v->audit_, tlog::AuditLog::Open(s, tlog::VaultKeyName(v->IdHex()), *v->signer_));
  // Notes that cannot be folded now (a damaged log that `audit repair` is
  // about to mend, a full disk) stay where they are for a later open: they
  // must not keep the vault from opening.
  // Once a vault has users, holding its key is no longer anyone: nothing is
  // allowed until the access layer authenticates a user (or break-glass).
  ASSIGN_OR_RETURN(auto users, s.ListDocs("user"));
  if (!users.empty()) v->principal_ = access::NoOne(actor);
  (void)v->FoldRefusedAttempts();
  return v;
}

Status Vault::BeginWrite(bool try_only) {
  RETURN_IF_ERROR(try_only ? store_->TryBegin() : store_->Begin());
  // Another process may have written since this one last looked: appending
  // at a stale frontier would overwrite its audit entry, and wrapping keys
  // under a rotated-away KEK would make them unreadable.
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(Bytes version, RequireMeta(*store_, kMetaKekVersion, path_));
    if (version.size() != 4) return Fail(DataLoss(path_ + ": key version is damaged"));
    ASSIGN_OR_RETURN(std::optional<Bytes> moved, store_->GetMeta(kMetaMovedTo));
    if (moved) {
      return Fail(FailedPrecondition(
          path_ + " was moved to " + std::string(AsChars(*moved)) +
          " (custos vault copy): work there; this one is kept read-only for the record"));
    }
    ASSIGN_OR_RETURN(std::optional<Bytes> pending, store_->GetMeta(kMetaCopyPending));
    if (pending && !pending->empty()) RETURN_IF_ERROR(FinishArrival(AsChars(*pending)));
    if (ReadU32BE(version.data()) != kek_version_) {
      return Fail(Unauthenticated("the key of " + path_ +
                                  " was rotated by another process while this command ran; "
                                  "run it again with the new key"));
    }
    return audit_->Reload();
  }();
  if (!st) store_->Rollback();
  return st;
}

Status Vault::FinishWrite(Status st) {
  if (st) st = store_->Commit();
  if (!st) {
    store_->Rollback();
    (void)audit_->Reload();
  }
  return st;
}

tlog::Event Vault::MakeEvent(std::string action, std::string purpose) const {
  tlog::Event e;
  e.actor = principal_.user;
  e.via = std::string(access::ViaName(principal_.via));
  e.action = std::move(action);
  e.purpose = std::move(purpose);
  return e;
}

Status Vault::Transact(tlog::Event event, const std::function<Status(tlog::Event&)>& change) {
  RETURN_IF_ERROR(BeginWrite());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(change(event));
    ASSIGN_OR_RETURN(uint64_t seq, audit_->Append(event));
    if (event.via == access::ViaName(access::Via::kBreakGlass)) {
      RETURN_IF_ERROR(CountBreakGlass(seq));
    }
    return audit_->SignCheckpoint();
  }();
  return FinishWrite(std::move(st));
}

Result<tlog::AuditLog::RepairReport> Vault::RepairAudit(bool dry_run) {
  RETURN_IF_ERROR(Authorize(access::Action::kAuditRepair));
  RETURN_IF_ERROR(BeginWrite());
  tlog::AuditLog::RepairReport report;
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(report, audit_->Repair(MakeEvent("audit.repair"), dry_run));
    return Ok();
  }();
  if (dry_run) {
    store_->Rollback();
    (void)audit_->Reload();
    RETURN_IF_ERROR(st);
    return report;
  }
  RETURN_IF_ERROR(FinishWrite(std::move(st)));
  return report;
}

Result<PurgeResult> Vault::Purge(bool vacuum) {
  RETURN_IF_ERROR(Authorize(access::Action::kVaultPurge));
  tlog::Event e = MakeEvent("vault.purge");
  e.objects = {{"vacuum", vacuum}};
  RETURN_IF_ERROR(Record(e));
  return PurgeResidue(vacuum);
}

Result<PurgeResult> Vault::PurgeResidue(bool vacuum) {
  ASSIGN_OR_RETURN(bool purged, store_->PurgeResidue(vacuum));
  PurgeResult r;
  r.purged = purged;
  if (!purged) {
    r.why_not = "another process was using the vault, so its write-ahead log still holds "
                "pages from before the change; the next purge (any forget, destroy or "
                "`custos vault purge`) removes them";
  }
  return r;
}

namespace {
constexpr std::string_view kBreakGlassKind = "vault.break_glass";
}  // namespace

Result<Vault::BreakGlassUses> Vault::BreakGlass() {
  BreakGlassUses uses;
  ASSIGN_OR_RETURN(std::optional<std::string> body, store_->GetDoc(kBreakGlassKind, "uses"));
  if (!body) return uses;
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kBreakGlassKind, "uses", *body, 1));
  uses.count = d.U64("count");
  uses.first_seq = d.U64("first_seq");
  uses.first_at = d.Str("first_at");
  uses.last_seq = d.U64("last_seq");
  uses.last_at = d.Str("last_at");
  RETURN_IF_ERROR(d.status());
  return uses;
}

nlohmann::ordered_json Vault::BreakGlassUses::ToJson() const {
  if (count == 0) return {{"uses", 0}};
  return {{"uses", count},
          {"first_seq", first_seq},
          {"first_at", first_at},
          {"last_seq", last_seq},
          {"last_at", last_at}};
}

Status Vault::CountBreakGlass(uint64_t seq) {
  ASSIGN_OR_RETURN(BreakGlassUses uses, BreakGlass());
  const std::string now = FormatRfc3339(NowUnixSeconds());
  if (uses.count == 0) {
    uses.first_seq = seq;
    uses.first_at = now;
  }
  ++uses.count;
  uses.last_seq = seq;
  uses.last_at = now;
  const nlohmann::ordered_json j = {{"v", 1},
                                    {"count", uses.count},
                                    {"first_seq", uses.first_seq},
                                    {"first_at", uses.first_at},
                                    {"last_seq", uses.last_seq},
                                    {"last_at", uses.last_at}};
  return store_->PutDoc(kBreakGlassKind, "uses", j.dump());
}

Status Vault::Record(const tlog::Event& event) {
  if (audit_sink_ != nullptr) return audit_sink_->Append(event);
  return Transact(event, [](tlog::Event&) { return Ok(); });
}

Status Vault::RecordBatch(std::span<tlog::Event> events) {
  if (events.empty()) return Ok();
  RETURN_IF_ERROR(BeginWrite());
  Status st = [&]() -> Status {
    for (tlog::Event& event : events) {
      ASSIGN_OR_RETURN(uint64_t seq, audit_->Append(event));
      if (event.via == access::ViaName(access::Via::kBreakGlass)) {
        RETURN_IF_ERROR(CountBreakGlass(seq));
      }
    }
    return audit_->SignCheckpoint();
  }();
  return FinishWrite(std::move(st));
}

Status Vault::Authorize(access::Action a, const nlohmann::ordered_json& objects) {
  const access::ActionRule& rule = access::RuleFor(a);
  Status st = access::CheckRole(principal_, a);
  std::string reason = "role";
  if (st && rule.needs_training && principal_.IsUser() && !principal_.trained) {
    reason = "training";
    st = Fail(PermissionDenied(
        principal_.user + " may not do " + std::string(rule.name) +
        ": it needs a passed assessment of the current training course within its period "
        "(custos training take)"));
  }
  if (st) return Ok();
  nlohmann::ordered_json o = objects.is_object() ? objects : nlohmann::ordered_json::object();
  o["needs_roles"] = rule.roles.Names();
  o["roles"] = principal_.roles.Names();
  o["reason"] = reason;
  return Refuse(std::string(rule.name), std::move(o), st.error());
}

Status Vault::Refuse(const std::string& action, nlohmann::ordered_json objects, const Error& why) {
  tlog::Event refused = MakeEvent(action);
  refused.result = "refused";
  refused.objects = objects.is_object() ? std::move(objects) : nlohmann::ordered_json::object();
  if (!refused.objects.contains("reason")) refused.objects["reason"] = why.message();
  RETURN_IF_ERROR(Record(refused));
  return Fail(why);
}

Status Vault::DeriveKeys() {
  ASSIGN_OR_RETURN(crypto::KeyWrap wrap, crypto::KeyWrap::Create(kek_, suite_, id_));
  key_wrap_ = std::make_unique<crypto::KeyWrap>(std::move(wrap));
  ASSIGN_OR_RETURN(crypto::SecretBytes index_key,
                   crypto::HkdfSha256(index_root_, id_, AsBytes("custos/blind-index/v1"), 32));
  index_mac_ = std::make_unique<crypto::HmacSha256>(index_key);
  ASSIGN_OR_RETURN(crypto::SecretBytes id_key,
                   crypto::HkdfSha256(index_root_, id_, AsBytes("custos/person-id/v1"), 32));
  ASSIGN_OR_RETURN(crypto::IdCipher ids, crypto::IdCipher::Create(id_key));
  id_cipher_ = std::make_unique<crypto::IdCipher>(std::move(ids));
  return Ok();
}

PersonId Vault::IdOf(int64_t pk) const {
  auto b = id_cipher_->Encode(static_cast<uint64_t>(pk));
  return *PersonId::FromBytes(b);
}

Result<int64_t> Vault::PkOf(const PersonId& id) const {
  auto pk = id_cipher_->Decode(id.bytes());
  if (!pk || *pk == 0 || *pk > static_cast<uint64_t>(INT64_MAX >> store::kRecordShift)) {
    return Fail(NotFound("no person " + id.ToString() + " in this vault"));
  }
  return static_cast<int64_t>(*pk);
}

Mac Vault::IndexMac(IndexKind kind, std::string_view normalized) const {
  // kind || value, on the stack for the usual short identifiers.
  uint8_t buf[128];
  Bytes heap;
  ByteSpan msg;
  if (normalized.size() < sizeof buf) {
    buf[0] = static_cast<uint8_t>(kind);
    std::memcpy(buf + 1, normalized.data(), normalized.size());
    msg = ByteSpan(buf, 1 + normalized.size());
  } else {
    heap.push_back(static_cast<uint8_t>(kind));
    heap.insert(heap.end(), normalized.begin(), normalized.end());
    msg = heap;
  }
  crypto::Digest d = index_mac_->Mac(msg);
  Mac m;
  std::memcpy(m.data(), d.data(), m.size());
  return m;
}

Result<std::vector<PersonId>> Vault::Find(IndexKind kind, std::string_view normalized) {
  Mac mac = IndexMac(kind, normalized);
  store::ReadSnapshot snapshot(*store_);
  RETURN_IF_ERROR(snapshot.status());
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, store_->FindByIndex(static_cast<uint8_t>(kind), mac));
  std::vector<PersonId> out;
  for (int64_t pk : pks) {
    ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, store_->GetPerson(pk));
    if (!row) continue;
    out.push_back(IdOf(row->pk));
  }
  return out;
}

Result<std::vector<DatasetColumns>> Vault::LoadDatasetColumns() {
  ASSIGN_OR_RETURN(std::vector<DatasetInfo> datasets, Datasets());
  std::vector<DatasetColumns> out;
  out.reserve(datasets.size());
  for (auto& d : datasets) out.push_back({d.id, std::move(d.name), std::move(d.columns)});
  return out;
}

Result<PersonData> Vault::Read(const PersonId& id) {
  ASSIGN_OR_RETURN(int64_t pk, PkOf(id));
  store::ReadSnapshot snapshot(*store_);  // the person, records and schemas of one state
  RETURN_IF_ERROR(snapshot.status());
  ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, store_->GetPerson(pk));
  if (!row) return Fail(NotFound("no person " + id.ToString() + " in this vault"));
  PersonData out;
  out.id = id;
  out.created_at = row->created_at;
  ASSIGN_OR_RETURN(std::vector<store::RecordRow> records, store_->RecordsOf(row->pk));
  if (records.empty()) return out;
  ASSIGN_OR_RETURN(crypto::FieldCipher cipher, CipherForRow(*row));
  ASSIGN_OR_RETURN(std::vector<DatasetColumns> datasets, LoadDatasetColumns());
  struct Schema {
    const DatasetColumns* dataset;
    std::vector<std::string> names;
  };
  std::unordered_map<int64_t, Schema> schemas;
  for (const auto& d : datasets) {
    Schema sc{&d, {}};
    for (const auto& c : d.columns) sc.names.push_back(c.name);
    schemas.emplace(d.id, std::move(sc));
  }
  for (auto& rec : records) {
    auto it = schemas.find(rec.dataset_id);
    if (it == schemas.end()) {
      out.damaged_records.emplace_back(rec.id, DataLoss("record refers to an unknown dataset"));
      continue;
    }
    const Schema& sc = it->second;
    const std::string& name = sc.dataset->name;
    RecordContext ctx{id_, id.bytes(), name, &sc.names};
    auto fields = OpenRecord(cipher, ctx, rec.body);
    if (fields && !fields->empty() && fields->back().position == kRecordMetaPosition) {
      Status meta = ApplyRecordMeta(*fields);
      if (!meta) fields = Fail(meta.error());
    }
    if (!fields) {
      out.damaged_records.emplace_back(
          rec.id, fields.error().WithContext("person " + id.ToString() + ", dataset '" + name +
                                             "', record " + std::to_string(rec.id)));
      continue;
    }
    for (auto& f : *fields) {
      const Column& col = sc.dataset->columns[f.position];
      FieldValue fv;
      fv.dataset = name;
      fv.record = static_cast<uint64_t>(rec.id);
      fv.field = col.name;
      fv.type = col.type;
      fv.sensitive = col.sensitive;
      fv.value = std::move(f.value);
      fv.status = f.status;
      fv.damaged = f.damaged;
      if (!fv.status) {
        fv.status = Fail(fv.status.error().WithContext(
            "person " + id.ToString() + ", dataset '" + name + "', field '" + fv.field + "'"));
      }
      out.fields.push_back(std::move(fv));
    }
  }
  return out;
}

Result<std::string> Vault::SplitKek(
    int threshold, const std::vector<std::string>& holders,
    const std::function<Status(const std::vector<KeyShare>&)>& deliver) {
  RETURN_IF_ERROR(Authorize(access::Action::kKeysSplit));
  const int n = static_cast<int>(holders.size());
  ASSIGN_OR_RETURN(std::vector<crypto::SecretShare> points,
                   crypto::SplitSecret(kek_.RevealSecret(), threshold, n));
  Bytes split(16);
  crypto::RandomFill(split);
  std::vector<KeyShare> out;
  for (crypto::SecretShare& p : points) {
    out.push_back({IdHex(), HexEncode(split), kek_version_, threshold, n, std::move(p)});
  }
  RETURN_IF_ERROR(deliver(out));
  tlog::Event e = MakeEvent("keys.split");
  e.objects = {{"split", HexEncode(split)},
               {"threshold", threshold},
               {"shares", n},
               {"key_version", kek_version_},
               {"holders", holders}};
  RETURN_IF_ERROR(Record(e));
  return HexEncode(split);
}

Result<Vault::RotateResult> Vault::RotateKek(const KeySource& new_key) {
  RETURN_IF_ERROR(Authorize(access::Action::kKeysRotate));
  if (new_key.kind == KeySource::Kind::kShares) {
    return Fail(InvalidArgument("the new key is a key file or a passphrase; split it afterwards"));
  }
  KekParams params;
  crypto::SecretBytes new_kek;
  if (new_key.kind == KeySource::Kind::kKeyFile) {
    if (FileExists(new_key.key_file)) {
      ASSIGN_OR_RETURN(new_kek, ReadKeyFile(new_key.key_file));
    } else {
      ASSIGN_OR_RETURN(new_kek, CreateKeyFile(new_key.key_file));
    }
  } else {
    params.passphrase = true;
    params.salt.resize(crypto::kArgon2SaltSize);
    crypto::RandomFill(params.salt);
    ASSIGN_OR_RETURN(new_kek, DeriveKek(new_key, params));
  }
  if (new_kek == kek_) {
    return Fail(InvalidArgument("the new key is the same as the current key"));
  }
  const uint32_t new_version = kek_version_ + 1;
  auto& s = *store_;
  uint64_t count = 0;
  ASSIGN_OR_RETURN(crypto::KeyWrap new_wrap, crypto::KeyWrap::Create(new_kek, suite_, id_));
  Status st = Transact(MakeEvent("keys.rotate"), [&](tlog::Event& e) -> Status {
    std::vector<std::pair<int64_t, Bytes>> rewrapped;
    RETURN_IF_ERROR(s.ForEachPerson([&](const store::PersonRow& row) -> Status {
      ASSIGN_OR_RETURN(crypto::SecretBytes dk, UnwrapDataKey(row));
      rewrapped.emplace_back(row.pk, WrapDataKey(new_wrap, new_version, dk, IdOf(row.pk).bytes()));
      return Ok();
    }));
    for (auto& [pk, wrapped] : rewrapped) {
      RETURN_IF_ERROR(s.UpdatePersonKey(pk, wrapped, new_version));
      ++count;
    }
    ASSIGN_OR_RETURN(Bytes wrapped_seed, RequireMeta(s, kMetaSigningSeed, path_));
    ASSIGN_OR_RETURN(crypto::SecretBytes seed,
                     crypto::OpenSecret(kek_, wrapped_seed,
                                        WrapAd(kLabelSigningSeed, {}, kek_version_)));
    RETURN_IF_ERROR(s.PutMeta(kMetaKekVersion, U32Bytes(new_version)));
    RETURN_IF_ERROR(
        s.PutMeta(kMetaKekSource, AsBytes(params.passphrase ? "passphrase" : "key-file")));
    if (params.passphrase) RETURN_IF_ERROR(s.PutMeta(kMetaArgon2, EncodeArgon(params)));
    RETURN_IF_ERROR(s.PutMeta(kMetaIndexRoot,
                              crypto::Seal(new_kek, index_root_.RevealSecret(),
                                           WrapAd(kLabelIndexRoot, {}, new_version))));
    RETURN_IF_ERROR(s.PutMeta(kMetaSigningSeed,
                              crypto::Seal(new_kek, seed.RevealSecret(),
                                           WrapAd(kLabelSigningSeed, {}, new_version))));
    e.objects = {{"key_version", new_version},
                 {"rewrapped", count},
                 {"key_source", params.passphrase ? "passphrase" : "key-file"}};
    return Ok();
  });
  if (!st) return Fail(st.error());
  kek_ = std::move(new_kek);
  key_wrap_ = std::make_unique<crypto::KeyWrap>(std::move(new_wrap));
  kek_version_ = new_version;
  passphrase_ = params.passphrase;
  // The old KEK's wraps may linger in freed pages and the WAL: purge them.
  RotateResult r;
  r.rewrapped = count;
  ASSIGN_OR_RETURN(r.purge, PurgeResidue(/*vacuum=*/false));
  return r;
}

namespace {
constexpr std::string_view kLabelPersonValue = "custos/person-value/v1";
}  // namespace

Result<Bytes> Vault::SealForPerson(int64_t pk, std::string_view label,
                                   std::string_view plaintext) {
  ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, store_->GetPerson(pk));
  if (!row) return Fail(NotFound("no person " + IdOf(pk).ToString() + " in this vault"));
  ASSIGN_OR_RETURN(crypto::SecretBytes key, UnwrapDataKey(*row));
  Bytes ad = WrapAd(kLabelPersonValue, IdOf(pk).bytes(), 0);
  AppendLengthPrefixed(ad, AsBytes(label));
  return crypto::Seal(key, AsBytes(plaintext), ad);
}

Result<std::string> Vault::OpenForPerson(int64_t pk, std::string_view label, ByteSpan sealed) {
  ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, store_->GetPerson(pk));
  if (!row) return Fail(NotFound("no person " + IdOf(pk).ToString() + " in this vault"));
  ASSIGN_OR_RETURN(crypto::SecretBytes key, UnwrapDataKey(*row));
  Bytes ad = WrapAd(kLabelPersonValue, IdOf(pk).bytes(), 0);
  AppendLengthPrefixed(ad, AsBytes(label));
  auto opened = crypto::OpenSecret(key, sealed, ad);
  if (!opened) {
    return Fail(DataLoss("a sealed value (" + std::string(label) + ") of person " +
                         IdOf(pk).ToString() + " failed its integrity check"));
  }
  return std::string(AsChars(opened->RevealSecret()));
}

Result<Vault::ForgetResult> Vault::Forget(const PersonId& id) {
  RETURN_IF_ERROR(Authorize(access::Action::kForget, {{"person", id.ToString()}}));
  ASSIGN_OR_RETURN(int64_t pk, PkOf(id));
  ForgetResult r;
  tlog::Event event = MakeEvent("person.forget");
  // Looked up inside the transaction: another process may forget them first.
  RETURN_IF_ERROR(Transact(event, [&](tlog::Event& e) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, store_->GetPerson(pk));
    if (!row) return Fail(NotFound("no person " + id.ToString() + " in this vault"));
    ASSIGN_OR_RETURN(std::vector<store::RecordRow> records, store_->RecordsOf(row->pk));
    r.records = records.size();
    e.objects = {{"person", id.ToString()}, {"records", r.records}, {"method", "crypto-shred"}};
    return store_->DeletePerson(row->pk);
  }));
  ASSIGN_OR_RETURN(r.purge, PurgeResidue(/*vacuum=*/false));
  return r;
}

}  // namespace custos::vault
