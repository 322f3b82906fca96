// The transfer workflow's documents, as the vault keeps them: one typed
// codec each (struct, parse, serialize, schema version), states as enums.
// Nothing else reads or writes these JSON texts (docs/formats/package.md,
// "What the sender's vault keeps").
//
//   kind                key              what
//   recipient           recipient id     RecipientDoc
//   transfer            transfer id      TransferDoc (the plan and its state)
//   transfer.included   transfer id      IncludedSet (who left in the package)
//   transfer.included   transfer id, pk  LegacyIncludedDoc (read only: older packages)
//   transfer.ref        transfer id, pk  RefDoc (a person's reference code)
//   transfer.notice     transfer id, pk  NoticeDoc (the notice sent)
//   transfer.response   transfer id, pk  ResponseDoc (the latest response)
//   transfer.received   manifest sha256  ReceivedDoc (recipient side)
//
// Every document carries "v" (its schema version, 1); documents written
// before it had one are read as version 1. A document that does not parse,
// or has a newer version than this build reads, is kDataLoss or
// kFailedPrecondition naming its kind and key.
#ifndef CUSTOS_WORKFLOW_TRANSFER_DOC_H_
#define CUSTOS_WORKFLOW_TRANSFER_DOC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace custos::workflow {

inline constexpr std::string_view kRecipientKind = "recipient";
inline constexpr std::string_view kTransferKind = "transfer";
inline constexpr std::string_view kIncludedKind = "transfer.included";
inline constexpr std::string_view kRefKind = "transfer.ref";
inline constexpr std::string_view kNoticeKind = "transfer.notice";
inline constexpr std::string_view kResponseKind = "transfer.response";
inline constexpr std::string_view kReceivedKind = "transfer.received";

// ---- Recipients ----

struct Recipient {
  std::string id;
  std::string name;
  std::string uscc;
  std::string contact;
  std::string age_recipient;  // "age1..."
  std::string ssh_key;        // "ssh-ed25519 AAAA..."
};
// `added_at`: RFC 3339, when it was stored.
std::string SerializeRecipient(const Recipient& r, std::string_view added_at);
Result<Recipient> ParseRecipient(std::string_view id, std::string_view body);

// ---- Plans and their state ----

enum class TransferMode { kHeadOffice, kArt22, kArt23 };
Result<TransferMode> ParseTransferMode(std::string_view s);
std::string_view TransferModeName(TransferMode m);

struct TransferPlan {
  std::string id;
  std::string recipient;
  TransferMode mode = TransferMode::kHeadOffice;
  std::string purpose;
  std::string method;
  std::vector<std::string> fields;  // column names
  std::string dataset;              // empty: every dataset
  std::string approved_by;
  std::string processor_name;
  std::string processor_contact;
  std::string processor_uscc;
  std::map<std::string, std::string> contract;
};

// Where a transfer stands. Only forward: planned -> noticed -> packaged ->
// closed (a package is recorded before its file is named: a second run may
// build it again while packaged).
enum class TransferState { kPlanned, kNoticed, kPackaged, kClosed };
std::string_view TransferStateName(TransferState s);  // "planned", ...

// One run of `transfer notices`.
struct NoticeRun {
  std::string time;     // RFC 3339
  std::string channel;  // sms | letter | email
  uint64_t notices = 0;
  uint64_t missing_contact = 0;
  std::string sha256;  // over the per-notice SHA-256s
};

// The package as recorded when it was built.
struct PackageRecord {
  std::string manifest_sha256;
  std::string created_at;
  uint64_t people = 0;
  uint64_t records = 0;
  std::map<std::string, uint64_t> withheld_frozen;  // field -> people
  std::map<std::string, uint64_t> damaged;          // field -> values (--allow-damaged)
  std::string out;                                  // the absolute path it was written to
};

struct TransferDoc {
  static constexpr int kVersion = 1;
  TransferPlan plan;
  TransferState state = TransferState::kPlanned;
  std::string created_at;
  std::vector<NoticeRun> notices;
  std::optional<PackageRecord> package;  // from kPackaged on
  std::string closed_at;                 // kClosed
  std::string receipt_sha256;            // kClosed
};
std::string SerializeTransferDoc(const TransferDoc& doc);
Result<TransferDoc> ParseTransferDoc(std::string_view id, std::string_view body);

// ---- Per person ----

struct RefDoc {
  std::string ref;  // 8 characters of the reference alphabet
};
std::string SerializeRefDoc(const RefDoc& d);
Result<RefDoc> ParseRefDoc(std::string_view body);

struct NoticeDoc {
  std::string sha256;   // of the notice's text
  std::string time;     // RFC 3339
  std::string channel;  // sms | letter | email
};
std::string SerializeNoticeDoc(const NoticeDoc& d);
Result<NoticeDoc> ParseNoticeDoc(std::string_view body);

enum class Response { kConsent, kObject, kWithdraw };
std::string_view ResponseName(Response r);  // "consent", "object", "withdraw"
// The English or Chinese word (consent/同意, object/反对, withdraw/撤回),
// ignoring case and surrounding blanks.
std::optional<Response> ParseResponseWord(std::string_view s);

struct ResponseDoc {
  Response response = Response::kConsent;
  std::string time;  // RFC 3339 UTC
  bool sensitive_consent = false;
  bool guardian_consent = false;
  uint64_t line = 0;            // in the responses file
  std::string evidence_sealed;  // base64, sealed under the person's key; "" for none
};
std::string SerializeResponseDoc(const ResponseDoc& d);
Result<ResponseDoc> ParseResponseDoc(std::string_view body);

// Who left in a package: runs of consecutive person numbers.
class IncludedSet {
 public:
  // REQUIRES: pks ascending, no duplicates.
  static IncludedSet Of(const std::vector<int64_t>& pks);
  bool Contains(int64_t pk) const;
  uint64_t people() const { return people_; }
  std::string ToDoc(const std::string& manifest_sha256) const;
  static Result<IncludedSet> FromDoc(const std::string& transfer, std::string_view body);

 private:
  std::vector<std::pair<int64_t, int64_t>> runs_;  // [first, end)
  uint64_t people_ = 0;
};

// What packages made before IncludedSet wrote instead: a person doc of
// kIncludedKind (transfer id, pk) for every person who left. Read, never
// written any more.
struct LegacyIncludedDoc {
  std::string manifest_sha256;
};
Result<LegacyIncludedDoc> ParseLegacyIncludedDoc(std::string_view transfer, std::string_view body);

// ---- Recipient side ----

struct ReceivedDoc {
  std::string transfer;
  std::string dataset;
  uint64_t people = 0;
  uint64_t records = 0;
  std::string imported_at;
  std::string sender_key;      // ssh-ed25519 line
  std::string recipient_name;  // as the manifest named it
};
std::string SerializeReceivedDoc(const ReceivedDoc& d);
Result<ReceivedDoc> ParseReceivedDoc(std::string_view manifest_sha256, std::string_view body);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_TRANSFER_DOC_H_
