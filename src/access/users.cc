#include "access/users.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "crypto/kdf.h"
#include "package/ssh_key.h"
#include "vault/doc_reader.h"

namespace custos::access {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

constexpr int64_t kEnrolmentSeconds = 7 * 24 * 3600;

constexpr std::pair<UserStatus, std::string_view> kStatusNames[] = {
    {UserStatus::kEnrolling, "enrolling"},
    {UserStatus::kActive, "active"},
    {UserStatus::kSuspended, "suspended"},
    {UserStatus::kRemoved, "removed"},
};

// 20 random bytes as 32 base32 characters: typed once, by the new user.
std::string NewEnrolmentSecret() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  const crypto::SecretBytes raw = crypto::SecretBytes::Random(20);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : raw.RevealSecret()) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;
}

// The audit objects of a change to a user: who, and the key the log binds.
json UserObjects(const UserDoc& u) {
  return {{"user", u.id},
          {"roles", u.roles.Names()},
          {"status", UserStatusName(u.status)},
          {"generation", u.generation},
          {"approval_key", u.approval_key}};
}

// A custodian's change is to someone else's account: a refusal otherwise
// (recorded).
Status NotOwnAccount(vault::Vault& vault, std::string_view action, std::string_view id) {
  if (vault.principal().IsUser() && vault.principal().user == id) {
    return vault.Refuse(std::string(action), {{"user", id}, {"reason", "own account"}},
                        PermissionDenied("a custodian cannot change their own account (" +
                                         std::string(id) + "): another custodian must"));
  }
  return Ok();
}

Invitation NewInvitation(UserDoc& u) {
  Invitation inv;
  inv.user = u.id;
  inv.enrolment_secret = NewEnrolmentSecret();
  inv.expires_at = FormatRfc3339(NowUnixSeconds() + kEnrolmentSeconds);
  u.enrolment_sha256 = crypto::Sha256Hex(AsBytes(inv.enrolment_secret));
  u.enrolment_expires_at = inv.expires_at;
  return inv;
}

std::vector<std::string> SortedNames(RoleSet roles) {
  std::vector<std::string> names = roles.Names();
  std::sort(names.begin(), names.end());
  return names;
}

// A role grant as an operation to approve (approval.md, kind "user.roles").
nlohmann::json RolesOperation(vault::Vault& vault, std::string_view user, std::string_view name,
                              RoleSet roles, RoleSet previous) {
  return {{"kind", "user.roles"},
          {"vault", vault.IdHex()},
          {"user", user},
          {"name", name},
          {"roles", SortedNames(roles)},
          {"previous_roles", SortedNames(previous)}};
}

// Role grants wait for a second custodian once the vault has two active
// ones. Without `request` a grant that must wait makes its request (in
// `grant.requested`); with it, the request must approve exactly this
// grant, and is returned to be consumed with the grant (ConsumeGrant).
Result<std::optional<Request>> GrantGate(vault::Vault& vault, const nlohmann::json& op,
                                         std::string_view request, Grant& grant) {
  if (!request.empty()) {
    ASSIGN_OR_RETURN(Request r, CheckApproved(vault, request, op));
    return std::optional<Request>(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<UserDoc> active, ActiveUsers(vault));
  const auto custodians = std::count_if(
      active.begin(), active.end(), [](const UserDoc& u) { return u.roles.Has(Role::kCustodian); });
  if (custodians < 2) return std::optional<Request>();
  if (!vault.principal().IsUser()) {
    return Fail(vault
                    .Refuse("user.roles", {{"user", op["user"]}, {"reason", "needs approval"}},
                            PermissionDenied("this vault has " + std::to_string(custodians) +
                                             " custodians: a role grant is asked for by one, "
                                             "logged in, and approved by another (break-glass "
                                             "cannot grant roles here)"))
                    .error());
  }
  ASSIGN_OR_RETURN(Request made, CreateRequest(vault, op));
  grant.requested = std::move(made);
  return std::optional<Request>();
}

// Inside the grant's change: consumes the approved request, if any.
Status ConsumeGrant(vault::Vault& vault, std::optional<Request>& approved, tlog::Event& e) {
  if (!approved) return Ok();
  e.objects["request"] = approved->id;
  return MarkExecuted(vault, *approved);
}

Status CheckEnrolmentSecret(const UserDoc& u, std::string_view secret) {
  if (u.status != UserStatus::kEnrolling || u.enrolment_sha256.empty()) {
    return Fail(FailedPrecondition("user '" + u.id + "' is " +
                                   std::string(UserStatusName(u.status)) +
                                   ", not waiting to enrol (a custodian can reset them)"));
  }
  const std::string given = crypto::Sha256Hex(AsBytes(secret));
  if (sodium_memcmp(given.data(), u.enrolment_sha256.data(), given.size()) != 0 ||
      given.size() != u.enrolment_sha256.size()) {
    return Fail(Unauthenticated("wrong enrolment secret for user '" + u.id + "'"));
  }
  ASSIGN_OR_RETURN(int64_t expires, ParseRfc3339(u.enrolment_expires_at));
  if (NowUnixSeconds() > expires) {
    return Fail(Unauthenticated("the enrolment secret of user '" + u.id + "' expired at " +
                                u.enrolment_expires_at + ": a custodian can reset them"));
  }
  return Ok();
}

// Fills the credentials of an enrolment into `u`.
Result<Enrolled> MakeCredentials(UserDoc& u, const Enrolment& e, std::string_view vault_label) {
  RETURN_IF_ERROR(CheckPasswordStrength(e.password));
  ASSIGN_OR_RETURN(auto made, NewPassword(e.password, UserPasswordParams()));
  auto& [record, keys] = made;
  u.password = std::move(record);
  const crypto::SecretBytes totp = NewTotpSecret();
  u.sealed_totp = SealForUser(keys, u.id, "totp", totp);
  u.totp_last_counter = 0;
  if (!e.own_ssh_key.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey pub,
                     package::ParseSshEd25519PublicKey(e.own_ssh_key));
    u.approval_key = package::SshEd25519PublicKeyLine(pub, u.id);
    u.own_ssh_key = true;
    u.sealed_approval_seed.clear();
  } else {
    const crypto::SecretBytes seed = NewApprovalSeed();
    ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
    u.approval_key = package::SshEd25519PublicKeyLine(signer.public_key(), u.id);
    u.own_ssh_key = false;
    u.sealed_approval_seed = SealForUser(keys, u.id, "approval-seed", seed);
  }
  u.status = UserStatus::kActive;
  u.enrolment_sha256.clear();
  u.enrolment_expires_at.clear();
  u.enrolled_at = FormatRfc3339(NowUnixSeconds());
  u.failures = 0;
  u.locked_until.clear();
  Enrolled out;
  out.user = u.id;
  out.totp_uri = TotpUri(totp, u.id, vault_label);
  out.totp_secret = TotpSecretBase32(totp);
  out.approval_key = u.approval_key;
  return out;
}

}  // namespace

std::string_view UserStatusName(UserStatus s) {
  for (const auto& [status, name] : kStatusNames) {
    if (status == s) return name;
  }
  return "enrolling";
}

std::string SerializeUser(const UserDoc& u) {
  json j = {{"v", UserDoc::kVersion},
            {"id", u.id},
            {"name", u.name},
            {"roles", u.roles.Names()},
            {"status", UserStatusName(u.status)},
            {"created_at", u.created_at},
            {"created_by", u.created_by},
            {"generation", u.generation},
            {"enrolment_sha256", u.enrolment_sha256},
            {"enrolment_expires_at", u.enrolment_expires_at},
            {"enrolled_at", u.enrolled_at},
            {"password",
             {{"kdf", "argon2id13"},
              {"salt", Base64Encode(u.password.salt)},
              {"ops_limit", u.password.params.ops_limit},
              {"mem_limit", u.password.params.mem_limit},
              {"verifier", Base64Encode(u.password.verifier)}}},
            {"sealed_totp", Base64Encode(u.sealed_totp)},
            {"totp_last_counter", u.totp_last_counter},
            {"approval_key", u.approval_key},
            {"own_ssh_key", u.own_ssh_key},
            {"sealed_approval_seed", Base64Encode(u.sealed_approval_seed)},
            {"failures", u.failures},
            {"locked_until", u.locked_until},
            {"sessions_after", u.sessions_after}};
  return j.dump();
}

Result<UserDoc> ParseUser(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kUserKind, id, body, UserDoc::kVersion));
  UserDoc u;
  u.id = d.Str("id");
  u.name = d.Str("name");
  const std::vector<std::string> roles = d.Strings("roles");
  const std::string status = d.Str("status");
  u.created_at = d.Str("created_at");
  u.created_by = d.Str("created_by");
  u.generation = d.U64("generation");
  u.enrolment_sha256 = d.Str("enrolment_sha256");
  u.enrolment_expires_at = d.Str("enrolment_expires_at");
  u.enrolled_at = d.Str("enrolled_at");
  DocReader pw = d.Object("password");
  const std::string salt = pw.Str("salt");
  u.password.params.ops_limit = pw.U64("ops_limit");
  u.password.params.mem_limit = pw.U64("mem_limit");
  const std::string verifier = pw.Str("verifier");
  const std::string sealed_totp = d.Str("sealed_totp");
  u.totp_last_counter = d.U64("totp_last_counter");
  u.approval_key = d.Str("approval_key");
  u.own_ssh_key = d.Bool("own_ssh_key");
  const std::string sealed_seed = d.Str("sealed_approval_seed");
  u.failures = d.U64("failures");
  u.locked_until = d.Str("locked_until");
  u.sessions_after = d.Str("sessions_after", false);
  RETURN_IF_ERROR(d.status());
  auto roles_set = RoleSet::FromNames(roles);
  if (!roles_set) return Fail(d.Damaged("an unknown role"));
  u.roles = *roles_set;
  bool known = false;
  for (const auto& [s, name] : kStatusNames) {
    if (name == status) {
      u.status = s;
      known = true;
    }
  }
  if (!known) return Fail(d.Damaged("an unknown status"));
  auto salt_bytes = Base64Decode(salt);
  auto verifier_bytes = Base64Decode(verifier);
  auto totp_bytes = Base64Decode(sealed_totp);
  auto seed_bytes = Base64Decode(sealed_seed);
  if (!salt_bytes || !verifier_bytes || !totp_bytes || !seed_bytes) {
    return Fail(d.Damaged("a credential that is not base64"));
  }
  u.password.salt = std::move(*salt_bytes);
  u.password.verifier = std::move(*verifier_bytes);
  u.sealed_totp = std::move(*totp_bytes);
  u.sealed_approval_seed = std::move(*seed_bytes);
  if (u.id != id) return Fail(d.Damaged("an id that is not its key"));
  return u;
}

Status CheckUserId(std::string_view id) {
  const bool ok =
      !id.empty() && id.size() <= 32 && id[0] >= 'a' && id[0] <= 'z' &&
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string_view::npos;
  if (!ok) {
    return Fail(InvalidArgument("user id '" + std::string(id) +
                                "': 1 to 32 characters of a-z, 0-9, '.', '_' and '-', starting "
                                "with a letter"));
  }
  return Ok();
}

Result<bool> HasUsers(vault::Vault& vault) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kUserKind));
  return !docs.empty();
}

Result<std::vector<UserDoc>> ListUsers(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserList));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kUserKind));
  std::vector<UserDoc> out;
  for (const auto& [id, body] : docs) {
    ASSIGN_OR_RETURN(UserDoc u, ParseUser(id, body));
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::vector<UserDoc>> ActiveUsers(vault::Vault& vault) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kUserKind));
  std::vector<UserDoc> out;
  for (const auto& [id, body] : docs) {
    ASSIGN_OR_RETURN(UserDoc u, ParseUser(id, body));
    if (u.status == UserStatus::kActive) out.push_back(std::move(u));
  }
  return out;
}

Result<UserDoc> GetUser(vault::Vault& vault, std::string_view id) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kUserKind, id));
  if (!body) return Fail(NotFound("no user '" + std::string(id) + "' in this vault"));
  return ParseUser(id, *body);
}

Status PutUser(vault::Vault& vault, const UserDoc& u) {
  return vault.PutDoc(kUserKind, u.id, SerializeUser(u));
}

Result<Grant> AddUser(vault::Vault& vault, const NewUser& nu, std::string_view request) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserAdmin, {{"user", nu.id}}));
  RETURN_IF_ERROR(CheckUserId(nu.id));
  if (nu.name.empty()) return Fail(InvalidArgument("--name: the user's name is empty"));
  ASSIGN_OR_RETURN(RoleSet roles, RoleSet::FromNames(nu.roles));
  if (roles.empty()) return Fail(InvalidArgument("--role: a user needs at least one role"));
  RETURN_IF_ERROR(CheckCompatible(roles));
  ASSIGN_OR_RETURN(std::optional<std::string> existing, vault.GetDoc(kUserKind, nu.id));
  if (existing) return Fail(AlreadyExists("user '" + nu.id + "' exists"));
  Grant grant;
  ASSIGN_OR_RETURN(
      std::optional<Request> approved,
      GrantGate(vault, RolesOperation(vault, nu.id, nu.name, roles, RoleSet()), request, grant));
  if (grant.requested) return grant;
  const Status changed = vault.Transact(vault.MakeEvent("user.add"), [&](tlog::Event& e) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> again, vault.GetDoc(kUserKind, nu.id));
    if (again) return Fail(AlreadyExists("user '" + nu.id + "' exists"));
    ASSIGN_OR_RETURN(bool had_users, HasUsers(vault));
    UserDoc u;
    u.id = nu.id;
    u.name = nu.name;
    u.roles = roles;
    u.status = UserStatus::kEnrolling;
    u.created_at = FormatRfc3339(NowUnixSeconds());
    u.created_by = vault.principal().user;
    grant.invitation = NewInvitation(u);
    RETURN_IF_ERROR(PutUser(vault, u));
    e.objects = UserObjects(u);
    e.objects["enrolment_expires_at"] = grant.invitation.expires_at;
    // The first user converts the vault: from here on the rules apply.
    if (!had_users) e.objects["first_user"] = true;
    return ConsumeGrant(vault, approved, e);
  });
  RETURN_IF_ERROR(changed);
  return grant;
}

Result<Enrolled> Enrol(vault::Vault& vault, const Enrolment& e) {
  RETURN_IF_ERROR(CheckUserId(e.user));
  Enrolled out;
  Status refusal = Ok();
  Status st = vault.Transact(vault.MakeEvent("user.enrol"), [&](tlog::Event& ev) -> Status {
    ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, e.user));
    ev.actor = u.id;
    ev.via = "enrolment-secret";
    ev.objects = {{"user", u.id}};
    if (Status ok = CheckEnrolmentSecret(u, e.enrolment_secret); !ok) {
      refusal = ok;  // recorded below, in a transaction of its own
      return Fail(ok.error());
    }
    ASSIGN_OR_RETURN(out, MakeCredentials(u, e, vault.IdHex().substr(0, 8)));
    RETURN_IF_ERROR(PutUser(vault, u));
    ev.objects = UserObjects(u);
    ev.objects["own_ssh_key"] = u.own_ssh_key;
    return Ok();
  });
  if (!refusal) {
    tlog::Event ev = vault.MakeEvent("user.enrol");
    ev.actor = e.user;
    ev.via = "enrolment-secret";
    ev.result = "refused";
    ev.objects = {{"user", e.user}, {"reason", refusal.error().message()}};
    RETURN_IF_ERROR(vault.Record(ev));
  }
  RETURN_IF_ERROR(st);
  return out;
}

Status SuspendUser(vault::Vault& vault, std::string_view id, bool suspend) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserAdmin, {{"user", id}}));
  const char* action = suspend ? "user.suspend" : "user.resume";
  RETURN_IF_ERROR(NotOwnAccount(vault, action, id));
  return vault.Transact(vault.MakeEvent(action), [&](tlog::Event& e) -> Status {
    ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, id));
    const UserStatus from = suspend ? UserStatus::kActive : UserStatus::kSuspended;
    if (u.status != from) {
      return Fail(FailedPrecondition("user '" + u.id + "' is " +
                                     std::string(UserStatusName(u.status)) + ", not " +
                                     std::string(UserStatusName(from))));
    }
    u.status = suspend ? UserStatus::kSuspended : UserStatus::kActive;
    if (suspend) u.sessions_after = FormatRfc3339(NowUnixSeconds());
    RETURN_IF_ERROR(PutUser(vault, u));
    e.objects = UserObjects(u);
    return Ok();
  });
}

Status RemoveUser(vault::Vault& vault, std::string_view id) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserAdmin, {{"user", id}}));
  RETURN_IF_ERROR(NotOwnAccount(vault, "user.remove", id));
  return vault.Transact(vault.MakeEvent("user.remove"), [&](tlog::Event& e) -> Status {
    ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, id));
    if (u.status == UserStatus::kRemoved) {
      return Fail(FailedPrecondition("user '" + u.id + "' is already removed"));
    }
    // The record stays (earlier entries and approvals name this user); the
    // credentials go.
    u.status = UserStatus::kRemoved;
    u.sessions_after = FormatRfc3339(NowUnixSeconds());
    u.sealed_totp.clear();
    u.sealed_approval_seed.clear();
    u.password = {};
    RETURN_IF_ERROR(PutUser(vault, u));
    e.objects = UserObjects(u);
    return Ok();
  });
}

Result<Invitation> ResetUser(vault::Vault& vault, std::string_view id) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserAdmin, {{"user", id}}));
  RETURN_IF_ERROR(NotOwnAccount(vault, "user.reset", id));
  Invitation inv;
  const Status changed =
      vault.Transact(vault.MakeEvent("user.reset"), [&](tlog::Event& e) -> Status {
        ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, id));
        if (u.status == UserStatus::kRemoved) {
          return Fail(FailedPrecondition("user '" + u.id + "' is removed"));
        }
        e.objects = UserObjects(u);
        e.objects["revoked_approval_key"] = u.approval_key;
        u.status = UserStatus::kEnrolling;
        u.generation += 1;
        u.password = {};
        u.sealed_totp.clear();
        u.sealed_approval_seed.clear();
        u.approval_key.clear();
        u.own_ssh_key = false;
        u.failures = 0;
        u.locked_until.clear();
        inv = NewInvitation(u);
        RETURN_IF_ERROR(PutUser(vault, u));
        e.objects["status"] = UserStatusName(u.status);
        e.objects["generation"] = u.generation;
        e.objects["approval_key"] = "";
        e.objects["enrolment_expires_at"] = inv.expires_at;
        return Ok();
      });
  RETURN_IF_ERROR(changed);
  return inv;
}

Result<Grant> SetRoles(vault::Vault& vault, std::string_view id,
                       const std::vector<std::string>& names, std::string_view request) {
  RETURN_IF_ERROR(vault.Authorize(Action::kUserAdmin, {{"user", id}}));
  ASSIGN_OR_RETURN(RoleSet roles, RoleSet::FromNames(names));
  if (roles.empty()) return Fail(InvalidArgument("--set: a user needs at least one role"));
  RETURN_IF_ERROR(CheckCompatible(roles));
  RETURN_IF_ERROR(NotOwnAccount(vault, "user.roles", id));
  ASSIGN_OR_RETURN(UserDoc now, GetUser(vault, id));
  if (now.status == UserStatus::kRemoved) {
    return Fail(FailedPrecondition("user '" + now.id + "' is removed"));
  }
  Grant grant;
  ASSIGN_OR_RETURN(
      std::optional<Request> approved,
      GrantGate(vault, RolesOperation(vault, now.id, now.name, roles, now.roles), request, grant));
  if (grant.requested) return grant;
  const Status changed =
      vault.Transact(vault.MakeEvent("user.roles"), [&](tlog::Event& e) -> Status {
        ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, id));
        if (u.status == UserStatus::kRemoved || !(u.roles == now.roles)) {
          return Fail(Unavailable("user '" + u.id + "' changed meanwhile: try again"));
        }
        e.objects = UserObjects(u);
        e.objects["previous_roles"] = u.roles.Names();
        u.roles = roles;
        RETURN_IF_ERROR(PutUser(vault, u));
        e.objects["roles"] = u.roles.Names();
        return ConsumeGrant(vault, approved, e);
      });
  RETURN_IF_ERROR(changed);
  return grant;
}

}  // namespace custos::access
