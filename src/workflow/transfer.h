// Transfer of customers to a recipient (PIPL Art. 22/23, or the head office
// as continuing processor): recipients, the plan and its contract terms,
// notices with per-person reference codes, responses (consent, objection,
// withdrawal), the handover package and the recipient's receipt.
//
// State lives in store documents (kinds "recipient", "transfer",
// "transfer.*"), documented in docs/formats/package.md and read and written
// only through their codecs (transfer_doc.h). Every change is written with
// its audit entry in one transaction (vault::Vault::Transact). Nothing here
// puts personal data into errors or audit entries.
//
// Implemented by one file per step: transfer_plan.cc (recipients, plans,
// terms), transfer_notices.cc, transfer_responses.cc, transfer_status.cc
// (the consent rules, and what other workflows ask), transfer_package.cc
// (package and close; payload lines in transfer_payload.cc), with
// transfer_frozen.cc (fields frozen under retention rules) and what they
// share in transfer_internal.h.
#ifndef CUSTOS_WORKFLOW_TRANSFER_H_
#define CUSTOS_WORKFLOW_TRANSFER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "access/requests.h"
#include "base/result.h"
#include "base/time.h"
#include "vault/vault.h"
#include "workflow/transfer_doc.h"

namespace custos::workflow {

// ---- Recipients (struct Recipient: transfer_doc.h) ----

// kInvalidArgument: empty id/name/contact, invalid USCC, age recipient or
// ssh key (each named). kAlreadyExists if the id is taken. Logs recipient.add.
Status AddRecipient(vault::Vault& v, const Recipient& r);
Result<Recipient> GetRecipient(vault::Vault& v, const std::string& id);
// Every recipient, in id order.
Result<std::vector<Recipient>> ListRecipients(vault::Vault& v);

// ---- Plans ----

// TransferMode, TransferPlan and the transfer's stored document: transfer_doc.h.

// Contract terms that must be present before packaging.
const std::vector<std::string>& RequiredContractTerms();
// Parses "key = value" lines (# comments, blank lines; values optionally in
// double quotes). kInvalidArgument naming the line otherwise.
Result<std::map<std::string, std::string>> ParseContractTerms(std::string_view text);


// kInvalidArgument: bad id, no purpose, no fields, unknown fields (all named),
// unknown dataset; kNotFound: unknown recipient; kAlreadyExists: id taken.
// Logs transfer.plan. Planning fields that are frozen for some people is
// allowed (FrozenPlannedFields tells which): the package leaves them out.
Status PlanTransfer(vault::Vault& v, const TransferPlan& plan);
// The planned fields frozen under a retention rule on `today` (PIPL Art. 47
// ¶2: frozen data is only stored and protected, never provided), each with
// the number of people in the plan's scope it is frozen for. Empty if none.
// Read in bulk: one pass over the retention bindings, not one query per
// person. `transfer plan` warns with it.
Result<std::map<std::string, uint64_t>> FrozenPlannedFields(vault::Vault& v,
                                                            const TransferPlan& plan,
                                                            const Date& today = TodayInChina());
Result<TransferPlan> GetTransferPlan(vault::Vault& v, const std::string& id);
// Terms (and approved_by / processor fields) still missing for packaging.
std::vector<std::string> MissingTerms(const TransferPlan& plan);
// Merges terms into a planned (not yet packaged) transfer. Logs transfer.terms.
Status SetTransferTerms(vault::Vault& v, const std::string& id,
                        const std::map<std::string, std::string>& terms,
                        const std::string& approved_by);

// ---- Notices ----

enum class Channel { kSms, kLetter, kEmail };
Result<Channel> ParseChannel(std::string_view s);

struct NoticeBatch {
  uint64_t notices = 0;                      // rows written
  std::vector<std::string> missing_contact;  // opaque person ids
  std::string digest;                        // SHA-256 over the per-notice SHA-256s, hex
};

// One notice per person in scope, written to `out_path` as CSV (header
// "ref,<contact>,message", one row per person with a contact for the
// channel; mode 0600): streamed to a temporary sibling that replaces
// `out_path` only once the notices are logged, so memory stays bounded
// whatever the number of people and a failure leaves `out_path` as it was.
// Only the channel's contact columns are decrypted. Creates reference
// codes for people without one. Logs transfer.notices (counts and digest
// only). kFailedPrecondition if the processor's name/contact or the
// retention term is missing, or the transfer is closed; kUnavailable if
// the file cannot be written.
Result<NoticeBatch> MakeNotices(vault::Vault& v, const std::string& transfer, Channel channel,
                                bool english, const std::string& out_path);

// ---- Responses ----

struct ResponsesReport {
  uint64_t recorded = 0;
  std::map<std::string, uint64_t> by_response;
};
// All or nothing: kInvalidArgument listing every bad line (malformed, unknown
// ref, bad response or flag); nothing recorded then. Logs transfer.responses.
Result<ResponsesReport> RecordResponses(vault::Vault& v, const std::string& transfer,
                                        std::string_view csv);

// ---- Status ----

struct PersonStatus {
  int64_t pk = 0;
  bool included = false;
  bool pending = false;  // art23: no answer yet
  std::string reason;    // exclusion reason when !included
};
struct TransferStatus {
  TransferPlan plan;
  TransferState state = TransferState::kPlanned;
  uint64_t people = 0;
  uint64_t included = 0;
  uint64_t pending = 0;
  std::map<std::string, uint64_t> excluded;  // reason -> count
  // Planned field -> included people for whom it is frozen, so left out of
  // their payload line: what the package withheld once packaged, what it
  // would withhold on `today` before.
  std::map<std::string, uint64_t> withheld_frozen;
  std::string manifest_sha256;  // once packaged
  std::vector<PersonStatus> persons;
};
Result<TransferStatus> GetTransferStatus(vault::Vault& v, const std::string& transfer,
                                         const Date& today = TodayInChina());

// For other workflows (retention, destruction).
struct TransferSummary {
  std::string id;
  std::string recipient;
  TransferMode mode = TransferMode::kHeadOffice;
  TransferState state = TransferState::kPlanned;
  std::string manifest_sha256;
};
Result<std::vector<TransferSummary>> ListTransfers(vault::Vault& v);
// True if the person left in a package of a packaged or closed transfer.
Result<bool> PersonTransferred(vault::Vault& v, int64_t person_pk);
// True if the person's latest response to some transfer is object or withdraw.
Result<bool> PersonObjected(vault::Vault& v, int64_t person_pk);

// ---- Package (sender) ----

struct PackageReport {
  std::string manifest_sha256;
  uint64_t people = 0;
  uint64_t records = 0;
  std::map<std::string, uint64_t> excluded;
  std::map<std::string, uint64_t> withheld_frozen;  // field -> people
  std::map<std::string, uint64_t> damaged;          // field -> values (allow_damaged)
  // `out_path` holds this transfer's recorded package already (a second run
  // after the first was interrupted once the package was named): nothing was
  // built; the counts are the recorded package's.
  bool already_built = false;
  // On a vault with users, a run without a request makes one and stops.
  std::optional<access::Request> requested;
};
// Builds the package (docs/formats/package.md) into `out_path` (created
// exclusively, 0600, and only once complete) and logs transfer.package.
// A field frozen for a person on `today` (workflow/retention.h) is left out
// of that person's payload line and counted in manifest.json
// (counts.withheld_frozen). kFailedPrecondition listing missing terms, or if
// already packaged / no notices were made; kAlreadyExists if `out_path`
// exists; kDataLoss if a value in scope does not authenticate.
//
// Memory stays flat in the number of people: the payload streams through
// age straight into the archive, a temporary file beside `out_path` that is
// linked into place once complete (and removed on failure).
//
// Values damaged before import (vault::FieldValue::damaged: long numbers a
// spreadsheet stored as numbers) are refused (kFailedPrecondition, counted
// by field) unless `allow_damaged`; allowed, they are packaged as they are,
// marked per record in the payload (`damaged`) and counted in the manifest
// (`counts.damaged`) and the audit entry.
//
// On a vault with users the package needs an approved request (`request`)
// whose operation (transfer, recipient, mode, purpose, method, dataset,
// fields, terms, people included) is still this package's; without one it
// makes the request and returns it in PackageReport::requested. The request
// is consumed with the package, and the manifest carries it with its signed
// reviews (`authorisation`).
Result<PackageReport> BuildPackage(vault::Vault& v, const std::string& transfer,
                                   const std::string& out_path, const Date& today = TodayInChina(),
                                   bool allow_damaged = false, const std::string& request = "");

// Values of the plan's fields, in the datasets in scope, that were damaged
// before import, by field (only fields with some).
Result<std::map<std::string, uint64_t>> DamagedPlannedFields(vault::Vault& v,
                                                             const TransferPlan& plan);

// Verifies a receipt and closes the transfer (transfer.close).
struct CloseReport {
  uint64_t people = 0;
  std::string manifest_sha256;
};
Result<CloseReport> CloseTransfer(vault::Vault& v, const std::string& transfer,
                                  std::string_view receipt);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_TRANSFER_H_
