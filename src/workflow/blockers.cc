#include "workflow/blockers.h"

#include "workflow/destruction.h"
#include "workflow/transfer.h"

namespace custos::workflow {

Result<std::vector<Blocker>> TransferBlockers(vault::Vault& vault,
                                              std::vector<TransferSeen>* seen) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kTransferKind));
  std::vector<Blocker> out;
  for (const auto& [id, body] : docs) {
    ASSIGN_OR_RETURN(TransferDoc doc, ParseTransferDoc(id, body));
    if (seen != nullptr) seen->push_back({id, doc.state, doc.receipt_sha256});
    if (doc.state == TransferState::kClosed) continue;
    out.push_back({BlockerKind::kTransferOpen,
                   "transfer " + id + " is '" + std::string(TransferStateName(doc.state)) +
                       "': no receipt recorded",
                   "record the recipient's receipt: custos transfer close --transfer " + id +
                       " --receipt FILE"});
    if (doc.plan.mode != TransferMode::kArt23 || doc.state == TransferState::kPackaged) continue;
    ASSIGN_OR_RETURN(TransferStatus status, GetTransferStatus(vault, id));
    if (status.pending == 0) continue;
    out.push_back({BlockerKind::kConsentUnanswered,
                   "transfer " + id + ": " + std::to_string(status.pending) +
                       " separate-consent requests (PIPL Art. 23) are unanswered",
                   "record the answers (custos transfer responses --transfer " + id +
                       " --file FILE), then build the package: those still unanswered stay out"});
  }
  return out;
}

std::vector<Blocker> UnfinishedDestructionBlockers(const std::vector<DestructionBatch>& batches) {
  std::vector<Blocker> out;
  for (const DestructionBatch& b : batches) {
    if (b.state == DestructionState::kDone) continue;
    out.push_back({BlockerKind::kDestructionUnfinished,
                   "destruction " + b.id + " is unfinished ('" +
                       std::string(DestructionStateName(b.state)) + "')",
                   "custos destroy execute (resumes and finishes it)"});
  }
  return out;
}

Result<std::vector<Blocker>> MediaBlockers(vault::Vault& vault) {
  ASSIGN_OR_RETURN(std::vector<MediaDoc> media, ListMedia(vault));
  std::vector<Blocker> out;
  for (const MediaDoc& m : media) {
    if (m.state == MediaState::kDestroyed) continue;
    out.push_back({BlockerKind::kMediumNotDestroyed,
                   "medium " + m.id + " (" + m.kind + ") is registered but not destroyed",
                   "custos media record --id " + m.id + " --kind " + m.kind +
                       " --method ... --executor ... --witness ... --witness ..."});
  }
  return out;
}

std::string BlockersMessage(std::string_view headline, const std::vector<Blocker>& blockers) {
  std::string msg(headline);
  for (const Blocker& b : blockers) msg += "\n  - " + b.what + " -> " + b.resolve;
  return msg;
}

}  // namespace custos::workflow
