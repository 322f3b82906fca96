// Recipients, and transfer plans with their contract terms: everything a
// transfer is before its first notice.
#include <set>

#include "detect/validators.h"
#include "package/age.h"
#include "package/ssh_key.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow {

using internal::CheckId;
using internal::ExpectUnchanged;
using internal::LoadedTransfer;
using internal::LoadSchemas;
using internal::LoadTransfer;
using internal::SchemaInfo;
using internal::Trim;

// ---- Recipients ----

Status AddRecipient(vault::Vault& v, const Recipient& r) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kRecipientAdd));
  RETURN_IF_ERROR(CheckId("recipient", r.id));
  if (r.name.empty()) return Fail(InvalidArgument("recipient needs a name (--name)"));
  if (r.contact.empty()) return Fail(InvalidArgument("recipient needs a contact (--contact)"));
  if (!detect::IsValidUscc(r.uscc)) {
    return Fail(InvalidArgument("--uscc is not a valid unified social credit code"));
  }
  auto age = package::AgeRecipient::Parse(r.age_recipient);
  if (!age) return Fail(age.error().WithContext("--age-recipient"));
  auto ssh = package::ParseSshEd25519PublicKey(r.ssh_key);
  if (!ssh) return Fail(ssh.error().WithContext("--ssh-key"));
  ASSIGN_OR_RETURN(std::optional<std::string> existing, v.GetDoc(kRecipientKind, r.id));
  if (existing) return Fail(AlreadyExists("recipient '" + r.id + "' already exists"));
  Recipient norm = r;
  norm.age_recipient = age->ToString();
  norm.ssh_key = package::SshEd25519PublicKeyLine(*ssh, "");
  while (!norm.ssh_key.empty() && norm.ssh_key.back() == ' ') norm.ssh_key.pop_back();
  const std::string doc = SerializeRecipient(norm, FormatRfc3339(NowUnixSeconds()));
  tlog::Event e = v.MakeEvent("recipient.add");
  e.objects = {{"recipient", r.id},
               {"uscc", r.uscc},
               {"age_recipient", norm.age_recipient},
               {"ssh_key", norm.ssh_key}};
  return v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kRecipientKind, r.id, std::nullopt));
    return v.PutDoc(kRecipientKind, r.id, doc);
  });
}

Result<std::vector<Recipient>> ListRecipients(vault::Vault& v) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kRecipientList));
  ASSIGN_OR_RETURN(auto docs, v.ListDocs(kRecipientKind));
  std::vector<Recipient> out;
  for (const auto& [id, body] : docs) {
    ASSIGN_OR_RETURN(Recipient r, ParseRecipient(id, body));
    out.push_back(std::move(r));
  }
  return out;
}

Result<Recipient> GetRecipient(vault::Vault& v, const std::string& id) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kRecipientList));
  RETURN_IF_ERROR(CheckId("recipient", id));
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kRecipientKind, id));
  if (!body) return Fail(NotFound("no recipient '" + id + "' (add it with custos recipient add)"));
  return ParseRecipient(id, *body);
}

// ---- Plans ----

const std::vector<std::string>& RequiredContractTerms() {
  static const std::vector<std::string> kTerms = {
      "scope",       "security",      "no_onward_transfer", "return_or_delete",
      "audit_right", "breach_notice", "retention"};
  return kTerms;
}

Result<std::map<std::string, std::string>> ParseContractTerms(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string t = Trim(line);
    if (line_no == 1 && t.rfind("\xEF\xBB\xBF", 0) == 0) t = t.substr(3);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return Fail(
          InvalidArgument("contract line " + std::to_string(line_no) + ": want key = value"));
    }
    std::string key = Trim(std::string_view(t).substr(0, eq));
    std::string val = Trim(std::string_view(t).substr(eq + 1));
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"')
      val = val.substr(1, val.size() - 2);
    if (key.empty()) {
      return Fail(InvalidArgument("contract line " + std::to_string(line_no) + ": empty key"));
    }
    out[key] = val;
  }
  return out;
}

std::vector<std::string> MissingTerms(const TransferPlan& plan) {
  std::vector<std::string> missing;
  for (const auto& t : RequiredContractTerms()) {
    auto it = plan.contract.find(t);
    if (it == plan.contract.end() || it->second.empty()) missing.push_back(t);
  }
  if (plan.approved_by.empty()) missing.push_back("approved_by");
  if (plan.processor_name.empty()) missing.push_back("processor_name");
  if (plan.processor_contact.empty()) missing.push_back("processor_contact");
  if (plan.method.empty()) missing.push_back("method");
  return missing;
}

Status PlanTransfer(vault::Vault& v, const TransferPlan& in) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferWork));
  RETURN_IF_ERROR(CheckId("transfer", in.id));
  if (in.purpose.empty()) return Fail(InvalidArgument("a transfer needs a purpose (--purpose)"));
  if (in.fields.empty())
    return Fail(InvalidArgument("a transfer needs the fields that may leave (--fields)"));
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, in.recipient));
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, in.dataset));
  std::vector<std::string> unknown;
  std::set<std::string> seen;
  for (const auto& f : in.fields) {
    if (!schemas.columns.count(f)) unknown.push_back(f);
    if (!seen.insert(f).second) {
      return Fail(InvalidArgument("field '" + f + "' is listed twice in --fields"));
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    return Fail(InvalidArgument("unknown fields: " + list +
                                (in.dataset.empty() ? std::string(" (no dataset has them)")
                                                    : " (not in dataset '" + in.dataset + "')")));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> existing, v.GetDoc(kTransferKind, in.id));
  if (existing) return Fail(AlreadyExists("transfer '" + in.id + "' already exists"));
  TransferPlan p = in;
  if (p.method.empty() && p.mode != TransferMode::kArt23) {
    p.method = "continue the original processing purposes and methods";
  }
  TransferDoc doc;
  doc.plan = p;
  doc.created_at = FormatRfc3339(NowUnixSeconds());
  tlog::Event e = v.MakeEvent("transfer.plan", p.purpose);
  e.objects = {{"transfer", p.id},
               {"recipient", p.recipient},
               {"mode", TransferModeName(p.mode)},
               {"fields", p.fields},
               {"dataset", p.dataset},
               {"approved_by", p.approved_by},
               {"missing_terms", MissingTerms(p)}};
  return v.Transact(e, [&](tlog::Event&) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> now, v.GetDoc(kTransferKind, p.id));
    if (now) return Fail(AlreadyExists("transfer '" + p.id + "' already exists"));
    return v.PutDoc(kTransferKind, p.id, SerializeTransferDoc(doc));
  });
}

Result<TransferPlan> GetTransferPlan(vault::Vault& v, const std::string& id) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferStatus));
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, id));
  return std::move(t.doc.plan);
}

Status SetTransferTerms(vault::Vault& v, const std::string& id,
                        const std::map<std::string, std::string>& terms,
                        const std::string& approved_by) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferWork));
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, id));
  if (t.doc.state >= TransferState::kPackaged) {
    return Fail(FailedPrecondition("transfer '" + id + "' is " +
                                   std::string(TransferStateName(t.doc.state)) +
                                   "; its terms are fixed"));
  }
  TransferPlan& p = t.doc.plan;
  std::vector<std::string> keys;
  for (const auto& [k, val] : terms) {
    if (k == "method") {
      p.method = val;
    } else if (k == "processor_name") {
      p.processor_name = val;
    } else if (k == "processor_contact") {
      p.processor_contact = val;
    } else if (k == "processor_uscc") {
      p.processor_uscc = val;
    } else {
      p.contract[k] = val;
    }
    keys.push_back(k);
  }
  if (!approved_by.empty()) p.approved_by = approved_by;
  tlog::Event e = v.MakeEvent("transfer.terms");
  e.objects = {{"transfer", id},
               {"terms", keys},
               {"approved_by", p.approved_by},
               {"missing_terms", MissingTerms(p)}};
  return v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kTransferKind, id, t.body));
    return v.PutDoc(kTransferKind, id, SerializeTransferDoc(t.doc));
  });
}

Result<std::map<std::string, uint64_t>> DamagedPlannedFields(vault::Vault& v,
                                                             const TransferPlan& plan) {
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, plan.dataset));
  std::map<std::string, uint64_t> out;
  for (const auto& f : plan.fields) {
    auto it = schemas.damaged.find(f);
    if (it != schemas.damaged.end() && it->second > 0) out[f] = it->second;
  }
  return out;
}

}  // namespace custos::workflow
