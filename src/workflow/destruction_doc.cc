#include "workflow/destruction_doc.h"

#include "vault/doc_reader.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

std::optional<TransferState> TransferStateFromName(std::string_view s) {
  for (TransferState t : {TransferState::kPlanned, TransferState::kNoticed,
                          TransferState::kPackaged, TransferState::kClosed}) {
    if (TransferStateName(t) == s) return t;
  }
  return std::nullopt;
}

constexpr BlockerKind kBlockerKinds[] = {
    BlockerKind::kTransferOpen,          BlockerKind::kConsentUnanswered,
    BlockerKind::kDestructionUnfinished, BlockerKind::kPeopleUnresolved,
    BlockerKind::kFieldsUnretained,      BlockerKind::kMediumNotDestroyed,
    BlockerKind::kAuditLogFails,         BlockerKind::kNoDestruction,
    BlockerKind::kNoCertificate};

}  // namespace

std::string_view BlockerKindName(BlockerKind k) {
  switch (k) {
    case BlockerKind::kTransferOpen:
      return "transfer_open";
    case BlockerKind::kConsentUnanswered:
      return "consent_unanswered";
    case BlockerKind::kDestructionUnfinished:
      return "destruction_unfinished";
    case BlockerKind::kPeopleUnresolved:
      return "people_unresolved";
    case BlockerKind::kFieldsUnretained:
      return "fields_unretained";
    case BlockerKind::kMediumNotDestroyed:
      return "medium_not_destroyed";
    case BlockerKind::kAuditLogFails:
      return "audit_log_fails";
    case BlockerKind::kNoDestruction:
      return "no_destruction";
    case BlockerKind::kNoCertificate:
      return "no_certificate";
  }
  return "transfer_open";
}

// ---- The plan ----

json PlanToJson(const PlanSnapshot& p) {
  json datasets = json::array();
  for (const DatasetPlan& d : p.datasets) {
    json fields = json::array();
    for (const FieldPlan& f : d.fields) {
      json by = json::array();
      for (const RetainedBy& r : f.retained_by) {
        by.push_back({{"rule", r.rule},
                      {"citation", r.citation},
                      {"citation_zh", r.citation_zh},
                      {"until", r.until}});
      }
      fields.push_back({{"field", f.field},
                        {"type", f.type},
                        {"sensitive", f.sensitive},
                        {"destroyed_people", f.destroyed_people},
                        {"retained_people", f.retained_people},
                        {"retained_by", by}});
    }
    datasets.push_back({{"dataset", d.dataset},
                        {"people",
                         {{"total", d.people_total},
                          {"retained", d.people_retained},
                          {"destroyed", d.people_destroyed}}},
                        {"records",
                         {{"total", d.records_total},
                          {"retained", d.records_retained},
                          {"destroyed", d.records_destroyed}}},
                        {"fields", fields}});
  }
  json transfers = json::array();
  for (const TransferSeen& t : p.transfers) {
    transfers.push_back({{"id", t.id},
                         {"state", TransferStateName(t.state)},
                         {"receipt_sha256", t.receipt_sha256}});
  }
  json blockers = json::array();
  for (const Blocker& b : p.blockers) {
    blockers.push_back(
        {{"kind", BlockerKindName(b.kind)}, {"what", b.what}, {"resolve", b.resolve}});
  }
  return {{"today", p.today},
          {"catalogue_version", p.catalogue_version},
          {"people",
           {{"total", p.people_total},
            {"destroyed", p.people_destroyed},
            {"retained", p.people_retained},
            {"rewritten", p.people_rewritten}}},
          {"fields_removed_from_retained", p.fields_removed_from_retained},
          {"datasets", datasets},
          {"transfers", transfers},
          {"blockers", blockers}};
}

namespace {

PlanSnapshot PlanFrom(DocReader d) {
  PlanSnapshot p;
  p.today = d.Str("today");
  p.catalogue_version = d.Str("catalogue_version");
  DocReader people = d.Object("people");
  p.people_total = people.U64("total");
  p.people_destroyed = people.U64("destroyed");
  p.people_retained = people.U64("retained");
  p.people_rewritten = people.U64("rewritten");
  p.fields_removed_from_retained = d.U64("fields_removed_from_retained");
  for (DocReader& ds : d.Objects("datasets")) {
    DatasetPlan dp;
    dp.dataset = ds.Str("dataset");
    DocReader dpeople = ds.Object("people");
    dp.people_total = dpeople.U64("total");
    dp.people_retained = dpeople.U64("retained");
    dp.people_destroyed = dpeople.U64("destroyed");
    DocReader records = ds.Object("records");
    dp.records_total = records.U64("total");
    dp.records_retained = records.U64("retained");
    dp.records_destroyed = records.U64("destroyed");
    for (DocReader& f : ds.Objects("fields")) {
      FieldPlan fp;
      fp.field = f.Str("field");
      fp.type = f.Str("type");
      fp.sensitive = f.Bool("sensitive");
      fp.destroyed_people = f.U64("destroyed_people");
      fp.retained_people = f.U64("retained_people");
      for (DocReader& r : f.Objects("retained_by")) {
        RetainedBy by;
        by.rule = r.Str("rule");
        by.citation = r.Str("citation", false);
        by.citation_zh = r.Str("citation_zh", false);  // version 2
        by.until = r.Str("until");
        fp.retained_by.push_back(std::move(by));
      }
      dp.fields.push_back(std::move(fp));
    }
    p.datasets.push_back(std::move(dp));
  }
  for (DocReader& t : d.Objects("transfers")) {
    TransferSeen seen;
    seen.id = t.Str("id");
    auto state = TransferStateFromName(t.Str("state"));
    if (state) seen.state = *state;
    // Version 1 named it "receipt".
    seen.receipt_sha256 = t.Str(t.Has("receipt_sha256") ? "receipt_sha256" : "receipt", false);
    p.transfers.push_back(std::move(seen));
  }
  for (DocReader& b : d.Objects("blockers")) {
    Blocker blocker;
    const std::string kind = b.Str("kind", false);  // version 1 had none
    for (BlockerKind k : kBlockerKinds) {
      if (BlockerKindName(k) == kind) blocker.kind = k;
    }
    blocker.what = b.Str("what");
    blocker.resolve = b.Str("resolve");
    p.blockers.push_back(std::move(blocker));
  }
  return p;
}

}  // namespace

// ---- A destruction batch ----

std::string_view DestructionStateName(DestructionState s) {
  switch (s) {
    case DestructionState::kPlanned:
      return "planned";
    case DestructionState::kExecuting:
      return "executing";
    case DestructionState::kPurged:
      return "purged";
    case DestructionState::kDone:
      return "done";
  }
  return "planned";
}

std::string_view DestructionTriggerName(DestructionTrigger t) {
  return t == DestructionTrigger::kRetentionExpired ? "retention-expired" : "branch-closure";
}

Result<DestructionTrigger> ParseDestructionTrigger(std::string_view s) {
  if (s == "branch-closure") return DestructionTrigger::kBranchClosure;
  if (s == "retention-expired") return DestructionTrigger::kRetentionExpired;
  return Fail(InvalidArgument("the trigger is branch-closure or retention-expired"));
}

json PurgeFactsToJson(const PurgeFacts& v) {
  json files = json::array();
  for (const ScannedFile& f : v.scanned) files.push_back({{"file", f.file}, {"bytes", f.bytes}});
  return {{"checked_at", v.checked_at},
          {"secure_delete", v.secure_delete},
          {"journal_mode", v.journal_mode},
          {"vacuumed", v.vacuumed},
          {"wal_bytes_after", v.wal_bytes_after},
          {"people_left", v.people_left},
          {"rewrites_left", v.rewrites_left},
          {"residue_scan",
           {{"files", files},
            {"keys_looked_for", v.keys_looked_for},
            {"keys_destroyed", v.keys_destroyed},
            {"keys_found", v.keys_found}}},
          {"audit_entries_verified", v.audit_entries_verified},
          {"store", v.store},
          {"outside_custos", v.outside_custos}};
}

json KeysDestroyedToJson(const std::map<std::string, uint64_t>& keys) {
  json out = json::object();
  for (const auto& [algorithm, n] : keys) out[algorithm] = n;
  return out;
}

std::string SerializeDestructionBatch(const DestructionBatch& b) {
  const json keys = KeysDestroyedToJson(b.progress.keys_destroyed);
  json j = {
      {"v", DestructionBatch::kVersion},
      {"id", b.id},
      {"state", DestructionStateName(b.state)},
      {"trigger", DestructionTriggerName(b.trigger)},
      {"today", b.today},
      {"approver", b.approver},
      {"supervisors", b.supervisors},
      {"executor", b.executor},
      {"field_cipher", b.field_cipher},
      {"created_at", b.created_at},
      {"started_at", b.started_at},
      {"purged_at", b.purged_at},
      {"finished_at", b.finished_at},
      {"plan", PlanToJson(b.plan)},
      {"checkpoint_before",
       {{"size", b.checkpoint_before.size}, {"note", b.checkpoint_before.note}}},
      {"checkpoint_after", {{"size", b.checkpoint_after.size}, {"note", b.checkpoint_after.note}}},
      {"progress",
       {{"chunks", b.progress.chunks},
        {"people_destroyed", b.progress.people_destroyed},
        {"people_rewritten", b.progress.people_rewritten},
        {"fields_removed", b.progress.fields_removed},
        {"keys_destroyed", keys}}}};
  if (b.verification) j["verification"] = PurgeFactsToJson(*b.verification);
  if (!b.authorisation.empty()) j["authorisation"] = json::parse(b.authorisation);
  return j.dump();
}

Result<DestructionBatch> ParseDestructionBatch(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d,
                   DocReader::Open(kDestructionKind, id, body, DestructionBatch::kVersion));
  DestructionBatch b;
  b.id = d.Str("id");
  const std::string state = d.Str("state");
  const std::string trigger = d.Str("trigger");
  b.today = d.Str("today");
  b.approver = d.Str("approver");
  b.supervisors = d.Strings("supervisors");
  b.authorisation = d.Json("authorisation", false);
  b.executor = d.Str("executor");
  b.field_cipher = d.Str("field_cipher", false);
  b.created_at = d.Str("created_at");
  b.started_at = d.Str("started_at", false);
  b.purged_at = d.Str("purged_at", false);
  b.finished_at = d.Str("finished_at", false);
  b.plan = PlanFrom(d.Object("plan"));
  DocReader before = d.Object("checkpoint_before");
  b.checkpoint_before = {before.U64("size"), before.Str("note")};
  if (d.Has("checkpoint_after")) {
    DocReader after = d.Object("checkpoint_after");
    b.checkpoint_after = {after.U64("size"), after.Str("note")};
  }
  DocReader progress = d.Object("progress");
  b.progress.chunks = progress.U64("chunks");
  b.progress.people_destroyed = progress.U64("people_destroyed");
  b.progress.people_rewritten = progress.U64("people_rewritten");
  b.progress.fields_removed = progress.U64("fields_removed");
  b.progress.keys_destroyed = progress.Counts("keys_destroyed");
  if (d.Has("verification") && d.version() == 1) {
    // Version 1 recorded what the purge had checked, without the residue
    // scan or the settings read back.
    DocReader v = d.Object("verification");
    PurgeFacts f;
    f.checked_at = d.Str("purged_at", false);
    f.secure_delete = v.Bool("secure_delete");
    f.journal_mode = "wal";
    f.vacuumed = v.Bool("vacuum");
    f.wal_bytes_after = v.U64("wal_bytes_after_purge");
    f.people_left = v.U64("people_left_to_destroy");
    f.rewrites_left = v.U64("fields_left_to_remove");
    f.audit_entries_verified = v.U64("audit_log_verified_entries");
    b.verification = std::move(f);
  } else if (d.Has("verification")) {
    DocReader v = d.Object("verification");
    PurgeFacts f;
    f.checked_at = v.Str("checked_at");
    f.secure_delete = v.Bool("secure_delete");
    f.journal_mode = v.Str("journal_mode");
    f.vacuumed = v.Bool("vacuumed");
    f.wal_bytes_after = v.U64("wal_bytes_after");
    f.people_left = v.U64("people_left");
    f.rewrites_left = v.U64("rewrites_left");
    DocReader scan = v.Object("residue_scan");
    for (DocReader& file : scan.Objects("files")) {
      f.scanned.push_back({file.Str("file"), file.U64("bytes")});
    }
    f.keys_looked_for = scan.U64("keys_looked_for");
    f.keys_destroyed = scan.U64("keys_destroyed");
    f.keys_found = scan.U64("keys_found");
    f.audit_entries_verified = v.U64("audit_entries_verified");
    if (v.Has("store")) {  // since PostgreSQL vaults; before, every vault was a file
      f.store = v.Str("store");
      f.outside_custos = v.Strings("outside_custos");
    }
    b.verification = std::move(f);
  }
  RETURN_IF_ERROR(d.status());
  bool known = false;
  for (DestructionState s : {DestructionState::kPlanned, DestructionState::kExecuting,
                             DestructionState::kPurged, DestructionState::kDone}) {
    if (DestructionStateName(s) == state) {
      b.state = s;
      known = true;
    }
  }
  auto parsed_trigger = ParseDestructionTrigger(trigger);
  if (!known || !parsed_trigger) return Fail(d.Damaged("an unknown state or trigger"));
  b.trigger = *parsed_trigger;
  if (b.state >= DestructionState::kPurged && !b.verification) {
    return Fail(d.Damaged("a purged batch without what its purge found"));
  }
  return b;
}

// ---- The issued certificate ----

std::string SerializeCertificateDoc(const CertificateDoc& c) {
  return json{{"v", 1},
              {"destruction", c.destruction},
              {"sha256", c.sha256},
              {"issued_at", c.issued_at},
              {"lang", c.lang}}
      .dump();
}

Result<CertificateDoc> ParseCertificateDoc(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kCertificateKind, id, body, 1));
  CertificateDoc c;
  c.destruction = d.Str("destruction");
  c.sha256 = d.Str("sha256");
  c.issued_at = d.Str("issued_at");
  c.lang = d.Str("lang", false);
  RETURN_IF_ERROR(d.status());
  return c;
}

// ---- Physical media ----

std::string_view MediaStateName(MediaState s) {
  return s == MediaState::kDestroyed ? "destroyed" : "registered";
}

std::string SerializeMediaDoc(const MediaDoc& m) {
  json j = {{"v", 1},
            {"id", m.id},
            {"kind", m.kind},
            {"description", m.description},
            {"state", MediaStateName(m.state)},
            {"registered_at", m.registered_at}};
  if (m.state == MediaState::kDestroyed) {
    j["method"] = m.method;
    j["executor"] = m.executor;
    j["witnesses"] = m.witnesses;
    j["vendor"] = m.vendor;
    j["vendor_certificate"] = m.vendor_certificate;
    j["destroyed_at"] = m.destroyed_at;
  }
  return j.dump();
}

Result<MediaDoc> ParseMediaDoc(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kMediaKind, id, body, 1));
  MediaDoc m;
  m.id = d.Str("id");
  m.kind = d.Str("kind");
  m.description = d.Str("description", false);
  const std::string state = d.Str("state");
  m.registered_at = d.Str("registered_at", false);
  m.method = d.Str("method", false);
  m.executor = d.Str("executor", false);
  m.witnesses = d.Strings("witnesses");
  m.vendor = d.Str("vendor", false);
  m.vendor_certificate = d.Str("vendor_certificate", false);
  m.destroyed_at = d.Str("destroyed_at", false);
  RETURN_IF_ERROR(d.status());
  if (state == "destroyed") {
    m.state = MediaState::kDestroyed;
  } else if (state != "registered") {
    return Fail(d.Damaged("an unknown state"));
  }
  return m;
}

}  // namespace custos::workflow
