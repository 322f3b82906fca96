// Training with assessment (docs/people.md): a course is data (a zh-CN
// question bank on PIPL, the branch procedures and incident handling, a
// pass mark, how many questions are drawn, how long a pass counts). A user
// may read in clear, approve or witness only with a passed attempt at the
// current course within its period. Attempts are vault documents and audit
// entries: a quiz taken in the terminal (the questions drawn, the answers,
// the score), or a classroom course recorded by a custodian or officer for
// someone else, with the evidence file's SHA-256.
#ifndef CUSTOS_ACCESS_TRAINING_H_
#define CUSTOS_ACCESS_TRAINING_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "vault/vault.h"

namespace custos::access {

inline constexpr std::string_view kCourseKind = "training.course";
inline constexpr std::string_view kAttemptKind = "training.attempt";
inline constexpr std::string_view kQuizKind = "training.quiz";
// How long a quiz started and not yet answered stays open.
inline constexpr int64_t kQuizSeconds = 2 * 3600;

struct Question {
  std::string id;
  std::string topic;  // pipl, procedure, incident
  std::string question;
  std::vector<std::string> choices;
  int answer = 0;  // index into choices
  std::string source;
};

struct Course {
  std::string version;
  std::string title, title_en;
  int pass_mark = 80;  // percent
  int draw = 10;
  int period_months = 12;
  std::vector<Question> questions;
};

// Parses a course file (data/training/course.json's format). kInvalidArgument
// naming the question and member that is wrong.
Result<Course> ParseCourse(std::string_view text, std::string_view source);
// The course shipped in the binary.
const Course& DefaultCourse();
// The vault's current course: one stored in the vault (kind
// "training.course", key "current"), else the shipped one.
Result<Course> CurrentCourse(vault::Vault& vault);

struct Attempt {
  std::string id;
  std::string user;
  std::string course_version;
  std::string kind;      // "quiz" or "classroom"
  std::string taken_at;  // RFC 3339
  int score = 0;         // percent
  int pass_mark = 0;
  bool passed = false;
  std::vector<std::string> questions;  // ids drawn (quiz)
  std::vector<int> answers;            // chosen indexes (quiz)
  std::string recorded_by;             // classroom: who recorded it
  std::string evidence_sha256;         // classroom
};

// An attempt as the vault keeps it and `training records --json` prints it.
nlohmann::ordered_json AttemptToJson(const Attempt& a);

// Draws the course's questions for the acting user, asks each through `ask`
// (question, its number from 1; returns the chosen index), scores and
// records the attempt. Any user may take it; the key holder of a vault
// without users needs none.
Result<Attempt> TakeQuiz(vault::Vault& vault,
                         const std::function<Result<int>(const Question&, int)>& ask);

// The same quiz in two steps, for a user who answers elsewhere (a browser,
// `custos training take --server`): StartQuiz draws the questions and keeps
// them (a `training.quiz` document, recorded as `training.start`), open for
// kQuizSeconds; AnswerQuiz grades the answers to that draw, in its order,
// and records the attempt, closing the quiz in the same transaction.
struct Quiz {
  std::string id;
  std::string user;
  std::string course_version;
  std::vector<std::string> questions;  // ids, in the order asked
  int64_t started_at = 0;
};
Result<Quiz> StartQuiz(vault::Vault& vault);
// kNotFound for a quiz that is not open (answered, expired, never started),
// kPermissionDenied for another user's, kInvalidArgument for answers that
// are not one per question, each one of the choices; kFailedPrecondition
// when the course changed since the quiz began.
Result<Attempt> AnswerQuiz(vault::Vault& vault, std::string_view quiz_id,
                           const std::vector<int>& answers);
// What a user is told of their graded quiz (`custos training take --json`,
// the API's answer): attempt, course_version, score, pass_mark, passed.
nlohmann::ordered_json QuizResultToJson(const Attempt& a);
// A quiz's questions as the user sees them: id, question, choices (never
// the answer).
nlohmann::ordered_json QuizToJson(const Quiz& quiz, const Course& course);
// "A".."D" (either case) or a digit "0".."9", for question `n` (from 1):
// the index of the choice, or kInvalidArgument naming the answer.
Result<int> ChoiceIndex(std::string_view answer, size_t choices, int n);

struct Classroom {
  std::string user;
  std::string course_version;
  int score = 0;
  std::string date;  // YYYY-MM-DD
  std::string evidence_sha256;
};
// Records a course held in a classroom: by a custodian or officer, never for
// themselves; the course version must be the current one.
Result<Attempt> RecordClassroom(vault::Vault& vault, const Classroom& c);

// Attempts, oldest first; of one user when `user` is set. A user may list
// their own; custodian, officer and auditor anyone's.
Result<std::vector<Attempt>> ListAttempts(vault::Vault& vault, std::optional<std::string> user);

// Whether `user` has passed the current course within its period at `now`.
Result<bool> HasCurrentTraining(vault::Vault& vault, std::string_view user, int64_t now);

// The witnesses of a physical destruction (media record). On a vault with
// users each is named by user id and must be an active supervisor with a
// passed training, other than the one recording it: kInvalidArgument for a
// name that is not a user, kPermissionDenied (recorded as a refusal of
// `action`) for one who may not witness. A vault without users takes names.
Status CheckWitnesses(vault::Vault& vault, std::string_view action,
                      const std::vector<std::string>& witnesses);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_TRAINING_H_
