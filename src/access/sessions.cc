#include "access/sessions.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "access/training.h"
#include "base/time.h"
#include "crypto/kdf.h"
#include "vault/doc_reader.h"

namespace custos::access {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

struct SessionDoc {
  std::string user;
  std::string via;
  int64_t started = 0;
  int64_t last_used = 0;
  int64_t stepped_up = 0;  // when the session last stepped up; 0: never
  bool ended = false;
};

std::string SessionKey(std::string_view token) { return crypto::Sha256Hex(AsBytes(token)); }

// What audit entries and messages call a session: the first 16 hex digits
// of its key (the token's hash, never the token).
std::string SessionId(const std::string& key) { return key.substr(0, 16); }

std::string SerializeSession(const SessionDoc& s) {
  json j = {{"v", 1},
            {"user", s.user},
            {"via", s.via},
            {"started_at", FormatRfc3339(s.started)},
            {"last_used_at", FormatRfc3339(s.last_used)},
            {"ended", s.ended}};
  // Optional: a build that does not know it reads the session as not
  // stepped up, which only asks for more.
  if (s.stepped_up != 0) j["stepped_up_at"] = FormatRfc3339(s.stepped_up);
  return j.dump();
}

Result<SessionDoc> ParseSession(std::string_view key, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kSessionKind, key, body, 1));
  SessionDoc s;
  s.user = d.Str("user");
  s.via = d.Str("via");
  const std::string started = d.Str("started_at");
  const std::string last = d.Str("last_used_at");
  const std::string stepped_up = d.Str("stepped_up_at", false);
  s.ended = d.Bool("ended");
  RETURN_IF_ERROR(d.status());
  ASSIGN_OR_RETURN(s.started, ParseRfc3339(started));
  ASSIGN_OR_RETURN(s.last_used, ParseRfc3339(last));
  if (!stepped_up.empty()) {
    ASSIGN_OR_RETURN(s.stepped_up, ParseRfc3339(stepped_up));
  }
  return s;
}

// Records a refused attempt and updates the user's failure count (locking
// them at kMaxFailures), in one transaction; then returns `why`.
Status RefuseLogin(vault::Vault& vault, const std::string& user, std::string_view action,
                   const Error& why, bool count) {
  tlog::Event e = vault.MakeEvent(std::string(action));
  e.actor = user;
  e.via = "password+totp";
  e.result = "refused";
  e.objects = {{"user", user}, {"reason", why.message()}};
  std::string locked_until;
  Status st = vault.Transact(e, [&](tlog::Event& ev) -> Status {
    if (!count) return Ok();
    ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, user));
    u.failures += 1;
    ev.objects["failures"] = u.failures;
    if (u.failures >= kMaxFailures) {
      u.locked_until = FormatRfc3339(NowUnixSeconds() + kLockoutSeconds);
      locked_until = u.locked_until;
      u.failures = 0;  // the next lockout takes another kMaxFailures in a row
    }
    return PutUser(vault, u);
  });
  RETURN_IF_ERROR(st);
  if (!locked_until.empty()) {
    tlog::Event lock = vault.MakeEvent("user.lockout");
    lock.actor = user;
    lock.via = "password+totp";
    lock.objects = {{"user", user}, {"failures", kMaxFailures}, {"locked_until", locked_until}};
    RETURN_IF_ERROR(vault.Record(lock));
    return Fail(Unauthenticated(why.message() + "; user '" + user + "' is now locked until " +
                                locked_until));
  }
  return Fail(why);
}

Status CheckUsable(const UserDoc& u) {
  if (u.status != UserStatus::kActive) {
    return Fail(
        PermissionDenied("user '" + u.id + "' is " + std::string(UserStatusName(u.status)) +
                         (u.status == UserStatus::kEnrolling ? ": enrol first (custos user enrol)"
                                                             : ": a custodian can restore them")));
  }
  if (!u.locked_until.empty()) {
    auto until = ParseRfc3339(u.locked_until);
    if (until && NowUnixSeconds() < *until) {
      return Fail(Unauthenticated("user '" + u.id + "' is locked after " +
                                  std::to_string(kMaxFailures) + " failed attempts, until " +
                                  u.locked_until));
    }
  }
  return Ok();
}

}  // namespace

Result<Principal> PrincipalOf(vault::Vault& vault, const UserDoc& u, Via via) {
  Principal p;
  p.user = u.id;
  p.name = u.name;
  p.roles = u.roles;
  p.via = via;
  ASSIGN_OR_RETURN(p.trained, HasCurrentTraining(vault, u.id, NowUnixSeconds()));
  return p;
}

Result<Authenticated> Authenticate(vault::Vault& vault, const Credentials& c,
                                   std::string_view action) {
  RETURN_IF_ERROR(CheckUserId(c.user));
  auto found = GetUser(vault, c.user);
  if (!found) {
    // An unknown user is refused like a wrong password, and recorded.
    Error why = Unauthenticated("wrong user, password or one-time code");
    return Fail(RefuseLogin(vault, c.user, action, why, false).error());
  }
  UserDoc u = std::move(*found);
  if (Status usable = CheckUsable(u); !usable) {
    return Fail(RefuseLogin(vault, c.user, action, usable.error(), false).error());
  }
  auto keys = UnlockPassword(u.password, c.password);
  if (!keys) {
    Error why = Unauthenticated("wrong password for user '" + u.id + "'");
    return Fail(RefuseLogin(vault, c.user, action, why, true).error());
  }
  auto totp = OpenForUser(*keys, u.id, "totp", u.sealed_totp);
  if (!totp) return Fail(totp.error());
  const int64_t now = NowUnixSeconds();
  auto counter = CheckTotp(*totp, c.totp_code, now, u.totp_last_counter);
  if (!counter) return Fail(RefuseLogin(vault, c.user, action, counter.error(), true).error());

  Authenticated who;
  who.keys = std::move(*keys);
  tlog::Event e = vault.MakeEvent(std::string(action));
  e.actor = u.id;
  e.via = "password+totp";
  Status changed = vault.Transact(e, [&](tlog::Event& ev) -> Status {
    // Re-read inside the transaction: another process may have used a code.
    ASSIGN_OR_RETURN(UserDoc fresh, GetUser(vault, c.user));
    if (*counter <= fresh.totp_last_counter) {
      return Fail(Unauthenticated("this one-time code was already used: wait for the next one"));
    }
    fresh.totp_last_counter = *counter;
    fresh.failures = 0;
    fresh.locked_until.clear();
    RETURN_IF_ERROR(PutUser(vault, fresh));
    ev.objects = {{"user", fresh.id}, {"roles", fresh.roles.Names()}};
    who.user = std::move(fresh);
    return Ok();
  });
  if (!changed && changed.error().code() == ErrorCode::kUnauthenticated) {
    // Another process used the code first: a replay, recorded and counted.
    return Fail(RefuseLogin(vault, c.user, action, changed.error(), true).error());
  }
  RETURN_IF_ERROR(changed);
  ASSIGN_OR_RETURN(who.principal, PrincipalOf(vault, who.user, Via::kPassword));
  return who;
}

Result<std::string> StartSession(vault::Vault& vault, const Authenticated& who) {
  uint8_t raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string token = Base64Encode(ByteSpan(raw, sizeof raw));
  sodium_memzero(raw, sizeof raw);
  // base64url without padding: safe in a cookie, a header and a file.
  for (char& ch : token) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  while (!token.empty() && token.back() == '=') token.pop_back();
  const std::string key = SessionKey(token);
  SessionDoc s;
  s.user = who.user.id;
  s.via = std::string(ViaName(who.principal.via));
  s.started = s.last_used = NowUnixSeconds();
  tlog::Event e = vault.MakeEvent("session.start");
  e.actor = who.user.id;
  e.via = s.via;
  const Status changed = vault.Transact(e, [&](tlog::Event& ev) -> Status {
    RETURN_IF_ERROR(vault.PutDoc(kSessionKind, key, SerializeSession(s)));
    ev.objects = {{"user", s.user},
                  {"session", SessionId(key)},
                  {"idle_timeout_s", kSessionIdleSeconds},
                  {"max_s", kSessionMaxSeconds}};
    return Ok();
  });
  RETURN_IF_ERROR(changed);
  return token;
}

namespace {

// A live session and its user, or why it does not work (kUnauthenticated,
// or kPermissionDenied for a user no longer active).
struct LiveSession {
  SessionDoc session;
  UserDoc user;
};

Result<LiveSession> FindLiveSession(vault::Vault& vault, const std::string& key,
                                    std::string& user_out) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kSessionKind, key));
  if (!body) return Fail(Unauthenticated("no such session in this vault: log in (custos login)"));
  ASSIGN_OR_RETURN(SessionDoc s, ParseSession(key, *body));
  user_out = s.user;
  const int64_t now = NowUnixSeconds();
  if (s.ended) return Fail(Unauthenticated("the session has ended: log in again (custos login)"));
  if (now - s.last_used > kSessionIdleSeconds) {
    return Fail(Unauthenticated("the session expired after 8 hours idle: log in again"));
  }
  if (now - s.started > kSessionMaxSeconds) {
    return Fail(Unauthenticated("the session expired after 24 hours: log in again"));
  }
  ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, s.user));
  if (Status usable = CheckUsable(u); !usable) return Fail(usable.error());
  // Suspension, removal and reset end every session begun before them.
  if (!u.sessions_after.empty()) {
    ASSIGN_OR_RETURN(int64_t after, ParseRfc3339(u.sessions_after));
    if (s.started <= after) {
      return Fail(Unauthenticated("the session was ended when user '" + u.id +
                                  "' was suspended or reset: log in again"));
    }
  }
  return LiveSession{std::move(s), std::move(u)};
}

// Records that someone tried to act through a session that does not work,
// and returns why.
Error RefuseSession(vault::Vault& vault, const std::string& key, const std::string& user,
                    std::string_view action, const Error& why) {
  const Principal was = vault.principal();
  if (!user.empty()) vault.set_principal(NoOne(user));
  Status refused =
      vault.Refuse(std::string(action), {{"session", SessionId(key)}, {"user", user}}, why);
  vault.set_principal(was);
  return refused.error();
}

Result<Principal> SessionPrincipal(vault::Vault& vault, const LiveSession& live,
                                   const std::string& key) {
  ASSIGN_OR_RETURN(Principal p, PrincipalOf(vault, live.user, Via::kPassword));
  p.session = SessionId(key);
  if (live.session.stepped_up != 0) {
    const int64_t until = live.session.stepped_up + kStepUpSeconds;
    if (NowUnixSeconds() < until) p.stepped_up_until = until;
  }
  return p;
}

}  // namespace

Result<Principal> ResumeSession(vault::Vault& vault, std::string_view token) {
  const std::string key = SessionKey(token);
  std::string user;
  auto resumed = [&]() -> Result<Principal> {
    ASSIGN_OR_RETURN(LiveSession live, FindLiveSession(vault, key, user));
    // Marked used at most once a minute: a server resumes a session on
    // every request, and a write each time would serialize them all.
    const int64_t now = NowUnixSeconds();
    if (now - live.session.last_used >= kSessionTouchSeconds) {
      live.session.last_used = now;
      RETURN_IF_ERROR(vault.PutStateDoc(kSessionKind, key, SerializeSession(live.session)));
    }
    return SessionPrincipal(vault, live, key);
  }();
  if (resumed) return resumed;
  return Fail(RefuseSession(vault, key, user, "session.resume", resumed.error()));
}

Result<Principal> StepUpSession(vault::Vault& vault, std::string_view token, Credentials c) {
  const std::string key = SessionKey(token);
  std::string user;
  auto live = FindLiveSession(vault, key, user);
  if (!live) return Fail(RefuseSession(vault, key, user, "session.step_up", live.error()));
  // Only the session's own user can step it up.
  c.user = live->user.id;
  auto who = Authenticate(vault, c, "user.step_up");
  std::fill(c.password.begin(), c.password.end(), '\0');
  if (!who) return Fail(who.error());
  tlog::Event e = vault.MakeEvent("session.step_up");
  e.actor = live->user.id;
  e.via = live->session.via;
  const int64_t now = NowUnixSeconds();
  const Status changed = vault.Transact(e, [&](tlog::Event& ev) -> Status {
    // Re-read: the session may have ended since.
    ASSIGN_OR_RETURN(LiveSession fresh, FindLiveSession(vault, key, user));
    fresh.session.stepped_up = now;
    fresh.session.last_used = now;
    RETURN_IF_ERROR(vault.PutDoc(kSessionKind, key, SerializeSession(fresh.session)));
    ev.objects = {{"user", fresh.user.id},
                  {"session", SessionId(key)},
                  {"until", FormatRfc3339(now + kStepUpSeconds)}};
    live = std::move(fresh);
    return Ok();
  });
  RETURN_IF_ERROR(changed);
  return SessionPrincipal(vault, *live, key);
}

Status EndSession(vault::Vault& vault, std::string_view token) {
  const std::string key = SessionKey(token);
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kSessionKind, key));
  if (!body) return Fail(Unauthenticated("no such session in this vault"));
  ASSIGN_OR_RETURN(SessionDoc s, ParseSession(key, *body));
  if (s.ended) return Fail(Unauthenticated("the session had already ended"));
  s.ended = true;
  tlog::Event e = vault.MakeEvent("session.end");
  e.actor = s.user;
  e.via = s.via;
  return vault.Transact(e, [&](tlog::Event& ev) -> Status {
    RETURN_IF_ERROR(vault.PutDoc(kSessionKind, key, SerializeSession(s)));
    ev.objects = {{"user", s.user}, {"session", SessionId(key)}};
    return Ok();
  });
}

}  // namespace custos::access
