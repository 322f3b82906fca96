// Users, enrolment, authentication, lockout, sessions and training on a
// real vault (SQLite in a temporary directory); one-time codes come from
// Debian's oathtool, computed apart from Custos.
#include "access/users.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>

#include "access/sessions.h"
#include "access/training.h"
#include "base/test_util.h"
#include "base/time.h"
#include "tlog/audit_log.h"

namespace custos::access {
namespace {

constexpr const char* kPassword = "分公司注销 correct horse";

std::string Oathtool(const std::string& base32, int64_t at) {
  const std::string cmd =
      "oathtool --totp -b -N @" + std::to_string(at) + " " + base32 + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  char buf[32] = {};
  if (!p || std::fgets(buf, sizeof buf, p.get()) == nullptr) return "";
  return std::string(buf, 6);
}

class UsersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
  void SetUp() override {
    vault::KeySource key;
    key.key_file = dir_.File("k");
    auto v = vault::Vault::Create(dir_.File("v"), key, "li.keyholder");
    ASSERT_TRUE(v) << v.error().message();
    v_ = std::move(*v);
  }

  // Adds and enrols a user; returns the base32 TOTP secret.
  std::string Enrolled(const std::string& id, std::vector<std::string> roles) {
    const access::Principal before = v_->principal();
    auto inv = AddUser(*v_, {id, "姓名 " + id, std::move(roles)});
    EXPECT_TRUE(inv) << inv.error().message();
    if (!inv) return "";
    auto e = Enrol(*v_, {id, inv->invitation.enrolment_secret, kPassword, ""});
    EXPECT_TRUE(e) << e.error().message();
    v_->set_principal(before);
    return e ? e->totp_secret : "";
  }

  Result<Authenticated> Login(const std::string& id, const std::string& b32,
                              int64_t at = NowUnixSeconds(), const char* password = kPassword) {
    return Authenticate(*v_, {id, password, Oathtool(b32, at)});
  }

  std::vector<tlog::Entry> Entries() {
    const Principal was = v_->principal();
    v_->set_principal(KeyHolder("reader"));
    std::vector<tlog::Entry> out;
    EXPECT_TRUE(v_->ForEachAuditEntry(0, [&](uint64_t, ByteSpan data) -> Status {
      ASSIGN_OR_RETURN(tlog::Entry e, tlog::ParseEntry(AsChars(data)));
      out.push_back(std::move(e));
      return Ok();
    }));
    v_->set_principal(was);
    return out;
  }

  size_t Count(const std::string& action, const std::string& result) {
    size_t n = 0;
    for (const auto& e : Entries()) n += e.event.action == action && e.event.result == result;
    return n;
  }

  std::string VaultBytes() {
    std::string all;
    for (const std::string& f : v_->Files()) {
      std::ifstream in(f, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  custos::testing::TempDir dir_;
  std::unique_ptr<vault::Vault> v_;
};

TEST_F(UsersTest, TheFirstUserConvertsTheVaultAndTheLogSaysSo) {
  EXPECT_FALSE(*HasUsers(*v_));
  Enrolled("wang.cust", {"custodian"});
  EXPECT_TRUE(*HasUsers(*v_));
  bool first = false;
  for (const auto& e : Entries()) {
    if (e.event.action == "user.add") {
      first = e.event.objects.value("first_user", false);
      EXPECT_EQ(e.event.actor, "li.keyholder");
      EXPECT_EQ(e.event.via, "key");
    }
    if (e.event.action == "user.enrol" && e.event.result == "ok") {
      EXPECT_EQ(e.event.actor, "wang.cust");
      EXPECT_EQ(e.event.objects["approval_key"].get<std::string>().rfind("ssh-ed25519 ", 0), 0u);
    }
  }
  EXPECT_TRUE(first);
}

TEST_F(UsersTest, BadInputIsRefusedWithTheField) {
  auto bad_id = AddUser(*v_, {"Wang", "王", {"operator"}});
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code(), ErrorCode::kInvalidArgument);
  auto bad_role = AddUser(*v_, {"wang", "王", {"root"}});
  ASSERT_FALSE(bad_role);
  EXPECT_EQ(bad_role.error().code(), ErrorCode::kInvalidArgument);
  auto clash = AddUser(*v_, {"wang", "王", {"auditor", "officer"}});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(AddUser(*v_, {"wang", "王", {"operator"}}));
  auto twice = AddUser(*v_, {"wang", "王", {"operator"}});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(UsersTest, AWrongEnrolmentSecretIsRefusedAndRecorded) {
  auto inv = AddUser(*v_, {"zhao", "赵", {"supervisor"}});
  ASSERT_TRUE(inv);
  auto e = Enrol(*v_, {"zhao", "not-the-secret", kPassword, ""});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Count("user.enrol", "refused"), 1u);
  auto weak = Enrol(*v_, {"zhao", inv->invitation.enrolment_secret, "short", ""});
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(Enrol(*v_, {"zhao", inv->invitation.enrolment_secret, kPassword, ""}));
  auto again = Enrol(*v_, {"zhao", inv->invitation.enrolment_secret, kPassword, ""});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(UsersTest, LoginNeedsPasswordAndAFreshCodeAndRecordsEveryAttempt) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  const int64_t now = NowUnixSeconds();
  auto ok = Login("li.officer", b32, now);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->principal.user, "li.officer");
  EXPECT_EQ(ok->principal.via, Via::kPassword);
  EXPECT_TRUE(ok->principal.roles.Has(Role::kOfficer));
  EXPECT_FALSE(ok->principal.trained);
  // The same code again is a replay.
  auto replay = Login("li.officer", b32, now);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.error().message().find("already used"), std::string::npos);
  auto wrong = Login("li.officer", b32, now + 30, "wrong password!!");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  auto nobody = Login("nobody", b32, now + 30);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Count("user.login", "ok"), 1u);
  EXPECT_EQ(Count("user.login", "refused"), 3u);
}

TEST_F(UsersTest, FiveFailuresLockTheUser) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  const int64_t now = NowUnixSeconds();
  for (int i = 0; i < 5; ++i) {
    auto r = Login("li.officer", b32, now, "wrong password!!");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  }
  EXPECT_EQ(Count("user.lockout", "ok"), 1u);
  auto locked = Login("li.officer", b32, now);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(locked.error().message().find("locked"), std::string::npos);
}

TEST_F(UsersTest, SessionsResumeUntilEndedOrTheUserIsSuspended) {
  Enrolled("wang.cust", {"custodian"});
  const std::string b32 = Enrolled("zhang.op", {"operator"});
  auto who = Login("zhang.op", b32);
  ASSERT_TRUE(who);
  auto token = StartSession(*v_, *who);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->size(), 43u);
  auto p = ResumeSession(*v_, *token);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->user, "zhang.op");
  EXPECT_EQ(p->session.size(), 16u);
  EXPECT_EQ(ResumeSession(*v_, "not-a-token").error().code(), ErrorCode::kUnauthenticated);

  // A custodian suspends the operator: the session stops working.
  v_->set_principal(BreakGlass("li.keyholder"));
  ASSERT_TRUE(SuspendUser(*v_, "zhang.op", true));
  auto suspended = ResumeSession(*v_, *token);
  ASSERT_FALSE(suspended);
  EXPECT_EQ(suspended.error().code(), ErrorCode::kPermissionDenied);
  // Lifting the suspension does not bring the old session back.
  ASSERT_TRUE(SuspendUser(*v_, "zhang.op", false));
  auto after = ResumeSession(*v_, *token);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Count("session.resume", "refused"), 3u);  // the unknown token too
  // A session begun in the second of a suspension counts as before it.
  ::sleep(1);
  auto again = Login("zhang.op", b32, NowUnixSeconds() + 30);
  ASSERT_TRUE(again) << again.error().message();
  auto fresh = StartSession(*v_, *again);
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(ResumeSession(*v_, *fresh));
  ASSERT_TRUE(EndSession(*v_, *fresh));
  EXPECT_EQ(ResumeSession(*v_, *fresh).error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(UsersTest, AStepUpHoldsForMinutesAndNeedsTheUsersOwnFreshCode) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  Enrolled("zhang.op", {"operator"});
  const int64_t now = NowUnixSeconds();
  auto who = Login("li.officer", b32, now);
  ASSERT_TRUE(who);
  auto token = StartSession(*v_, *who);
  ASSERT_TRUE(token);
  auto p = ResumeSession(*v_, *token);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stepped_up_until, 0);
  // The code the login used does not step up; a wrong password neither.
  auto replay = StepUpSession(*v_, *token, {"", kPassword, Oathtool(b32, now)});
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kUnauthenticated);
  auto wrong = StepUpSession(*v_, *token, {"", "wrong password!!", Oathtool(b32, now + 30)});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  // The user named in the credentials is ignored: the session's own counts.
  auto up = StepUpSession(*v_, *token, {"zhang.op", kPassword, Oathtool(b32, now + 30)});
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(up->user, "li.officer");
  EXPECT_GE(up->stepped_up_until, now + kStepUpSeconds);
  EXPECT_LE(up->stepped_up_until, NowUnixSeconds() + kStepUpSeconds);
  auto resumed = ResumeSession(*v_, *token);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->stepped_up_until, up->stepped_up_until);
  EXPECT_EQ(Count("session.step_up", "ok"), 1u);
  EXPECT_EQ(Count("user.step_up", "refused"), 2u);
  // An ended session cannot be stepped up, and the attempt is recorded.
  ASSERT_TRUE(EndSession(*v_, *token));
  auto ended = StepUpSession(*v_, *token, {"", kPassword, Oathtool(b32, now + 60)});
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Count("session.step_up", "refused"), 1u);
}

TEST_F(UsersTest, OnlyACustodianAdministersUsersAndNotThemselves) {
  Enrolled("wang.cust", {"custodian"});
  const std::string b32 = Enrolled("zhang.op", {"operator"});
  auto op = Login("zhang.op", b32);
  ASSERT_TRUE(op);
  v_->set_principal(op->principal);
  auto refused = AddUser(*v_, {"intruder", "某", {"officer"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Count("user.admin", "refused"), 1u);

  Principal cust = op->principal;
  cust.user = "wang.cust";
  cust.roles = RoleSet{Role::kCustodian};
  v_->set_principal(cust);
  auto self = SetRoles(*v_, "wang.cust", {"custodian", "supervisor"});
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code(), ErrorCode::kPermissionDenied);
  ASSERT_TRUE(SetRoles(*v_, "zhang.op", {"operator", "approver"}));
  EXPECT_TRUE(GetUser(*v_, "zhang.op")->roles.Has(Role::kApprover));
}

TEST_F(UsersTest, AResetRevokesTheOldCredentialsAndKey) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  const std::string old_key = GetUser(*v_, "li.officer")->approval_key;
  v_->set_principal(BreakGlass("li.keyholder"));
  auto inv = ResetUser(*v_, "li.officer");
  ASSERT_TRUE(inv);
  auto old = Login("li.officer", b32);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kPermissionDenied);
  auto e = Enrol(*v_, {"li.officer", inv->enrolment_secret, kPassword, ""});
  ASSERT_TRUE(e);
  EXPECT_NE(e->approval_key, old_key);
  bool revoked = false;
  for (const auto& entry : Entries()) {
    if (entry.event.action == "user.reset") {
      revoked = entry.event.objects["revoked_approval_key"] == old_key;
    }
  }
  EXPECT_TRUE(revoked);
}

TEST_F(UsersTest, NoPasswordCodeSecretOrTokenInTheVaultFiles) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  auto who = Login("li.officer", b32);
  ASSERT_TRUE(who);
  auto token = StartSession(*v_, *who);
  ASSERT_TRUE(token);
  const std::string bytes = VaultBytes();
  EXPECT_EQ(bytes.find(kPassword), std::string::npos);
  EXPECT_EQ(bytes.find(b32), std::string::npos);
  EXPECT_EQ(bytes.find(*token), std::string::npos);
  // The raw TOTP secret, decoded from base32 by oathtool's sibling: the
  // secret as oathtool prints it in hex.
  const std::string cmd =
      "oathtool --totp -v -b " + b32 + " 2>/dev/null | sed -n 's/^Hex secret: //p'";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  char hex[64] = {};
  ASSERT_NE(std::fgets(hex, sizeof hex, p.get()), nullptr);
  auto raw = HexDecode(std::string(hex, 40));
  ASSERT_TRUE(raw);
  EXPECT_EQ(bytes.find(std::string(AsChars(*raw))), std::string::npos);
}

TEST_F(UsersTest, TrainingPassedNowMakesThePrincipalTrained) {
  ASSERT_FALSE(DefaultCourse().questions.empty());
  const std::string b32 = Enrolled("li.officer", {"officer"});
  auto who = Login("li.officer", b32);
  ASSERT_TRUE(who);
  v_->set_principal(who->principal);
  // Every answer wrong: a failed attempt, recorded, not enough.
  auto failed = TakeQuiz(*v_, [](const Question& q, int) -> Result<int> {
    return (q.answer + 1) % static_cast<int>(q.choices.size());
  });
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->passed);
  EXPECT_EQ(failed->score, 0);
  EXPECT_FALSE(*HasCurrentTraining(*v_, "li.officer", NowUnixSeconds()));
  auto passed = TakeQuiz(*v_, [](const Question& q, int) -> Result<int> { return q.answer; });
  ASSERT_TRUE(passed);
  EXPECT_TRUE(passed->passed);
  EXPECT_EQ(passed->score, 100);
  EXPECT_EQ(passed->questions.size(), static_cast<size_t>(DefaultCourse().draw));
  EXPECT_TRUE(*HasCurrentTraining(*v_, "li.officer", NowUnixSeconds()));
  // A year and a day later it no longer counts.
  EXPECT_FALSE(*HasCurrentTraining(*v_, "li.officer", NowUnixSeconds() + 367 * 86400));
  EXPECT_EQ(Count("training.attempt", "ok"), 2u);
}

TEST_F(UsersTest, AQuizInTwoStepsIsAnsweredOnceByItsOwnUser) {
  const std::string b32 = Enrolled("li.officer", {"officer"});
  const std::string op32 = Enrolled("zhang.op", {"operator"});
  auto who = Login("li.officer", b32);
  ASSERT_TRUE(who);
  v_->set_principal(who->principal);
  auto quiz = StartQuiz(*v_);
  ASSERT_TRUE(quiz) << quiz.error().message();
  const Course& course = DefaultCourse();
  ASSERT_EQ(quiz->questions.size(), static_cast<size_t>(course.draw));
  const nlohmann::ordered_json shown = QuizToJson(*quiz, course);
  EXPECT_EQ(shown["quiz"], quiz->id);
  ASSERT_EQ(shown["questions"].size(), quiz->questions.size());
  EXPECT_FALSE(shown["questions"][0].contains("answer"));  // never the key
  EXPECT_EQ(Count("training.start", "ok"), 1u);
  std::vector<int> right;
  for (const std::string& id : quiz->questions) {
    for (const Question& q : course.questions) {
      if (q.id == id) right.push_back(q.answer);
    }
  }
  // Too few answers; an answer out of range; another user's quiz.
  EXPECT_EQ(AnswerQuiz(*v_, quiz->id, {0}).error().code(), ErrorCode::kInvalidArgument);
  std::vector<int> bad = right;
  bad[0] = 9;
  EXPECT_EQ(AnswerQuiz(*v_, quiz->id, bad).error().code(), ErrorCode::kInvalidArgument);
  auto op = Login("zhang.op", op32);
  ASSERT_TRUE(op);
  v_->set_principal(op->principal);
  EXPECT_EQ(AnswerQuiz(*v_, quiz->id, right).error().code(), ErrorCode::kPermissionDenied);
  v_->set_principal(who->principal);
  auto passed = AnswerQuiz(*v_, quiz->id, right);
  ASSERT_TRUE(passed) << passed.error().message();
  EXPECT_TRUE(passed->passed);
  EXPECT_EQ(passed->score, 100);
  EXPECT_EQ(passed->questions, quiz->questions);
  // Answered once: the quiz is closed.
  EXPECT_EQ(AnswerQuiz(*v_, quiz->id, right).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(AnswerQuiz(*v_, "0000", right).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Count("training.attempt", "ok"), 1u);
  // ChoiceIndex: letters either case, digits, nothing else.
  EXPECT_EQ(*ChoiceIndex("b", 4, 1), 1);
  EXPECT_EQ(*ChoiceIndex("D", 4, 1), 3);
  EXPECT_EQ(*ChoiceIndex("2", 4, 1), 2);
  EXPECT_EQ(ChoiceIndex("E", 4, 3).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(ChoiceIndex("AB", 4, 3).error().message().find("answer 3 'AB'"), std::string::npos);
}

TEST_F(UsersTest, ClassroomTrainingIsRecordedByAnotherWithEvidence) {
  Enrolled("li.officer", {"officer"});
  const std::string b32 = Enrolled("zhao.sup", {"supervisor"});
  const std::string officer_b32 = [&] {
    v_->set_principal(BreakGlass("li.keyholder"));
    auto inv = ResetUser(*v_, "li.officer");
    auto e = Enrol(*v_, {"li.officer", inv->enrolment_secret, kPassword, ""});
    return e->totp_secret;
  }();
  auto officer = Login("li.officer", officer_b32);
  ASSERT_TRUE(officer);
  v_->set_principal(officer->principal);
  const std::string evidence(64, 'a');
  const std::string version = DefaultCourse().version;
  auto self = RecordClassroom(*v_, {"li.officer", version, 90, "2026-12-01", evidence});
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code(), ErrorCode::kPermissionDenied);
  auto other_course = RecordClassroom(*v_, {"zhao.sup", "1999.1", 90, "2026-12-01", evidence});
  ASSERT_FALSE(other_course);
  EXPECT_EQ(other_course.error().code(), ErrorCode::kInvalidArgument);
  auto ok =
      RecordClassroom(*v_, {"zhao.sup", version, 90, FormatIsoDate(TodayInChina()), evidence});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_TRUE(ok->passed);
  EXPECT_EQ(ok->recorded_by, "li.officer");
  EXPECT_TRUE(*HasCurrentTraining(*v_, "zhao.sup", NowUnixSeconds()));
  (void)b32;
}

TEST_F(UsersTest, WitnessesAreTrainedSupervisorsNamedById) {
  const std::string officer_b32 = Enrolled("li.officer", {"officer"});
  Enrolled("zhao.sup", {"supervisor"});
  Enrolled("sun.sup", {"supervisor"});
  auto officer = Login("li.officer", officer_b32);
  ASSERT_TRUE(officer) << officer.error().message();
  v_->set_principal(officer->principal);
  auto code = [&](std::vector<std::string> w) {
    return CheckWitnesses(*v_, "media.record", w).error().code();
  };
  EXPECT_EQ(code({"合规专员", "zhao.sup"}), ErrorCode::kInvalidArgument);     // a name, not an id
  EXPECT_EQ(code({"li.officer", "zhao.sup"}), ErrorCode::kPermissionDenied);  // not a supervisor
  EXPECT_EQ(code({"zhao.sup", "sun.sup"}), ErrorCode::kPermissionDenied);     // not trained
  const std::string today = FormatIsoDate(TodayInChina());
  for (const char* id : {"zhao.sup", "sun.sup"}) {
    ASSERT_TRUE(
        RecordClassroom(*v_, {id, DefaultCourse().version, 90, today, std::string(64, 'a')}));
  }
  EXPECT_TRUE(CheckWitnesses(*v_, "media.record", {"zhao.sup", "sun.sup"}));
  v_->set_principal(BreakGlass("li.keyholder"));
  ASSERT_TRUE(SuspendUser(*v_, "sun.sup", true));
  v_->set_principal(officer->principal);
  EXPECT_EQ(code({"zhao.sup", "sun.sup"}), ErrorCode::kPermissionDenied);  // suspended
  EXPECT_EQ(Count("media.record", "refused"), 3u);
}

}  // namespace
}  // namespace custos::access
