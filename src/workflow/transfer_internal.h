// What the transfer workflow's files (transfer_*.cc) share: the transfer's
// document as read, its scope, reference codes, frozen fields and the
// consent rules' verdicts. Internal to src/workflow; the interface is
// transfer.h.
//
// Thread safety: none of these functions may run while another uses the
// same vault, except where said.
#ifndef CUSTOS_WORKFLOW_TRANSFER_INTERNAL_H_
#define CUSTOS_WORKFLOW_TRANSFER_INTERNAL_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "vault/vault.h"
#include "workflow/transfer.h"
#include "workflow/transfer_doc.h"

namespace custos::workflow::internal {

// kInvalidArgument unless `id` is 1-64 characters of A-Z a-z 0-9 . _ -
// (`what`: "transfer", "recipient", for the message).
Status CheckId(std::string_view what, std::string_view id);

// A transfer's document as read, and its stored text (for ExpectUnchanged).
struct LoadedTransfer {
  TransferDoc doc;
  std::string body;
};
// kInvalidArgument for a bad id, kNotFound for no such transfer, kDataLoss
// (or kFailedPrecondition, a newer version) for a document that does not
// parse.
Result<LoadedTransfer> LoadTransfer(vault::Vault& v, const std::string& id);

// REQUIRES: inside a change's write transaction. The document `kind`/`key`
// is still the text the change read before it began (nullopt: absent).
// Another process may have changed it meanwhile; going on would undo that
// change, so the command stops with kUnavailable and can be run again.
Status ExpectUnchanged(vault::Vault& v, std::string_view kind, const std::string& key,
                       const std::optional<std::string>& seen);

// ---- The plan's scope ----

// The columns of the datasets in scope, by name.
struct SchemaInfo {
  std::map<std::string, vault::Column> columns;  // first seen by name
  std::map<std::string, uint64_t> damaged;       // by column name, summed over datasets
};
// `dataset` empty: every dataset. kInvalidArgument if there is no such dataset.
Result<SchemaInfo> LoadSchemas(vault::Vault& v, const std::string& dataset);
// The column `name` in scope; an empty one if none has that name (its
// dataset gone since the plan).
vault::Column ColumnIn(const SchemaInfo& schemas, const std::string& name);
// True if a planned field is sensitive (PIPL Art. 28).
bool PlannedSensitive(const TransferPlan& plan, const SchemaInfo& schemas);
// The people in the plan's scope, ascending.
Result<std::vector<int64_t>> PeopleInScope(vault::Vault& v, const TransferPlan& plan);
// The names of the columns of detected type `type`, in every dataset (for a
// bulk read that opens only them).
Result<std::vector<std::string>> ColumnsOfType(vault::Vault& v, std::string_view type);
// The contract term `key`, "" if absent.
std::string TermOf(const TransferPlan& plan, const std::string& key);

// ---- Reference codes (transfer_notices.cc) ----

// A code of 8 characters of the reference alphabet (Crockford base32) back
// to its 40 bits; 0 if it is not one (0 is never given, so never matched).
uint64_t PackRef(std::string_view ref);
std::string UnpackRef(uint64_t packed);
// The codes given so far for `transfer`, packed, as (pk, code) in pk order.
// A stored code that does not read as one (its document damaged, or not a
// code) is left out: the person gets a new one, and it matches no response.
Result<std::vector<std::pair<int64_t, uint64_t>>> LoadRefs(vault::Vault& v,
                                                           const std::string& transfer);

// ---- Frozen fields, PIPL Art. 47 ¶2 (transfer_frozen.cc) ----

// One retention binding as the transfer needs it: the planned fields it
// freezes and the people it freezes them for, sorted by pk (a binary search
// per person, and 8 bytes per frozen person in memory).
struct FrozenSet {
  std::string dataset;
  std::vector<std::string> fields;  // planned fields the binding covers
  std::vector<int64_t> people;      // frozen on `today`, ascending
};
// The bindings that freeze planned fields of datasets in the plan's scope
// on `today`, loaded in bulk (one pass per binding, no query per person).
Result<std::vector<FrozenSet>> LoadFrozenSets(vault::Vault& v, const TransferPlan& plan,
                                              const Date& today);
// The sets that freeze something for `pk`, into `out` (cleared first).
void FrozenFor(const std::vector<FrozenSet>& sets, int64_t pk, std::vector<const FrozenSet*>& out);
// True if one of `frozen` (a person's) freezes `dataset`.`field`.
bool Withheld(const std::vector<const FrozenSet*>& frozen, std::string_view dataset,
              std::string_view field);
// Counts one person once per planned field frozen for them (in any dataset).
void CountWithheld(const std::vector<const FrozenSet*>& frozen,
                   std::map<std::string, uint64_t>& counts);

// ---- Status (transfer_status.cc) ----

// The status of a transfer whose document is `doc`; `frozen` is what is
// frozen today (ignored once packaged: the package's own counts are kept).
// kDataLoss if a response or the record of who left is damaged.
Result<TransferStatus> StatusOf(vault::Vault& v, const std::string& transfer,
                                const TransferDoc& doc, const std::vector<FrozenSet>& frozen);

// ---- Small helpers ----

// `counts` as a JSON object, for audit entries and the manifest.
nlohmann::ordered_json CountsJson(const std::map<std::string, uint64_t>& counts);
// `s` without the blanks (spaces, tabs) around it.
std::string Trim(std::string_view s);

}  // namespace custos::workflow::internal

#endif  // CUSTOS_WORKFLOW_TRANSFER_INTERNAL_H_
