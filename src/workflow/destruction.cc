// Executing a destruction batch: planned -> executing -> purged -> done,
// each step committed with its audit entry, resumable after a crash.
#include "workflow/destruction.h"

#include <sys/stat.h>

#include <algorithm>

#include "access/users.h"
#include "crypto/random.h"
#include "tlog/audit_log.h"
#include "workflow/blockers.h"
#include "workflow/destruction_internal.h"

namespace custos::workflow {
namespace {

using internal::Work;

Status CheckApprovals(const ExecuteOptions& o) {
  if (o.approver.empty()) {
    return Fail(InvalidArgument("--approver NAME is required (the unit head who approves)"));
  }
  if (o.supervisors.size() != 2 || o.supervisors[0].empty() || o.supervisors[1].empty() ||
      o.supervisors[0] == o.supervisors[1]) {
    return Fail(InvalidArgument(
        "give two different supervisors (监销人): --supervisor NAME --supervisor NAME"));
  }
  if (o.supervisors[0] == o.approver || o.supervisors[1] == o.approver) {
    return Fail(InvalidArgument("a supervisor may not be the approver"));
  }
  if (o.chunk_people == 0) return Fail(InvalidArgument("chunk size must be positive"));
  return Ok();
}

std::string NewBatchId(const Date& today) {
  Bytes r(4);
  crypto::RandomFill(r);
  std::string d = FormatIsoDate(today);
  d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
  return "D" + d + "-" + HexEncode(r);
}

CheckpointRef LatestCheckpoint(vault::Vault& vault) {
  auto cp = vault.audit().LatestCheckpoint();
  if (!cp || !*cp) return {};
  return {(*cp)->size, (*cp)->note};
}

uint64_t WalBytes(vault::Vault& vault) {
  for (const std::string& f : vault.Files()) {
    struct stat st {};
    if (f.size() > 4 && f.compare(f.size() - 4, 4, "-wal") == 0 && ::stat(f.c_str(), &st) == 0) {
      return static_cast<uint64_t>(st.st_size);
    }
  }
  return 0;
}

std::string Now() { return FormatRfc3339(NowUnixSeconds()); }

// One run of ExecuteDestruction: the batch it started or resumed, and each
// step from where the batch stands.
class Execution {
 public:
  Execution(vault::Vault& vault, const ExecuteOptions& o) : vault_(vault), o_(o) {}

  Result<ExecuteReport> Run();

 private:
  Status Fault(std::string_view step) { return o_.fault ? o_.fault(step) : Ok(); }
  Status PutBatch() {
    return vault_.PutDoc(kDestructionKind, batch_.id, SerializeDestructionBatch(batch_));
  }
  // Plans a new batch and records it (false: nothing to do).
  Result<bool> Start(const std::vector<DestructionBatch>& batches);
  Status DestroyInChunks(Work& w);
  Status DestroyOneChunk(Work& w, size_t& di, size_t& ri, DestructionProgress& done);
  Status PurgeAndVerify(const Work& w);
  Result<PurgeFacts> CheckPurge(const Work& w, Work& after);
  Status Finish();

  vault::Vault& vault_;
  const ExecuteOptions& o_;
  bool approvals_ = false;  // the vault has users: requests and signed approvals
  std::map<int64_t, vault::DatasetInfo> datasets_;
  DestructionBatch batch_;
  ExecuteReport report_;
};

Result<ExecuteReport> Execution::Run() {
  ASSIGN_OR_RETURN(approvals_, access::HasUsers(vault_));
  if (!approvals_) {
    if (!o_.request.empty()) {
      return Fail(InvalidArgument("--request: this vault has no users, so no requests; name the "
                                  "approver and supervisors"));
    }
    RETURN_IF_ERROR(CheckApprovals(o_));
  } else if (!o_.approver.empty() || !o_.supervisors.empty()) {
    return Fail(InvalidArgument(
        "this vault has users: the approver and the supervisors are those who sign the "
        "request's approvals (custos approve); drop --approver and --supervisor"));
  }
  if (o_.chunk_people == 0) return Fail(InvalidArgument("chunk size must be positive"));
  ASSIGN_OR_RETURN(std::vector<DestructionBatch> batches, ListDestructions(vault_));
  for (DestructionBatch& b : batches) {
    if (b.state != DestructionState::kDone) {
      batch_ = b;
      report_.resumed = true;
    }
  }
  ASSIGN_OR_RETURN(datasets_, internal::LoadDatasets(vault_));
  report_.id = batch_.id;
  if (!report_.resumed) {
    ASSIGN_OR_RETURN(bool started, Start(batches));
    if (!started) return report_;
  }
  if (batch_.state == DestructionState::kPlanned || batch_.state == DestructionState::kExecuting) {
    ASSIGN_OR_RETURN(Date today, ParseIsoDate(batch_.today));
    ASSIGN_OR_RETURN(Work w, internal::ComputeWork(vault_, datasets_, today));
    RETURN_IF_ERROR(DestroyInChunks(w));
    RETURN_IF_ERROR(PurgeAndVerify(w));
  }
  if (batch_.state == DestructionState::kPurged) RETURN_IF_ERROR(Finish());
  return report_;
}

Result<bool> Execution::Start(const std::vector<DestructionBatch>& batches) {
  ASSIGN_OR_RETURN(DestroyPlan plan, PlanDestruction(vault_, o_.today));
  if (!plan.blockers.empty()) {
    return Fail(FailedPrecondition(BlockersMessage("destruction is blocked:", plan.blockers)));
  }
  if (plan.people_destroyed == 0 && plan.people_rewritten == 0 && !batches.empty()) {
    report_.id = batches.back().id;
    report_.already_done = true;
    return false;
  }
  std::optional<access::Request> request;
  if (approvals_) {
    const nlohmann::json op = DestructionOperation(vault_, plan, o_.trigger, o_.today);
    if (o_.request.empty()) {
      ASSIGN_OR_RETURN(report_.requested, access::CreateRequest(vault_, op));
      return false;
    }
    ASSIGN_OR_RETURN(request, access::CheckApproved(vault_, o_.request, op));
  }
  batch_.id = report_.id = NewBatchId(o_.today);
  batch_.trigger = o_.trigger;
  batch_.today = FormatIsoDate(o_.today);
  batch_.approver = o_.approver;
  batch_.supervisors = o_.supervisors;
  if (request) {
    // Slot 0: the officer or approver; slot 1: the two supervisors.
    batch_.approver.clear();
    batch_.supervisors.clear();
    for (const access::Review& r : request->reviews) {
      if (r.slot == 0) batch_.approver = r.reviewer;
      if (r.slot == 1) batch_.supervisors.push_back(r.reviewer);
    }
  }
  batch_.executor = vault_.actor();
  batch_.field_cipher = std::string(crypto::FieldSuiteName(vault_.field_suite()));
  batch_.created_at = Now();
  batch_.plan = plan.snapshot;
  batch_.checkpoint_before = LatestCheckpoint(vault_);
  tlog::Event e = vault_.MakeEvent("destroy.execute");
  e.objects = {{"destruction", batch_.id},
               {"trigger", DestructionTriggerName(o_.trigger)},
               {"approver", batch_.approver},
               {"supervisors", batch_.supervisors},
               {"people_to_destroy", plan.people_destroyed},
               {"people_to_rewrite", plan.people_rewritten},
               {"people_retained", plan.people_retained},
               {"catalogue_version", plan.snapshot.catalogue_version}};
  if (request) e.objects["request"] = request->id;
  Status planned = vault_.Transact(e, [&](tlog::Event&) -> Status {
    // Another process may have begun a destruction since the list was read.
    ASSIGN_OR_RETURN(auto now, ListDestructions(vault_));
    if (now.size() != batches.size()) {
      return Fail(
          Unavailable("another destruction began while this one was being planned; "
                      "run destroy execute again to resume it"));
    }
    if (request) {
      // Consumed with the batch: both commit, or neither.
      RETURN_IF_ERROR(access::MarkExecuted(vault_, *request));
      batch_.authorisation = access::RequestToJson(*request).dump();
    }
    return PutBatch();
  });
  RETURN_IF_ERROR(planned);
  RETURN_IF_ERROR(Fault("planned"));
  return true;
}

// Deletes people and rewrites records in chunks, each committed with its
// destroy.chunk entry and the batch's progress.
Status Execution::DestroyInChunks(Work& w) {
  size_t di = 0, ri = 0;
  while (di < w.destroy.size() || ri < w.rewrite.size() ||
         batch_.state == DestructionState::kPlanned) {
    DestructionProgress done;
    const DestructionBatch before = batch_;
    tlog::Event e = vault_.MakeEvent("destroy.chunk");
    Status committed = vault_.Transact(e, [&](tlog::Event& ev) -> Status {
      done = {};
      RETURN_IF_ERROR(DestroyOneChunk(w, di, ri, done));
      batch_ = before;
      DestructionProgress& p = batch_.progress;
      p.chunks += 1;
      p.people_destroyed += done.people_destroyed;
      p.people_rewritten += done.people_rewritten;
      p.fields_removed += done.fields_removed;
      for (const auto& [algorithm, n] : done.keys_destroyed) p.keys_destroyed[algorithm] += n;
      batch_.state = DestructionState::kExecuting;
      if (batch_.started_at.empty()) batch_.started_at = Now();
      nlohmann::ordered_json keys = done.keys_destroyed;
      ev.objects = {{"destruction", batch_.id},
                    {"chunk", p.chunks},
                    {"people_destroyed", done.people_destroyed},
                    {"people_rewritten", done.people_rewritten},
                    {"fields_removed", done.fields_removed},
                    {"keys_destroyed", keys},
                    {"method", "crypto-shred"}};
      return PutBatch();
    });
    if (!committed) {
      batch_ = before;
      return committed;
    }
    report_.people_destroyed += done.people_destroyed;
    report_.people_rewritten += done.people_rewritten;
    report_.fields_removed += done.fields_removed;
    ++report_.chunks;
    if (o_.progress) o_.progress(di + ri, w.destroy.size() + w.rewrite.size());
    RETURN_IF_ERROR(Fault("chunk"));
  }
  return Ok();
}

Status Execution::DestroyOneChunk(Work& w, size_t& di, size_t& ri, DestructionProgress& done) {
  uint64_t n = 0;
  if (di == 0 && w.destroy.size() >= o_.bulk_min_people && w.kept.size() < w.destroy.size()) {
    ASSIGN_OR_RETURN(uint64_t deleted, vault_.DeletePersonsExcept(w.kept));
    if (deleted != w.destroy.size()) {
      // People were added or forgotten by another process since the work
      // was computed: nothing here is damaged, but the approved scope no
      // longer matches. Rolled back; a second run recomputes.
      return Fail(Unavailable("the vault changed while the destruction ran (" +
                              std::to_string(deleted) + " people to delete, not " +
                              std::to_string(w.destroy.size()) +
                              "); nothing was deleted: run destroy execute again"));
    }
    for (vault::KeyWrapFormat f : w.destroy_wraps) {
      ++done.keys_destroyed[std::string(vault::KeyWrapAlgorithm(f))];
    }
    done.people_destroyed = deleted;
    di = w.destroy.size();
    n = o_.chunk_people;  // the bulk chunk is a chunk of its own
  }
  for (; di < w.destroy.size() && n < o_.chunk_people; ++di, ++n) {
    Status deleted = vault_.DeletePerson(w.destroy[di]);
    // Forgotten by another process meanwhile: gone either way.
    if (!deleted && deleted.error().code() == ErrorCode::kNotFound) continue;
    RETURN_IF_ERROR(deleted);
    ++done.people_destroyed;
    ++done.keys_destroyed[std::string(vault::KeyWrapAlgorithm(w.destroy_wraps[di]))];
  }
  for (; ri < w.rewrite.size() && n < o_.chunk_people; ++ri, ++n) {
    for (const internal::RecordChange& c : w.rewrite[ri].second) {
      if (c.body.empty()) {
        RETURN_IF_ERROR(vault_.DeleteRecord(c.record_id));
      } else {
        RETURN_IF_ERROR(vault_.RewriteRecord(c.record_id, c.body));
      }
      done.fields_removed += c.removed;
    }
    ++done.people_rewritten;
  }
  return Ok();
}

// What the purge achieved, read back from the store and the files.
Result<PurgeFacts> Execution::CheckPurge(const Work& w, Work& after) {
  PurgeFacts f;
  f.checked_at = Now();
  f.vacuumed = true;  // PurgeResidue(vacuum) returned purged: VACUUM completed
  ASSIGN_OR_RETURN(vault::Vault::ResidueSettings settings, vault_.ReadResidueSettings());
  f.secure_delete = settings.secure_delete;
  f.journal_mode = settings.journal_mode;
  f.wal_bytes_after = WalBytes(vault_);
  ASSIGN_OR_RETURN(Date today, ParseIsoDate(batch_.today));
  ASSIGN_OR_RETURN(after, internal::ComputeWork(vault_, datasets_, today));
  f.people_left = after.destroy.size();
  f.rewrites_left = after.rewrite.size();
  f.store = vault_.StoreKind();
  f.keys_destroyed = w.destroy.size();
  if (f.store == "sqlite") {
    ASSIGN_OR_RETURN(vault::Vault::ResidueScan scan, vault_.ScanForResidue(w.residue_sample));
    for (const auto& [file, bytes] : scan.files) f.scanned.push_back({file, bytes});
    f.keys_looked_for = scan.needles;
    f.keys_found = scan.found;
  }
  // A database's files are its server's, not ours to read: nothing scanned,
  // and the copies the cluster keeps (WAL, archives, backups) are stated as
  // the owner's steps (RegisterDatabaseCopies, in the purge's transaction).
  ASSIGN_OR_RETURN(tlog::VerifyReport verified, vault_.VerifyAudit());
  f.audit_entries_verified = verified.entries;
  return f;
}

// Purges the vault's files, checks what the purge left and records it.
Status Execution::PurgeAndVerify(const Work& w) {
  // SQLite: freed pages are zeroed (secure_delete), the WAL is checkpointed
  // and truncated, VACUUM rebuilds the file. PostgreSQL: VACUUM FULL
  // rewrites the tables without the deleted rows.
  ASSIGN_OR_RETURN(vault::PurgeResult purge, vault_.PurgeResidue(/*vacuum=*/true));
  if (!purge.purged) {
    return Fail(Unavailable("destruction " + batch_.id +
                            ": every person in scope is destroyed, but " + purge.why_not +
                            "; run destroy execute again when the vault is idle to finish"));
  }
  Work after;
  auto checked = CheckPurge(w, after);
  if (!checked) return Fail(checked.error().WithContext("destruction " + batch_.id));
  PurgeFacts& f = *checked;
  if (f.people_left != 0 || f.rewrites_left != 0 || f.wal_bytes_after != 0) {
    // Another process wrote meanwhile (an import adds people, any change
    // refills the WAL): not damage, and a second run finishes the work.
    return Fail(Unavailable("destruction " + batch_.id + ": verification after the purge found " +
                            std::to_string(f.people_left) + " people and " +
                            std::to_string(f.rewrites_left) + " rewrites left and " +
                            std::to_string(f.wal_bytes_after) +
                            " bytes in the WAL (another process wrote meanwhile); run "
                            "destroy execute again"));
  }
  if ((f.store == "sqlite" && !f.secure_delete) || f.keys_found != 0) {
    return Fail(DataLoss("destruction " + batch_.id + ": after the purge, secure_delete is " +
                         (f.secure_delete ? "on" : "OFF") + " and the residue scan found " +
                         std::to_string(f.keys_found) + " of " + std::to_string(f.keys_looked_for) +
                         " destroyed keys in the vault's files; the batch is not finished"));
  }
  const DestructionBatch before = batch_;
  batch_.state = DestructionState::kPurged;
  batch_.purged_at = Now();
  tlog::Event e = vault_.MakeEvent("destroy.purge");
  e.objects = {{"destruction", batch_.id},
               {"store", f.store},
               {"vacuum", f.vacuumed},
               {"secure_delete", f.secure_delete},
               {"wal_bytes_after", f.wal_bytes_after},
               {"keys_looked_for", f.keys_looked_for},
               {"keys_found", f.keys_found},
               {"verified", true}};
  Status purged = vault_.Transact(e, [&](tlog::Event& ev) -> Status {
    if (f.store != "sqlite") {
      ASSIGN_OR_RETURN(f.outside_custos, RegisterDatabaseCopies(vault_, batch_.id));
      ev.objects["outside_custos"] = f.outside_custos;
    }
    batch_.verification = f;
    for (const auto& [id, ds] : datasets_) {
      const uint64_t rows = after.kept_records.count(id) ? after.kept_records.at(id) : 0;
      const uint64_t people = after.kept_people.count(id) ? after.kept_people.at(id) : 0;
      RETURN_IF_ERROR(vault_.UpdateDatasetCounts(id, rows, people));
    }
    return PutBatch();
  });
  if (!purged) {
    batch_ = before;
    return purged;
  }
  return Fault("purged");
}

Status Execution::Finish() {
  batch_.checkpoint_after = LatestCheckpoint(vault_);
  batch_.state = DestructionState::kDone;
  batch_.finished_at = Now();
  const DestructionProgress& p = batch_.progress;
  tlog::Event e = vault_.MakeEvent("destroy.done");
  e.objects = {{"destruction", batch_.id},
               {"chunks", p.chunks},
               {"people_destroyed", p.people_destroyed},
               {"people_rewritten", p.people_rewritten},
               {"fields_removed", p.fields_removed}};
  RETURN_IF_ERROR(vault_.Transact(e, [&](tlog::Event&) { return PutBatch(); }));
  ASSIGN_OR_RETURN(report_.purge, vault_.PurgeResidue(/*vacuum=*/false));
  return Ok();
}

}  // namespace

Result<std::vector<DestructionBatch>> ListDestructions(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kDestroyPlan));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kDestructionKind));
  std::vector<DestructionBatch> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(DestructionBatch b, ParseDestructionBatch(key, body));
    out.push_back(std::move(b));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DestructionBatch& a, const DestructionBatch& b) {
                     return a.created_at < b.created_at;
                   });
  return out;
}

nlohmann::json DestructionOperation(const vault::Vault& vault, const DestroyPlan& plan,
                                    DestructionTrigger trigger, const Date& today) {
  nlohmann::json datasets = nlohmann::json::array();
  std::vector<const DatasetPlan*> sorted;
  for (const DatasetPlan& d : plan.snapshot.datasets) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(),
            [](const DatasetPlan* a, const DatasetPlan* b) { return a->dataset < b->dataset; });
  for (const DatasetPlan* d : sorted) {
    nlohmann::json fields = nlohmann::json::array();
    for (const FieldPlan& f : d->fields) {
      if (f.destroyed_people == 0) continue;
      fields.push_back({{"field", f.field}, {"people", f.destroyed_people}});
    }
    datasets.push_back({{"dataset", d->dataset},
                        {"people", d->people_destroyed},
                        {"records", d->records_destroyed},
                        {"fields", fields}});
  }
  return {{"kind", "destroy.execute"},
          {"vault", vault.IdHex()},
          {"trigger", DestructionTriggerName(trigger)},
          {"today", FormatIsoDate(today)},
          {"catalogue_version", plan.snapshot.catalogue_version},
          {"people_to_destroy", plan.people_destroyed},
          {"people_to_rewrite", plan.people_rewritten},
          {"people_retained", plan.people_retained},
          {"datasets", datasets}};
}

Result<ExecuteReport> ExecuteDestruction(vault::Vault& vault, const ExecuteOptions& options) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kDestroyExecute));
  return Execution(vault, options).Run();
}

}  // namespace custos::workflow
