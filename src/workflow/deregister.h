// The deregistration check: the one list of everything that still blocks the
// branch's tax clearance (清税) and deregistration (注销) filing as far as
// customer personal information goes (legal research R28, section 9).
#ifndef CUSTOS_WORKFLOW_DEREGISTER_H_
#define CUSTOS_WORKFLOW_DEREGISTER_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "vault/vault.h"
#include "workflow/destruction.h"

namespace custos::workflow {

struct DeregisterReport {
  std::vector<Blocker> blockers;  // empty: nothing blocks
  uint64_t people_retained = 0;
  uint64_t people_unresolved = 0;
  std::string destruction;        // the latest finished batch, if any
  std::string certificate_sha256;
  vault::Vault::BreakGlassUses break_glass;  // shown, never a blocker
};

// Checks, in order: a destruction batch left unfinished; people neither
// transferred, retained nor destroyed; transfers without receipts and
// unanswered consent requests of Art. 23 transfers (the same blockers
// `destroy plan` reports, from the same typed documents); registered media
// not yet destroyed; the audit log (tlog::VerifyLog); the destruction
// certificate. Each blocker names its kind (BlockerKind). Records deregister.check with the blocker count.
// Returns the report (callers turn blockers into kFailedPrecondition).
Result<DeregisterReport> CheckDeregistration(vault::Vault& vault, const Date& today = TodayInChina());

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_DEREGISTER_H_
