#include "workflow/deregister.h"

#include "tlog/audit_log.h"
#include "workflow/blockers.h"

namespace custos::workflow {
namespace {

// People neither transferred-and-destroyed, retained, nor destroyed; and
// retained people who still hold fields no rule keeps.
void PeopleBlockers(const DestroyPlan& plan, std::vector<Blocker>& out) {
  if (plan.people_destroyed > 0) {
    out.push_back({BlockerKind::kPeopleUnresolved,
                   std::to_string(plan.people_destroyed) +
                       " people are neither transferred and destroyed, retained under a rule, "
                       "nor destroyed",
                   "custos retention apply (for data a law requires keeping), then custos "
                   "destroy execute"});
  }
  if (plan.people_rewritten > 0) {
    out.push_back({BlockerKind::kFieldsUnretained,
                   std::to_string(plan.people_rewritten) +
                       " retained people still hold fields no rule retains",
                   "custos destroy execute"});
  }
}

// The finished destruction and its certificate.
Status CertificateBlockers(vault::Vault& vault, DeregisterReport& r) {
  if (r.destruction.empty()) {
    r.blockers.push_back(
        {BlockerKind::kNoDestruction, "no destruction has been executed",
         "custos destroy execute --approver ... --supervisor ... --supervisor ..."});
    return Ok();
  }
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kCertificateKind, r.destruction));
  if (!body) {
    r.blockers.push_back({BlockerKind::kNoCertificate,
                          "destruction " + r.destruction + " has no destruction certificate",
                          "custos certificate --destruction " + r.destruction + " --out DIR"});
    return Ok();
  }
  ASSIGN_OR_RETURN(CertificateDoc cert, ParseCertificateDoc(r.destruction, *body));
  r.certificate_sha256 = cert.sha256;
  return Ok();
}

}  // namespace

Result<DeregisterReport> CheckDeregistration(vault::Vault& vault, const Date& today) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kDeregisterCheck));
  DeregisterReport r;
  ASSIGN_OR_RETURN(std::vector<DestructionBatch> batches, ListDestructions(vault));
  r.blockers = UnfinishedDestructionBlockers(batches);
  for (const DestructionBatch& b : batches) {
    if (b.state == DestructionState::kDone) r.destruction = b.id;
  }
  // The destruction plan's own blockers (transfers, consents) are the ones
  // `custos destroy plan` prints: computed once, from the same documents.
  ASSIGN_OR_RETURN(DestroyPlan plan, PlanDestruction(vault, today));
  r.people_retained = plan.people_retained;
  r.people_unresolved = plan.people_destroyed;
  PeopleBlockers(plan, r.blockers);
  r.blockers.insert(r.blockers.end(), plan.blockers.begin(), plan.blockers.end());
  ASSIGN_OR_RETURN(std::vector<Blocker> media, MediaBlockers(vault));
  r.blockers.insert(r.blockers.end(), media.begin(), media.end());
  auto verified = vault.VerifyAudit();
  if (!verified) {
    r.blockers.push_back({BlockerKind::kAuditLogFails,
                          "the audit log fails verification: " + verified.error().message(),
                          "custos audit verify (investigate; custos audit repair for a damaged "
                          "entry, or restore the vault from a verified backup)"});
  }
  RETURN_IF_ERROR(CertificateBlockers(vault, r));
  ASSIGN_OR_RETURN(r.break_glass, vault.BreakGlass());
  tlog::Event e = vault.MakeEvent("deregister.check");
  e.objects = {{"blockers", r.blockers.size()}, {"destruction", r.destruction}};
  e.result = r.blockers.empty() ? "ok" : "refused";
  RETURN_IF_ERROR(vault.Record(e));
  return r;
}

}  // namespace custos::workflow
