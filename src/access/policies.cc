#include "access/policies.h"

#include <algorithm>
#include <functional>

#include "access/requests.h"
#include "access/users.h"
#include "base/time.h"

namespace custos::access {
namespace {

using ojson = nlohmann::ordered_json;
using vault::DocReader;

constexpr int kPolicyVersion = 1;

bool IsApprovalKind(std::string_view kind) {
  return std::find(std::begin(kApprovalKinds), std::end(kApprovalKinds), kind) !=
         std::end(kApprovalKinds);
}

// Whether `people` (their role sets) can fill every seat of `p`, one
// person per seat: a maximum bipartite matching.
bool CanFill(const Policy& p, const std::vector<RoleSet>& people) {
  std::vector<size_t> seat_slot;
  for (size_t s = 0; s < p.slots.size(); ++s) {
    for (int i = 0; i < p.slots[s].count; ++i) seat_slot.push_back(s);
  }
  std::vector<int> owner(seat_slot.size(), -1);
  std::function<bool(size_t, std::vector<bool>&)> place = [&](size_t who, std::vector<bool>& seen) {
    for (size_t seat = 0; seat < seat_slot.size(); ++seat) {
      if (seen[seat] || !people[who].Intersects(p.slots[seat_slot[seat]].roles)) continue;
      seen[seat] = true;
      if (owner[seat] < 0 || place(static_cast<size_t>(owner[seat]), seen)) {
        owner[seat] = static_cast<int>(who);
        return true;
      }
    }
    return false;
  };
  size_t placed = 0;
  for (size_t who = 0; who < people.size(); ++who) {
    std::vector<bool> seen(seat_slot.size(), false);
    if (place(who, seen)) ++placed;
  }
  return placed == seat_slot.size();
}

}  // namespace

ojson PolicyToJson(const Policy& p) {
  ojson slots = ojson::array();
  for (const Slot& s : p.slots) slots.push_back({{"roles", s.roles.Names()}, {"count", s.count}});
  return {{"kind", p.kind}, {"slots", slots}};
}

Result<Policy> PolicyFromReader(DocReader& d) {
  Policy p;
  p.kind = d.Str("kind");
  for (DocReader& s : d.Objects("slots")) {
    Slot slot;
    const std::vector<std::string> roles = s.Strings("roles");
    slot.count = static_cast<int>(s.U64("count"));
    auto set = RoleSet::FromNames(roles);
    if (!set) return Fail(d.Damaged("a slot with an unknown role"));
    slot.roles = *set;
    p.slots.push_back(slot);
  }
  RETURN_IF_ERROR(d.status());
  return p;
}

Result<Slot> ParseSlot(std::string_view text) {
  const std::string what = "--slot '" + std::string(text) + "'";
  std::string_view roles = text;
  Slot slot;
  if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    roles = text.substr(0, colon);
    const std::string_view count = text.substr(colon + 1);
    if (count.empty() || count.size() > 2 ||
        !std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Fail(InvalidArgument(what + ": the count after ':' is a number of people"));
    }
    slot.count = std::stoi(std::string(count));
  }
  std::vector<std::string> names;
  while (!roles.empty()) {
    const size_t comma = std::min(roles.find(','), roles.size());
    if (comma > 0) names.emplace_back(roles.substr(0, comma));
    roles.remove_prefix(std::min(comma + 1, roles.size()));
  }
  if (names.empty())
    return Fail(InvalidArgument(what + ": name the roles, e.g. officer,approver:1"));
  auto set = RoleSet::FromNames(names);
  if (!set) return Fail(InvalidArgument(what + ": " + set.error().message()));
  slot.roles = *set;
  return slot;
}

std::optional<Action> RequesterAction(std::string_view kind) {
  if (kind == "destroy.execute") return Action::kDestroyExecute;
  if (kind == "transfer.package") return Action::kTransferWork;
  if (kind == "user.roles") return Action::kUserAdmin;
  if (kind == "policy.set") return Action::kPolicySet;
  return std::nullopt;
}

Policy DefaultPolicy(std::string_view kind) {
  Policy p;
  p.kind = std::string(kind);
  if (kind == "destroy.execute") {
    p.slots = {{{Role::kOfficer, Role::kApprover}, 1}, {{Role::kSupervisor}, 2}};
  } else if (kind == "transfer.package") {
    p.slots = {{{Role::kOfficer}, 1}};
  } else if (kind == "user.roles") {
    p.slots = {{{Role::kCustodian}, 1}};
  } else {
    // policy.set: a custodian asks; the officer approves.
    p.slots = {{{Role::kOfficer}, 1}};
  }
  return p;
}

Result<Policy> PolicyFor(vault::Vault& vault, std::string_view kind) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetDoc(kPolicyKind, kind));
  if (!stored) return DefaultPolicy(kind);
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kPolicyKind, kind, *stored, kPolicyVersion));
  return PolicyFromReader(d);
}

Result<std::vector<PolicyInForce>> ListPolicies(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(Action::kRequestRead, {{"policies", true}}));
  std::vector<PolicyInForce> out;
  for (std::string_view kind : kApprovalKinds) {
    PolicyInForce p;
    ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetDoc(kPolicyKind, kind));
    if (!stored) {
      p.policy = DefaultPolicy(kind);
    } else {
      ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kPolicyKind, kind, *stored, kPolicyVersion));
      p.is_default = false;
      p.set_at = d.Str("set_at");
      p.set_by = d.Str("set_by");
      p.request = d.Str("request");
      ASSIGN_OR_RETURN(p.policy, PolicyFromReader(d));
    }
    out.push_back(std::move(p));
  }
  return out;
}

Status CheckMeetable(vault::Vault& vault, const Policy& p) {
  if (!IsApprovalKind(p.kind)) {
    return Fail(InvalidArgument("no policy for '" + p.kind + "': the kinds are destroy.execute, " +
                                "transfer.package, user.roles, policy.set"));
  }
  if (p.slots.empty()) {
    return Fail(
        InvalidArgument("a policy needs at least one slot: a threshold of zero would let "
                        "one person act alone"));
  }
  int seats = 0;
  for (const Slot& s : p.slots) {
    if (s.count < 1) {
      return Fail(InvalidArgument("a slot of " + s.roles.Joined("|") +
                                  " needs at least 1 person (a threshold of zero is an error)"));
    }
    seats += s.count;
  }
  if (seats > kMaxSeats) {
    return Fail(InvalidArgument("a policy of " + std::to_string(seats) + " people; at most " +
                                std::to_string(kMaxSeats)));
  }
  ASSIGN_OR_RETURN(std::vector<UserDoc> users, ActiveUsers(vault));
  const RoleSet requesters = RuleFor(*RequesterAction(p.kind)).roles;
  // Some active user may ask, and the others can fill every seat.
  for (size_t asker = 0; asker < users.size(); ++asker) {
    if (!users[asker].roles.Intersects(requesters)) continue;
    std::vector<RoleSet> others;
    for (size_t i = 0; i < users.size(); ++i) {
      if (i != asker) others.push_back(users[i].roles);
    }
    if (CanFill(p, others)) return Ok();
  }
  std::vector<RoleSet> everyone;
  for (const UserDoc& u : users) everyone.push_back(u.roles);
  for (size_t s = 0; s < p.slots.size(); ++s) {
    Policy one{p.kind, {p.slots[s]}};
    if (!CanFill(one, everyone)) {
      return Fail(FailedPrecondition("this policy cannot be met: its slot of " +
                                     std::to_string(p.slots[s].count) + " " +
                                     p.slots[s].roles.Joined("|") +
                                     " has fewer active users who hold those roles "
                                     "(enrol them first)"));
    }
  }
  return Fail(FailedPrecondition(
      "this policy cannot be met by the vault's active users: no one who may ask (" +
      requesters.Joined("|") + ") leaves enough distinct others to fill its " +
      std::to_string(seats) + " approvals"));
}

nlohmann::json PolicyOperation(vault::Vault& vault, const Policy& p) {
  nlohmann::json slots = nlohmann::json::array();
  for (const Slot& s : p.slots) slots.push_back({{"roles", s.roles.Names()}, {"count", s.count}});
  return {{"kind", "policy.set"}, {"vault", vault.IdHex()}, {"action", p.kind}, {"slots", slots}};
}

Result<std::optional<Request>> SetPolicy(vault::Vault& vault, const Policy& p,
                                         std::string_view request) {
  RETURN_IF_ERROR(vault.Authorize(Action::kPolicySet, {{"action", p.kind}}));
  ASSIGN_OR_RETURN(bool has_users, HasUsers(vault));
  if (!has_users) {
    return Fail(
        FailedPrecondition("this vault has no users: approvals and their policies apply "
                           "once it has (custos user add)"));
  }
  // Checked when asked and again when run: users may have left meanwhile.
  RETURN_IF_ERROR(CheckMeetable(vault, p));
  const nlohmann::json op = PolicyOperation(vault, p);
  if (request.empty()) {
    ASSIGN_OR_RETURN(Request made, CreateRequest(vault, op));
    return std::optional<Request>(std::move(made));
  }
  ASSIGN_OR_RETURN(Request approved, CheckApproved(vault, request, op));
  ASSIGN_OR_RETURN(Policy previous, PolicyFor(vault, p.kind));
  tlog::Event e = vault.MakeEvent("policy.set");
  e.objects = {{"action", p.kind},
               {"slots", PolicyToJson(p)["slots"]},
               {"previous_slots", PolicyToJson(previous)["slots"]},
               {"request", approved.id}};
  const Status changed = vault.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(MarkExecuted(vault, approved));
    ojson doc = {{"v", kPolicyVersion}};
    doc.update(PolicyToJson(p));
    doc["set_at"] = FormatRfc3339(NowUnixSeconds());
    doc["set_by"] = vault.principal().user;
    doc["request"] = approved.id;
    return vault.PutDoc(kPolicyKind, p.kind, doc.dump());
  });
  RETURN_IF_ERROR(changed);
  return std::optional<Request>();
}

}  // namespace custos::access
