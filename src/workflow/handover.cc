#include "workflow/handover.h"

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

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kReceivedKind = "transfer.received";
constexpr const char* kNames[] = {"manifest.json", "manifest.json.sig", "payload.jsonl.age"};

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error Damaged(const std::string& why) { return DataLoss("the package is damaged: " + why); }

// The archive's three files, checked to be the canonical encoding.
Result<std::vector<package::TarFile>> ReadPackageTar(ByteSpan archive) {
  package::TarReadOptions opt;
  opt.max_entries = 8;
  auto files = package::ReadTarArchive(archive, opt);
  if (!files) return Fail(Damaged(files.error().message()));
  if (files->size() != 3) {
    return Fail(Damaged("it holds " + std::to_string(files->size()) + " files; want 3"));
  }
  for (size_t i = 0; i < 3; ++i) {
    if ((*files)[i].entry.name != kNames[i]) {
      return Fail(Damaged("file " + std::to_string(i + 1) + " is '" + (*files)[i].entry.name +
                          "'; want '" + kNames[i] + "'"));
    }
  }
  Bytes again;
  package::BytesSink sink(again);
  package::TarWriter w(sink);
  for (const auto& f : *files) {
    if (!w.AddFile(f.entry.name, f.content, f.entry.mtime)) {
      return Fail(Damaged("non-canonical entry " + f.entry.name));
    }
  }
  if (!w.Finish() || again.size() != archive.size() ||
      !std::equal(again.begin(), again.end(), archive.begin())) {
    return Fail(Damaged("the archive is not the canonical ustar encoding of its files"));
  }
  return std::move(*files);
}

}  // namespace

std::string Sha256Hex(ByteSpan data) { return HexEncode(crypto::Sha256(data)); }

Result<OpenedPackage> VerifyPackage(ByteSpan archive, std::string_view sender_ssh_key) {
  auto key = package::ParseSshEd25519PublicKey(sender_ssh_key);
  if (!key) return Fail(key.error().WithContext("--sender-key"));
  ASSIGN_OR_RETURN(std::vector<package::TarFile> files, ReadPackageTar(archive));
  OpenedPackage p;
  p.manifest_text.assign(AsChars(files[0].content));
  const std::string sig(AsChars(files[1].content));
  // A signature that is intact but by another key is kUnauthenticated; any
  // other failure (a flipped byte in the manifest or the signature, which
  // may also change the key it names) is kDataLoss.
  auto parsed = package::ParseSshSignature(sig);
  if (!parsed) return Fail(Damaged("manifest.json.sig: " + parsed.error().message()));
  auto st =
      package::SshSigVerify(sig, parsed->public_key, kPackageNamespace, AsBytes(p.manifest_text));
  if (!st) return Fail(Damaged("manifest.json.sig does not verify: " + st.error().message()));
  if (parsed->public_key != *key) {
    auto other = package::SshSigVerify(sig, *key, kPackageNamespace, AsBytes(p.manifest_text));
    return Fail(Unauthenticated("manifest.json.sig: " +
                                (other ? std::string("?") : other.error().message())));
  }
  p.manifest = json::parse(p.manifest_text, nullptr, false);
  if (p.manifest.is_discarded() || !p.manifest.is_object() ||
      Str(p.manifest, "format") != "custos-package" || p.manifest.value("version", 0) != 1) {
    return Fail(Damaged("manifest.json is not a version 1 custos-package manifest"));
  }
  p.manifest_sha256 = Sha256Hex(AsBytes(p.manifest_text));
  p.payload_age = std::move(files[2].content);
  const json& fl = p.manifest["files"];
  if (!fl.is_array() || fl.size() != 1 || Str(fl[0], "name") != "payload.jsonl.age") {
    return Fail(Damaged("manifest.json does not list payload.jsonl.age"));
  }
  if (fl[0].value("size", uint64_t{0}) != p.payload_age.size() ||
      Str(fl[0], "sha256") != Sha256Hex(p.payload_age)) {
    return Fail(Damaged("payload.jsonl.age does not match the size and SHA-256 in manifest.json"));
  }
  return p;
}

Result<ImportedPackage> ImportPackage(vault::Vault& v, ByteSpan archive,
                                      std::string_view sender_ssh_key,
                                      std::string_view identity_file_text,
                                      const std::string& dataset) {
  ASSIGN_OR_RETURN(std::vector<package::AgeIdentity> ids,
                   package::ParseAgeIdentityFile(identity_file_text));
  ASSIGN_OR_RETURN(OpenedPackage p, VerifyPackage(archive, sender_ssh_key));
  const std::string to =
      p.manifest.contains("recipient") ? Str(p.manifest["recipient"], "age_recipient") : "";
  bool mine = false;
  for (const auto& id : ids) mine = mine || id.recipient().ToString() == to;
  if (!mine) {
    return Fail(PermissionDenied("the package is addressed to another recipient (" + to +
                                 "); none of the identities is theirs"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> seen,
                   v.store().GetDoc(kReceivedKind, p.manifest_sha256));
  if (seen) {
    return Fail(
        AlreadyExists("this package (manifest " + p.manifest_sha256 + ") was already imported"));
  }
  ASSIGN_OR_RETURN(Bytes plain, package::AgeDecryptBytes(ids, p.payload_age));
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
  const Date today = TodayInChina();
  std::string_view text = AsChars(plain);
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return Fail(Damaged("payload does not end with a newline"));
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    json j = json::parse(line, nullptr, false);
    const std::string where = "payload line " + std::to_string(line_no);
    if (j.is_discarded() || !j.is_object() || !j.contains("records") || !j["records"].is_array()) {
      return Fail(Damaged(where + " is not a person object"));
    }
    std::string id_number, mobile, name;
    std::vector<std::string> emails;
    std::vector<std::vector<std::string>> rows;
    for (const auto& rec : j["records"]) {
      if (!rec.is_object() || !rec.contains("fields") || !rec["fields"].is_object()) {
        return Fail(Damaged(where + " has a malformed record"));
      }
      std::vector<std::string> values(spec.columns.size());
      for (const auto& [k, val] : rec["fields"].items()) {
        auto it = col.find(k);
        if (it == col.end() || !val.is_string()) {
          return Fail(Damaged(where + " has field '" + k + "' the manifest does not list"));
        }
        values[it->second] = val.get<std::string>();
        const std::string& type = spec.columns[it->second].type;
        if (type == "cn_resident_id" && id_number.empty()) {
          detect::IdInfo info = detect::CheckResidentId(values[it->second], today);
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
    RETURN_IF_ERROR(batch->AddRows(who, rows));
    ++out.people;
    out.records += rows.size();
  }
  const json& counts = p.manifest["counts"];
  if (!counts.is_object() || counts.value("people", uint64_t{0}) != out.people ||
      counts.value("records", uint64_t{0}) != out.records) {
    return Fail(Damaged("the payload holds " + std::to_string(out.people) + " people and " +
                        std::to_string(out.records) + " records; manifest.json says otherwise"));
  }
  std::string sender_key =
      p.manifest.contains("sender") ? Str(p.manifest["sender"], "signing_key") : "";
  json doc = {{"transfer", out.transfer},
              {"dataset", out.dataset},
              {"people", out.people},
              {"records", out.records},
              {"imported_at", FormatRfc3339(NowUnixSeconds())},
              {"sender_key", sender_key},
              {"recipient_name",
               p.manifest.contains("recipient") ? Str(p.manifest["recipient"], "name") : ""}};
  tlog::Event e = v.MakeEvent("package.import", Str(p.manifest, "purpose"));
  e.objects = {{"transfer", out.transfer}, {"manifest_sha256", out.manifest_sha256},
               {"dataset", out.dataset},   {"people", out.people},
               {"records", out.records},   {"mode", Str(p.manifest, "mode")}};
  RETURN_IF_ERROR(batch->Commit(e, [&](store::Store& store) {
    return store.PutDoc(kReceivedKind, p.manifest_sha256, doc.dump());
  }));
  return out;
}

Result<std::string> MakeReceipt(vault::Vault& v, ByteSpan archive,
                                std::string_view private_key_text) {
  ASSIGN_OR_RETURN(std::vector<package::TarFile> files, ReadPackageTar(archive));
  const std::string sha = Sha256Hex(files[0].content);
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.store().GetDoc(kReceivedKind, sha));
  if (!body) {
    return Fail(
        FailedPrecondition("package (manifest " + sha +
                           ") was not imported into this vault; run custos package import first"));
  }
  json doc = json::parse(*body, nullptr, false);
  if (!doc.is_object())
    return Fail(DataLoss("the import record of manifest " + sha + " is damaged"));
  ASSIGN_OR_RETURN(package::OpenSshPrivateKey key,
                   package::ParseOpenSshPrivateKey(private_key_text));
  std::string key_line = package::SshEd25519PublicKeyLine(key.signer.public_key(), "");
  while (!key_line.empty() && key_line.back() == ' ') key_line.pop_back();
  json r = {{"format", "custos-receipt"},
            {"version", 1},
            {"transfer", Str(doc, "transfer")},
            {"manifest_sha256", sha},
            {"recipient", {{"name", Str(doc, "recipient_name")}, {"ssh_key", key_line}}},
            {"imported",
             {{"people", doc.value("people", uint64_t{0})},
              {"records", doc.value("records", uint64_t{0})}}},
            {"dataset", Str(doc, "dataset")},
            {"time", FormatRfc3339(NowUnixSeconds())}};
  const std::string text = r.dump();
  ASSIGN_OR_RETURN(std::string sig,
                   package::SshSigSign(key.signer, kReceiptNamespace, AsBytes(text)));
  tlog::Event e = v.MakeEvent("package.receipt");
  e.objects = {{"transfer", Str(doc, "transfer")},
               {"manifest_sha256", sha},
               {"people", doc.value("people", uint64_t{0})},
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
