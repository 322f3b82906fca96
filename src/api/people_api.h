// Calls on people that the CLI runs locally and the server runs for a
// request, so both give the same JSON: the CLI prints it (--json) or
// renders text from it; the server sends it.
#ifndef CUSTOS_API_PEOPLE_API_H_
#define CUSTOS_API_PEOPLE_API_H_

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vault/vault.h"
#include "workflow/people.h"

namespace custos::api {

using json = nlohmann::ordered_json;

// `custos find`, GET /api/v1/persons: {"matches": N, "people": [{"person",
// "name" (masked), "datasets", "records"}]}. The lookup is recorded.
Result<json> FindPeopleJson(vault::Vault& vault, const workflow::PersonSelector& sel);

// `custos show`, GET /api/v1/persons/{person}: {"person", "masked",
// "datasets": [{"dataset", "records": [{"record", "fields": {name: value
// or null}}]}], "damaged": ["dataset.field", ...], "errors": [...]}. A
// value that fails its integrity check is null with its error in "errors"
// (the caller reports data_loss after showing the rest).
Result<json> ShowPersonJson(vault::Vault& vault, const workflow::PersonSelector& sel,
                            const workflow::ReadOptions& options);

}  // namespace custos::api

#endif  // CUSTOS_API_PEOPLE_API_H_
