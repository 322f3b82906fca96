// The destruction record (销毁记录) of a finished batch: built only from what
// the batch recorded as it ran (the plan, the keys destroyed by wrapping
// algorithm, what the purge read back), signed, and rendered for print.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "crypto/kdf.h"
#include "package/ssh_key.h"
#include "package/sshsig.h"
#include "report/certificate.h"
#include "tlog/audit_log.h"
#include "workflow/destruction.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

Result<DestructionBatch> FinishedBatch(vault::Vault& vault, const std::string& want) {
  ASSIGN_OR_RETURN(std::vector<DestructionBatch> batches, ListDestructions(vault));
  const DestructionBatch* found = nullptr;
  for (const DestructionBatch& b : batches) {
    if (want.empty() ? b.state == DestructionState::kDone : b.id == want) found = &b;
  }
  if (found == nullptr) {
    return Fail(NotFound(want.empty() ? "no finished destruction batch (run custos destroy execute)"
                                      : "no destruction batch " + want));
  }
  if (found->state != DestructionState::kDone) {
    return Fail(FailedPrecondition("destruction " + found->id + " is '" +
                                   std::string(DestructionStateName(found->state)) +
                                   "', not done: run custos destroy execute to finish it"));
  }
  return *found;
}

// Per dataset, what was destroyed; and per field and rule, what was kept.
void DataAndRetained(const PlanSnapshot& plan, json& data, json& retained) {
  data = json::array();
  retained = json::array();
  for (const DatasetPlan& ds : plan.datasets) {
    json fields = json::array();
    for (const FieldPlan& f : ds.fields) {
      fields.push_back({{"field", f.field},
                        {"type", f.type},
                        {"sensitive", f.sensitive},
                        {"people", f.destroyed_people}});
      for (const RetainedBy& r : f.retained_by) {
        retained.push_back({{"dataset", ds.dataset},
                            {"field", f.field},
                            {"people", f.retained_people},
                            {"rule", r.rule},
                            {"citation", r.citation},
                            {"citation_zh", r.citation_zh},
                            {"until", r.until}});
      }
    }
    data.push_back({{"dataset", ds.dataset},
                    {"people", ds.people_destroyed},
                    {"records", ds.records_destroyed},
                    {"fields", fields}});
  }
}

json MediaJson(const std::vector<MediaDoc>& media) {
  json out = json::array();
  for (const MediaDoc& m : media) {
    if (m.state != MediaState::kDestroyed) continue;
    out.push_back({{"id", m.id},
                   {"kind", m.kind},
                   {"description", m.description},
                   {"method", m.method},
                   {"executor", m.executor},
                   {"witnesses", m.witnesses},
                   {"vendor", m.vendor},
                   {"vendor_certificate", m.vendor_certificate},
                   {"destroyed_at", m.destroyed_at}});
  }
  return out;
}

// A PostgreSQL vault's copies outside Custos (the cluster's WAL, backups),
// as their media records stand when the certificate is issued.
json OutsideCustos(const DestructionBatch& b, const std::vector<MediaDoc>& media) {
  json out = json::array();
  if (!b.verification) return out;
  for (const std::string& id : b.verification->outside_custos) {
    json m = {{"id", id}, {"kind", ""}, {"state", "registered"}, {"destroyed_at", ""}};
    for (const MediaDoc& d : media) {
      if (d.id != id) continue;
      m["kind"] = d.kind;
      m["state"] = d.state == MediaState::kDestroyed ? "destroyed" : "registered";
      m["destroyed_at"] = d.destroyed_at;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::string> BuildCertificate(vault::Vault& vault, const std::string& want) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kCertificateRead));
  ASSIGN_OR_RETURN(DestructionBatch b, FinishedBatch(vault, want));
  ASSIGN_OR_RETURN(std::vector<MediaDoc> media, ListMedia(vault));
  json data, retained;
  DataAndRetained(b.plan, data, retained);
  json transfers = json::array();
  for (const TransferSeen& t : b.plan.transfers) {
    transfers.push_back({{"id", t.id},
                         {"state", TransferStateName(t.state)},
                         {"receipt_sha256", t.receipt_sha256}});
  }
  const json keys = KeysDestroyedToJson(b.progress.keys_destroyed);
  ASSIGN_OR_RETURN(vault::Vault::BreakGlassUses break_glass, vault.BreakGlass());
  const json verification = b.verification ? PurgeFactsToJson(*b.verification) : json(nullptr);
  const DestructionProgress& p = b.progress;
  json cert = {
      {"format", "custos-destruction-certificate"},
      {"version", 2},
      {"destruction", b.id},
      {"vault", vault.IdHex()},
      {"trigger", DestructionTriggerName(b.trigger)},
      // PIPL Art. 47 ¶1 (2): the processor stops providing the product or
      // service, or the retention period has expired (legal.md R8).
      {"legal_basis", {{"law", "PIPL"}, {"article", 47}, {"paragraph", 1}, {"item", 2}}},
      {"retention_check",
       {{"catalogue_version", b.plan.catalogue_version},
        {"effective_date", b.plan.today},
        {"retained_fields", retained.size()}}},
      {"people",
       {{"destroyed", p.people_destroyed},
        {"retained_rewritten", p.people_rewritten},
        {"retained", b.plan.people_retained},
        {"fields_removed_from_retained", p.fields_removed}}},
      {"data", data},
      {"retained", retained},
      {"transfers", transfers},
      {"media", MediaJson(media)},
      {"outside_custos", OutsideCustos(b, media)},
      {"method",
       {{"erasure", "crypto-shredding"},
        {"field_encryption", b.field_cipher},
        {"keys_destroyed", keys}}},
      {"approver", b.approver},
      {"supervisors", b.supervisors},
      {"executor", b.executor},
      // The request and each signed review (docs/formats/approval.md);
      // null when the vault had no users: then no approval was
      // signed by distinct people, and the names above were typed.
      {"authorisation", b.authorisation.empty() ? json(nullptr) : json::parse(b.authorisation)},
      // The key used without a user on this vault, up to the issue.
      {"break_glass", json::parse(break_glass.ToJson().dump())},
      {"times",
       {{"planned_at", b.created_at},
        {"started_at", b.started_at},
        {"purged_at", b.purged_at},
        {"finished_at", b.finished_at}}},
      {"chunks", p.chunks},
      {"verification", verification},
      {"audit",
       {{"checkpoint_before",
         {{"size", b.checkpoint_before.size}, {"note", b.checkpoint_before.note}}},
        {"checkpoint_after",
         {{"size", b.checkpoint_after.size}, {"note", b.checkpoint_after.note}}}}},
      {"signing_key", package::SshEd25519PublicKeyLine(vault.signer().public_key(),
                                                       "custos-vault-" + vault.IdHex())},
      {"issued_at", FormatRfc3339(NowUnixSeconds())}};
  return cert.dump(2, ' ', false) + "\n";
}

Result<IssuedCertificate> IssueCertificate(vault::Vault& vault, const std::string& id,
                                           const std::string& out_dir, const std::string& lang) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kCertificateIssue));
  if (lang != "zh" && lang != "en") return Fail(InvalidArgument("--lang is zh or en"));
  if (out_dir.empty()) return Fail(InvalidArgument("--out DIR is required"));
  ASSIGN_OR_RETURN(std::string text, BuildCertificate(vault, id));
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Fail(Unavailable("cannot create directory " + out_dir + ": " + std::strerror(errno)));
  }
  const json cert = json::parse(text);
  IssuedCertificate out;
  out.destruction = cert["destruction"].get<std::string>();
  ASSIGN_OR_RETURN(std::string sig,
                   package::SshSigSign(vault.signer(), kCertificateNamespace, AsBytes(text)));
  ASSIGN_OR_RETURN(std::string html, report::RenderCertificateHtml(text, lang));
  out.json_path = out_dir + "/certificate.json";
  out.sig_path = out_dir + "/certificate.json.sig";
  out.html_path = out_dir + "/certificate.html";
  out.sha256 = crypto::Sha256Hex(AsBytes(text));
  CertificateDoc doc{out.destruction, out.sha256, cert["issued_at"].get<std::string>(), lang};
  tlog::Event e = vault.MakeEvent("certificate.issue");
  e.objects = {{"destruction", out.destruction}, {"sha256", out.sha256}, {"lang", lang}};
  RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) {
    return vault.PutDoc(kCertificateKind, out.destruction, SerializeCertificateDoc(doc));
  }));
  RETURN_IF_ERROR(WriteFileAtomic(out.json_path, text));
  RETURN_IF_ERROR(WriteFileAtomic(out.sig_path, sig));
  RETURN_IF_ERROR(WriteFileAtomic(out.html_path, html));
  return out;
}

}  // namespace custos::workflow
