#include "access/roles.h"

#include <algorithm>

namespace custos::access {
namespace {

struct RoleNames {
  Role role;
  std::string_view name;
  std::string_view zh;
};
constexpr RoleNames kRoleNames[] = {
    {Role::kCustodian, "custodian", "密钥/安全管理员"}, {Role::kOperator, "operator", "操作员"},
    {Role::kOfficer, "officer", "个人信息保护负责人"},  {Role::kApprover, "approver", "审批人"},
    {Role::kSupervisor, "supervisor", "监督人"},        {Role::kAuditor, "auditor", "审计管理员"},
};

const RoleNames& NamesOf(Role r) { return kRoleNames[static_cast<int>(r)]; }

using R = Role;

// Who may do what: shared/design/people-and-server.md's table, as docs/people.md
// states it. Reading reports (plans, status, certificates, deregistration)
// is open to every role that answers for the wind-down; personal data, even
// masked, only to the operator and the officer.
std::vector<ActionRule> MakeRules() {
  const RoleSet reports{R::kOperator, R::kOfficer, R::kApprover, R::kSupervisor, R::kAuditor};
  const RoleSet data{R::kOperator, R::kOfficer};
  return {
      {Action::kImport, "import", {R::kOperator}},
      {Action::kFind, "person.find", data},
      {Action::kReadMasked, "person.read_masked", data},
      {Action::kReadClear, "person.read_clear", {R::kOfficer}, true},
      {Action::kForget, "person.forget", {R::kOfficer}},
      {Action::kKeysRotate, "keys.rotate", {R::kCustodian}, false, true},
      {Action::kKeysSplit, "keys.split", {R::kCustodian}, false, true},
      {Action::kVaultPurge, "vault.purge", {R::kCustodian}, false, true},
      {Action::kVaultCopy, "vault.copy", {R::kCustodian}, false, true},
      {Action::kRetentionRules, "retention.rules", {R::kOfficer}},
      {Action::kRetentionApply, "retention.apply", data},
      {Action::kRetentionRead, "retention.read", reports},
      {Action::kReadFrozen, "retention.read_frozen", {R::kOfficer}, true},
      {Action::kDestroyPlan, "destroy.plan", reports},
      {Action::kDestroyExecute, "destroy.execute", data},
      {Action::kCertificateIssue, "certificate.issue", data},
      {Action::kCertificateRead, "certificate.read", reports},
      {Action::kMediaRegister, "media.register", data},
      {Action::kMediaRecord, "media.record", data},
      {Action::kDeregisterCheck, "deregister.check", reports},
      {Action::kRecipientAdd, "recipient.add", data},
      {Action::kRecipientList, "recipient.list", reports},
      {Action::kTransferWork, "transfer", {R::kOperator}},
      // The notices file holds every person's contact in clear.
      {Action::kTransferNotices, "transfer.notices", {R::kOperator}, true},
      {Action::kTransferStatus, "transfer.status", reports},
      {Action::kPackageReceive, "package.import", {R::kOperator}},
      {Action::kAuditRead,
       "audit.read",
       {R::kAuditor, R::kCustodian, R::kOfficer, R::kSupervisor},
       false,
       true},
      {Action::kAuditRepair, "audit.repair", {R::kCustodian}, false, true},
      {Action::kUserAdmin, "user.admin", {R::kCustodian}, false, true},
      {Action::kUserList,
       "user.list",
       {R::kCustodian, R::kOfficer, R::kAuditor, R::kSupervisor},
       false,
       true},
      {Action::kRequestRead, "request.read", RoleSet::All()},
      {Action::kTrainingRecord, "training.record", {R::kCustodian, R::kOfficer}},
      {Action::kPolicySet, "policy.set", {R::kCustodian}},
  };
}

}  // namespace

std::string_view RoleName(Role r) { return NamesOf(r).name; }
std::string_view RoleNameZh(Role r) { return NamesOf(r).zh; }

std::optional<Role> ParseRole(std::string_view name) {
  for (const RoleNames& n : kRoleNames) {
    if (n.name == name) return n.role;
  }
  return std::nullopt;
}

RoleSet::RoleSet(std::initializer_list<Role> roles) {
  for (Role r : roles) Add(r);
}

RoleSet RoleSet::All() {
  RoleSet s;
  for (Role r : kAllRoles) s.Add(r);
  return s;
}

std::vector<std::string> RoleSet::Names() const {
  std::vector<std::string> out;
  for (Role r : kAllRoles) {
    if (Has(r)) out.emplace_back(RoleName(r));
  }
  return out;
}

std::string RoleSet::Joined(std::string_view separator) const {
  std::string out;
  for (const std::string& n : Names()) {
    if (!out.empty()) out += separator;
    out += n;
  }
  return out.empty() ? "none" : out;
}

Result<RoleSet> RoleSet::FromNames(const std::vector<std::string>& names) {
  RoleSet s;
  for (const std::string& n : names) {
    const std::optional<Role> r = ParseRole(n);
    if (!r) {
      return Fail(InvalidArgument("unknown role '" + n + "' (roles: " + All().Joined() + ")"));
    }
    s.Add(*r);
  }
  return s;
}

Status CheckCompatible(RoleSet roles) {
  if (roles.Has(Role::kAuditor)) {
    for (Role r : kAllRoles) {
      if (r != Role::kAuditor && roles.Has(r)) {
        return Fail(InvalidArgument("the auditor role cannot be held with any other (here: " +
                                    std::string(RoleName(r)) + ")"));
      }
    }
  }
  if (roles.Has(Role::kCustodian)) {
    for (Role r : {Role::kOfficer, Role::kOperator}) {
      if (roles.Has(r)) {
        return Fail(InvalidArgument("the custodian role cannot be held with " +
                                    std::string(RoleName(r)) +
                                    ": who holds the keys does not also use the data"));
      }
    }
  }
  return Ok();
}

std::string_view ViaName(Via v) {
  switch (v) {
    case Via::kKeyHolder:
      return "key";
    case Via::kPassword:
      return "password+totp";
    case Via::kSshKey:
      return "ssh-key";
    case Via::kBreakGlass:
      return "break-glass";
    case Via::kNone:
      return "none";
  }
  return "key";
}

Principal KeyHolder(std::string label) {
  Principal p;
  p.user = std::move(label);
  p.roles = RoleSet::All();
  p.via = Via::kKeyHolder;
  return p;
}

Principal BreakGlass(std::string label) {
  Principal p;
  p.user = std::move(label);
  p.roles = RoleSet{Role::kCustodian};
  p.via = Via::kBreakGlass;
  return p;
}

Principal NoOne(std::string label) {
  Principal p;
  p.user = std::move(label);
  p.via = Via::kNone;
  return p;
}

const std::vector<ActionRule>& AllRules() {
  static const std::vector<ActionRule> rules = MakeRules();
  return rules;
}

const ActionRule& RuleFor(Action a) {
  const std::vector<ActionRule>& rules = AllRules();
  const auto it =
      std::find_if(rules.begin(), rules.end(), [a](const ActionRule& r) { return r.action == a; });
  return *it;  // every Action has a rule (roles_test checks)
}

Status CheckRole(const Principal& who, Action a) {
  const ActionRule& rule = RuleFor(a);
  if (who.via == Via::kKeyHolder) return Ok();
  if (who.via == Via::kNone) {
    return Fail(PermissionDenied(
        "this vault has users: " + std::string(rule.name) +
        " needs a logged-in user (custos login --user ID, or --user ID on the command)"));
  }
  if (who.via == Via::kBreakGlass && !rule.break_glass) {
    return Fail(PermissionDenied(
        "this vault has users: " + std::string(rule.name) +
        " needs a logged-in user (custos login --user ID, or --user ID); the key alone "
        "(break-glass) may only do a custodian's work"));
  }
  if (who.roles.Intersects(rule.roles)) return Ok();
  return Fail(PermissionDenied(who.user + " may not do " + std::string(rule.name) +
                               ": it needs the role " + rule.roles.Joined(" or ") +
                               " (holds: " + who.roles.Joined() + ")"));
}

}  // namespace custos::access
