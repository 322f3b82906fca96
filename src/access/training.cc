#include "access/training.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "access/default_course.h"
#include "access/roles.h"
#include "access/users.h"
#include "base/time.h"
#include "vault/doc_reader.h"

namespace custos::access {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

constexpr int kAttemptVersion = 1;

Status CheckQuestion(const Question& q, size_t i, std::string_view source) {
  const std::string where = std::string(source) + ": question " + std::to_string(i + 1) +
                            (q.id.empty() ? "" : " (" + q.id + ")");
  if (q.id.empty()) return Fail(InvalidArgument(where + ": \"id\" is empty"));
  if (q.question.empty()) return Fail(InvalidArgument(where + ": \"question\" is empty"));
  if (q.choices.size() < 2) return Fail(InvalidArgument(where + ": fewer than 2 \"choices\""));
  if (q.answer < 0 || static_cast<size_t>(q.answer) >= q.choices.size()) {
    return Fail(InvalidArgument(where + ": \"answer\" is not the index of a choice"));
  }
  return Ok();
}

Status CheckCourse(const Course& c, std::string_view source) {
  const std::string where(source);
  if (c.version.empty()) return Fail(InvalidArgument(where + ": \"version\" is empty"));
  if (c.pass_mark < 1 || c.pass_mark > 100) {
    return Fail(InvalidArgument(where + ": \"pass_mark\" must be 1 to 100 (percent)"));
  }
  if (c.period_months < 1) return Fail(InvalidArgument(where + ": \"period_months\" must be >= 1"));
  if (c.draw < 1 || static_cast<size_t>(c.draw) > c.questions.size()) {
    return Fail(InvalidArgument(where + ": \"draw\" must be 1 to the number of questions (" +
                                std::to_string(c.questions.size()) + ")"));
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < c.questions.size(); ++i) {
    RETURN_IF_ERROR(CheckQuestion(c.questions[i], i, source));
    if (!ids.insert(c.questions[i].id).second) {
      return Fail(InvalidArgument(where + ": question id '" + c.questions[i].id + "' twice"));
    }
  }
  return Ok();
}

std::string SerializeAttempt(const Attempt& a) {
  json j = {{"v", kAttemptVersion}};
  j.update(AttemptToJson(a));
  return j.dump();
}

Result<Attempt> ParseAttempt(std::string_view key, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kAttemptKind, key, body, kAttemptVersion));
  Attempt a;
  a.id = d.Str("id");
  a.user = d.Str("user");
  a.course_version = d.Str("course_version");
  a.kind = d.Str("kind");
  a.taken_at = d.Str("taken_at");
  a.score = static_cast<int>(d.U64("score"));
  a.pass_mark = static_cast<int>(d.U64("pass_mark"));
  a.passed = d.Bool("passed");
  a.questions = d.Strings("questions");
  a.recorded_by = d.Str("recorded_by");
  a.evidence_sha256 = d.Str("evidence_sha256");
  RETURN_IF_ERROR(d.status());
  const json j = json::parse(body, nullptr, false);
  if (j.contains("answers") && j["answers"].is_array()) {
    for (const auto& v : j["answers"]) {
      if (!v.is_number_integer()) return Fail(d.Damaged("an answer that is not a number"));
      a.answers.push_back(v.get<int>());
    }
  }
  return a;
}

// Attempts are keyed "<user>/<taken_at>/<random>": listed in user, then time order.
std::string NewAttemptKey(std::string_view user, const std::string& taken_at) {
  uint8_t r[6];
  randombytes_buf(r, sizeof r);
  return std::string(user) + "/" + taken_at + "/" + HexEncode(ByteSpan(r, sizeof r));
}

// `within`: more to do in the same transaction (closing a quiz).
Status RecordAttempt(vault::Vault& vault, Attempt& a,
                     const std::function<Status()>& within = nullptr) {
  return vault.Transact(vault.MakeEvent("training.attempt"), [&](tlog::Event& e) -> Status {
    if (within) RETURN_IF_ERROR(within());
    a.id = NewAttemptKey(a.user, a.taken_at);
    RETURN_IF_ERROR(vault.PutDoc(kAttemptKind, a.id, SerializeAttempt(a)));
    e.objects = {{"attempt", a.id},   {"user", a.user},   {"course_version", a.course_version},
                 {"kind", a.kind},    {"score", a.score}, {"pass_mark", a.pass_mark},
                 {"passed", a.passed}};
    if (a.kind == "quiz") e.objects["questions"] = a.questions;
    if (!a.evidence_sha256.empty()) e.objects["evidence_sha256"] = a.evidence_sha256;
    return Ok();
  });
}

// `months` calendar months after `d` (the day clamped to the month's end).
Date AddMonths(Date d, int months) {
  const int m0 = d.month - 1 + months;
  d.year += m0 / 12;
  d.month = m0 % 12 + 1;
  while (d.day > 28 && !IsValidDate(d.year, d.month, d.day)) --d.day;
  return d;
}

Result<Date> DateOf(const std::string& rfc3339) {
  if (rfc3339.size() < 10) return Fail(InvalidArgument("not a date: " + rfc3339));
  return ParseIsoDate(std::string_view(rfc3339).substr(0, 10));
}

}  // namespace

nlohmann::ordered_json AttemptToJson(const Attempt& a) {
  return {{"id", a.id},
          {"user", a.user},
          {"course_version", a.course_version},
          {"kind", a.kind},
          {"taken_at", a.taken_at},
          {"score", a.score},
          {"pass_mark", a.pass_mark},
          {"passed", a.passed},
          {"questions", a.questions},
          {"answers", a.answers},
          {"recorded_by", a.recorded_by},
          {"evidence_sha256", a.evidence_sha256}};
}

Result<Course> ParseCourse(std::string_view text, std::string_view source) {
  const json j = json::parse(text, nullptr, false);
  const std::string where(source);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(InvalidArgument(where + ": not a JSON object"));
  }
  if (j.value("format", "") != "custos-training-course") {
    return Fail(InvalidArgument(where + ": \"format\" is not \"custos-training-course\""));
  }
  Course c;
  try {
    c.version = j.at("version").get<std::string>();
    c.title = j.at("title").get<std::string>();
    c.title_en = j.value("title_en", "");
    c.pass_mark = j.at("pass_mark").get<int>();
    c.draw = j.at("draw").get<int>();
    c.period_months = j.at("period_months").get<int>();
    for (const auto& q : j.at("questions")) {
      Question x;
      x.id = q.at("id").get<std::string>();
      x.topic = q.value("topic", "");
      x.question = q.at("question").get<std::string>();
      x.choices = q.at("choices").get<std::vector<std::string>>();
      x.answer = q.at("answer").get<int>();
      x.source = q.value("source", "");
      c.questions.push_back(std::move(x));
    }
  } catch (const json::exception& e) {
    return Fail(InvalidArgument(where + ": " + e.what()));
  }
  RETURN_IF_ERROR(CheckCourse(c, source));
  return c;
}

const Course& DefaultCourse() {
  static const Course course = [] {
    auto c = ParseCourse(internal::kDefaultCourseJson, "data/training/course.json");
    return c ? *c : Course{};  // training_test checks the shipped course parses
  }();
  return course;
}

Result<Course> CurrentCourse(vault::Vault& vault) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetDoc(kCourseKind, "current"));
  if (!stored) return DefaultCourse();
  return ParseCourse(*stored, "the vault's training course");
}

namespace {

std::string SerializeQuiz(const Quiz& q) {
  return json{{"v", 1},
              {"user", q.user},
              {"course_version", q.course_version},
              {"questions", q.questions},
              {"started_at", FormatRfc3339(q.started_at)}}
      .dump();
}

Result<Quiz> ParseQuiz(std::string_view key, std::string_view body) {
  ASSIGN_OR_RETURN(vault::DocReader d, vault::DocReader::Open(kQuizKind, key, body, 1));
  Quiz q;
  q.id = std::string(key);
  q.user = d.Str("user");
  q.course_version = d.Str("course_version");
  q.questions = d.Strings("questions");
  const std::string started = d.Str("started_at");
  RETURN_IF_ERROR(d.status());
  ASSIGN_OR_RETURN(q.started_at, ParseRfc3339(started));
  return q;
}

// A question of the quiz's draw in the course (kInternal if the course
// lost it: the course version was checked first).
Result<const Question*> FindQuestion(const Course& course, const std::string& id) {
  for (const Question& q : course.questions) {
    if (q.id == id) return &q;
  }
  return Fail(Internal("question " + id + " is not in the course"));
}

}  // namespace

Result<int> ChoiceIndex(std::string_view answer, size_t choices, int n) {
  if (answer.size() == 1) {
    char c = answer[0];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c >= 'A' && c < 'A' + static_cast<int>(choices)) return c - 'A';
    if (c >= '0' && c < '0' + static_cast<int>(std::min<size_t>(choices, 10))) return c - '0';
  }
  return Fail(InvalidArgument("answer " + std::to_string(n) + " '" + std::string(answer) +
                              "' is not one of the choices"));
}

Result<Quiz> StartQuiz(vault::Vault& vault) {
  const Principal& who = vault.principal();
  if (!who.IsUser()) {
    return Fail(FailedPrecondition("the training is taken by a logged-in user (custos login)"));
  }
  ASSIGN_OR_RETURN(Course course, CurrentCourse(vault));
  // A uniform draw without replacement: a partial Fisher-Yates shuffle.
  std::vector<size_t> order(course.questions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = 0; i < static_cast<size_t>(course.draw); ++i) {
    const size_t j = i + randombytes_uniform(static_cast<uint32_t>(order.size() - i));
    std::swap(order[i], order[j]);
  }
  Quiz q;
  uint8_t r[8];
  randombytes_buf(r, sizeof r);
  q.id = HexEncode(ByteSpan(r, sizeof r));
  q.user = who.user;
  q.course_version = course.version;
  q.started_at = NowUnixSeconds();
  for (int n = 0; n < course.draw; ++n) q.questions.push_back(course.questions[order[n]].id);
  const Status started = vault.Transact(vault.MakeEvent("training.start"), [&](tlog::Event& e) {
    e.objects = {{"quiz", q.id},
                 {"user", q.user},
                 {"course_version", q.course_version},
                 {"questions", q.questions}};
    return vault.PutDoc(kQuizKind, q.id, SerializeQuiz(q));
  });
  RETURN_IF_ERROR(started);
  return q;
}

Result<Attempt> AnswerQuiz(vault::Vault& vault, std::string_view quiz_id,
                           const std::vector<int>& answers) {
  const Principal& who = vault.principal();
  if (!who.IsUser()) {
    return Fail(FailedPrecondition("the training is taken by a logged-in user (custos login)"));
  }
  const std::string id(quiz_id);
  auto open = [&]() -> Result<Quiz> {
    ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kQuizKind, id));
    const std::string gone = "no open quiz " + id + ": start one (custos training take)";
    if (!body) return Fail(NotFound(gone));
    ASSIGN_OR_RETURN(Quiz q, ParseQuiz(id, *body));
    if (q.user != who.user) return Fail(PermissionDenied("quiz " + id + " is another user's"));
    if (NowUnixSeconds() - q.started_at > kQuizSeconds) return Fail(NotFound(gone + " (expired)"));
    return q;
  };
  ASSIGN_OR_RETURN(Quiz quiz, open());
  ASSIGN_OR_RETURN(Course course, CurrentCourse(vault));
  if (course.version != quiz.course_version) {
    return Fail(
        FailedPrecondition("the course changed since quiz " + id + " began: start a new one"));
  }
  if (answers.size() != quiz.questions.size()) {
    return Fail(InvalidArgument(std::to_string(answers.size()) + " answers for " +
                                std::to_string(quiz.questions.size()) + " questions"));
  }
  Attempt a;
  a.user = who.user;
  a.course_version = course.version;
  a.kind = "quiz";
  a.pass_mark = course.pass_mark;
  int right = 0;
  for (size_t n = 0; n < answers.size(); ++n) {
    ASSIGN_OR_RETURN(const Question* q, FindQuestion(course, quiz.questions[n]));
    if (answers[n] < 0 || static_cast<size_t>(answers[n]) >= q->choices.size()) {
      return Fail(
          InvalidArgument("answer " + std::to_string(n + 1) + " is not one of the choices"));
    }
    a.questions.push_back(q->id);
    a.answers.push_back(answers[n]);
    if (answers[n] == q->answer) ++right;
  }
  a.score = right * 100 / static_cast<int>(answers.size());
  a.passed = a.score >= course.pass_mark;
  a.taken_at = FormatRfc3339(NowUnixSeconds());
  // Closed with the attempt: answered once, whoever else tries at once.
  const Status recorded = RecordAttempt(vault, a, [&]() -> Status {
    auto still = open();
    if (!still) return Fail(still.error());
    return vault.DeleteDoc(kQuizKind, id);
  });
  RETURN_IF_ERROR(recorded);
  return a;
}

nlohmann::ordered_json QuizToJson(const Quiz& quiz, const Course& course) {
  json questions = json::array();
  for (const std::string& id : quiz.questions) {
    auto found = FindQuestion(course, id);
    if (!found) continue;
    const Question* q = *found;
    questions.push_back({{"id", q->id}, {"question", q->question}, {"choices", q->choices}});
  }
  return {{"quiz", quiz.id},
          {"course_version", quiz.course_version},
          {"pass_mark", course.pass_mark},
          {"questions", questions},
          {"expires_at", FormatRfc3339(quiz.started_at + kQuizSeconds)}};
}

nlohmann::ordered_json QuizResultToJson(const Attempt& a) {
  return {{"attempt", a.id},
          {"course_version", a.course_version},
          {"score", a.score},
          {"pass_mark", a.pass_mark},
          {"passed", a.passed}};
}

Result<Attempt> TakeQuiz(vault::Vault& vault,
                         const std::function<Result<int>(const Question&, int)>& ask) {
  ASSIGN_OR_RETURN(Quiz quiz, StartQuiz(vault));
  ASSIGN_OR_RETURN(Course course, CurrentCourse(vault));
  std::vector<int> answers;
  for (size_t n = 0; n < quiz.questions.size(); ++n) {
    ASSIGN_OR_RETURN(const Question* q, FindQuestion(course, quiz.questions[n]));
    ASSIGN_OR_RETURN(int chosen, ask(*q, static_cast<int>(n) + 1));
    answers.push_back(chosen);
  }
  return AnswerQuiz(vault, quiz.id, answers);
}

Result<Attempt> RecordClassroom(vault::Vault& vault, const Classroom& c) {
  RETURN_IF_ERROR(vault.Authorize(Action::kTrainingRecord, {{"user", c.user}}));
  const Principal& who = vault.principal();
  if (who.IsUser() && who.user == c.user) {
    return Fail(vault
                    .Refuse("training.record", {{"user", c.user}, {"reason", "own training"}},
                            PermissionDenied(who.user + " may not record their own training: "
                                                        "another custodian or officer must"))
                    .error());
  }
  if (c.score < 0 || c.score > 100) return Fail(InvalidArgument("--score must be 0 to 100"));
  ASSIGN_OR_RETURN(Date date, ParseIsoDate(c.date));
  if (date > TodayInChina()) return Fail(InvalidArgument("--date " + c.date + " is in the future"));
  if (c.evidence_sha256.size() != 64) {
    return Fail(InvalidArgument("--evidence: the evidence file's SHA-256 is missing"));
  }
  ASSIGN_OR_RETURN(Course course, CurrentCourse(vault));
  if (c.course_version != course.version) {
    return Fail(InvalidArgument("--course " + c.course_version + " is not the current course (" +
                                course.version + ")"));
  }
  RETURN_IF_ERROR(GetUser(vault, c.user).map([](const UserDoc&) {}));
  Attempt a;
  a.user = c.user;
  a.course_version = c.course_version;
  a.kind = "classroom";
  a.score = c.score;
  a.pass_mark = course.pass_mark;
  a.passed = c.score >= course.pass_mark;
  a.taken_at = FormatIsoDate(date) + "T00:00:00Z";
  a.recorded_by = who.user;
  a.evidence_sha256 = c.evidence_sha256;
  RETURN_IF_ERROR(RecordAttempt(vault, a));
  return a;
}

Result<std::vector<Attempt>> ListAttempts(vault::Vault& vault, std::optional<std::string> user) {
  const Principal& who = vault.principal();
  // Without a user named: everyone's for those who may see them, else one's own.
  if (!user && who.IsUser() && !CheckRole(who, Action::kUserList)) user = who.user;
  const bool own = who.IsUser() && user && *user == who.user;
  if (!own) {
    RETURN_IF_ERROR(vault.Authorize(Action::kUserList, {{"user", user.value_or("")}}));
  }
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kAttemptKind));
  std::vector<Attempt> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(Attempt a, ParseAttempt(key, body));
    if (!user || a.user == *user) out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attempt& x, const Attempt& y) { return x.taken_at < y.taken_at; });
  return out;
}

namespace {

// What HasCurrentTraining needs of the current course, without copying its
// questions (it runs on every request a server resumes).
struct CourseTerms {
  std::string version;
  int period_months = 12;
};
Result<CourseTerms> CurrentTerms(vault::Vault& vault) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetDoc(kCourseKind, "current"));
  if (!stored) return CourseTerms{DefaultCourse().version, DefaultCourse().period_months};
  ASSIGN_OR_RETURN(Course c, ParseCourse(*stored, "the vault's training course"));
  return CourseTerms{c.version, c.period_months};
}

}  // namespace

Result<bool> HasCurrentTraining(vault::Vault& vault, std::string_view user, int64_t now) {
  ASSIGN_OR_RETURN(CourseTerms course, CurrentTerms(vault));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kAttemptKind));
  ASSIGN_OR_RETURN(Date today, DateOf(FormatRfc3339(now)));
  for (const auto& [key, body] : docs) {
    if (key.compare(0, user.size() + 1, std::string(user) + "/") != 0) continue;
    ASSIGN_OR_RETURN(Attempt a, ParseAttempt(key, body));
    if (!a.passed || a.course_version != course.version) continue;
    ASSIGN_OR_RETURN(Date taken, DateOf(a.taken_at));
    if (today < AddMonths(taken, course.period_months)) return true;
  }
  return false;
}

Status CheckWitnesses(vault::Vault& vault, std::string_view action,
                      const std::vector<std::string>& witnesses) {
  ASSIGN_OR_RETURN(bool has_users, HasUsers(vault));
  if (!has_users) return Ok();
  for (const std::string& id : witnesses) {
    Result<UserDoc> u = GetUser(vault, id);
    if (!u && u.error().code() == ErrorCode::kNotFound) {
      return Fail(InvalidArgument("--witness " + id +
                                  ": not a user of this vault (a vault with users names "
                                  "witnesses by user id)"));
    }
    if (!u) return Fail(u.error());
    std::string why;
    if (u->status != UserStatus::kActive) {
      why = "is " + std::string(UserStatusName(u->status));
    } else if (!u->roles.Has(Role::kSupervisor)) {
      why = "is not a supervisor";
    } else if (id == vault.actor()) {
      why = "records the destruction and cannot also witness it";
    } else {
      ASSIGN_OR_RETURN(bool trained, HasCurrentTraining(vault, id, NowUnixSeconds()));
      if (!trained) why = "has no passed training within the course's period";
    }
    if (!why.empty()) {
      return vault.Refuse(std::string(action), {{"witness", id}, {"reason", why}},
                          PermissionDenied("witness " + id + " " + why));
    }
  }
  return Ok();
}

}  // namespace custos::access
