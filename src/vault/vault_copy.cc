// Vault::CopyTo: the whole vault to another file or database, verified on
// both ends, the move recorded on both (docs/postgresql.md, Moving a vault).
//
// Two stores cannot commit together, so the copy is made safe in order:
// the copy is written marked as pending (it takes no change), then this
// vault commits the move (moved_to and a random token: it takes no change
// from then on), then the copy finds that token here, clears its mark and
// records its arrival. Stopped anywhere, at most one of the two takes
// changes: never two vaults of one id whose logs fork.
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "vault/vault.h"

namespace custos::vault {

Result<Vault::CopyReport> Vault::CopyTo(const std::string& to, const KeySource& key,
                                        const std::function<void(uint64_t)>& progress) {
  RETURN_IF_ERROR(Authorize(access::Action::kVaultCopy));
  if (to.empty()) return Fail(InvalidArgument("--to: name the new vault (a file or a URI)"));
  if (to == path_) return Fail(InvalidArgument("--to names the vault being copied"));
  // Refused attempts noted so far go into this log now: once moved, it
  // takes no more entries.
  RETURN_IF_ERROR(FoldRefusedAttempts(/*wait=*/true));
  CopyReport report;
  Bytes token_bytes(16);
  crypto::RandomFill(token_bytes);
  const std::string token = HexEncode(token_bytes);
  // Under this vault's write lock from the first read to the move: nothing
  // changes here while it is copied.
  RETURN_IF_ERROR(BeginWrite());
  std::unique_ptr<store::Store> dest;
  std::unique_ptr<Vault> copy;
  bool created = false;  // from here on, a failure removes what is at `to`
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(bool notes, HasRefusedNotes());
    if (notes) {
      return Fail(
          Unavailable("a refused attempt was noted as the copy began: run vault copy "
                      "again (it is recorded first)"));
    }
    ASSIGN_OR_RETURN(tlog::VerifyReport before, tlog::VerifyLog(*store_, audit_->verifier_key()));
    report.source_audit_size = before.entries;
    report.source_root_sha256 = HexEncode(before.root);
    // The move, in this log before it is copied: the copy's log goes on
    // from it (vault.copied), so both are one history.
    tlog::Event e = MakeEvent("vault.copy");
    e.objects = {{"to", to},
                 {"to_store", store::IsPostgresUri(to) ? "postgresql" : "sqlite"},
                 {"entries_verified", before.entries},
                 {"root_sha256", report.source_root_sha256}};
    RETURN_IF_ERROR(audit_->Append(e).map([](uint64_t) {}));
    RETURN_IF_ERROR(audit_->SignCheckpoint());
    ASSIGN_OR_RETURN(dest, store::CreateStore(to, {options_.lock_wait}));
    created = true;
    RETURN_IF_ERROR(dest->Begin());
    ASSIGN_OR_RETURN(report.counts, store::CopyStore(*store_, *dest, progress));
    RETURN_IF_ERROR(dest->PutMeta(kMetaCopyPending, AsBytes(token + "\n" + path_)));
    RETURN_IF_ERROR(dest->Commit());
    dest.reset();

    // The copy, opened with the key as any command would open it.
    ASSIGN_OR_RETURN(copy, Vault::Open(to, key, "unknown", options_));
    copy->set_principal(principal_);
    ASSIGN_OR_RETURN(tlog::VerifyReport copied, copy->VerifyAudit());
    ASSIGN_OR_RETURN(uint64_t persons, copy->store_->CountPersons());
    ASSIGN_OR_RETURN(uint64_t here, store_->CountPersons());
    if (copied.entries != before.entries + 1 || copied.root == before.root || persons != here) {
      return Fail(DataLoss("the copy at " + to + " holds " + std::to_string(persons) +
                           " people and " + std::to_string(copied.entries) +
                           " audit entries, not " + std::to_string(here) + " and " +
                           std::to_string(before.entries + 1)));
    }
    // This vault stays readable (and verifiable) but takes no more changes.
    RETURN_IF_ERROR(store_->PutMeta(kMetaMovedTo, AsBytes(to)));
    return store_->PutMeta(kMetaMoveToken, AsBytes(token));
  }();
  auto undo = [&](Error why) -> Error {
    copy.reset();
    if (!created) return why;
    Status removed = store::DiscardNewStore(std::move(dest), to);
    if (removed) return why.WithContext("the copy at " + to + " was removed");
    return why.WithContext("the unfinished copy at " + to + " could not be removed (" +
                           removed.error().message() + "): it takes no change; remove it");
  };
  if (!st) {
    store_->Rollback();
    (void)audit_->Reload();
    return Fail(undo(st.error()));
  }
  if (Status committed = store_->Commit(); !committed) {
    (void)audit_->Reload();
    // A lost connection may hide a commit that happened: ask the store.
    bool moved = false;
    if (auto again = store::OpenStore(path_, {options_.lock_wait}); again) {
      auto t = (*again)->GetMeta(kMetaMoveToken);
      moved = t && *t && AsChars(**t) == token;
    }
    if (!moved) return Fail(undo(committed.error()));
  }
  // The arrival: the copy finds the move here, takes changes from now on,
  // and records where it came from.
  tlog::Event there = copy->MakeEvent("vault.copied");
  there.objects = {{"from", path_},
                   {"from_store", StoreKind()},
                   {"entries_verified", report.source_audit_size + 1},
                   {"persons", report.counts.persons},
                   {"records", report.counts.records}};
  Status arrived = copy->Transact(there, [](tlog::Event&) { return Ok(); });
  if (!arrived) {
    return Fail(arrived.error().WithContext(path_ + " was moved to " + to +
                                            ", but the copy could not record its arrival yet (it "
                                            "does at its next change)"));
  }
  ASSIGN_OR_RETURN(tlog::VerifyReport after, copy->VerifyAudit());
  report.destination_audit_size = after.entries;
  return report;
}

Status Vault::FinishArrival(std::string_view marker) {
  const size_t nl = marker.find('\n');
  const std::string token(marker.substr(0, nl));
  const std::string source(nl == std::string_view::npos ? "" : marker.substr(nl + 1));
  auto from = store::OpenStore(source, {options_.lock_wait});
  if (from) {
    auto moved = (*from)->GetMeta(kMetaMoveToken);
    if (moved && *moved && AsChars(**moved) == token) {
      return store_->PutMeta(kMetaCopyPending, {});  // arrived: takes changes from now on
    }
  }
  return Fail(FailedPrecondition(
      path_ + " is an unfinished copy of " + source + " (custos vault copy stopped before " +
      source + " recorded the move): it takes no change; remove it and run vault copy again"));
}

}  // namespace custos::vault
