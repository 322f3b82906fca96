// Finding people and presenting what the vault holds about them.
#ifndef CUSTOS_WORKFLOW_PEOPLE_H_
#define CUSTOS_WORKFLOW_PEOPLE_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"

namespace custos::workflow {

// Exactly one of the members is set: the opaque person id, or an identifier
// to look up through the blind index.
struct PersonSelector {
  std::string person_id;
  std::string id_number;
  std::string mobile;
  std::string email;
};

// Everyone matching the selector. kInvalidArgument if none or several
// members are set, or the identifier is malformed (names which one).
Result<std::vector<vault::PersonId>> FindPeople(vault::Vault& vault, const PersonSelector& sel);

// The one person the selector names: kNotFound if nobody matches,
// kFailedPrecondition if several do (lists their ids so the user can pick).
Result<vault::PersonId> ResolvePerson(vault::Vault& vault, const PersonSelector& sel);

// Looks people up (FindPeople) and records the lookup: which kind of
// identifier, how many matched and who (person ids only).
Result<std::vector<vault::PersonId>> FindAndRecord(vault::Vault& vault, const PersonSelector& sel);

struct ReadOptions {
  bool clear = false;
  std::string purpose;       // required for a clear read
  std::string legal_ground;  // required when the person has frozen data
};
// What the vault holds about a person, for display: masked (operator,
// officer), or in clear (an officer with a passed training, and a stated
// purpose). Frozen data needs a legal ground. The read is recorded before
// anything is returned; a refusal is recorded too.
Result<vault::PersonData> ReadPerson(vault::Vault& vault, const vault::PersonId& id,
                                     const ReadOptions& options);

// A field's value for display: masked by its detected type unless `clear`.
std::string DisplayValue(const vault::FieldValue& f, bool clear);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_PEOPLE_H_
