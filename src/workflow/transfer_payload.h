// The handover package's payload lines (docs/formats/package.md,
// "payload.jsonl"), formatted from a bulk read of the vault. Internal to
// src/workflow (transfer_package.cc); a seam of its own so that the
// format, the frozen fields it leaves out and its wiping can be read and
// tested apart from the archive.
#ifndef CUSTOS_WORKFLOW_TRANSFER_PAYLOAD_H_
#define CUSTOS_WORKFLOW_TRANSFER_PAYLOAD_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow::internal {

// One batch of payload lines, formatted on a worker thread of the bulk
// read, and what they count. Clear personal data: wiped when destroyed.
struct PayloadLines {
  std::string text;
  uint64_t people = 0;
  uint64_t records = 0;
  std::map<std::string, uint64_t> withheld_frozen;  // field -> people
  std::map<std::string, uint64_t> damaged;          // field -> values marked damaged

  PayloadLines() = default;
  PayloadLines(const PayloadLines&) = delete;
  PayloadLines& operator=(const PayloadLines&) = delete;
  ~PayloadLines() { std::fill(text.begin(), text.end(), '\0'); }
};

// Appends one line per person to `lines`, leaving out the fields `frozen`
// for them (PIPL Art. 47 ¶2: only stored and protected, never provided),
// and counts people, records, withheld fields and values marked damaged
// (vault::SelectedField::damaged, which the caller allowed). Each line's
// "person" is a fresh random reference, never the vault's id. kDataLoss for
// the first person (in order) with a damaged record, a value in scope that
// does not authenticate or is not valid UTF-8. Thread safety: reads
// `frozen` only, so threads may format different batches at once.
Status FormatPayloadLines(const std::vector<vault::SelectedPerson>& people,
                          const std::vector<FrozenSet>& frozen, PayloadLines& lines);

}  // namespace custos::workflow::internal

#endif  // CUSTOS_WORKFLOW_TRANSFER_PAYLOAD_H_
