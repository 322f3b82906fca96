// Who may do what (docs/people.md): the closed set of roles, how a principal
// authenticated, the actions Custos checks and the roles each one needs.
// Pure data and functions: the vault records the principal as the actor of
// its audit entries, and vault::Vault::Authorize applies these rules (with
// training and the audit entry of a refusal) for every caller alike.
//
// Thread safety: everything here is immutable or a value type.
#ifndef CUSTOS_ACCESS_ROLES_H_
#define CUSTOS_ACCESS_ROLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custos::access {

enum class Role : uint8_t {
  kCustodian,   // 密钥/安全管理员: keys, users, roles; never reads personal data in clear
  kOperator,    // 操作员: inventory, import, masked reads, transfers, requests destruction
  kOfficer,     // 个人信息保护负责人: clear reads with a purpose, approves
  kApprover,    // 审批人 (e.g. 分公司负责人): approves transfers and destruction
  kSupervisor,  // 监督人 (内审): witnesses destruction, reads reports
  kAuditor,     // 审计管理员: the audit log and reports; no personal data, even masked
};
inline constexpr Role kAllRoles[] = {Role::kCustodian, Role::kOperator,   Role::kOfficer,
                                     Role::kApprover,  Role::kSupervisor, Role::kAuditor};

std::string_view RoleName(Role r);    // "custodian"
std::string_view RoleNameZh(Role r);  // "密钥/安全管理员"
std::optional<Role> ParseRole(std::string_view name);

// A set of roles.
class RoleSet {
 public:
  RoleSet() = default;
  RoleSet(std::initializer_list<Role> roles);
  static RoleSet All();

  bool Has(Role r) const { return (bits_ >> static_cast<int>(r)) & 1; }
  void Add(Role r) { bits_ |= static_cast<uint8_t>(1u << static_cast<int>(r)); }
  bool Intersects(RoleSet o) const { return (bits_ & o.bits_) != 0; }
  bool empty() const { return bits_ == 0; }
  bool operator==(const RoleSet&) const = default;

  // Names in the order of kAllRoles.
  std::vector<std::string> Names() const;
  // "operator, officer"; "none" when empty.
  std::string Joined(std::string_view separator = ", ") const;

  // From names ("operator", "officer"): kInvalidArgument naming an unknown
  // one, listing the known ones.
  static Result<RoleSet> FromNames(const std::vector<std::string>& names);

 private:
  uint8_t bits_ = 0;
};

// The incompatible pairs (auditor with any other role; custodian with
// officer or operator): kInvalidArgument naming the pair, else Ok.
Status CheckCompatible(RoleSet roles);

// How the acting principal proved who it is.
enum class Via : uint8_t {
  kKeyHolder,   // "key": the vault has no users; whoever holds its key acts
  kPassword,    // "password+totp": a user, by password and a one-time code
  kSshKey,      // "ssh-key": a user's own OpenSSH key signed (approvals)
  kBreakGlass,  // "break-glass": the key, without a user, on a vault that has users
  kNone,        // "none": opened with the key on a vault that has users; not yet anyone
};
std::string_view ViaName(Via v);

// Who acts. On a vault with users it is a user; otherwise the key holder,
// labelled by --actor (CUSTOS_ACTOR or the OS user), who holds every role.
struct Principal {
  std::string user;  // user id; the key holder's label for kKeyHolder/kBreakGlass
  std::string name;  // display name ("" for the key holder)
  RoleSet roles;
  Via via = Via::kKeyHolder;
  std::string session;  // session id when acting through a session, else ""
  // A passed assessment of the current training course within its period,
  // as found when the principal authenticated (access/training.h).
  bool trained = false;
  // Unix seconds until which the session is stepped up (access/sessions.h);
  // 0 when it is not.
  int64_t stepped_up_until = 0;

  bool IsUser() const { return via == Via::kPassword || via == Via::kSshKey; }
};

// The key holder of a vault without users: every role, no approvals.
Principal KeyHolder(std::string label);
// The key holder of a vault with users (break-glass): custodian only.
Principal BreakGlass(std::string label);
// Whoever opened a vault that has users, before authenticating: may do
// nothing that is checked.
Principal NoOne(std::string label);

// What Custos checks, one value per kind of call. The rules (roles, whether
// a passed training is needed, whether break-glass may do it) are in
// roles.cc, in one table, and printed by docs/people.md.
enum class Action : uint8_t {
  kImport,
  kFind,
  kReadMasked,
  kReadClear,
  kForget,
  kKeysRotate,
  kVaultPurge,
  kRetentionRules,
  kRetentionApply,
  kRetentionRead,
  kReadFrozen,
  kDestroyPlan,
  kDestroyExecute,
  kCertificateIssue,
  kCertificateRead,
  kMediaRegister,
  kMediaRecord,
  kDeregisterCheck,
  kRecipientAdd,
  kRecipientList,
  kTransferWork,     // plan, terms, responses, package, close
  kTransferNotices,  // notices: a file of contacts in clear
  kTransferStatus,
  kPackageReceive,  // recipient side: import, receipt
  kAuditRead,       // verify, export, prove, list
  kAuditRepair,
  kUserAdmin,  // add, suspend, remove, reset, roles
  kUserList,
  kRequestRead,
  kTrainingRecord,  // a classroom course, recorded for someone else
  kPolicySet,
  kKeysSplit,  // the KEK into custodians' shares
  kVaultCopy,  // the whole vault to another file or database
};

struct ActionRule {
  Action action;
  std::string_view name;  // "person.read_clear": the audit action of a refusal
  RoleSet roles;          // any one of them suffices
  bool needs_training = false;
  bool break_glass = false;  // allowed to the key holder on a vault with users
};
const ActionRule& RuleFor(Action a);
const std::vector<ActionRule>& AllRules();

// Whether `who` may do `a` by role (training is checked by Authorize):
// kPermissionDenied naming the user, the action, the roles it needs and
// those the user holds.
Status CheckRole(const Principal& who, Action a);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_ROLES_H_
