// Destruction at the branch's closure (PIPL Art. 47 ¶1: the processor stops
// providing its service) and at the end of retention: the plan, the recorded
// batch that executes it, and the destruction record (销毁记录).
//
// A batch is the workflow document destruction/<id>, whose state moves
//   planned -> executing -> purged -> done
// Each step commits with its audit entry: destroy.execute (planned), one
// destroy.chunk per chunk of people (executing), destroy.purge (purged),
// destroy.done (done). A run interrupted at any point (kill -9, power loss)
// leaves committed chunks committed and the rest untouched; running
// ExecuteDestruction again resumes the unfinished batch and finishes it.
//
// What is destroyed: every person with no field under an unexpired retention
// binding (data key, records, index entries and per-person state deleted:
// crypto-shredding), and, for retained people, every field not retained (the
// record is rewritten without it). Then the vault files are purged
// (secure_delete, WAL checkpoint and truncate, VACUUM) and verified.
#ifndef CUSTOS_WORKFLOW_DESTRUCTION_H_
#define CUSTOS_WORKFLOW_DESTRUCTION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <optional>

#include "access/requests.h"
#include "base/result.h"
#include "base/time.h"
#include "vault/vault.h"
#include "workflow/destruction_doc.h"

namespace custos::workflow {

// The plan (docs/formats/certificate.md, "plan"): per dataset and field the
// people whose value is destroyed or retained (rule, until), transfers and
// their receipts, and blockers. Counts only, no personal data.
struct DestroyPlan {
  PlanSnapshot snapshot;
  std::vector<Blocker> blockers;
  uint64_t people_total = 0;
  uint64_t people_destroyed = 0;   // deleted whole
  uint64_t people_retained = 0;    // kept, frozen (maybe rewritten)
  uint64_t people_rewritten = 0;   // retained but with fields to remove
};

Result<DestroyPlan> PlanDestruction(vault::Vault& vault, const Date& today = TodayInChina());

struct ExecuteOptions {
  // On a vault without users: the names of who approved and supervised.
  std::string approver;
  std::vector<std::string> supervisors;  // exactly two, distinct from the approver
  // On a vault with users: the approved request (docs/formats/approval.md);
  // the approver and supervisors are those who signed its approvals.
  std::string request;
  Date today = TodayInChina();
  DestructionTrigger trigger = DestructionTrigger::kBranchClosure;
  uint64_t chunk_people = 50000;
  // From this many people to destroy on, and when fewer are kept than
  // destroyed, they go in one bulk transaction (Store::DeletePersonsExcept,
  // whose cost grows with what is kept): 1,000,000 people in seconds.
  uint64_t bulk_min_people = 100000;
  // Called after each committed chunk: people done (destroyed or
  // rewritten) of those to do in this run.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Test hook, called after each committed step ("planned", "chunk",
  // "purged"); an error stops the run there as a crash would.
  std::function<Status(std::string_view step)> fault;
};

struct ExecuteReport {
  // On a vault with users, a run without a request makes one and stops:
  // the request (id, what it will do) waits for its approvals.
  std::optional<access::Request> requested;
  std::string id;
  bool resumed = false;
  bool already_done = false;
  uint64_t people_destroyed = 0;
  uint64_t people_rewritten = 0;
  uint64_t fields_removed = 0;
  uint64_t chunks = 0;
  // The last purge of the vault's files (another process can delay it).
  vault::PurgeResult purge{true, {}};
};

// Runs (or resumes) a destruction batch. On a vault with users a new batch
// needs an approved request (ExecuteOptions::request) whose operation
// (DestructionOperation) is still the one that would run; without one, it
// makes the request and returns it in ExecuteReport::requested. The
// request is consumed in the transaction that records the batch, and the
// batch keeps it with its signed reviews for the certificate.
//   kInvalidArgument    no users: no approver, not exactly two distinct
//                       supervisors, or a supervisor who is also the
//                       approver; users: names given besides the request
//   kFailedPrecondition the plan has blockers (listed with their commands),
//                       or the request is not approved or approved another
//                       operation
//   kFailedPrecondition the plan has blockers (listed with their commands)
//   kUnavailable        another process delayed the purge or wrote during
//                       it, or the residue scan found a destroyed key: run
//                       it again when the vault is idle
Result<ExecuteReport> ExecuteDestruction(vault::Vault& vault, const ExecuteOptions& options);

// What a destruction on `today` would do, as the operation a request
// approves (docs/formats/approval.md): counts and names, no personal data.
nlohmann::json DestructionOperation(const vault::Vault& vault, const DestroyPlan& plan,
                                    DestructionTrigger trigger, const Date& today);

// The batches, oldest first.
Result<std::vector<DestructionBatch>> ListDestructions(vault::Vault& vault);

// The destruction record of a finished batch (the latest when `id` is
// empty), as docs/formats/certificate.md specifies: the JSON text that is
// signed, from the batch's recorded facts. kNotFound if there is no
// such batch, kFailedPrecondition if it is not done.
Result<std::string> BuildCertificate(vault::Vault& vault, const std::string& id);

struct IssuedCertificate {
  std::string destruction;
  std::string json_path, sig_path, html_path;
  std::string sha256;
};
// Writes DIR/certificate.json, its SSHSIG (namespace custos-certificate, the
// vault's key) and DIR/certificate.html (lang "zh" or "en"), and records
// certificate.issue.
Result<IssuedCertificate> IssueCertificate(vault::Vault& vault, const std::string& id,
                                           const std::string& out_dir, const std::string& lang);

inline constexpr std::string_view kCertificateNamespace = "custos-certificate";

// Physical media (docs/retention.md): registered, then destroyed.
struct MediaRecord {
  std::string id;
  std::string kind;  // disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other
  std::string description;
  std::string method;  // shred, degauss, incinerate, overwrite, delete
  std::string executor;
  std::vector<std::string> witnesses;
  std::string vendor;
  std::string vendor_certificate;
};
// kInvalidArgument for a missing id/kind; kAlreadyExists if registered.
Status RegisterMedia(vault::Vault& vault, const MediaRecord& media);
// Records the destruction of a medium (registering it if new).
// kInvalidArgument: unknown kind or method, no executor, not two distinct
// witnesses, a vendor certificate without a vendor. kFailedPrecondition if
// already recorded as destroyed.
Status RecordMediaDestruction(vault::Vault& vault, const MediaRecord& media);
Result<std::vector<MediaDoc>> ListMedia(vault::Vault& vault);
// A PostgreSQL vault's copies outside Custos (the cluster's WAL, archives,
// replicas; backups and dumps), registered as media of the destruction
// `batch_id` for their owner to delete and record: returns their ids.
// Inside the destruction's transaction (no authorisation of its own).
Result<std::vector<std::string>> RegisterDatabaseCopies(vault::Vault& vault,
                                                        const std::string& batch_id);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_DESTRUCTION_H_
