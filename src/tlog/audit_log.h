// The vault's tamper-evident audit log: entries (docs/formats/audit-entry.md)
// as leaves of an RFC 9162 Merkle tree whose signed checkpoints
// (docs/formats/checkpoint.md) let anyone holding an old checkpoint prove
// that history was not rewritten.
//
// Storage is the vault's Store, in the caller's transaction: Append and
// SignCheckpoint REQUIRE an open transaction, so an entry commits (or rolls
// back) with the change it records. After a rollback call Reload().
//
// Thread safety: one thread at a time, like the Store.
#ifndef CUSTOS_TLOG_AUDIT_LOG_H_
#define CUSTOS_TLOG_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/signer.h"
#include "store/store.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace custos::tlog {

// What happened, before it gets a sequence number and a time.
struct Event {
  std::string actor;
  std::string via = "key";  // how the actor authenticated (access::ViaName)
  std::string action;
  std::string purpose;
  nlohmann::ordered_json objects = nlohmann::ordered_json::object();
  std::string result = "ok";  // ok | refused | failed
};

struct Entry {
  uint64_t seq = 0;
  std::string time;  // RFC 3339
  Event event;
};

// The exact bytes of an entry (the Merkle leaf data).
std::string EncodeEntry(uint64_t seq, int64_t unix_time, const Event& e);
// Strict parse of one entry as docs/formats/audit-entry.md says: one JSON
// object, valid UTF-8, no insignificant whitespace, exactly the members in
// their order and with their types. kDataLoss otherwise (an entry that does
// not parse was tampered with). VerifyLog applies the same check.
Result<Entry> ParseEntry(std::string_view data);

struct InclusionProof {
  uint64_t index = 0;
  uint64_t size = 0;
  Hash leaf_hash{};
  std::vector<Hash> path;
  Hash root{};
};

class AuditLog {
 public:
  // Loads the tree frontier (O(log n) node reads). `signer` signs
  // checkpoints; its public key verifies them.
  static Result<std::unique_ptr<AuditLog>> Open(store::Store& store, std::string origin,
                                                const crypto::Signer& signer);

  uint64_t size() const { return size_; }
  const std::string& origin() const { return origin_; }
  VerifierKey verifier_key() const;

  // Appends one entry and its tree nodes. REQUIRES an open transaction.
  // Returns the entry's seq.
  Result<uint64_t> Append(const Event& event);
  // Signs a checkpoint of the current size if the log grew since the last
  // one, after checking the tree still has the last checkpoint's root.
  // REQUIRES an open transaction. kDataLoss if the stored tree disagrees.
  Status SignCheckpoint();
  // Re-reads the frontier after a rolled-back transaction.
  Status Reload();

  // Root of the first `size` leaves (O(log n) reads). REQUIRES size <= size().
  Result<Hash> RootAt(uint64_t size);
  // REQUIRES index < size <= size().
  Result<InclusionProof> ProveInclusion(uint64_t index, uint64_t size);
  Result<std::vector<Hash>> ProveConsistency(uint64_t old_size, uint64_t new_size);

  // The latest signed checkpoint note, if any.
  Result<std::optional<store::CheckpointRow>> LatestCheckpoint();

  // What Repair found and did.
  struct RepairReport {
    uint64_t entries = 0;
    // Tree nodes re-derived from the entries (missing or different).
    uint64_t nodes_rewritten = 0;
    // Nodes past the last entry (of entries lost from the end), removed.
    uint64_t nodes_removed = 0;
    // Entries whose bytes no longer hash to the leaf stored when they were
    // appended: their content changed after they were logged (the first
    // 100, and how many in all).
    std::vector<uint64_t> entries_changed;
    uint64_t entries_changed_count = 0;
    // Signed checkpoints that no longer match the entries, retired from the
    // checkpoint list (kept verbatim as documents, listed in the entry).
    struct Retired {
      uint64_t size = 0;
      std::string root;    // hex, as signed; empty if the note does not parse
      std::string reason;  // why it no longer holds
    };
    std::vector<Retired> retired;
    bool changed() const {
      return nodes_rewritten != 0 || nodes_removed != 0 || !retired.empty();
    }
    std::optional<uint64_t> repair_entry;  // seq of the audit.repair entry
  };

  // Diagnoses and repairs a log that a defect left inconsistent (older
  // versions could overwrite one process's entry with another's): the tree
  // is re-derived from the entries, which are never changed; checkpoints
  // that no longer match them are retired and kept verbatim (document kind
  // "audit.retired_checkpoint"); then an "audit.repair" entry (`base` gives
  // actor and purpose) records all of it, and a new checkpoint is signed.
  // Nothing is hidden: the entry names every retired checkpoint and every
  // entry that changed after it was logged, and anyone holding a retired
  // checkpoint still sees the break (audit consistency --old). With
  // `dry_run` nothing is written. REQUIRES an open write transaction.
  // kDataLoss, with nothing changed, when an entry is missing before the
  // last one or malformed: no repair can re-derive those.
  Result<RepairReport> Repair(const Event& base, bool dry_run);

 private:
  AuditLog(store::Store& store, std::string origin, const crypto::Signer& signer)
      : store_(store), origin_(std::move(origin)), signer_(signer) {}
  Result<Hash> Node(uint32_t level, uint64_t index);
  Result<Hash> RangeHash(uint64_t begin, uint64_t end);
  // Nodes that cover a leaf at or past `size` (read only; for a dry repair).
  Result<uint64_t> CountNodesFrom(uint64_t size);
  // Repair's last step: keeps each retired checkpoint as a document, deletes
  // it, and records audit.repair with a fresh checkpoint.
  Status RecordRepair(const Event& base, const std::vector<store::CheckpointRow>& checkpoints,
                      RepairReport& rep);

  store::Store& store_;
  std::string origin_;
  const crypto::Signer& signer_;
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // complete subtrees of size_'s binary decomposition, left to right
};

// The result of a full verification.
struct VerifyReport {
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  Hash root{};
  // Entries that record a repair of the log (audit.repair): verification
  // passes after one, and says so.
  std::vector<uint64_t> repairs;
  // Entries written with the vault's key and no user on a vault that has
  // users ("via": "break-glass").
  std::vector<uint64_t> break_glass;
};

// Recomputes the tree from every stored entry and checks each entry's form
// and seq, each stored leaf hash, every stored checkpoint's signature and
// root, and that the last checkpoint covers every entry. The first problem
// found is returned as kDataLoss naming the entry (or the range of entries a
// checkpoint covers) or the checkpoint.
Result<VerifyReport> VerifyLog(store::Store& store, const VerifierKey& key);

// Verifies an exported log (checkpoint note, entries.jsonl bytes, verifier
// key) the way an outside auditor would, without the vault.
Result<VerifyReport> VerifyExport(std::string_view checkpoint_note, std::string_view entries_jsonl,
                                  const VerifierKey& key);

}  // namespace custos::tlog

#endif  // CUSTOS_TLOG_AUDIT_LOG_H_
