// Authenticating a user (password and a one-time code), sessions, lockout
// (docs/people.md). Every attempt is an audit entry: a success, each
// failure (`user.login`, result "refused", with the reason), a lockout.
// After kMaxFailures failures in a row the user is locked for
// kLockoutSeconds; a TOTP code is accepted once.
//
// A session is a random token the user keeps (a 0600 file in the CLI, a
// cookie or bearer header for the server); the vault keeps only its
// SHA-256, with the user, when it started and when it was last used. It
// ends after 8 hours idle or 24 hours, at logout, or when the user is
// suspended, removed or reset.
//
// Step-up: clear reads need a fresh proof of the user (password and a new
// one-time code). Given once to a session, it holds for kStepUpSeconds, so a
// person reading a run of files in clear signs again every few minutes, not
// on every read; each step-up is recorded (`session.step_up`).
#ifndef CUSTOS_ACCESS_SESSIONS_H_
#define CUSTOS_ACCESS_SESSIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "access/credentials.h"
#include "access/roles.h"
#include "access/users.h"
#include "base/result.h"
#include "vault/vault.h"

namespace custos::access {

inline constexpr std::string_view kSessionKind = "session";
inline constexpr uint64_t kMaxFailures = 5;
inline constexpr int64_t kLockoutSeconds = 15 * 60;
inline constexpr int64_t kSessionIdleSeconds = 8 * 3600;
inline constexpr int64_t kSessionMaxSeconds = 24 * 3600;
// How often a session's last use is written (idle time is kept to this).
inline constexpr int64_t kSessionTouchSeconds = 60;
// How long a session's step-up lasts.
inline constexpr int64_t kStepUpSeconds = 5 * 60;

struct Credentials {
  std::string user;
  std::string password;
  std::string totp_code;
};

// A user who proved who they are, and what their password unlocked.
struct Authenticated {
  Principal principal;
  UserDoc user;
  Unlocked keys;
};

// Checks the password and the one-time code of an active user and records
// the attempt. kUnauthenticated for a wrong password or code, a replayed
// code, a locked user (saying until when); kPermissionDenied for a
// suspended or removed user or one still enrolling. `action` names the
// audit entry ("user.login", or the call that asked: "request.review").
Result<Authenticated> Authenticate(vault::Vault& vault, const Credentials& c,
                                   std::string_view action = "user.login");

// The principal of an authenticated user, with the training found now.
Result<Principal> PrincipalOf(vault::Vault& vault, const UserDoc& u, Via via);

// Starts a session for an authenticated user: returns its token (43
// characters of base64url; shown once).
Result<std::string> StartSession(vault::Vault& vault, const Authenticated& who);
// The principal of a live session, which it marks used (at most once per
// kSessionTouchSeconds). kUnauthenticated
// for an unknown, ended or expired session (saying which) or a user no
// longer active.
Result<Principal> ResumeSession(vault::Vault& vault, std::string_view token);
// Steps the live session up: checks the session user's password and a
// fresh one-time code (`c.user` is ignored), records it, and returns the
// principal with `stepped_up_until` set. The same errors as Authenticate and
// ResumeSession.
Result<Principal> StepUpSession(vault::Vault& vault, std::string_view token, Credentials c);
// Ends the session (recorded). kUnauthenticated if it was not live.
Status EndSession(vault::Vault& vault, std::string_view token);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_SESSIONS_H_
