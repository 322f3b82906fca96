// Approval policies (docs/formats/approval.md): for each kind of operation
// that waits for approvals, the slots to fill, each with the roles that may
// fill it and how many distinct people. Policies are data: the defaults
// below until a custodian's change, approved in its turn, stores another.
#ifndef CUSTOS_ACCESS_POLICIES_H_
#define CUSTOS_ACCESS_POLICIES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "access/roles.h"
#include "base/result.h"
#include "vault/doc_reader.h"
#include "vault/vault.h"

namespace custos::access {

inline constexpr std::string_view kPolicyKind = "approval.policy";
// The kinds of operation that wait for approvals, in the order shown.
inline constexpr std::string_view kApprovalKinds[] = {"destroy.execute", "transfer.package",
                                                      "user.roles", "policy.set"};
inline constexpr int kMaxSeats = 9;

struct Slot {
  RoleSet roles;  // any of them may fill it
  int count = 1;  // distinct people
};
struct Policy {
  std::string kind;
  std::vector<Slot> slots;
};
nlohmann::ordered_json PolicyToJson(const Policy& p);
// Reads {"kind", "slots"} from a document or a request; the reader's
// status (and a Damaged error for an unknown role) says what is wrong.
Result<Policy> PolicyFromReader(vault::DocReader& d);
// "officer,approver:1" -> {officer|approver, 1}; the count defaults to 1.
// kInvalidArgument naming the slot.
Result<Slot> ParseSlot(std::string_view text);

// What the requester of a kind needs (destroy.execute: operator or
// officer...). nullopt for a kind that takes no requests.
std::optional<Action> RequesterAction(std::string_view kind);

Policy DefaultPolicy(std::string_view kind);
// The policy in force for `kind`: the vault's, or the default.
Result<Policy> PolicyFor(vault::Vault& vault, std::string_view kind);

struct PolicyInForce {
  Policy policy;
  bool is_default = true;
  std::string set_at, set_by, request;  // for a stored one
};
// Every kind's policy. Anyone who may read requests may read them.
Result<std::vector<PolicyInForce>> ListPolicies(vault::Vault& vault);

// Whether the vault's active users can meet `p`: some user who may make
// such a request, and distinct others to fill every seat. kFailedPrecondition
// naming the slot that cannot be filled; kInvalidArgument for a slot of
// count 0, no slots, or more than kMaxSeats people.
Status CheckMeetable(vault::Vault& vault, const Policy& p);

// The operation a change of policy is (approval.md: kind "policy.set").
nlohmann::json PolicyOperation(vault::Vault& vault, const Policy& p);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_POLICIES_H_
