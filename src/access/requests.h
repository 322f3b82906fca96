// Requests and signed approvals (docs/formats/approval.md). An operation
// that needs the consent of others first becomes a request: its kind, the
// canonical JSON of exactly what it will do and that JSON's SHA-256, who
// asked, the policy in force, an expiry. Each review is an SSHSIG signature
// by the reviewer's approval key over a statement naming the vault, the
// request, the operation's hash and the decision. The operation runs only
// when the approvals fill the policy's slots with distinct people (never
// the requester), and only if the operation recomputed at that moment is
// still the one approved; running consumes the request.
#ifndef CUSTOS_ACCESS_REQUESTS_H_
#define CUSTOS_ACCESS_REQUESTS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/credentials.h"
#include "access/policies.h"
#include "access/roles.h"
#include "base/result.h"
#include "vault/vault.h"

namespace custos::access {

inline constexpr std::string_view kRequestKind = "request";
inline constexpr std::string_view kApprovalNamespace = "custos-approval";
inline constexpr int64_t kRequestSeconds = 7 * 24 * 3600;

// RFC 8785 canonical JSON for the operations Custos builds (ASCII member
// names, integers only): sorted members, no whitespace, minimal escapes.
std::string CanonicalJson(const nlohmann::json& j);

enum class RequestState { kPending, kApproved, kDenied, kCancelled, kExpired, kExecuted };
std::string_view RequestStateName(RequestState s);

struct Review {
  std::string reviewer;
  std::string name;
  RoleSet roles;
  int slot = -1;         // filled slot; -1 for a deny (or an approval no slot needed)
  std::string decision;  // "approve" or "deny"
  std::string time;
  std::string comment;
  std::string public_key;
  std::string statement;
  std::string signature;
  uint64_t audit_seq = 0;
};

struct Request {
  std::string id;  // r- and 12 hex digits
  std::string kind;
  std::string operation;  // canonical JSON
  std::string operation_sha256;
  std::string requester;
  std::string requested_at, expires_at;
  Policy policy;
  RequestState state = RequestState::kPending;
  std::vector<Review> reviews;
  std::string executed_at;
};
nlohmann::ordered_json RequestToJson(const Request& r);

// The statement a reviewer signs (approval.md), byte for byte.
std::string Statement(std::string_view vault_id, const Request& r, std::string_view decision,
                      std::string_view reviewer, std::string_view time);

// Makes a request of `kind` for `operation` (which must hold "kind" and
// "vault"); the requester is the vault's principal. Recorded
// (request.create).
Result<Request> CreateRequest(vault::Vault& vault, const nlohmann::json& operation);
// A request by id; a pending one past its expiry is marked expired (and
// recorded) first. kNotFound naming the id.
Result<Request> GetRequest(vault::Vault& vault, std::string_view id);
Result<std::vector<Request>> ListRequests(vault::Vault& vault);

// How a reviewer signs: with the Custos approval key their password
// unsealed, or with a signature made by their own SSH key.
struct Signing {
  std::optional<Unlocked> keys;  // a Custos approval key
  std::string ssh_signature;     // armored SSHSIG, for an own-SSH-key user
};
// Reviews a request as the vault's principal (a user): checks the rules
// (not the requester, not twice, a role of a slot still open, a current
// training for an approval), signs or checks the signature, and records
// it. Returns the request as it now stands.
Result<Request> ReviewRequest(vault::Vault& vault, std::string_view id, std::string_view decision,
                              std::string_view comment, const Signing& signing,
                              std::string_view time);
// Cancels a pending or approved request: the requester or a custodian.
Status CancelRequest(vault::Vault& vault, std::string_view id);

// Before running: the request must be approved, unexpired, of this kind,
// and `operation` (recomputed now) must hash to the approved one. Returns
// it; kFailedPrecondition naming what does not match.
Result<Request> CheckApproved(vault::Vault& vault, std::string_view id,
                              const nlohmann::json& operation);
// Marks the request executed: call inside the operation's own transaction
// (Vault::Transact), so running and consuming commit together.
Status MarkExecuted(vault::Vault& vault, Request& r);

// Changes the policy for `p.kind` (policy show|set). On a vault with
// users a custodian asks: without `request` this makes a request (kind
// "policy.set") and returns it; with it, the change runs once approved.
// On a vault without users the key holder changes it at once. Refuses a
// policy the vault's active users cannot meet (CheckMeetable).
Result<std::optional<Request>> SetPolicy(vault::Vault& vault, const Policy& p,
                                         std::string_view request);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_REQUESTS_H_
