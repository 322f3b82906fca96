#include "access/requests.h"

#include <sodium.h>

#include <algorithm>
#include <functional>

#include "access/users.h"
#include "base/time.h"
#include "crypto/kdf.h"
#include "crypto/signer.h"
#include "package/ssh_key.h"
#include "package/sshsig.h"
#include "vault/doc_reader.h"

namespace custos::access {
namespace {

using ojson = nlohmann::ordered_json;
using vault::DocReader;

constexpr int kRequestVersion = 1;

constexpr std::pair<RequestState, std::string_view> kStateNames[] = {
    {RequestState::kPending, "pending"}, {RequestState::kApproved, "approved"},
    {RequestState::kDenied, "denied"},   {RequestState::kCancelled, "cancelled"},
    {RequestState::kExpired, "expired"}, {RequestState::kExecuted, "executed"},
};

ojson ReviewToJson(const Review& r) {
  return {{"reviewer", r.reviewer},   {"name", r.name},
          {"roles", r.roles.Names()}, {"slot", r.slot < 0 ? ojson(nullptr) : ojson(r.slot)},
          {"decision", r.decision},   {"time", r.time},
          {"comment", r.comment},     {"public_key", r.public_key},
          {"statement", r.statement}, {"signature", r.signature},
          {"audit_seq", r.audit_seq}};
}

Result<Request> ParseRequest(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kRequestKind, id, body, kRequestVersion));
  Request r;
  r.id = d.Str("request");
  r.kind = d.Str("kind");
  r.operation = d.Json("operation");
  r.operation_sha256 = d.Str("operation_sha256");
  r.requester = d.Str("requester");
  r.requested_at = d.Str("requested_at");
  r.expires_at = d.Str("expires_at");
  DocReader policy = d.Object("policy");
  const std::string state = d.Str("state");
  r.executed_at = d.Str("executed_at");
  for (DocReader& v : d.Objects("reviews")) {
    Review x;
    x.reviewer = v.Str("reviewer");
    x.name = v.Str("name");
    auto roles = RoleSet::FromNames(v.Strings("roles"));
    x.roles = roles ? *roles : RoleSet();
    x.slot = v.Has("slot") ? static_cast<int>(v.U64("slot", false)) : -1;
    x.decision = v.Str("decision");
    x.time = v.Str("time");
    x.comment = v.Str("comment");
    x.public_key = v.Str("public_key");
    x.statement = v.Str("statement");
    x.signature = v.Str("signature");
    x.audit_seq = v.U64("audit_seq");
    r.reviews.push_back(std::move(x));
  }
  RETURN_IF_ERROR(d.status());
  ASSIGN_OR_RETURN(r.policy, PolicyFromReader(policy));
  bool known = false;
  for (const auto& [s, name] : kStateNames) {
    if (name == state) {
      r.state = s;
      known = true;
    }
  }
  if (!known) return Fail(d.Damaged("an unknown state"));
  // The operation is kept as canonical JSON text: re-canonicalize what the
  // reader returned (it may have reordered nothing, but be sure).
  const nlohmann::json op = nlohmann::json::parse(r.operation, nullptr, false);
  if (op.is_discarded()) return Fail(d.Damaged("an operation that is not JSON"));
  r.operation = CanonicalJson(op);
  return r;
}

std::string SerializeRequest(const Request& r) {
  ojson j = {{"v", kRequestVersion}};
  j.update(RequestToJson(r));
  return j.dump();
}

Status PutRequest(vault::Vault& vault, const Request& r) {
  return vault.PutDoc(kRequestKind, r.id, SerializeRequest(r));
}

// The slot each approval fills: a maximum matching of approvers to the
// policy's slots (expanded by count), approvals in review order. Returns,
// per review, its slot or -1.
std::vector<int> MatchSlots(const Policy& p, const std::vector<Review>& reviews) {
  std::vector<int> seat_slot;  // seat -> slot
  for (size_t s = 0; s < p.slots.size(); ++s) {
    for (int i = 0; i < p.slots[s].count; ++i) seat_slot.push_back(static_cast<int>(s));
  }
  std::vector<int> seat_owner(seat_slot.size(), -1);  // seat -> review
  std::function<bool(size_t, std::vector<bool>&)> place = [&](size_t r, std::vector<bool>& seen) {
    for (size_t seat = 0; seat < seat_slot.size(); ++seat) {
      if (seen[seat] || !reviews[r].roles.Intersects(p.slots[seat_slot[seat]].roles)) continue;
      seen[seat] = true;
      if (seat_owner[seat] < 0 || place(static_cast<size_t>(seat_owner[seat]), seen)) {
        seat_owner[seat] = static_cast<int>(r);
        return true;
      }
    }
    return false;
  };
  for (size_t r = 0; r < reviews.size(); ++r) {
    if (reviews[r].decision != "approve") continue;
    std::vector<bool> seen(seat_slot.size(), false);
    place(r, seen);
  }
  std::vector<int> out(reviews.size(), -1);
  for (size_t seat = 0; seat < seat_slot.size(); ++seat) {
    if (seat_owner[seat] >= 0) out[static_cast<size_t>(seat_owner[seat])] = seat_slot[seat];
  }
  return out;
}

bool AllSeatsFilled(const Policy& p, const std::vector<int>& slots) {
  size_t seats = 0;
  for (const Slot& s : p.slots) seats += static_cast<size_t>(s.count);
  return static_cast<size_t>(
             std::count_if(slots.begin(), slots.end(), [](int s) { return s >= 0; })) == seats;
}

std::string NewRequestId() {
  uint8_t raw[6];
  randombytes_buf(raw, sizeof raw);
  return "r-" + HexEncode(ByteSpan(raw, sizeof raw));
}

// Signs `statement` with the reviewer's key, or checks the signature they
// made with their own; either way the result verifies against `u`'s key.
Result<std::string> SignatureFor(const UserDoc& u, const Signing& signing,
                                 const std::string& statement) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey pub, package::ParseSshEd25519PublicKey(u.approval_key));
  std::string armored;
  if (u.own_ssh_key) {
    if (signing.ssh_signature.empty()) {
      return Fail(InvalidArgument(u.id +
                                  " approves with their own SSH key: give --ssh-key FILE, or "
                                  "--statement FILE --signature FILE"));
    }
    armored = signing.ssh_signature;
  } else {
    if (!signing.keys) {
      return Fail(InvalidArgument(u.id + " approves with the key their password unlocks: "
                                         "the password and a one-time code are needed"));
    }
    ASSIGN_OR_RETURN(crypto::SecretBytes seed,
                     OpenForUser(*signing.keys, u.id, "approval-seed", u.sealed_approval_seed));
    ASSIGN_OR_RETURN(crypto::Signer signer, crypto::Signer::FromSeed(seed));
    ASSIGN_OR_RETURN(armored, package::SshSigSign(signer, kApprovalNamespace, AsBytes(statement)));
  }
  Status ok = package::SshSigVerify(armored, pub, kApprovalNamespace, AsBytes(statement));
  if (!ok) {
    return Fail(Unauthenticated("the signature is not " + u.id +
                                "'s over this request's statement (" + ok.error().message() + ")"));
  }
  return armored;
}

// A review's time is second-precision UTC (approval.md), after the request
// was made and not ahead of this machine's clock (a statement signed
// elsewhere carries its own).
Status CheckReviewTime(const Request& r, std::string_view time) {
  auto at = ParseRfc3339(time);
  if (!at || FormatRfc3339(*at) != time) {
    return Fail(InvalidArgument("the review's time '" + std::string(time) +
                                "' is not RFC 3339 UTC to the second (2026-12-07T08:00:00Z)"));
  }
  ASSIGN_OR_RETURN(int64_t requested, ParseRfc3339(r.requested_at));
  if (*at < requested || *at > NowUnixSeconds() + 300) {
    return Fail(InvalidArgument("the review's time " + std::string(time) +
                                " is before the request was made or ahead of now"));
  }
  return Ok();
}

}  // namespace

std::string CanonicalJson(const nlohmann::json& j) {
  // nlohmann::json keeps object members in a std::map: sorted by bytes,
  // which for ASCII names is RFC 8785's order; dump() is compact, with
  // RFC 8785's escapes.
  return j.dump();
}

std::string_view RequestStateName(RequestState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "pending";
}

nlohmann::ordered_json RequestToJson(const Request& r) {
  ojson reviews = ojson::array();
  for (const Review& v : r.reviews) reviews.push_back(ReviewToJson(v));
  return {{"request", r.id},
          {"kind", r.kind},
          {"operation", ojson::parse(r.operation)},
          {"operation_sha256", r.operation_sha256},
          {"requester", r.requester},
          {"requested_at", r.requested_at},
          {"expires_at", r.expires_at},
          {"policy", PolicyToJson(r.policy)},
          {"state", RequestStateName(r.state)},
          {"reviews", reviews},
          {"executed_at", r.executed_at}};
}

std::string Statement(std::string_view vault_id, const Request& r, std::string_view decision,
                      std::string_view reviewer, std::string_view time) {
  std::string s = "custos-approval/v1\n";
  s += "vault " + std::string(vault_id) + "\n";
  s += "request " + r.id + "\n";
  s += "kind " + r.kind + "\n";
  s += "operation-sha256 " + r.operation_sha256 + "\n";
  s += "decision " + std::string(decision) + "\n";
  s += "reviewer " + std::string(reviewer) + "\n";
  s += "time " + std::string(time) + "\n";
  return s;
}

Result<Request> CreateRequest(vault::Vault& vault, const nlohmann::json& operation) {
  if (!operation.is_object() || !operation.contains("kind") || !operation["kind"].is_string()) {
    return Fail(InvalidArgument("an operation names its kind"));
  }
  const std::string kind = operation["kind"].get<std::string>();
  const std::optional<Action> needs = RequesterAction(kind);
  if (!needs) return Fail(InvalidArgument("no request of kind '" + kind + "'"));
  RETURN_IF_ERROR(vault.Authorize(*needs, {{"kind", kind}}));
  const Principal& who = vault.principal();
  if (!who.IsUser()) {
    return Fail(FailedPrecondition("a request is made by a logged-in user (custos login)"));
  }
  Request r;
  r.id = NewRequestId();
  r.kind = kind;
  r.operation = CanonicalJson(operation);
  r.operation_sha256 = crypto::Sha256Hex(AsBytes(r.operation));
  r.requester = who.user;
  const int64_t now = NowUnixSeconds();
  r.requested_at = FormatRfc3339(now);
  r.expires_at = FormatRfc3339(now + kRequestSeconds);
  ASSIGN_OR_RETURN(r.policy, PolicyFor(vault, kind));
  // A request nobody could approve is refused now, not after a week.
  if (Status meetable = CheckMeetable(vault, r.policy); !meetable) {
    return Fail(FailedPrecondition("no one could approve a " + kind +
                                   " request: " + meetable.error().message()));
  }
  tlog::Event e = vault.MakeEvent("request.create");
  e.objects = {{"request", r.id},
               {"kind", r.kind},
               {"operation_sha256", r.operation_sha256},
               {"policy", PolicyToJson(r.policy)},
               {"expires_at", r.expires_at}};
  RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) { return PutRequest(vault, r); }));
  return r;
}

Result<Request> GetRequest(vault::Vault& vault, std::string_view id) {
  RETURN_IF_ERROR(vault.Authorize(Action::kRequestRead, {{"request", id}}));
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kRequestKind, id));
  if (!body) return Fail(NotFound("no request '" + std::string(id) + "' in this vault"));
  ASSIGN_OR_RETURN(Request r, ParseRequest(id, *body));
  const bool open = r.state == RequestState::kPending || r.state == RequestState::kApproved;
  ASSIGN_OR_RETURN(int64_t expires, ParseRfc3339(r.expires_at));
  if (open && NowUnixSeconds() >= expires) {
    tlog::Event e = vault.MakeEvent("request.expire");
    e.objects = {{"request", r.id}, {"kind", r.kind}, {"expired_at", r.expires_at}};
    r.state = RequestState::kExpired;
    RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) { return PutRequest(vault, r); }));
  }
  return r;
}

Result<std::vector<Request>> ListRequests(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(Action::kRequestRead));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kRequestKind));
  std::vector<Request> out;
  for (const auto& [id, body] : docs) {
    ASSIGN_OR_RETURN(Request r, GetRequest(vault, id));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const Request& a, const Request& b) { return a.requested_at < b.requested_at; });
  return out;
}

Result<Request> ReviewRequest(vault::Vault& vault, std::string_view id, std::string_view decision,
                              std::string_view comment, const Signing& signing,
                              std::string_view time) {
  if (decision != "approve" && decision != "deny") {
    return Fail(InvalidArgument("a decision is approve or deny"));
  }
  ASSIGN_OR_RETURN(Request r, GetRequest(vault, id));
  const Principal who = vault.principal();
  if (!who.IsUser()) return Fail(FailedPrecondition("a review is made by a logged-in user"));
  RETURN_IF_ERROR(CheckReviewTime(r, time));
  const ojson about = {{"request", r.id}, {"kind", r.kind}, {"decision", decision}};
  if (r.state != RequestState::kPending) {
    return Fail(FailedPrecondition("request " + r.id + " is " +
                                   std::string(RequestStateName(r.state)) + ", not pending"));
  }
  auto refuse = [&](const std::string& why) -> Result<Request> {
    ojson o = about;
    o["reason"] = why;
    return Fail(vault.Refuse("request.review", o, PermissionDenied(who.user + ": " + why)).error());
  };
  if (who.user == r.requester) return refuse("the requester cannot review their own request");
  if (r.kind == "user.roles" &&
      nlohmann::json::parse(r.operation).value("user", std::string()) == who.user) {
    return refuse("cannot review a change to their own roles");
  }
  for (const Review& v : r.reviews) {
    if (v.reviewer == who.user) return refuse("has already reviewed this request");
  }
  Review review;
  review.reviewer = who.user;
  review.roles = who.roles;
  review.decision = std::string(decision);
  review.time = std::string(time);
  review.comment = std::string(comment);
  if (decision == "approve") {
    if (!who.trained) {
      return refuse(
          "an approval needs a passed training of the current course (custos training take)");
    }
    std::vector<Review> with = r.reviews;
    with.push_back(review);
    const std::vector<int> slots = MatchSlots(r.policy, with);
    if (slots.back() < 0) {
      return refuse("no open slot of this request takes the roles " + who.roles.Joined() +
                    " (it needs " + PolicyToJson(r.policy)["slots"].dump() + ")");
    }
  }
  ASSIGN_OR_RETURN(UserDoc u, GetUser(vault, who.user));
  review.name = u.name;
  review.public_key = u.approval_key;
  review.statement = Statement(vault.IdHex(), r, decision, who.user, time);
  ASSIGN_OR_RETURN(review.signature, SignatureFor(u, signing, review.statement));

  tlog::Event e = vault.MakeEvent("request.review");
  if (u.own_ssh_key) e.via = std::string(ViaName(Via::kSshKey));
  Status st = vault.Transact(e, [&](tlog::Event& ev) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kRequestKind, r.id));
    if (!body) return Fail(NotFound("request " + r.id + " is gone"));
    ASSIGN_OR_RETURN(Request fresh, ParseRequest(r.id, *body));
    if (fresh.state != RequestState::kPending || fresh.reviews.size() != r.reviews.size()) {
      return Fail(Unavailable("request " + r.id + " changed meanwhile: review it again"));
    }
    review.audit_seq = vault.audit().size();
    fresh.reviews.push_back(review);
    const std::vector<int> slots = MatchSlots(fresh.policy, fresh.reviews);
    for (size_t i = 0; i < fresh.reviews.size(); ++i) fresh.reviews[i].slot = slots[i];
    if (decision == "deny") {
      fresh.state = RequestState::kDenied;
    } else if (AllSeatsFilled(fresh.policy, slots)) {
      fresh.state = RequestState::kApproved;
    }
    RETURN_IF_ERROR(PutRequest(vault, fresh));
    ev.objects = {{"request", fresh.id},
                  {"kind", fresh.kind},
                  {"operation_sha256", fresh.operation_sha256},
                  {"decision", decision},
                  {"slot", slots.back() < 0 ? ojson(nullptr) : ojson(slots.back())},
                  {"public_key", review.public_key},
                  {"statement_sha256", crypto::Sha256Hex(AsBytes(review.statement))},
                  {"state", RequestStateName(fresh.state)}};
    r = std::move(fresh);
    return Ok();
  });
  RETURN_IF_ERROR(st);
  return r;
}

Status CancelRequest(vault::Vault& vault, std::string_view id) {
  ASSIGN_OR_RETURN(Request r, GetRequest(vault, id));
  const Principal& who = vault.principal();
  const bool custodian = who.IsUser() && who.roles.Has(Role::kCustodian);
  if (!(who.IsUser() && who.user == r.requester) && !custodian) {
    return vault.Refuse("request.cancel", {{"request", r.id}, {"reason", "not the requester"}},
                        PermissionDenied(who.user + " may not cancel request " + r.id +
                                         ": only its requester or a custodian"));
  }
  if (r.state != RequestState::kPending && r.state != RequestState::kApproved) {
    return Fail(
        FailedPrecondition("request " + r.id + " is " + std::string(RequestStateName(r.state))));
  }
  r.state = RequestState::kCancelled;
  tlog::Event e = vault.MakeEvent("request.cancel");
  e.objects = {{"request", r.id}, {"kind", r.kind}};
  return vault.Transact(e, [&](tlog::Event&) { return PutRequest(vault, r); });
}

Result<Request> CheckApproved(vault::Vault& vault, std::string_view id,
                              const nlohmann::json& operation) {
  ASSIGN_OR_RETURN(Request r, GetRequest(vault, id));
  if (r.state != RequestState::kApproved) {
    return Fail(
        FailedPrecondition("request " + r.id + " is " + std::string(RequestStateName(r.state)) +
                           (r.state == RequestState::kPending
                                ? ": it waits for approvals (custos request show " + r.id + ")"
                                : ": it cannot run")));
  }
  const std::string now = CanonicalJson(operation);
  if (crypto::Sha256Hex(AsBytes(now)) != r.operation_sha256) {
    return Fail(FailedPrecondition(
        "request " + r.id + " approved another operation than the one that would run now " +
        "(something changed since: the dataset, the fields, the people or the terms); make a "
        "new request"));
  }
  return r;
}

Status MarkExecuted(vault::Vault& vault, Request& r) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kRequestKind, r.id));
  if (!body) return Fail(NotFound("request " + r.id + " is gone"));
  ASSIGN_OR_RETURN(Request fresh, ParseRequest(r.id, *body));
  if (fresh.state != RequestState::kApproved) {
    return Fail(FailedPrecondition("request " + r.id + " is " +
                                   std::string(RequestStateName(fresh.state)) + ", not approved"));
  }
  fresh.state = RequestState::kExecuted;
  fresh.executed_at = FormatRfc3339(NowUnixSeconds());
  RETURN_IF_ERROR(PutRequest(vault, fresh));
  r = std::move(fresh);
  return Ok();
}

}  // namespace custos::access
