// The handover package (docs/formats/package.md): built by the sender,
// streamed from the vault through age into a signed archive, recorded with
// who left in it; and closed by the recipient's signed receipt.
#include <algorithm>
#include <array>
#include <memory>

#include "access/requests.h"
#include "access/users.h"
#include "base/file.h"
#include "base/time.h"
#include "crypto/kdf.h"
#include "package/age.h"
#include "package/byte_stream.h"
#include "package/ssh_key.h"
#include "package/sshsig.h"
#include "package/tar.h"
#include "workflow/handover.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"
#include "workflow/transfer_payload.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;
using internal::CountsJson;
using internal::FrozenSet;
using internal::LoadedTransfer;
using internal::PayloadLines;
using internal::SchemaInfo;

// The SHA-256 (hex) of the manifest.json that leads the archive at `path`,
// or "" if the file is no package.
Result<std::string> LeadingManifestSha256(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<package::FileSource> in, package::FileSource::Open(path));
  package::TarReadOptions options;
  options.max_entry_size = uint64_t{1} << 20;
  package::TarReader tar(*in, options);
  auto entry = tar.Next();
  if (!entry || !*entry || (*entry)->name != "manifest.json") return std::string();
  Bytes manifest;
  package::BytesSink sink(manifest);
  if (!tar.ReadContent(sink)) return std::string();
  return crypto::Sha256Hex(manifest);
}

std::string LegalBasis(TransferMode m) {
  switch (m) {
    case TransferMode::kHeadOffice:
      return "head office as continuing processor (same legal person; PIPL Art. 17 notice)";
    case TransferMode::kArt22:
      return "PIPL Art. 22 (transfer on dissolution; recipient bound to original purposes and "
             "methods)";
    case TransferMode::kArt23:
      return "PIPL Art. 23 (provision to another processor with separate consent)";
  }
  return "";
}

// ---- Before the transaction ----

// The package recorded for `out_path`, if the file there is it (a second
// run after the first was interrupted once the package was named): its
// recorded counts, nothing to build.
Result<std::optional<PackageReport>> RecordedPackageAt(const TransferDoc& doc,
                                                       const std::string& out_path,
                                                       const std::string& out_abs) {
  if (doc.state != TransferState::kPackaged || doc.package->out != out_abs ||
      !FileExists(out_path)) {
    return std::optional<PackageReport>();
  }
  // Whether the file there is the recorded package: its manifest's hash.
  ASSIGN_OR_RETURN(std::string manifest_sha256, LeadingManifestSha256(out_path));
  if (manifest_sha256 != doc.package->manifest_sha256) return std::optional<PackageReport>();
  PackageReport done;
  done.already_built = true;
  done.manifest_sha256 = manifest_sha256;
  done.people = doc.package->people;
  done.records = doc.package->records;
  done.withheld_frozen = doc.package->withheld_frozen;
  done.damaged = doc.package->damaged;
  return std::optional<PackageReport>(std::move(done));
}

// Whether the transfer may be packaged into `out_path` now: its state, its
// terms, its notices, the path. Returns the manifest SHA-256 of the package
// this one replaces ("" if none): one recorded for this path whose file is
// not there (the run was killed before naming it, or the naming failed).
Result<std::string> CheckPackageable(const std::string& transfer, const TransferDoc& doc,
                                     const std::string& out_path, const std::string& out_abs) {
  std::string replaces;
  if (doc.state == TransferState::kPackaged && doc.package->out == out_abs &&
      !FileExists(out_path)) {
    replaces = doc.package->manifest_sha256;
  } else if (doc.state >= TransferState::kPackaged) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' is already " +
                                   std::string(TransferStateName(doc.state))));
  }
  std::vector<std::string> missing = MissingTerms(doc.plan);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Fail(FailedPrecondition("transfer '" + transfer +
                                   "' cannot be packaged; missing contract terms: " + list));
  }
  if (doc.state != TransferState::kNoticed && replaces.empty()) {
    return Fail(FailedPrecondition("transfer '" + transfer +
                                   "' has no notices yet (custos transfer notices)"));
  }
  if (FileExists(out_path)) return Fail(AlreadyExists(out_path + " exists"));
  return replaces;
}

// kFailedPrecondition, by field, if the package would provide values
// damaged before import and that was not allowed.
Status CheckDamaged(vault::Vault& v, const std::string& transfer, const TransferPlan& plan) {
  ASSIGN_OR_RETURN(auto damaged, DamagedPlannedFields(v, plan));
  if (damaged.empty()) return Ok();
  std::string list;
  for (const auto& [field, n] : damaged) {
    list += (list.empty() ? "" : ", ") + field + ": " + std::to_string(n);
  }
  return Fail(FailedPrecondition(
      "transfer '" + transfer + "' would provide values that were damaged before import (" + list +
      "; long numbers a spreadsheet stored as numbers, their digits past the 15th "
      "lost). Import the column again from a text export, or package them as they are with "
      "--allow-damaged (recorded)"));
}

// ---- The archive ----

constexpr const char* kNoAuthorisation =
    "no approval was signed by distinct people: the vault had no users, so approved_by was typed";

// What a package would carry, as the operation a request approves.
nlohmann::json PackageOperation(const vault::Vault& v, const TransferPlan& plan,
                                uint64_t people_included) {
  std::vector<std::string> fields = plan.fields;
  std::sort(fields.begin(), fields.end());
  nlohmann::json terms = nlohmann::json::object();
  for (const auto& [k, val] : plan.contract) terms[k] = val;
  return {{"kind", "transfer.package"},
          {"vault", v.IdHex()},
          {"transfer", plan.id},
          {"recipient", plan.recipient},
          {"mode", TransferModeName(plan.mode)},
          {"purpose", plan.purpose},
          {"method", plan.method},
          {"dataset", plan.dataset},
          {"fields", fields},
          {"terms_sha256", crypto::Sha256Hex(AsBytes(terms.dump()))},
          {"people_included", people_included}};
}

// manifest.json but for what only the payload tells: its counts, size,
// hash and time. Read inside the package's transaction (the checkpoint).
class Manifest {
 public:
  static Result<Manifest> For(vault::Vault& v, const std::string& transfer,
                              const TransferPlan& plan, const Recipient& r,
                              const SchemaInfo& schemas) {
    ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> cp, v.audit().LatestCheckpoint());
    ASSIGN_OR_RETURN(vault::Vault::BreakGlassUses break_glass, v.BreakGlass());
    json fields = json::array();
    for (const auto& f : plan.fields) {
      const vault::Column c = internal::ColumnIn(schemas, f);
      fields.push_back({{"name", f}, {"type", c.type}, {"sensitive", c.sensitive}});
    }
    json terms = json::object();
    for (const auto& [k, val] : plan.contract) terms[k] = val;
    std::string signing_key = package::SshEd25519PublicKeyLine(v.signer().public_key(), "");
    while (!signing_key.empty() && signing_key.back() == ' ') signing_key.pop_back();
    json head = {{"format", "custos-package"},
                 {"version", 1},
                 {"transfer", transfer},
                 {"mode", TransferModeName(plan.mode)},
                 {"legal_basis", LegalBasis(plan.mode)},
                 {"approved_by", plan.approved_by},
                 {"sender",
                  {{"name", plan.processor_name},
                   {"uscc", plan.processor_uscc},
                   {"contact", plan.processor_contact},
                   {"signing_key", signing_key}}},
                 {"recipient",
                  {{"id", r.id},
                   {"name", r.name},
                   {"uscc", r.uscc},
                   {"contact", r.contact},
                   {"age_recipient", r.age_recipient},
                   {"ssh_key", r.ssh_key}}},
                 {"purpose", plan.purpose},
                 {"method", plan.method},
                 {"fields", fields},
                 {"contract", terms},
                 {"authorisation", nullptr},
                 {"authorisation_note", kNoAuthorisation},
                 // The vault's key used without a user, up to this package.
                 {"break_glass", json::parse(break_glass.ToJson().dump())}};
    return Manifest(std::move(head), cp ? cp->note : std::string());
  }

  // The executed request and its signed reviews (docs/formats/approval.md).
  void SetAuthorisation(const access::Request& r) {
    head_["authorisation"] = json::parse(access::RequestToJson(r).dump());
    head_["authorisation_note"] =
        "approved by the signed reviews above, each verifiable with ssh-keygen -Y verify "
        "(namespace custos-approval)";
  }

  std::string Text(const PackageReport& counts, uint64_t payload_size,
                   const std::string& payload_sha256, int64_t created_at) const {
    json manifest = head_;
    manifest["counts"] = {{"people", counts.people},
                          {"records", counts.records},
                          {"excluded", CountsJson(counts.excluded)},
                          {"withheld_frozen", CountsJson(counts.withheld_frozen)},
                          {"damaged", CountsJson(counts.damaged)}};
    manifest["files"] = json::array(
        {{{"name", "payload.jsonl.age"}, {"size", payload_size}, {"sha256", payload_sha256}}});
    manifest["sender_checkpoint"] = checkpoint_;
    manifest["created_at"] = FormatRfc3339(created_at);
    return manifest.dump();
  }

 private:
  Manifest(json head, std::string checkpoint)
      : head_(std::move(head)), checkpoint_(std::move(checkpoint)) {}
  json head_;               // everything before "counts"
  std::string checkpoint_;  // the sender's latest signed checkpoint
};

// The counts a package is expected to have before anyone is read: one
// record a person, every frozen set's people, every damaged value if
// allowed. Only for the length of a manifest: a wrong guess costs moving
// the payload.
PackageReport ExpectedCounts(const PackageReport& excluded, size_t people,
                             const std::vector<FrozenSet>& frozen, const TransferPlan& plan,
                             const SchemaInfo& schemas, bool allow_damaged) {
  PackageReport expected = excluded;
  expected.people = expected.records = people;
  for (const FrozenSet& fs : frozen) {
    for (const auto& f : fs.fields) expected.withheld_frozen[f] += fs.people.size();
  }
  if (allow_damaged) {
    for (const auto& f : plan.fields) {
      if (auto it = schemas.damaged.find(f); it != schemas.damaged.end()) {
        expected.damaged[f] = it->second;
      }
    }
  }
  return expected;
}

// One bulk read of the included people, in pk order, opening only the
// planned fields (of the planned dataset); keys are unwrapped, fields
// decrypted and lines formatted on the worker threads while this thread
// scans the store and encrypts. Adds the lines' counts to `rep`.
Status StreamPayload(vault::Vault& v, const vault::Selection& selection,
                     const std::vector<FrozenSet>& frozen, package::AgeEncryptor& enc,
                     PackageReport& rep) {
  return v.ReadSelectedBatches<PayloadLines>(
      selection,
      [&frozen](std::vector<vault::SelectedPerson>& people, PayloadLines& lines) {
        return internal::FormatPayloadLines(people, frozen, lines);
      },
      [&](PayloadLines& lines) -> Status {
        rep.people += lines.people;
        rep.records += lines.records;
        for (const auto& [field, n] : lines.withheld_frozen) rep.withheld_frozen[field] += n;
        for (const auto& [field, n] : lines.damaged) rep.damaged[field] += n;
        return enc.Write(AsBytes(lines.text));
      });
}

struct ArchiveWritten {
  std::string payload_sha256;
  int64_t created_at = 0;
};

// Writes the package into `archive`. The payload streams through age
// straight into the archive, at the offset it will have behind the
// manifest and its signature, so memory stays flat whatever the number of
// people, no plaintext reaches the disk, and the 200 MB of a million
// people are written once. Those two files hold the payload's size and
// hash, so they are written last; where the payload starts depends on
// their sizes, guessed from a manifest with the `expected` counts (about
// 200 bytes a line; a wrong guess only costs moving the payload). Fills in
// `rep`'s counts and manifest_sha256.
Result<ArchiveWritten> WriteArchive(vault::Vault& v, const Manifest& manifest,
                                    const vault::Selection& selection,
                                    const std::vector<FrozenSet>& frozen,
                                    const package::AgeRecipient& age, const PackageReport& expected,
                                    TempFileBeside& archive, PackageReport& rep) {
  const std::string manifest_guess = manifest.Text(
      expected, uint64_t{200} * selection.people.size(), std::string(64, '0'), NowUnixSeconds());
  // Signed only for the signature's length; neither leaves this function.
  ASSIGN_OR_RETURN(std::string sig_guess,
                   package::SshSigSign(v.signer(), kPackageNamespace, AsBytes(manifest_guess)));
  const std::array<uint64_t, 2> size_guesses = {manifest_guess.size(), sig_guess.size()};
  package::TarFileWriter tar(archive.fd(), archive.name(), size_guesses);
  package::HashingSink digest(&tar.content());
  std::vector<package::AgeRecipient> recips = {age};
  ASSIGN_OR_RETURN(package::AgeEncryptor enc, package::AgeEncryptor::Create(recips, digest));
  RETURN_IF_ERROR(StreamPayload(v, selection, frozen, enc, rep));
  RETURN_IF_ERROR(enc.Finish());
  const uint64_t payload_size = digest.size();
  ArchiveWritten out;
  out.payload_sha256 = HexEncode(digest.Finish());
  out.created_at = NowUnixSeconds();
  const std::string text = manifest.Text(rep, payload_size, out.payload_sha256, out.created_at);
  ASSIGN_OR_RETURN(std::string sig,
                   package::SshSigSign(v.signer(), kPackageNamespace, AsBytes(text)));
  rep.manifest_sha256 = crypto::Sha256Hex(AsBytes(text));
  const std::array<package::TarMember, 2> leading = {
      package::TarMember{"manifest.json", AsBytes(text)},
      package::TarMember{"manifest.json.sig", AsBytes(sig)}};
  RETURN_IF_ERROR(tar.Finish(leading, "payload.jsonl.age", out.created_at));
  return out;
}

// The transfer.package audit entry's objects.
json PackageEventObjects(const std::string& transfer, const TransferPlan& plan,
                         const PackageReport& rep, const std::string& payload_sha256,
                         const std::string& replaces, bool allow_damaged) {
  json objects = {{"transfer", transfer},
                  {"recipient", plan.recipient},
                  {"mode", TransferModeName(plan.mode)},
                  {"manifest_sha256", rep.manifest_sha256},
                  {"payload_sha256", payload_sha256},
                  {"people", rep.people},
                  {"records", rep.records},
                  {"excluded", CountsJson(rep.excluded)},
                  {"fields", plan.fields}};
  if (!replaces.empty()) objects["replaces_manifest_sha256"] = replaces;
  if (allow_damaged) {
    objects["allow_damaged"] = true;
    objects["damaged_values"] = CountsJson(rep.damaged);
  }
  return objects;
}

// ---- Closing ----

// What a receipt says (docs/formats/package.md, "Receipts"), read only once
// its signature verified. A member missing or of another type reads empty.
struct ReceiptClaims {
  std::string format;
  std::string transfer;
  std::string manifest_sha256;
  std::string time;
  uint64_t people = 0;  // imported.people
};

ReceiptClaims ClaimsOf(const Receipt& rc) {
  const auto text = [&](const char* key) {
    auto it = rc.json.find(key);
    return it != rc.json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ReceiptClaims c{text("format"), text("transfer"), text("manifest_sha256"), text("time"), 0};
  auto imported = rc.json.find("imported");
  if (imported != rc.json.end() && imported->is_object()) {
    auto people = imported->find("people");
    if (people != imported->end() && people->is_number_unsigned()) {
      c.people = people->get<uint64_t>();
    }
  }
  return c;
}

// The receipt's claims once its signature verified under recipient `r`'s
// registered key: kDataLoss if it was modified, kUnauthenticated if another
// key signed it.
Result<ReceiptClaims> VerifyReceipt(const Recipient& r, std::string_view receipt_text) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, package::ParseSshEd25519PublicKey(r.ssh_key));
  ASSIGN_OR_RETURN(Receipt rc, ParseReceipt(receipt_text));
  auto parsed = package::ParseSshSignature(rc.signature);
  if (!parsed) {
    return Fail(DataLoss("the receipt's signature is damaged: " + parsed.error().message()));
  }
  auto intact = package::SshSigVerify(rc.signature, parsed->public_key, kReceiptNamespace,
                                      AsBytes(rc.json_text));
  if (!intact) {
    return Fail(DataLoss("the receipt was modified or its signature is damaged: " +
                         intact.error().message()));
  }
  if (parsed->public_key != key) {
    auto other = package::SshSigVerify(rc.signature, key, kReceiptNamespace, AsBytes(rc.json_text));
    return Fail(Unauthenticated("receipt not signed by recipient '" + r.id + "'s registered key: " +
                                (other ? std::string("?") : other.error().message())));
  }
  return ClaimsOf(rc);
}

}  // namespace

Result<PackageReport> BuildPackage(vault::Vault& v, const std::string& transfer,
                                   const std::string& out_path, const Date& today,
                                   bool allow_damaged, const std::string& request) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferWork));
  ASSIGN_OR_RETURN(LoadedTransfer t, internal::LoadTransfer(v, transfer));
  TransferDoc& doc = t.doc;
  const TransferPlan& plan = doc.plan;
  const std::string out_abs = AbsolutePath(out_path);
  // A package is recorded before its file takes its name, so the file may
  // be there already, or be missing from where it was recorded.
  ASSIGN_OR_RETURN(std::optional<PackageReport> done, RecordedPackageAt(doc, out_path, out_abs));
  if (done) return std::move(*done);
  ASSIGN_OR_RETURN(const std::string replaces, CheckPackageable(transfer, doc, out_path, out_abs));
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(package::AgeRecipient age, package::AgeRecipient::Parse(r.age_recipient));
  ASSIGN_OR_RETURN(SchemaInfo schemas, internal::LoadSchemas(v, plan.dataset));
  if (!allow_damaged) RETURN_IF_ERROR(CheckDamaged(v, transfer, plan));
  // On a vault with users a package needs an approved request for exactly
  // this package; without one, one is made and returned.
  ASSIGN_OR_RETURN(const bool approvals, access::HasUsers(v));
  std::optional<access::Request> approved;
  uint64_t approved_people = 0;
  if (approvals) {
    ASSIGN_OR_RETURN(TransferStatus now, GetTransferStatus(v, transfer, today));
    const nlohmann::json op = PackageOperation(v, plan, now.included);
    if (request.empty()) {
      PackageReport requested;
      ASSIGN_OR_RETURN(requested.requested, access::CreateRequest(v, op));
      return requested;
    }
    ASSIGN_OR_RETURN(approved, access::CheckApproved(v, request, op));
    approved_people = now.included;
  } else if (!request.empty()) {
    return Fail(InvalidArgument("--request: this vault has no users, so no requests"));
  }

  // Everything below runs in the one write transaction that also records the
  // package: the people, their responses and their data are read from one
  // snapshot, and SQLite takes its locks once instead of once per query
  // (per-statement read transactions were a fifth of the time at 1 M people).
  PackageReport rep;
  std::unique_ptr<TempFileBeside> archive;
  tlog::Event event = v.MakeEvent("transfer.package", plan.purpose);
  Status tx = v.Transact(event, [&](tlog::Event& e) -> Status {
    RETURN_IF_ERROR(internal::ExpectUnchanged(v, kTransferKind, transfer, t.body));
    ASSIGN_OR_RETURN(std::vector<FrozenSet> frozen, internal::LoadFrozenSets(v, plan, today));
    ASSIGN_OR_RETURN(TransferStatus st, internal::StatusOf(v, transfer, doc, frozen));
    rep.excluded = st.excluded;
    if (st.pending) rep.excluded["no_consent"] += st.pending;
    vault::Selection selection;
    selection.people.reserve(st.included);
    for (const auto& ps : st.persons) {
      if (ps.included) selection.people.push_back(ps.pk);
    }
    selection.fields = plan.fields;
    selection.dataset = plan.dataset;
    ASSIGN_OR_RETURN(Manifest manifest, Manifest::For(v, transfer, plan, r, schemas));
    if (approved) {
      if (selection.people.size() != approved_people) {
        return Fail(FailedPrecondition("the people included changed since request " +
                                       approved->id + " was approved: make a new request"));
      }
      RETURN_IF_ERROR(access::MarkExecuted(v, *approved));
      manifest.SetAuthorisation(*approved);
      e.objects["request"] = approved->id;
    }
    const PackageReport expected =
        ExpectedCounts(rep, selection.people.size(), frozen, plan, schemas, allow_damaged);
    ASSIGN_OR_RETURN(archive, TempFileBeside::Create(out_path));
    ASSIGN_OR_RETURN(ArchiveWritten written,
                     WriteArchive(v, manifest, selection, frozen, age, expected, *archive, rep));
    e.objects =
        PackageEventObjects(transfer, plan, rep, written.payload_sha256, replaces, allow_damaged);
    RETURN_IF_ERROR(v.PutDoc(kIncludedKind, transfer,
                             IncludedSet::Of(selection.people).ToDoc(rep.manifest_sha256)));
    doc.state = TransferState::kPackaged;
    doc.package = PackageRecord{rep.manifest_sha256,
                                FormatRfc3339(written.created_at),
                                rep.people,
                                rep.records,
                                rep.withheld_frozen,
                                rep.damaged,
                                out_abs};
    RETURN_IF_ERROR(v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(doc)));
    return archive->Sync();
  });
  RETURN_IF_ERROR(tx);
  // Recorded and committed: only now does the archive take its name, so a
  // package file that exists is always one the audit log knows. Killed
  // before this line, the unnamed archive vanishes and a second run builds
  // the package again.
  Status linked = archive->LinkTo(out_path);
  if (!linked) {
    return Fail(linked.error().WithContext(
        "the package was recorded (manifest " + rep.manifest_sha256 +
        ") but its file could not be named; run the command again to build it anew"));
  }
  return rep;
}

Result<CloseReport> CloseTransfer(vault::Vault& v, const std::string& transfer,
                                  std::string_view receipt_text) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferWork));
  ASSIGN_OR_RETURN(LoadedTransfer t, internal::LoadTransfer(v, transfer));
  if (t.doc.state == TransferState::kClosed)
    return Fail(FailedPrecondition("transfer '" + transfer + "' is already closed"));
  if (t.doc.state != TransferState::kPackaged) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' has not been packaged"));
  }
  const TransferPlan& plan = t.doc.plan;
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(ReceiptClaims claims, VerifyReceipt(r, receipt_text));
  const std::string want = t.doc.package->manifest_sha256;
  if (claims.format != "custos-receipt" || claims.transfer != transfer ||
      claims.manifest_sha256 != want) {
    return Fail(FailedPrecondition("the receipt is for another package (transfer '" +
                                   claims.transfer + "', manifest " + claims.manifest_sha256 +
                                   "); transfer '" + transfer + "' packaged manifest " + want));
  }
  const uint64_t sent = t.doc.package->people;
  if (claims.people != sent) {
    return Fail(FailedPrecondition("the receipt acknowledges " + std::to_string(claims.people) +
                                   " people; the package held " + std::to_string(sent)));
  }
  const std::string receipt_sha = crypto::Sha256Hex(AsBytes(receipt_text));
  tlog::Event e = v.MakeEvent("transfer.close");
  e.objects = {{"transfer", transfer},    {"recipient", plan.recipient},
               {"manifest_sha256", want}, {"receipt_sha256", receipt_sha},
               {"people", claims.people}, {"received_at", claims.time}};
  Status tx = v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(internal::ExpectUnchanged(v, kTransferKind, transfer, t.body));
    t.doc.state = TransferState::kClosed;
    t.doc.closed_at = FormatRfc3339(NowUnixSeconds());
    t.doc.receipt_sha256 = receipt_sha;
    return v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(t.doc));
  });
  RETURN_IF_ERROR(tx);
  return CloseReport{claims.people, want};
}

}  // namespace custos::workflow
