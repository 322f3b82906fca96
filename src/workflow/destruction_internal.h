// What the destruction workflow's files share (internal to src/workflow):
// the work a destruction has still to do, computed from the retention
// bindings and the vault.
#ifndef CUSTOS_WORKFLOW_DESTRUCTION_INTERNAL_H_
#define CUSTOS_WORKFLOW_DESTRUCTION_INTERNAL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/time.h"
#include "vault/vault.h"

namespace custos::workflow::internal {

// Per (dataset, field): what the retained people keep.
struct FieldKeep {
  uint64_t people = 0;
  std::map<std::string, Date> rules;  // rule -> latest expiry
};

// A retained person's record rewritten without the fields no rule keeps.
struct RecordChange {
  int64_t record_id = 0;
  Bytes body;  // empty when the record goes whole
  uint32_t removed = 0;
};

// Wrapped keys of destroyed people looked for in the vault's files after the
// purge: every one up to this many, a spread of them beyond.
inline constexpr size_t kResidueSample = 4096;

// What a destruction has still to do, and what the retained people keep.
struct Work {
  uint64_t people_total = 0;
  std::vector<int64_t> destroy;
  std::vector<int64_t> kept;
  std::vector<std::pair<int64_t, std::vector<RecordChange>>> rewrite;
  uint64_t retained_people = 0;
  uint64_t fields_to_remove = 0;
  std::map<int64_t, std::map<std::string, FieldKeep>> keep;  // dataset id -> field -> keep
  std::map<int64_t, uint64_t> kept_records;                  // dataset id -> records
  std::map<int64_t, uint64_t> kept_people;                   // dataset id -> people
  // How each person to destroy has their data key wrapped (parallel to
  // `destroy`, read from the keys themselves), and a sample of the wrapped
  // keys for the residue scan after the purge.
  std::vector<vault::KeyWrapFormat> destroy_wraps;
  std::vector<Bytes> residue_sample;
};

Result<std::map<int64_t, vault::DatasetInfo>> LoadDatasets(vault::Vault& vault);
Result<Work> ComputeWork(vault::Vault& vault, const std::map<int64_t, vault::DatasetInfo>& datasets,
                         const Date& today);

}  // namespace custos::workflow::internal

#endif  // CUSTOS_WORKFLOW_DESTRUCTION_INTERNAL_H_
