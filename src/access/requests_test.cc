// Requests and signed reviews on a real vault; signatures checked with
// stock ssh-keygen against the key the enrolment bound to the reviewer.
#include "access/requests.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "access/sessions.h"
#include "access/training.h"
#include "access/users.h"
#include "base/test_util.h"
#include "base/time.h"

namespace custos::access {
namespace {

constexpr const char* kPassword = "分公司注销 correct horse";

std::string Sh(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  std::string out;
  char buf[256];
  while (p && std::fgets(buf, sizeof buf, p.get()) != nullptr) out += buf;
  return out;
}

class RequestsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
  void SetUp() override {
    vault::KeySource key;
    key.key_file = dir_.File("k");
    auto v = vault::Vault::Create(dir_.File("v"), key, "keyholder");
    ASSERT_TRUE(v) << v.error().message();
    v_ = std::move(*v);
    for (const auto& [id, role] :
         std::vector<std::pair<std::string, std::string>>{{"wang.cust", "custodian"},
                                                          {"zhang.op", "operator"},
                                                          {"li.off", "officer"},
                                                          {"qian.appr", "approver"},
                                                          {"zhao.sup", "supervisor"},
                                                          {"sun.sup", "supervisor"},
                                                          {"zhou.both", "supervisor"}}) {
      v_->set_principal(users_.empty() ? KeyHolder("keyholder") : BreakGlass("keyholder"));
      Join(id, role);
    }
    // Everyone but zhou.both passes the training.
    for (const auto& [id, who] : users_) {
      if (id != "zhou.both") Trained(id);
    }
  }

  // Adds (as whoever acts now), enrols and logs in a user.
  void Join(const std::string& id, const std::string& role) {
    auto inv = AddUser(*v_, {id, "姓名" + id, {role}});
    ASSERT_TRUE(inv) << inv.error().message();
    ASSERT_FALSE(inv->requested);
    auto e = Enrol(*v_, {id, inv->invitation.enrolment_secret, kPassword, ""});
    ASSERT_TRUE(e) << e.error().message();
    const std::string code =
        Sh("oathtool --totp -b " + e->totp_secret + " 2>/dev/null").substr(0, 6);
    auto who = Authenticate(*v_, {id, kPassword, code});
    ASSERT_TRUE(who) << who.error().message();
    users_.insert_or_assign(id, std::move(*who));
  }
  void Trained(const std::string& id) {
    As(id);
    ASSERT_TRUE(TakeQuiz(*v_, [](const Question& q, int) -> Result<int> { return q.answer; }));
    users_.at(id).principal.trained = true;
  }
  void As(const std::string& id) { v_->set_principal(users_.at(id).principal); }
  Signing Keys(const std::string& id) { return {users_.at(id).keys, ""}; }
  Result<Request> Approve(const std::string& id, const std::string& req,
                          const char* decision = "approve") {
    As(id);
    return ReviewRequest(*v_, req, decision, "", Keys(id), FormatRfc3339(NowUnixSeconds()));
  }
  nlohmann::json Operation(const std::string& dataset) {
    return {{"kind", "destroy.execute"},
            {"vault", v_->IdHex()},
            {"dataset", dataset},
            {"people_to_destroy", 12}};
  }

  custos::testing::TempDir dir_;
  std::unique_ptr<vault::Vault> v_;
  std::map<std::string, Authenticated> users_;
};

TEST_F(RequestsTest, DistinctPeopleFillTheSlotsAndTheRequestRunsOnce) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->id.size(), 14u);
  EXPECT_EQ(req->state, RequestState::kPending);

  auto own = Approve("zhang.op", req->id);
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code(), ErrorCode::kPermissionDenied);

  auto r = Approve("li.off", req->id);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reviews.back().slot, 0);
  // The officer's slot is taken: the approver fills no slot.
  auto no_slot = Approve("qian.appr", req->id);
  ASSERT_FALSE(no_slot);
  EXPECT_EQ(no_slot.error().code(), ErrorCode::kPermissionDenied);
  auto twice = Approve("li.off", req->id);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kPermissionDenied);
  // Untrained.
  auto untrained = Approve("zhou.both", req->id);
  ASSERT_FALSE(untrained);
  EXPECT_EQ(untrained.error().code(), ErrorCode::kPermissionDenied);

  ASSERT_TRUE(Approve("zhao.sup", req->id));
  As("zhang.op");
  auto early = CheckApproved(*v_, req->id, Operation("crm"));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code(), ErrorCode::kFailedPrecondition);
  r = Approve("sun.sup", req->id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, RequestState::kApproved);

  As("zhang.op");
  auto changed = CheckApproved(*v_, req->id, Operation("crm2"));
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code(), ErrorCode::kFailedPrecondition);
  auto ok = CheckApproved(*v_, req->id, Operation("crm"));
  ASSERT_TRUE(ok) << ok.error().message();
  Request run = *ok;
  tlog::Event e = v_->MakeEvent("destroy.execute");
  ASSERT_TRUE(v_->Transact(e, [&](tlog::Event&) { return MarkExecuted(*v_, run); }));
  EXPECT_EQ(run.state, RequestState::kExecuted);
  auto again = CheckApproved(*v_, req->id, Operation("crm"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(RequestsTest, ADenyEndsTheRequest) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req);
  auto r = Approve("zhao.sup", req->id, "deny");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->state, RequestState::kDenied);
  auto late = Approve("li.off", req->id);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(RequestsTest, OnlyTheRequesterOrACustodianCancels) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req);
  As("li.off");
  auto st = CancelRequest(*v_, req->id);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
  As("zhang.op");
  ASSERT_TRUE(CancelRequest(*v_, req->id));
  EXPECT_EQ(GetRequest(*v_, req->id)->state, RequestState::kCancelled);
}

TEST_F(RequestsTest, AnExpiredRequestIsMarkedAndDoesNotRun) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req);
  auto body = *v_->GetDoc(kRequestKind, req->id);
  ASSERT_TRUE(body);
  std::string old = *body;
  const size_t at = old.find(req->expires_at);
  old.replace(at, req->expires_at.size(), "2020-01-01T00:00:00Z");
  ASSERT_TRUE(v_->Transact(v_->MakeEvent("test.edit"),
                           [&](tlog::Event&) { return v_->PutDoc(kRequestKind, req->id, old); }));
  auto r = GetRequest(*v_, req->id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, RequestState::kExpired);
  auto review = Approve("li.off", req->id);
  ASSERT_FALSE(review);
  EXPECT_EQ(review.error().code(), ErrorCode::kFailedPrecondition);
}

// Each review verifies with ssh-keygen -Y verify against the key the
// enrolment recorded; the same signature over another request does not.
TEST_F(RequestsTest, ReviewsVerifyWithSshKeygenAndACopiedOneDoesNot) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  auto other = CreateRequest(*v_, Operation("crm2"));
  ASSERT_TRUE(req && other);
  auto r = Approve("li.off", req->id);
  ASSERT_TRUE(r);
  const Review& review = r->reviews.back();
  EXPECT_EQ(review.statement, Statement(v_->IdHex(), *r, "approve", "li.off", review.time));
  std::ofstream(dir_.File("allowed"))
      << "li.off namespaces=\"custos-approval\" " << review.public_key << "\n";
  std::ofstream(dir_.File("stmt"), std::ios::binary) << review.statement;
  std::ofstream(dir_.File("stmt.sig"), std::ios::binary) << review.signature;
  const std::string verify = "ssh-keygen -Y verify -f " + dir_.File("allowed") +
                             " -I li.off -n custos-approval -s " + dir_.File("stmt.sig") + " < ";
  EXPECT_NE(Sh(verify + dir_.File("stmt") + " 2>&1").find("Good \"custos-approval\" signature"),
            std::string::npos);
  // Copied onto another request's statement: it fails.
  std::ofstream(dir_.File("stmt2"), std::ios::binary)
      << Statement(v_->IdHex(), *other, "approve", "li.off", review.time);
  EXPECT_EQ(Sh(verify + dir_.File("stmt2") + " 2>&1").find("Good"), std::string::npos);
}

// A user enrolled with their own OpenSSH key approves with a signature
// ssh-keygen made; one made over another statement is refused.
TEST_F(RequestsTest, OwnSshKeyReviewsAreCheckedAgainstTheEnrolledKey) {
  ASSERT_EQ(Sh("ssh-keygen -q -t ed25519 -N '' -C ma -f " + dir_.File("id") + " && echo ok"),
            "ok\n");
  std::ifstream pub_in(dir_.File("id.pub"));
  std::string pub;
  std::getline(pub_in, pub);
  v_->set_principal(BreakGlass("keyholder"));
  auto inv = AddUser(*v_, {"ma.sup", "马", {"supervisor"}});
  ASSERT_TRUE(inv);
  auto e = Enrol(*v_, {"ma.sup", inv->invitation.enrolment_secret, kPassword, pub});
  ASSERT_TRUE(e) << e.error().message();
  const std::string code = Sh("oathtool --totp -b " + e->totp_secret).substr(0, 6);
  auto who = Authenticate(*v_, {"ma.sup", kPassword, code});
  ASSERT_TRUE(who);
  v_->set_principal(who->principal);
  ASSERT_TRUE(TakeQuiz(*v_, [](const Question& q, int) -> Result<int> { return q.answer; }));
  Principal ma = who->principal;
  ma.trained = true;

  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  auto other = CreateRequest(*v_, Operation("crm2"));
  ASSERT_TRUE(req && other);
  const std::string time = FormatRfc3339(NowUnixSeconds());
  auto sign = [&](const Request& r) {
    std::ofstream(dir_.File("s"), std::ios::binary)
        << Statement(v_->IdHex(), r, "approve", "ma.sup", time);
    std::remove(dir_.File("s.sig").c_str());
    Sh("ssh-keygen -q -Y sign -f " + dir_.File("id") + " -n custos-approval " + dir_.File("s"));
    std::ifstream in(dir_.File("s.sig"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  v_->set_principal(ma);
  auto copied = ReviewRequest(*v_, req->id, "approve", "", {std::nullopt, sign(*other)}, time);
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code(), ErrorCode::kUnauthenticated);
  auto ok = ReviewRequest(*v_, req->id, "approve", "", {std::nullopt, sign(*req)}, time);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->reviews.back().public_key.substr(0, 80), pub.substr(0, 80));
  EXPECT_EQ(ok->reviews.back().slot, 1);
}

// With two custodians a role grant waits for the other one; neither the
// asker nor the user concerned approves it, and it runs once, as approved.
TEST_F(RequestsTest, RoleGrantsWaitForASecondCustodian) {
  As("wang.cust");
  Join("ma.cust", "custodian");
  Trained("ma.cust");
  Trained("wang.cust");
  As("wang.cust");
  auto asked = SetRoles(*v_, "zhang.op", {"operator", "approver"});
  ASSERT_TRUE(asked) << asked.error().message();
  ASSERT_TRUE(asked->requested);
  const std::string id = asked->requested->id;
  EXPECT_EQ(asked->requested->kind, "user.roles");
  EXPECT_EQ(GetUser(*v_, "zhang.op")->roles, RoleSet{Role::kOperator});  // nothing yet

  EXPECT_EQ(Approve("wang.cust", id).error().code(), ErrorCode::kPermissionDenied);  // asker
  EXPECT_EQ(Approve("li.off", id).error().code(), ErrorCode::kPermissionDenied);     // no slot
  // Break-glass cannot go around the second custodian.
  v_->set_principal(BreakGlass("keyholder"));
  auto forced = SetRoles(*v_, "zhang.op", {"operator", "approver"});
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code(), ErrorCode::kPermissionDenied);
  auto approved = Approve("ma.cust", id);
  ASSERT_TRUE(approved) << approved.error().message();
  EXPECT_EQ(approved->state, RequestState::kApproved);

  As("wang.cust");
  auto other = SetRoles(*v_, "zhang.op", {"operator", "officer"}, id);  // not what was approved
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kFailedPrecondition);
  auto ran = SetRoles(*v_, "zhang.op", {"approver", "operator"}, id);
  ASSERT_TRUE(ran) << ran.error().message();
  EXPECT_FALSE(ran->requested);
  EXPECT_EQ(GetUser(*v_, "zhang.op")->roles, (RoleSet{Role::kOperator, Role::kApprover}));
  auto again = SetRoles(*v_, "zhang.op", {"approver", "operator"}, id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);  // executed

  // A grant to a custodian is not approved by that custodian.
  As("wang.cust");
  auto to_ma = SetRoles(*v_, "ma.cust", {"custodian", "supervisor"});
  ASSERT_TRUE(to_ma && to_ma->requested);
  EXPECT_EQ(Approve("ma.cust", to_ma->requested->id).error().code(), ErrorCode::kPermissionDenied);
  // Adding a user waits too, and the enrolment secret comes when it runs.
  As("wang.cust");
  auto add = AddUser(*v_, {"he.off", "何", {"officer"}});
  ASSERT_TRUE(add && add->requested);
  EXPECT_TRUE(add->invitation.enrolment_secret.empty());
  EXPECT_EQ(GetUser(*v_, "he.off").error().code(), ErrorCode::kNotFound);
  auto add_ok = Approve("ma.cust", add->requested->id);
  ASSERT_TRUE(add_ok) << add_ok.error().message();
  As("wang.cust");
  auto added = AddUser(*v_, {"he.off", "何", {"officer"}}, add->requested->id);
  ASSERT_TRUE(added) << added.error().message();
  EXPECT_EQ(added->invitation.enrolment_secret.size(), 32u);
}

TEST_F(RequestsTest, PoliciesAreSetByRequestAndMustBeMeetable) {
  EXPECT_EQ(ParseSlot("officer,approver:1")->roles, (RoleSet{Role::kOfficer, Role::kApprover}));
  EXPECT_EQ(ParseSlot("supervisor")->count, 1);
  EXPECT_EQ(ParseSlot("supervisor:x").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseSlot("root:1").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseSlot(":2").error().code(), ErrorCode::kInvalidArgument);

  As("wang.cust");
  auto code = [&](const Policy& p) {
    auto r = SetPolicy(*v_, p, "");
    return r ? ErrorCode::kOk : r.error().code();
  };
  const RoleSet sup{Role::kSupervisor};
  EXPECT_EQ(code({"destroy.execute", {}}), ErrorCode::kInvalidArgument);          // no slot
  EXPECT_EQ(code({"destroy.execute", {{sup, 0}}}), ErrorCode::kInvalidArgument);  // zero
  EXPECT_EQ(code({"nothing", {{sup, 1}}}), ErrorCode::kInvalidArgument);
  // Three active supervisors: four cannot be met.
  EXPECT_EQ(code({"destroy.execute", {{sup, 4}}}), ErrorCode::kFailedPrecondition);
  // One officer can approve: the operator asks.
  EXPECT_EQ(code({"destroy.execute", {{{Role::kOfficer}, 1}}}), ErrorCode::kOk);
  As("li.off");
  EXPECT_EQ(code({"destroy.execute", {{sup, 3}}}), ErrorCode::kPermissionDenied);  // custodian's

  As("wang.cust");
  auto asked = SetPolicy(*v_, {"destroy.execute", {{sup, 3}}}, "");
  ASSERT_TRUE(asked && *asked) << (asked ? "" : asked.error().message());
  const std::string id = (*asked)->id;
  EXPECT_EQ((*asked)->policy.slots.size(), 1u);  // policy.set: the officer approves
  ASSERT_TRUE(Approve("li.off", id));
  As("wang.cust");
  auto ran = SetPolicy(*v_, {"destroy.execute", {{sup, 3}}}, id);
  ASSERT_TRUE(ran) << ran.error().message();
  EXPECT_FALSE(*ran);
  auto now = PolicyFor(*v_, "destroy.execute");
  ASSERT_TRUE(now);
  ASSERT_EQ(now->slots.size(), 1u);
  EXPECT_EQ(now->slots[0].count, 3);
  As("zhang.op");
  auto listed = ListPolicies(*v_);
  ASSERT_TRUE(listed);
  EXPECT_FALSE(listed->at(0).is_default);
  EXPECT_EQ(listed->at(0).request, id);
  EXPECT_TRUE(listed->at(1).is_default);
  // A new request carries the new policy; an old one keeps its own.
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->policy.slots[0].count, 3);
}

TEST_F(RequestsTest, AReviewTimeMustBeSecondPrecisionAndNotAhead) {
  As("zhang.op");
  auto req = CreateRequest(*v_, Operation("crm"));
  ASSERT_TRUE(req);
  As("li.off");
  for (const std::string& bad :
       {std::string("2026-12-07 08:00:00"), FormatRfc3339(NowUnixSeconds() + 3600),
        std::string("2000-01-01T00:00:00Z")}) {
    auto r = ReviewRequest(*v_, req->id, "approve", "", Keys("li.off"), bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(RequestsTest, CanonicalJsonSortsMembersAndEscapesMinimally) {
  const nlohmann::json j = {{"b", 1}, {"a", "x\ny\"é"}, {"c", {{"z", 0}, {"y", true}}}};
  EXPECT_EQ(CanonicalJson(j), "{\"a\":\"x\\ny\\\"é\",\"b\":1,\"c\":{\"y\":true,\"z\":0}}");
}

}  // namespace
}  // namespace custos::access
