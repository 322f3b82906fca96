// Users of a vault (docs/people.md): who they are, their roles, their
// credentials, and what a custodian may do to them. Each is a vault
// document of kind "user" with one typed codec; every change is an audit
// entry that carries the user's public approval key, so the log binds a
// key to a person at a time (docs/formats/approval.md).
//
// Every call here checks its caller (the vault's principal) in the core:
// user administration is the custodian's (or break-glass); a vault with no
// users lets its key holder add the first ones.
#ifndef CUSTOS_ACCESS_USERS_H_
#define CUSTOS_ACCESS_USERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/credentials.h"
#include "access/requests.h"
#include "access/roles.h"
#include "base/result.h"
#include "vault/vault.h"

namespace custos::access {

inline constexpr std::string_view kUserKind = "user";

enum class UserStatus { kEnrolling, kActive, kSuspended, kRemoved };
std::string_view UserStatusName(UserStatus s);

struct UserDoc {
  static constexpr int kVersion = 1;
  std::string id;
  std::string name;
  RoleSet roles;
  UserStatus status = UserStatus::kEnrolling;
  std::string created_at, created_by;
  uint64_t generation = 0;  // how many times reset: each gives a new approval key
  // While enrolling: SHA-256 (hex) of the one-time enrolment secret, and
  // when it stops working.
  std::string enrolment_sha256;
  std::string enrolment_expires_at;
  // Once enrolled.
  std::string enrolled_at;
  PasswordRecord password;
  Bytes sealed_totp;
  uint64_t totp_last_counter = 0;
  std::string approval_key;    // "ssh-ed25519 AAAA... <id>"
  bool own_ssh_key = false;    // the user signs with their own OpenSSH key
  Bytes sealed_approval_seed;  // empty with own_ssh_key
  // Failed logins since the last success, and the end of a lockout.
  uint64_t failures = 0;
  std::string locked_until;  // RFC 3339, "" when not locked
  // Sessions begun at or before this (RFC 3339) no longer work: set by
  // suspension, removal and reset.
  std::string sessions_after;
};
std::string SerializeUser(const UserDoc& u);
Result<UserDoc> ParseUser(std::string_view id, std::string_view body);

// User ids: [a-z][a-z0-9._-]{0,31}. kInvalidArgument naming what is wrong.
Status CheckUserId(std::string_view id);

// Whether the vault has ever had a user (from then on the rules apply).
Result<bool> HasUsers(vault::Vault& vault);
// Every user, in id order. kPermissionDenied unless the principal may list.
Result<std::vector<UserDoc>> ListUsers(vault::Vault& vault);
// kNotFound naming the id.
Result<UserDoc> GetUser(vault::Vault& vault, std::string_view id);

struct NewUser {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
};
struct Invitation {
  std::string user;
  std::string enrolment_secret;  // shown once; the vault keeps its hash
  std::string expires_at;
};
// Role grants (adding a user, changing roles) on a vault with two or more
// active custodians wait for another custodian's approval: without
// `request` the call makes the request (kind "user.roles") and returns it
// in `requested`, changing nothing; with it, the grant runs if the request
// approved exactly this grant, and consumes it.
struct Grant {
  std::optional<Request> requested;
  Invitation invitation;  // AddUser, once it ran
};
// Adds a user who must then enrol with the secret (valid 7 days).
Result<Grant> AddUser(vault::Vault& vault, const NewUser& user, std::string_view request = {});

struct Enrolment {
  std::string user;
  std::string enrolment_secret;
  std::string password;
  std::string own_ssh_key;  // "ssh-ed25519 AAAA..." to approve with it; "" for a new key
};
struct Enrolled {
  std::string user;
  std::string totp_uri;      // otpauth://...
  std::string totp_secret;   // base32
  std::string approval_key;  // public, "ssh-ed25519 ..."
};
// Sets the password, makes the TOTP secret and the approval key. Needs no
// principal: the enrolment secret is the proof. kUnauthenticated for a
// wrong or expired secret (recorded).
Result<Enrolled> Enrol(vault::Vault& vault, const Enrolment& e);

// Custodian's changes. A user cannot be suspended, removed or given roles
// by themselves.
Status SuspendUser(vault::Vault& vault, std::string_view id, bool suspend);
Status RemoveUser(vault::Vault& vault, std::string_view id);
// A new enrolment secret; the old password, TOTP and approval key stop
// working (earlier approvals keep verifying against the key the log bound
// at their time).
Result<Invitation> ResetUser(vault::Vault& vault, std::string_view id);
Result<Grant> SetRoles(vault::Vault& vault, std::string_view id,
                       const std::vector<std::string>& roles, std::string_view request = {});

// The enrolled users who are not suspended or removed. For the access
// layer's own use (no check of the caller).
Result<std::vector<UserDoc>> ActiveUsers(vault::Vault& vault);

// Writes a user document (inside a change). For the access layer's own use.
Status PutUser(vault::Vault& vault, const UserDoc& u);

}  // namespace custos::access

#endif  // CUSTOS_ACCESS_USERS_H_
