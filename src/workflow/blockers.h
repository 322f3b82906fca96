// What blocks destruction and deregistration, read in one place from the
// typed documents, so that `custos destroy plan` and `custos deregister
// check` always name the same states the same way (docs/retention.md).
// Internal to src/workflow.
#ifndef CUSTOS_WORKFLOW_BLOCKERS_H_
#define CUSTOS_WORKFLOW_BLOCKERS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"
#include "workflow/destruction_doc.h"

namespace custos::workflow {

// Every transfer not closed by the recipient's receipt (kTransferOpen) and,
// for an Art. 23 transfer not yet packaged, the people in its scope whose
// separate consent is still unanswered (kConsentUnanswered). Fills `seen`
// with every transfer as found, when given.
Result<std::vector<Blocker>> TransferBlockers(vault::Vault& vault, std::vector<TransferSeen>* seen);

// A destruction batch not done (kDestructionUnfinished).
std::vector<Blocker> UnfinishedDestructionBlockers(const std::vector<DestructionBatch>& batches);

// A registered medium without its destruction record (kMediumNotDestroyed).
Result<std::vector<Blocker>> MediaBlockers(vault::Vault& vault);

// "destruction is blocked:\n  - what -> resolve ..." for an error message.
std::string BlockersMessage(std::string_view headline, const std::vector<Blocker>& blockers);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_BLOCKERS_H_
