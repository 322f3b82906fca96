// Where a transfer stands: who may leave under the consent rules (and why
// not), who left in its package, and what other workflows ask of it
// (PersonTransferred, PersonObjected).
#include <algorithm>

#include "detect/types.h"
#include "detect/validators.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow {

using internal::ColumnsOfType;
using internal::FrozenSet;
using internal::LoadedTransfer;
using internal::LoadFrozenSets;
using internal::LoadTransfer;
using internal::SchemaInfo;
using internal::StatusOf;

namespace {

// Of `people` (ascending), those with a valid resident ID number saying
// they are under 14 today, ascending: one bulk read of the ID columns.
Result<std::vector<int64_t>> MinorsAmong(vault::Vault& v, std::vector<int64_t> people) {
  std::vector<int64_t> minors;
  if (people.empty()) return minors;
  vault::Selection sel;
  sel.people = std::move(people);
  ASSIGN_OR_RETURN(sel.fields, ColumnsOfType(v, "cn_resident_id"));
  if (sel.fields.empty()) return minors;
  const Date today = TodayInChina();
  RETURN_IF_ERROR(v.ReadSelected(sel, [&](const vault::SelectedPerson& p) -> Status {
    for (const auto& f : p.fields) {
      if (f.value.empty() || f.dataset->columns[f.position].type != "cn_resident_id") continue;
      detect::IdInfo info = detect::CheckResidentId(f.value, today);
      if (info.status == detect::IdStatus::kValid && AgeOn(info.birth, today) < 14) {
        minors.push_back(p.pk);
        break;
      }
    }
    return Ok();
  }));
  return minors;
}

// The people a packaged transfer held: its IncludedSet doc, or, for a
// package made before those, its per-person docs.
Result<IncludedSet> LoadIncluded(vault::Vault& v, const std::string& transfer) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kIncludedKind, transfer));
  if (body) return IncludedSet::FromDoc(transfer, *body);
  std::vector<int64_t> pks;  // visited in pk order, so sorted
  RETURN_IF_ERROR(v.ForEachPersonDoc(kIncludedKind, transfer,
                                     [&](int64_t pk, std::string_view person_doc) -> Status {
                                       auto legacy = ParseLegacyIncludedDoc(transfer, person_doc);
                                       if (!legacy) return Fail(legacy.error());
                                       pks.push_back(pk);
                                       return Ok();
                                     }));
  return IncludedSet::Of(pks);
}

// A person's response as parsed for `transfer`, naming the transfer should
// it be damaged.
Result<ResponseDoc> ParseResponseOf(const std::string& transfer, std::string_view body) {
  auto r = ParseResponseDoc(body);
  if (!r) return Fail(r.error().WithContext("transfer '" + transfer + "'"));
  return r;
}

// A person's latest response, as the consent rules need it: 16 bytes (a
// million people: 16 MB, where JSON objects took hundreds).
struct Answer {
  int64_t pk;
  Response response;
  bool sensitive_consent, guardian_consent;
};

// Every response recorded for `transfer`, in pk order. A damaged one is
// kDataLoss: read as no answer, it could hide an objection.
Result<std::vector<Answer>> LoadAnswers(vault::Vault& v, const std::string& transfer) {
  std::vector<Answer> answers;  // visited in pk order, so sorted
  RETURN_IF_ERROR(
      v.ForEachPersonDoc(kResponseKind, transfer, [&](int64_t pk, std::string_view body) -> Status {
        ASSIGN_OR_RETURN(ResponseDoc r, ParseResponseOf(transfer, body));
        answers.push_back({pk, r.response, r.sensitive_consent, r.guardian_consent});
        return Ok();
      }));
  return answers;
}

const Answer* AnswerOf(const std::vector<Answer>& answers, int64_t pk) {
  auto it = std::lower_bound(answers.begin(), answers.end(), pk,
                             [](const Answer& a, int64_t p) { return a.pk < p; });
  return it != answers.end() && it->pk == pk ? &*it : nullptr;
}

// Art. 31: of the people in scope (`pks`, ascending) whose consent would
// count, those under 14, ascending. Their ID numbers are read in one bulk
// pass, not person by person.
Result<std::vector<int64_t>> ConsentingMinors(vault::Vault& v, const std::vector<Answer>& answers,
                                              const std::vector<int64_t>& pks, bool sensitive) {
  std::vector<int64_t> consenters;
  for (const Answer& a : answers) {
    if (a.response == Response::kConsent && (!sensitive || a.sensitive_consent) &&
        std::binary_search(pks.begin(), pks.end(), a.pk)) {  // in scope, still here
      consenters.push_back(a.pk);
    }
  }
  return MinorsAmong(v, std::move(consenters));
}

// Who may leave before a package is made (docs/formats/package.md,
// "Exclusion reasons"): everyone but those who objected or withdrew; under
// Art. 23 only those who consented, to sensitive fields separately, and
// for people under 14 with their guardian's consent too.
struct ConsentRules {
  TransferMode mode = TransferMode::kHeadOffice;
  bool sensitive = false;       // a planned field is sensitive
  std::vector<int64_t> minors;  // ascending: consenters under 14
};

PersonStatus Decide(const ConsentRules& rules, int64_t pk, const Answer* answer) {
  PersonStatus ps;
  ps.pk = pk;
  if (answer && answer->response == Response::kObject) {
    ps.reason = "objected";
  } else if (answer && answer->response == Response::kWithdraw) {
    ps.reason = "withdrew";
  } else if (rules.mode != TransferMode::kArt23) {
    ps.included = true;
  } else if (!answer) {
    ps.reason = "no_consent";
    ps.pending = true;
  } else if (rules.sensitive && !answer->sensitive_consent) {
    ps.reason = "no_sensitive_consent";
  } else if (std::binary_search(rules.minors.begin(), rules.minors.end(), pk) &&
             !answer->guardian_consent) {
    ps.reason = "minor_without_guardian_consent";
  } else {
    ps.included = true;
  }
  return ps;
}

// Once packaged, what actually left is what the package holds.
void ApplyPackage(const IncludedSet& included, PersonStatus& ps) {
  ps.included = included.Contains(ps.pk);
  if (ps.included) ps.reason.clear(), ps.pending = false;
  if (!ps.included && ps.reason.empty()) ps.reason = "not_in_package";
}

}  // namespace

namespace internal {

Result<TransferStatus> StatusOf(vault::Vault& v, const std::string& transfer,
                                const TransferDoc& doc, const std::vector<FrozenSet>& frozen) {
  TransferStatus st;
  st.plan = doc.plan;
  st.state = doc.state;
  const bool packaged = doc.state >= TransferState::kPackaged;
  if (doc.package) st.manifest_sha256 = doc.package->manifest_sha256;
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, st.plan.dataset));
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, PeopleInScope(v, st.plan));
  ASSIGN_OR_RETURN(std::vector<Answer> answers, LoadAnswers(v, transfer));
  ConsentRules rules;
  rules.mode = st.plan.mode;
  rules.sensitive = PlannedSensitive(st.plan, schemas);
  if (rules.mode == TransferMode::kArt23) {
    ASSIGN_OR_RETURN(rules.minors, ConsentingMinors(v, answers, pks, rules.sensitive));
  }
  IncludedSet included;
  if (packaged) {
    ASSIGN_OR_RETURN(included, LoadIncluded(v, transfer));
    st.withheld_frozen = doc.package->withheld_frozen;
  }
  std::vector<const FrozenSet*> frozen_here;
  st.persons.reserve(pks.size());
  for (int64_t pk : pks) {
    PersonStatus ps = Decide(rules, pk, AnswerOf(answers, pk));
    if (packaged) ApplyPackage(included, ps);
    ++st.people;
    if (ps.included) {
      ++st.included;
      if (!packaged && !frozen.empty()) {
        FrozenFor(frozen, pk, frozen_here);
        CountWithheld(frozen_here, st.withheld_frozen);
      }
    } else if (ps.pending && !packaged) {
      ++st.pending;
    } else {
      ++st.excluded[ps.reason];
    }
    st.persons.push_back(std::move(ps));
  }
  return st;
}

}  // namespace internal

Result<TransferStatus> GetTransferStatus(vault::Vault& v, const std::string& transfer,
                                         const Date& today) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferStatus));
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  std::vector<FrozenSet> frozen;
  if (t.doc.state < TransferState::kPackaged) {
    ASSIGN_OR_RETURN(frozen, LoadFrozenSets(v, t.doc.plan, today));
  }
  return StatusOf(v, transfer, t.doc, frozen);
}

Result<std::vector<TransferSummary>> ListTransfers(vault::Vault& v) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferStatus));
  ASSIGN_OR_RETURN(auto docs, v.ListDocs(kTransferKind));
  std::vector<TransferSummary> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(TransferDoc doc, ParseTransferDoc(key, body));
    out.push_back({key, doc.plan.recipient, doc.plan.mode, doc.state,
                   doc.package ? doc.package->manifest_sha256 : std::string()});
  }
  return out;
}

Result<bool> PersonTransferred(vault::Vault& v, int64_t person_pk) {
  ASSIGN_OR_RETURN(std::vector<TransferSummary> all, ListTransfers(v));
  for (const auto& t : all) {
    if (t.state < TransferState::kPackaged) continue;
    ASSIGN_OR_RETURN(std::optional<std::string> set, v.GetDoc(kIncludedKind, t.id));
    if (set) {
      ASSIGN_OR_RETURN(IncludedSet included, IncludedSet::FromDoc(t.id, *set));
      if (included.Contains(person_pk)) return true;
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<std::string> d,  // a package made before IncludedSet
                     v.GetPersonDoc(kIncludedKind, t.id, person_pk));
    if (d) {
      RETURN_IF_ERROR(ParseLegacyIncludedDoc(t.id, *d));
      return true;
    }
  }
  return false;
}

Result<bool> PersonObjected(vault::Vault& v, int64_t person_pk) {
  ASSIGN_OR_RETURN(std::vector<TransferSummary> all, ListTransfers(v));
  for (const auto& t : all) {
    ASSIGN_OR_RETURN(std::optional<std::string> d, v.GetPersonDoc(kResponseKind, t.id, person_pk));
    if (!d) continue;
    ASSIGN_OR_RETURN(ResponseDoc r, ParseResponseOf(t.id, *d));
    if (r.response == Response::kObject || r.response == Response::kWithdraw) return true;
  }
  return false;
}

}  // namespace custos::workflow
