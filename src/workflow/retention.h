// Retention: binding fields of a dataset to a statutory retention rule, and
// the frozen state of what a rule still retains (PIPL Art. 47 ¶2: only
// storage and necessary security protection). docs/retention.md.
//
// Stored as workflow documents (no personal data but per-person expiry
// dates), with their codecs in workflow/retention_doc.h:
//   doc        retention-catalogue/current      the catalogue the vault applies
//   doc        retention-binding/<rule>@<ds>    rule, dataset, fields, start
//   person doc retention/<rule>@<ds>/<person>   {"expiry":"YYYY-MM-DD"}
// A field is frozen for a person while today < expiry.
#ifndef CUSTOS_WORKFLOW_RETENTION_H_
#define CUSTOS_WORKFLOW_RETENTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "policy/retention_rules.h"
#include "vault/vault.h"

namespace custos::workflow {

// The catalogue the vault applies. On first use the shipped default (or
// `rules_file`, when given) is stored in the vault with a retention.rules
// audit entry; later a `rules_file` of another content replaces it (audited
// too). kInvalidArgument for a malformed rules file, kNotFound if missing.
Result<policy::Catalogue> LoadRules(vault::Vault& vault, const std::string& rules_file = "");

struct ApplyOptions {
  std::string rule;
  std::string dataset;
  std::vector<std::string> fields;
  std::optional<Date> start_date;   // exactly one of start_date, start_field
  std::string start_field;
  std::string rules_file;
};

struct ApplyReport {
  std::string binding;            // "<rule>@<dataset>"
  std::string catalogue_version;
  uint64_t people = 0;
  uint64_t start_unknown = 0;     // start field empty/unparsable: counted from today
  std::string earliest_expiry;
  std::string latest_expiry;
};

// Binds fields of a dataset to a rule and stores each person's expiry.
//   kInvalidArgument  no fields, both or neither start option, a field not
//                     in the dataset, the start field not a date column
//   kNotFound         no such rule (names the ids) or dataset
Result<ApplyReport> ApplyRetention(vault::Vault& vault, const ApplyOptions& options,
                                   const Date& today = TodayInChina());

// One binding with every person's expiry (loaded whole, for planning).
struct Binding {
  std::string key;      // "<rule>@<dataset>"
  std::string rule;
  std::string dataset;
  std::set<std::string> fields;
  std::map<int64_t, Date> expiry;  // person pk -> first day it may be destroyed
};
Result<std::vector<Binding>> LoadBindings(vault::Vault& vault);

struct FrozenField {
  std::string dataset;
  std::string field;
  std::string rule;
  std::string until;  // expiry, YYYY-MM-DD
};

// The fields of a person frozen on `today` (empty if none).
Result<std::vector<FrozenField>> FrozenFields(vault::Vault& vault, int64_t person_pk,
                                              const Date& today = TodayInChina());
Result<bool> IsFrozen(vault::Vault& vault, int64_t person_pk, const std::string& dataset,
                      const std::string& field, const Date& today = TodayInChina());

// The check before any read of a person (custos show). A person with frozen
// fields is readable only with a legal ground: without one the attempt is
// recorded (retention.read_frozen, refused) and kPermissionDenied returned;
// with one the read is recorded (retention.read_frozen, the ground as
// purpose). People with nothing frozen pass unrecorded here.
Status CheckFrozenRead(vault::Vault& vault, const vault::PersonId& id,
                       const std::string& legal_ground, const Date& today = TodayInChina());

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_RETENTION_H_
