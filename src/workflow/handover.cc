#include "workflow/handover.h"

#include <algorithm>
#include <functional>
#include <map>

#include "base/time.h"
#include "crypto/kdf.h"
#include "detect/validators.h"
#include "package/age.h"
#include "package/byte_stream.h"
#include "package/ssh_key.h"
#include "package/ssh_private_key.h"
#include "package/sshsig.h"
#include "package/tar.h"
#include "workflow/transfer_doc.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kNames[] = {"manifest.json", "manifest.json.sig", "payload.jsonl.age"};

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error Damaged(const std::string& why) { return DataLoss("the package is damaged: " + why); }

// An error of reading the archive: the file's own (kUnavailable: it could
// not be read) as it is, any other as damage to the package.
Error ReadError(const Error& e) {
  return e.code() == ErrorCode::kUnavailable ? e : Damaged(e.message());
}

// The manifest and its signature are read into memory: at most this each.
constexpr uint64_t kMaxLeadingBytes = uint64_t{16} << 20;

// Hashes and counts what is read through it.
class HashingSource final : public package::ByteSource {
 public:
  explicit HashingSource(package::ByteSource& in) : in_(in) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    ASSIGN_OR_RETURN(size_t n, in_.Read(out));
    (void)seen_.Write(ByteSpan(out.data(), n));
    return n;
  }
  package::HashingSink& seen() { return seen_; }

 private:
  package::ByteSource& in_;
  package::HashingSink seen_;
};

// What one pass over a package archive finds.
struct PackageScan {
  std::string manifest_text;
  std::string signature;
  uint64_t payload_size = 0;
  std::string payload_sha256;
};

// Reads a package archive from `in` in one pass: exactly the three files,
// in order, the manifest and its signature into memory, the payload's
// bytes hashed and, if `payload_sink` returns a sink once the first two
// files are read, handed to it. Checks that the archive is the canonical
// ustar encoding of its files (so that it has one hash): a TarWriter
// re-encodes them as they are read and the two byte streams must hash
// alike. Errors of the archive are kDataLoss; those of the sink are its own.
Result<PackageScan> ScanPackage(
    package::ByteSource& in,
    const std::function<Result<package::ByteSink*>(const PackageScan&)>& payload_sink) {
  HashingSource source(in);
  package::TarReadOptions opt;
  opt.max_entries = 8;
  package::TarReader tar(source, opt);
  package::HashingSink canonical_bytes;
  package::TarWriter canonical(canonical_bytes);
  PackageScan scan;
  std::vector<uint8_t> buffer(size_t{64} << 10);
  for (size_t i = 0;; ++i) {
    auto entry = tar.Next();
    if (!entry) return Fail(ReadError(entry.error()));
    if (!*entry) {
      if (i != 3) return Fail(Damaged("it holds " + std::to_string(i) + " files; want 3"));
      break;
    }
    const package::TarEntry& e = **entry;
    if (i >= 3) return Fail(Damaged("it holds more than 3 files; want 3"));
    if (e.name != kNames[i]) {
      return Fail(Damaged("file " + std::to_string(i + 1) + " is '" + e.name + "'; want '" +
                          kNames[i] + "'"));
    }
    if (!canonical.BeginFile(e.name, e.size, e.mtime)) {
      return Fail(Damaged("non-canonical entry " + e.name));
    }
    if (i < 2 && e.size > kMaxLeadingBytes) {
      return Fail(Damaged(e.name + " is larger than " + std::to_string(kMaxLeadingBytes) + " bytes"));
    }
    package::ByteSink* sink = nullptr;
    if (i == 2 && payload_sink) {
      ASSIGN_OR_RETURN(sink, payload_sink(scan));
    }
    package::HashingSink payload(sink);
    std::string* leading = i == 0 ? &scan.manifest_text : i == 1 ? &scan.signature : nullptr;
    for (;;) {
      auto n = tar.Read(buffer);
      if (!n) return Fail(ReadError(n.error()));
      if (*n == 0) break;
      const ByteSpan piece(buffer.data(), *n);
      if (!canonical.Write(piece)) return Fail(Damaged("non-canonical entry " + e.name));
      if (leading) {
        leading->append(AsChars(piece));
      } else {
        RETURN_IF_ERROR(payload.Write(piece));
      }
    }
    if (!canonical.EndFile()) return Fail(Damaged("non-canonical entry " + e.name));
    if (i == 2) {
      scan.payload_size = payload.size();
      scan.payload_sha256 = HexEncode(payload.Finish());
    }
  }
  if (!canonical.Finish() || canonical_bytes.size() != source.seen().size() ||
      canonical_bytes.Finish() != source.seen().Finish()) {
    return Fail(Damaged("the archive is not the canonical ustar encoding of its files"));
  }
  return scan;
}

// The manifest and signature checks of VerifyPackage, on a scan, against
// the sender's key.
Result<OpenedPackage> CheckScan(const PackageScan& scan, const crypto::Ed25519PublicKey& key) {
  OpenedPackage p;
  p.manifest_text = scan.manifest_text;
  const std::string& sig = scan.signature;
  // A signature that is intact but by another key is kUnauthenticated; any
  // other failure (a flipped byte in the manifest or the signature, which
  // may also change the key it names) is kDataLoss.
  auto parsed = package::ParseSshSignature(sig);
  if (!parsed) return Fail(Damaged("manifest.json.sig: " + parsed.error().message()));
  auto st =
      package::SshSigVerify(sig, parsed->public_key, kPackageNamespace, AsBytes(p.manifest_text));
  if (!st) return Fail(Damaged("manifest.json.sig does not verify: " + st.error().message()));
  if (parsed->public_key != key) {
    auto other = package::SshSigVerify(sig, key, kPackageNamespace, AsBytes(p.manifest_text));
    return Fail(Unauthenticated("manifest.json.sig: " +
                                (other ? std::string("?") : other.error().message())));
  }
  p.manifest = json::parse(p.manifest_text, nullptr, false);
  if (p.manifest.is_discarded() || !p.manifest.is_object() ||
      Str(p.manifest, "format") != "custos-package" || p.manifest.value("version", 0) != 1) {
    return Fail(Damaged("manifest.json is not a version 1 custos-package manifest"));
  }
  p.manifest_sha256 = crypto::Sha256Hex(AsBytes(p.manifest_text));
  const json& fl = p.manifest["files"];
  if (!fl.is_array() || fl.size() != 1 || Str(fl[0], "name") != "payload.jsonl.age") {
    return Fail(Damaged("manifest.json does not list payload.jsonl.age"));
  }
  if (fl[0].value("size", uint64_t{0}) != scan.payload_size ||
      Str(fl[0], "sha256") != scan.payload_sha256) {
    return Fail(Damaged("payload.jsonl.age does not match the size and SHA-256 in manifest.json"));
  }
  return p;
}

}  // namespace


Result<std::unique_ptr<package::ByteSource>> PackageInput::Open() const {
  if (path_.empty()) return std::unique_ptr<package::ByteSource>(new package::SpanSource(memory_));
  ASSIGN_OR_RETURN(std::unique_ptr<package::FileSource> f, package::FileSource::Open(path_));
  return std::unique_ptr<package::ByteSource>(std::move(f));
}

namespace {

Result<crypto::Ed25519PublicKey> ParseSenderKey(std::string_view sender_ssh_key) {
  auto key = package::ParseSshEd25519PublicKey(sender_ssh_key);
  if (!key) return Fail(key.error().WithContext("--sender-key"));
  return key;
}

Result<OpenedPackage> VerifyWithKey(const PackageInput& archive,
                                    const crypto::Ed25519PublicKey& key) {
  ASSIGN_OR_RETURN(std::unique_ptr<package::ByteSource> in, archive.Open());
  ASSIGN_OR_RETURN(PackageScan scan, ScanPackage(*in, nullptr));
  return CheckScan(scan, key);
}

}  // namespace

Result<OpenedPackage> VerifyPackage(const PackageInput& archive, std::string_view sender_ssh_key) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, ParseSenderKey(sender_ssh_key));
  return VerifyWithKey(archive, key);
}

namespace {

// The decrypted payload, one JSON line per person, into an import batch:
// lines are cut as the bytes arrive, so memory holds one line at a time.
class PayloadImporter final : public package::ByteSink {
 public:
  // REQUIRES: all outlive the importer.
  PayloadImporter(vault::ImportBatch& batch, const vault::DatasetSpec& spec,
                  const std::map<std::string, size_t>& col, ImportedPackage& out)
      : batch_(batch), spec_(spec), col_(col), out_(out), today_(TodayInChina()) {}
  ~PayloadImporter() override { Wipe(); }

  Status Write(ByteSpan data) override {
    std::string_view text = AsChars(data);
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() + text.size() > kMaxLine) {
          return Fail(Damaged("payload line " + std::to_string(line_no_ + 1) +
                              " is longer than " + std::to_string(kMaxLine) + " bytes"));
        }
        partial_.append(text);
        return Ok();
      }
      Status st;
      if (partial_.empty()) {
        st = Line(text.substr(0, nl));
      } else {
        partial_.append(text.substr(0, nl));
        st = Line(partial_);
        Wipe();
      }
      RETURN_IF_ERROR(st);
      text.remove_prefix(nl + 1);
    }
    return Ok();
  }
  // After the last byte: the payload must end with a newline.
  Status Finish() {
    if (!partial_.empty()) return Fail(Damaged("payload does not end with a newline"));
    return Ok();
  }

 private:
  static constexpr size_t kMaxLine = size_t{256} << 20;

  void Wipe() {
    std::fill(partial_.begin(), partial_.end(), '\0');
    partial_.clear();
  }

  Status Line(std::string_view line) {
    ++line_no_;
    json j = json::parse(line, nullptr, false);
    const std::string where = "payload line " + std::to_string(line_no_);
    if (j.is_discarded() || !j.is_object() || !j.contains("records") || !j["records"].is_array()) {
      return Fail(Damaged(where + " is not a person object"));
    }
    std::string id_number, mobile, name;
    std::vector<std::string> emails;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::vector<uint32_t>> damaged;
    for (const auto& rec : j["records"]) {
      if (!rec.is_object() || !rec.contains("fields") || !rec["fields"].is_object()) {
        return Fail(Damaged(where + " has a malformed record"));
      }
      // Values the sender marked damaged before import stay marked here.
      std::vector<uint32_t>& marks = damaged.emplace_back();
      if (rec.contains("damaged")) {
        if (!rec["damaged"].is_array()) return Fail(Damaged(where + " has a malformed record"));
        for (const auto& field : rec["damaged"]) {
          auto it = field.is_string() ? col_.find(field.get<std::string>()) : col_.end();
          if (it == col_.end() || !rec["fields"].contains(field.get<std::string>())) {
            return Fail(Damaged(where + " marks a field damaged that the record does not hold"));
          }
          marks.push_back(static_cast<uint32_t>(it->second));
        }
        std::sort(marks.begin(), marks.end());
        if (std::adjacent_find(marks.begin(), marks.end()) != marks.end()) {
          return Fail(Damaged(where + " marks a field damaged twice"));
        }
      }
      std::vector<std::string> values(spec_.columns.size());
      for (const auto& [k, val] : rec["fields"].items()) {
        auto it = col_.find(k);
        if (it == col_.end() || !val.is_string()) {
          return Fail(Damaged(where + " has field '" + k + "' the manifest does not list"));
        }
        values[it->second] = val.get<std::string>();
        const std::string& type = spec_.columns[it->second].type;
        if (type == "cn_resident_id" && id_number.empty()) {
          detect::IdInfo info = detect::CheckResidentId(values[it->second], today_);
          if (info.status == detect::IdStatus::kValid) id_number = info.normalized;
        } else if (type == "cn_mobile" && mobile.empty()) {
          if (auto m = detect::NormalizeMobile(values[it->second])) mobile = *m;
        } else if (type == "person_name" && name.empty()) {
          name = detect::NormalizeWidth(values[it->second]);
        } else if (type == "email") {
          if (auto e = detect::NormalizeEmail(values[it->second])) emails.push_back(*e);
        }
      }
      rows.push_back(std::move(values));
    }
    vault::RowIdentity who;
    who.resident_id = std::move(id_number);
    who.mobile = std::move(mobile);
    who.name = std::move(name);
    who.emails = std::move(emails);
    RETURN_IF_ERROR(batch_.AddRows(who, rows, &damaged));
    ++out_.people;
    out_.records += rows.size();
    return Ok();
  }

  vault::ImportBatch& batch_;
  const vault::DatasetSpec& spec_;
  const std::map<std::string, size_t>& col_;
  ImportedPackage& out_;
  const Date today_;
  std::string partial_;
  size_t line_no_ = 0;
};

}  // namespace

Result<ImportedPackage> ImportPackage(vault::Vault& v, const PackageInput& archive,
                                      std::string_view sender_ssh_key,
                                      std::string_view identity_file_text,
                                      const std::string& dataset) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kPackageReceive));
  ASSIGN_OR_RETURN(std::vector<package::AgeIdentity> ids,
                   package::ParseAgeIdentityFile(identity_file_text));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, ParseSenderKey(sender_ssh_key));
  ASSIGN_OR_RETURN(OpenedPackage p, VerifyWithKey(archive, key));
  const std::string to =
      p.manifest.contains("recipient") ? Str(p.manifest["recipient"], "age_recipient") : "";
  bool mine = false;
  for (const auto& id : ids) mine = mine || id.recipient().ToString() == to;
  if (!mine) {
    return Fail(PermissionDenied("the package is addressed to another recipient (" + to +
                                 "); none of the identities is theirs"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> seen,
                   v.GetDoc(kReceivedKind, p.manifest_sha256));
  if (seen) {
    return Fail(
        AlreadyExists("this package (manifest " + p.manifest_sha256 + ") was already imported"));
  }
  ImportedPackage out;
  out.transfer = Str(p.manifest, "transfer");
  out.manifest_sha256 = p.manifest_sha256;
  out.dataset = dataset.empty() ? "transfer-" + out.transfer : dataset;

  vault::DatasetSpec spec;
  spec.name = out.dataset;
  spec.source_sha256 = p.manifest_sha256;
  spec.source_format = "custos-package";
  std::map<std::string, size_t> col;
  for (const auto& f : p.manifest["fields"]) {
    col[Str(f, "name")] = spec.columns.size();
    spec.columns.push_back({Str(f, "name"), Str(f, "type"), f.value("sensitive", false)});
  }
  ASSIGN_OR_RETURN(std::unique_ptr<vault::ImportBatch> batch, v.BeginImport(spec));
  // The second reading: decrypted as it streams into the batch, checked
  // against the first (a file replaced in between is refused).
  PayloadImporter importer(*batch, spec, col, out);
  ASSIGN_OR_RETURN(package::AgeDecryptor decryptor, package::AgeDecryptor::Create(ids, importer));
  ASSIGN_OR_RETURN(std::unique_ptr<package::ByteSource> in, archive.Open());
  ASSIGN_OR_RETURN(PackageScan again,
                   ScanPackage(*in, [&](const PackageScan& lead) -> Result<package::ByteSink*> {
                     if (lead.manifest_text != p.manifest_text) {
                       return Fail(Damaged("the archive changed while it was being read"));
                     }
                     return &decryptor;
                   }));
  RETURN_IF_ERROR(CheckScan(again, key).map([](const OpenedPackage&) {}));
  RETURN_IF_ERROR(decryptor.Finish());
  RETURN_IF_ERROR(importer.Finish());
  const json& counts = p.manifest["counts"];
  if (!counts.is_object() || counts.value("people", uint64_t{0}) != out.people ||
      counts.value("records", uint64_t{0}) != out.records) {
    return Fail(Damaged("the payload holds " + std::to_string(out.people) + " people and " +
                        std::to_string(out.records) + " records; manifest.json says otherwise"));
  }
  ReceivedDoc received;
  received.transfer = out.transfer;
  received.dataset = out.dataset;
  received.people = out.people;
  received.records = out.records;
  received.imported_at = FormatRfc3339(NowUnixSeconds());
  received.sender_key =
      p.manifest.contains("sender") ? Str(p.manifest["sender"], "signing_key") : "";
  received.recipient_name =
      p.manifest.contains("recipient") ? Str(p.manifest["recipient"], "name") : "";
  tlog::Event e = v.MakeEvent("package.import", Str(p.manifest, "purpose"));
  e.objects = {{"transfer", out.transfer}, {"manifest_sha256", out.manifest_sha256},
               {"dataset", out.dataset},   {"people", out.people},
               {"records", out.records},   {"mode", Str(p.manifest, "mode")}};
  RETURN_IF_ERROR(batch->Commit(e, [&]() {
    return v.PutDoc(kReceivedKind, p.manifest_sha256, SerializeReceivedDoc(received));
  }));
  return out;
}

Result<std::string> MakeReceipt(vault::Vault& v, const PackageInput& archive,
                                std::string_view private_key_text) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kPackageReceive));
  ASSIGN_OR_RETURN(std::unique_ptr<package::ByteSource> in, archive.Open());
  ASSIGN_OR_RETURN(PackageScan scan, ScanPackage(*in, nullptr));
  const std::string sha = crypto::Sha256Hex(AsBytes(scan.manifest_text));
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kReceivedKind, sha));
  if (!body) {
    return Fail(
        FailedPrecondition("package (manifest " + sha +
                           ") was not imported into this vault; run custos package import first"));
  }
  ASSIGN_OR_RETURN(ReceivedDoc received, ParseReceivedDoc(sha, *body));
  ASSIGN_OR_RETURN(package::OpenSshPrivateKey key,
                   package::ParseOpenSshPrivateKey(private_key_text));
  std::string key_line = package::SshEd25519PublicKeyLine(key.signer.public_key(), "");
  while (!key_line.empty() && key_line.back() == ' ') key_line.pop_back();
  json r = {{"format", "custos-receipt"},
            {"version", 1},
            {"transfer", received.transfer},
            {"manifest_sha256", sha},
            {"recipient", {{"name", received.recipient_name}, {"ssh_key", key_line}}},
            {"imported", {{"people", received.people}, {"records", received.records}}},
            {"dataset", received.dataset},
            {"time", FormatRfc3339(NowUnixSeconds())}};
  const std::string text = r.dump();
  ASSIGN_OR_RETURN(std::string sig,
                   package::SshSigSign(key.signer, kReceiptNamespace, AsBytes(text)));
  tlog::Event e = v.MakeEvent("package.receipt");
  e.objects = {{"transfer", received.transfer},
               {"manifest_sha256", sha},
               {"people", received.people},
               {"ssh_key", key_line}};
  RETURN_IF_ERROR(v.Record(e));
  return text + "\n" + sig;
}

Result<Receipt> ParseReceipt(std::string_view text) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos)
    return Fail(InvalidArgument("receipt: no signature after the JSON line"));
  Receipt r;
  r.json_text = std::string(text.substr(0, nl));
  r.signature = std::string(text.substr(nl + 1));
  // Parsed, but only trusted once the signature verified.
  r.json = json::parse(r.json_text, nullptr, false);
  if (r.json.is_discarded() || !r.json.is_object()) r.json = json::object();
  return r;
}

}  // namespace custos::workflow
