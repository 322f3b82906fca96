// The destruction workflow's documents, one typed codec each (struct,
// parse, serialize, schema version), states as enums:
//
//   kind          key            what
//   destruction   batch id       DestructionBatch (plan, state, progress, what the purge found)
//   certificate   batch id       CertificateDoc (the issued record's hash)
//   media         medium id      MediaDoc (registered, then destroyed)
//
// The plan (PlanSnapshot) is also what `custos destroy plan --json` prints
// and what the certificate's counts come from. Documents carry "v" (absent:
// 1); damage is kDataLoss naming kind, key and member.
#ifndef CUSTOS_WORKFLOW_DESTRUCTION_DOC_H_
#define CUSTOS_WORKFLOW_DESTRUCTION_DOC_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "workflow/transfer_doc.h"

namespace custos::workflow {

inline constexpr std::string_view kDestructionKind = "destruction";
inline constexpr std::string_view kCertificateKind = "certificate";
inline constexpr std::string_view kMediaKind = "media";

// Something that must be done first, and the command that does it. `kind`
// names the state that blocks, for machines and tests.
enum class BlockerKind {
  kTransferOpen,           // a transfer not closed by the recipient's receipt
  kConsentUnanswered,      // an Art. 23 transfer's separate consent requests
  kDestructionUnfinished,  // a batch left planned, executing or purged
  kPeopleUnresolved,       // people neither transferred, retained nor destroyed
  kFieldsUnretained,       // retained people still holding fields no rule keeps
  kMediumNotDestroyed,     // a registered medium without its destruction record
  kAuditLogFails,          // the audit log does not verify
  kNoDestruction,          // no destruction has been executed
  kNoCertificate,          // a finished destruction without its certificate
};
std::string_view BlockerKindName(BlockerKind k);  // "transfer_open", ...

struct Blocker {
  BlockerKind kind = BlockerKind::kTransferOpen;
  std::string what;
  std::string resolve;
};

// ---- The plan ----

struct RetainedBy {
  std::string rule;
  std::string citation;
  std::string citation_zh;
  std::string until;  // YYYY-MM-DD, the latest expiry
};
struct FieldPlan {
  std::string field;
  std::string type;
  bool sensitive = false;
  uint64_t destroyed_people = 0;
  uint64_t retained_people = 0;
  std::vector<RetainedBy> retained_by;
};
struct DatasetPlan {
  std::string dataset;
  uint64_t people_total = 0, people_retained = 0, people_destroyed = 0;
  uint64_t records_total = 0, records_retained = 0, records_destroyed = 0;
  std::vector<FieldPlan> fields;
};
// A transfer as the plan saw it.
struct TransferSeen {
  std::string id;
  TransferState state = TransferState::kPlanned;
  std::string receipt_sha256;  // once closed
};
struct PlanSnapshot {
  std::string today;  // YYYY-MM-DD
  std::string catalogue_version;
  uint64_t people_total = 0, people_destroyed = 0, people_retained = 0, people_rewritten = 0;
  uint64_t fields_removed_from_retained = 0;
  std::vector<DatasetPlan> datasets;
  std::vector<TransferSeen> transfers;
  std::vector<Blocker> blockers;
};
nlohmann::ordered_json PlanToJson(const PlanSnapshot& plan);

// ---- A destruction batch ----

// planned -> executing -> purged -> done.
enum class DestructionState { kPlanned, kExecuting, kPurged, kDone };
std::string_view DestructionStateName(DestructionState s);

// What destroys data and why (PIPL Art. 47 ¶1 (2): the processor stops
// providing its service, or the retention period expired).
enum class DestructionTrigger { kBranchClosure, kRetentionExpired };
std::string_view DestructionTriggerName(DestructionTrigger t);  // "branch-closure", ...
Result<DestructionTrigger> ParseDestructionTrigger(std::string_view s);

struct DestructionProgress {
  uint64_t chunks = 0;
  uint64_t people_destroyed = 0;
  uint64_t people_rewritten = 0;
  uint64_t fields_removed = 0;
  // Data keys destroyed, by wrapping algorithm ("AES-256-GCM", ...): read
  // from the keys themselves before they were deleted.
  std::map<std::string, uint64_t> keys_destroyed;
};

// One file the residue scan read, and how many bytes.
struct ScannedFile {
  std::string file;  // the name, without its directory
  uint64_t bytes = 0;
};

// What was checked right after the purge: read back from the store and the
// files at that moment, never assumed.
struct PurgeFacts {
  std::string checked_at;        // RFC 3339
  bool secure_delete = false;    // PRAGMA secure_delete, read back
  std::string journal_mode;      // PRAGMA journal_mode, read back
  bool vacuumed = false;         // VACUUM ran and completed
  uint64_t wal_bytes_after = 0;  // size of the -wal file after the truncating checkpoint
  uint64_t people_left = 0;      // people still to destroy (0 when verified)
  uint64_t rewrites_left = 0;    // retained people with fields still to remove (0 when verified)
  // The residue scan: wrapped keys of destroyed people (a sample) looked for
  // byte for byte in every file of the vault.
  std::vector<ScannedFile> scanned;
  uint64_t keys_looked_for = 0;
  uint64_t keys_destroyed = 0;  // of how many destroyed
  uint64_t keys_found = 0;      // 0 when verified
  uint64_t audit_entries_verified = 0;
  // Where the vault is: "sqlite" (a file: scanned above) or "postgresql"
  // (a database whose files are the server's: no scan, no secure_delete;
  // VACUUM FULL rewrote its tables, and the copies outside Custos are the
  // media below, for their owner).
  std::string store = "sqlite";
  std::vector<std::string> outside_custos;  // media ids (RegisterDatabaseCopies)
};

// The purge facts as the batch and the certificate state them.
nlohmann::ordered_json PurgeFactsToJson(const PurgeFacts& facts);
// {algorithm: keys destroyed} of a run.
nlohmann::ordered_json KeysDestroyedToJson(const std::map<std::string, uint64_t>& keys);

struct CheckpointRef {
  uint64_t size = 0;
  std::string note;  // the signed C2SP note
};

// Version 2 added the field suite, the keys destroyed by wrapping and the
// purge's facts read back (with the residue scan); version 1 documents
// (no "v") are read with what they had.
struct DestructionBatch {
  static constexpr int kVersion = 2;
  std::string id;
  DestructionState state = DestructionState::kPlanned;
  DestructionTrigger trigger = DestructionTrigger::kBranchClosure;
  std::string today;  // YYYY-MM-DD: the date retention was judged on
  std::string approver;
  std::vector<std::string> supervisors;
  std::string executor;
  std::string field_cipher;  // the vault's field suite (its metadata)
  std::string created_at, started_at, purged_at, finished_at;
  PlanSnapshot plan;
  CheckpointRef checkpoint_before, checkpoint_after;
  DestructionProgress progress;
  std::optional<PurgeFacts> verification;  // from kPurged on
  // On a vault with users: the executed request with its signed reviews
  // (access::RequestToJson), as JSON text; "" when the vault had none.
  std::string authorisation;
};
std::string SerializeDestructionBatch(const DestructionBatch& b);
Result<DestructionBatch> ParseDestructionBatch(std::string_view id, std::string_view body);

// ---- The issued certificate ----

struct CertificateDoc {
  std::string destruction;
  std::string sha256;  // of certificate.json
  std::string issued_at;
  std::string lang;  // of the HTML issued with it
};
std::string SerializeCertificateDoc(const CertificateDoc& c);
Result<CertificateDoc> ParseCertificateDoc(std::string_view id, std::string_view body);

// ---- Physical media ----

enum class MediaState { kRegistered, kDestroyed };
std::string_view MediaStateName(MediaState s);

struct MediaDoc {
  std::string id;
  std::string kind;  // disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other
  std::string description;
  MediaState state = MediaState::kRegistered;
  std::string registered_at;
  // Once destroyed:
  std::string method;  // shred, degauss, incinerate, overwrite, delete
  std::string executor;
  std::vector<std::string> witnesses;
  std::string vendor;
  std::string vendor_certificate;
  std::string destroyed_at;
};
std::string SerializeMediaDoc(const MediaDoc& m);
Result<MediaDoc> ParseMediaDoc(std::string_view id, std::string_view body);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_DESTRUCTION_DOC_H_
