#include "workflow/deregister.h"

#include <nlohmann/json.hpp>

#include "tlog/audit_log.h"

namespace custos::workflow {

using json = nlohmann::ordered_json;

Result<DeregisterReport> CheckDeregistration(vault::Vault& vault, const Date& today) {
  DeregisterReport r;
  ASSIGN_OR_RETURN(auto batches, ListDestructions(vault));
  for (const auto& [id, doc] : batches) {
    if (doc.value("state", "") != "done") {
      r.blockers.push_back({"destruction " + id + " is unfinished ('" + doc.value("state", "") + "')",
                            "custos destroy execute (resumes and finishes it)"});
    } else {
      r.destruction = id;
    }
  }
  ASSIGN_OR_RETURN(DestroyPlan plan, PlanDestruction(vault, today));
  r.people_retained = plan.people_retained;
  r.people_unresolved = plan.people_destroyed;
  if (plan.people_destroyed > 0) {
    r.blockers.push_back({std::to_string(plan.people_destroyed) +
                              " people are neither transferred and destroyed, retained under a rule, "
                              "nor destroyed",
                          "custos retention apply (for data a law requires keeping), then custos "
                          "destroy execute"});
  }
  if (plan.people_rewritten > 0) {
    r.blockers.push_back({std::to_string(plan.people_rewritten) +
                              " retained people still hold fields no rule retains",
                          "custos destroy execute"});
  }
  r.blockers.insert(r.blockers.end(), plan.blockers.begin(), plan.blockers.end());
  // Art. 23 transfers: separate consent requests still unanswered. Read
  // defensively from the transfer documents (see docs/retention.md).
  ASSIGN_OR_RETURN(auto transfers, vault.ListDocs("transfer"));
  for (const auto& [key, body] : transfers) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    std::string basis = j.value("mode", j.value("basis", j.value("legal_basis", "")));
    uint64_t pending = 0;
    for (const char* m : {"consent_pending", "pending_consents", "unanswered"}) {
      if (j.contains(m) && j[m].is_number_unsigned()) pending += j[m].get<uint64_t>();
    }
    // The transfer workflow's per-person state: a notice sent (transfer.notice)
    // without a recorded response (transfer.response) is unanswered while the
    // transfer is open.
    if (basis.find("23") != std::string::npos && j.value("state", "") != "closed") {
      std::vector<int64_t> noticed;
      const std::string& transfer_key = key;  // clang 14 cannot capture a structured binding
      RETURN_IF_ERROR(vault.ForEachPersonDoc("transfer.notice", transfer_key, [&](int64_t pk, std::string_view) {
        noticed.push_back(pk);
        return Ok();
      }));
      for (int64_t pk : noticed) {
        ASSIGN_OR_RETURN(std::optional<std::string> response, vault.GetPersonDoc("transfer.response", transfer_key, pk));
        if (!response) ++pending;
      }
    }
    if (basis.find("23") != std::string::npos && pending > 0) {
      r.blockers.push_back({"transfer " + key + ": " + std::to_string(pending) +
                                " separate-consent requests (PIPL Art. 23) are unanswered",
                            "record the answers or close the consent window (custos transfer commands)"});
    }
  }
  ASSIGN_OR_RETURN(std::vector<json> media, ListMedia(vault));
  for (const auto& m : media) {
    if (m.value("state", "") != "destroyed") {
      r.blockers.push_back({"medium " + m.value("id", "") + " (" + m.value("kind", "") +
                                ") is registered but not destroyed",
                            "custos media record --id " + m.value("id", "") +
                                " --kind ... --method ... --executor ... --witness ... --witness ..."});
    }
  }
  auto verified = vault.VerifyAudit();
  if (!verified) {
    r.blockers.push_back({"the audit log fails verification: " + verified.error().message(),
                          "custos audit verify (investigate; restore the vault from a verified backup)"});
  }
  if (r.destruction.empty()) {
    r.blockers.push_back({"no destruction has been executed",
                          "custos destroy execute --approver ... --supervisor ... --supervisor ..."});
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> cert, vault.GetDoc("certificate", r.destruction));
    if (!cert) {
      r.blockers.push_back({"destruction " + r.destruction + " has no destruction certificate",
                            "custos certificate --destruction " + r.destruction + " --out DIR"});
    } else {
      auto j = json::parse(*cert, nullptr, false);
      if (!j.is_discarded() && j.is_object()) r.certificate_sha256 = j.value("sha256", "");
    }
  }
  tlog::Event e = vault.MakeEvent("deregister.check");
  e.objects = {{"blockers", r.blockers.size()}, {"destruction", r.destruction}};
  e.result = r.blockers.empty() ? "ok" : "refused";
  RETURN_IF_ERROR(vault.Record(e));
  return r;
}

}  // namespace custos::workflow
