#include "access/roles.h"

#include <gtest/gtest.h>

#include <set>

namespace custos::access {
namespace {

Principal User(std::string id, RoleSet roles, bool trained = true) {
  Principal p;
  p.user = std::move(id);
  p.roles = roles;
  p.via = Via::kPassword;
  p.trained = trained;
  return p;
}

TEST(Roles, NamesRoundTripAndUnknownIsRefusedListingTheKnown) {
  for (Role r : kAllRoles) EXPECT_EQ(ParseRole(RoleName(r)), r);
  EXPECT_EQ(RoleNameZh(Role::kOfficer), "个人信息保护负责人");
  auto bad = RoleSet::FromNames({"operator", "admin"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("'admin'"), std::string::npos);
  EXPECT_NE(bad.error().message().find("custodian, operator, officer"), std::string::npos);
  EXPECT_EQ((RoleSet{Role::kOfficer, Role::kOperator}).Joined(), "operator, officer");
  EXPECT_EQ(RoleSet().Joined(), "none");
}

TEST(Roles, IncompatiblePairsAreRefused) {
  EXPECT_TRUE(CheckCompatible({Role::kOperator, Role::kApprover}));
  EXPECT_TRUE(CheckCompatible({Role::kOfficer, Role::kSupervisor}));
  EXPECT_TRUE(CheckCompatible({Role::kCustodian, Role::kSupervisor}));
  for (Role r : kAllRoles) {
    if (r == Role::kAuditor) continue;
    auto st = CheckCompatible({Role::kAuditor, r});
    ASSERT_FALSE(st) << RoleName(r);
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(CheckCompatible({Role::kCustodian, Role::kOfficer}));
  EXPECT_FALSE(CheckCompatible({Role::kCustodian, Role::kOperator}));
}

TEST(Roles, EveryActionHasExactlyOneRule) {
  std::set<int> seen;
  std::set<std::string_view> names;
  for (const ActionRule& r : AllRules()) {
    EXPECT_TRUE(seen.insert(static_cast<int>(r.action)).second);
    EXPECT_TRUE(names.insert(r.name).second) << r.name;
    EXPECT_FALSE(r.roles.empty()) << r.name;
    EXPECT_EQ(&RuleFor(r.action), &r);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(Action::kVaultCopy) + 1);  // the last
}

struct Case {
  Role role;
  Action action;
  bool allowed;
};

class RoleTable : public testing::TestWithParam<Case> {};

TEST_P(RoleTable, AllowsOrRefusesWithPermissionDenied) {
  const Case& c = GetParam();
  Status st = CheckRole(User("u1", {c.role}), c.action);
  if (c.allowed) {
    EXPECT_TRUE(st) << st.error().message();
  } else {
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(st.error().message().find(RuleFor(c.action).name), std::string::npos);
    EXPECT_NE(st.error().message().find("needs the role"), std::string::npos);
  }
}

using R = Role;
using A = Action;
INSTANTIATE_TEST_SUITE_P(
    DesignTable, RoleTable,
    testing::Values(
        // custodian: keys and users; never personal data
        Case{R::kCustodian, A::kUserAdmin, true}, Case{R::kCustodian, A::kKeysRotate, true},
        Case{R::kCustodian, A::kAuditRepair, true}, Case{R::kCustodian, A::kReadClear, false},
        Case{R::kCustodian, A::kReadMasked, false}, Case{R::kCustodian, A::kImport, false},
        // operator: the data work, masked
        Case{R::kOperator, A::kImport, true}, Case{R::kOperator, A::kReadMasked, true},
        Case{R::kOperator, A::kTransferWork, true}, Case{R::kOperator, A::kDestroyExecute, true},
        Case{R::kOperator, A::kReadClear, false}, Case{R::kOperator, A::kUserAdmin, false},
        Case{R::kOperator, A::kKeysRotate, false}, Case{R::kCustodian, A::kKeysSplit, true},
        Case{R::kOfficer, A::kKeysSplit, false},
        // officer: clear reads, rules, forget
        Case{R::kOfficer, A::kReadClear, true}, Case{R::kOfficer, A::kForget, true},
        Case{R::kOfficer, A::kRetentionRules, true}, Case{R::kOfficer, A::kUserAdmin, false},
        Case{R::kOfficer, A::kImport, false},
        // approver: reports only
        Case{R::kApprover, A::kDestroyPlan, true}, Case{R::kApprover, A::kReadClear, false},
        Case{R::kApprover, A::kReadMasked, false}, Case{R::kApprover, A::kTransferWork, false},
        // supervisor: reports and the log
        Case{R::kSupervisor, A::kDeregisterCheck, true}, Case{R::kSupervisor, A::kAuditRead, true},
        Case{R::kSupervisor, A::kReadClear, false}, Case{R::kSupervisor, A::kFind, false},
        // auditor: the log and reports; no personal data, even masked
        Case{R::kAuditor, A::kAuditRead, true}, Case{R::kAuditor, A::kCertificateRead, true},
        Case{R::kAuditor, A::kReadMasked, false}, Case{R::kAuditor, A::kFind, false},
        Case{R::kAuditor, A::kAuditRepair, false}, Case{R::kAuditor, A::kImport, false}));

TEST(Roles, KeyHolderOfAVaultWithoutUsersMayDoEverything) {
  for (const ActionRule& r : AllRules()) EXPECT_TRUE(CheckRole(KeyHolder("li"), r.action));
}

TEST(Roles, BreakGlassMayOnlyDoACustodiansWork) {
  const Principal p = BreakGlass("li");
  EXPECT_TRUE(CheckRole(p, Action::kUserAdmin));
  EXPECT_TRUE(CheckRole(p, Action::kKeysRotate));
  auto st = CheckRole(p, Action::kReadMasked);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(st.error().message().find("break-glass"), std::string::npos);
  EXPECT_FALSE(CheckRole(p, Action::kImport));
  EXPECT_FALSE(CheckRole(p, Action::kPolicySet));
}

TEST(Roles, ViaNamesAreThoseTheAuditEntriesCarry) {
  EXPECT_EQ(ViaName(Via::kKeyHolder), "key");
  EXPECT_EQ(ViaName(Via::kPassword), "password+totp");
  EXPECT_EQ(ViaName(Via::kSshKey), "ssh-key");
  EXPECT_EQ(ViaName(Via::kBreakGlass), "break-glass");
}

}  // namespace
}  // namespace custos::access
