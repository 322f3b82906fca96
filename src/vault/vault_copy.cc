// Vault::CopyTo: the whole vault to another file or database, verified on
// both ends, the move recorded on both (docs/postgresql.md, Moving a vault).
#include <nlohmann/json.hpp>

#include "vault/vault.h"

namespace custos::vault {

Result<Vault::CopyReport> Vault::CopyTo(const std::string& to, const KeySource& key,
                                        const std::function<void(uint64_t)>& progress) {
  RETURN_IF_ERROR(Authorize(access::Action::kVaultCopy));
  if (to.empty()) return Fail(InvalidArgument("--to: name the new vault (a file or a URI)"));
  if (to == path_) return Fail(InvalidArgument("--to names the vault being copied"));
  CopyReport report;
  // Under this vault's write lock from the first read to the last: nothing
  // changes here while it is copied, and nothing after (moved_to).
  RETURN_IF_ERROR(BeginWrite());
  std::unique_ptr<store::Store> dest;
  bool created = false;  // from here on, a failure removes what is at `to`
  Status st = [&]() -> Status {
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
    RETURN_IF_ERROR(dest->Commit());
    dest.reset();

    // The copy, opened with the key as any command would open it.
    ASSIGN_OR_RETURN(std::unique_ptr<Vault> copy, Vault::Open(to, key, "unknown", options_));
    copy->set_principal(principal_);
    ASSIGN_OR_RETURN(tlog::VerifyReport copied, copy->VerifyAudit());
    ASSIGN_OR_RETURN(uint64_t persons, copy->store_->CountPersons());
    ASSIGN_OR_RETURN(uint64_t here, store_->CountPersons());
    if (copied.entries != before.entries + 1 || persons != here) {
      return Fail(DataLoss("the copy at " + to + " holds " + std::to_string(persons) +
                           " people and " + std::to_string(copied.entries) +
                           " audit entries, not " + std::to_string(here) + " and " +
                           std::to_string(before.entries + 1) + "; removed it"));
    }
    tlog::Event there = copy->MakeEvent("vault.copied");
    there.objects = {{"from", path_},
                     {"from_store", StoreKind()},
                     {"entries_verified", copied.entries},
                     {"persons", persons},
                     {"records", report.counts.records}};
    RETURN_IF_ERROR(copy->Transact(there, [](tlog::Event&) { return Ok(); }));
    ASSIGN_OR_RETURN(tlog::VerifyReport after, copy->VerifyAudit());
    report.destination_audit_size = after.entries;
    // This vault stays readable (and verifiable) but takes no more
    // changes: two vaults of one id writing on would fork its log.
    return store_->PutMeta(kMetaMovedTo, AsBytes(to));
  }();
  if (!st) {
    store_->Rollback();
    (void)audit_->Reload();
    if (created) store::DiscardNewStore(std::move(dest), to);
    return Fail(st.error());
  }
  Status committed = store_->Commit();
  if (!committed) {
    (void)audit_->Reload();
    store::DiscardNewStore(nullptr, to);
    return Fail(committed.error());
  }
  return report;
}

}  // namespace custos::vault
