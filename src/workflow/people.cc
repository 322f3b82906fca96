#include "workflow/people.h"

#include <nlohmann/json.hpp>
#include <set>

#include "detect/mask.h"
#include "workflow/retention.h"
#include "detect/validators.h"

namespace custos::workflow {

Result<std::vector<vault::PersonId>> FindPeople(vault::Vault& vault, const PersonSelector& sel) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kFind));
  int set = !sel.person_id.empty() + !sel.id_number.empty() + !sel.mobile.empty() +
            !sel.email.empty();
  if (set != 1) {
    return Fail(InvalidArgument(
        "name exactly one person: a PERSON id, or one of --id, --mobile, --email"));
  }
  if (!sel.person_id.empty()) {
    ASSIGN_OR_RETURN(vault::PersonId id, vault::PersonId::Parse(sel.person_id));
    return std::vector<vault::PersonId>{id};
  }
  if (!sel.id_number.empty()) {
    detect::IdInfo info = detect::CheckResidentId(sel.id_number, TodayInChina());
    std::string id;
    if (info.status == detect::IdStatus::kValid) {
      id = info.normalized;
    } else if (info.status == detect::IdStatus::kLegacy15) {
      id = detect::UpgradeLegacyId(info.normalized);
    } else {
      return Fail(InvalidArgument("--id is not a valid resident ID number (18 characters with a "
                                  "correct check character, or a legacy 15-digit number)"));
    }
    return vault.Find(vault::IndexKind::kResidentId, id);
  }
  if (!sel.mobile.empty()) {
    auto m = detect::NormalizeMobile(sel.mobile);
    if (!m) return Fail(InvalidArgument("--mobile is not a mainland mobile number (11 digits, 1[3-9]...)"));
    return vault.Find(vault::IndexKind::kMobile, *m);
  }
  auto e = detect::NormalizeEmail(sel.email);
  if (!e) return Fail(InvalidArgument("--email is not an e-mail address"));
  return vault.Find(vault::IndexKind::kEmail, *e);
}

Result<vault::PersonId> ResolvePerson(vault::Vault& vault, const PersonSelector& sel) {
  ASSIGN_OR_RETURN(std::vector<vault::PersonId> ids, FindPeople(vault, sel));
  if (ids.empty()) return Fail(NotFound("nobody in this vault matches"));
  if (ids.size() > 1) {
    std::string list;
    for (const auto& id : ids) list += " " + id.ToString();
    return Fail(FailedPrecondition("several people match; name one by id:" + list));
  }
  return ids.front();
}

namespace {

std::string SelectorKind(const PersonSelector& s) {
  if (!s.person_id.empty()) return "person";
  if (!s.id_number.empty()) return "id";
  if (!s.mobile.empty()) return "mobile";
  return "email";
}

}  // namespace

Result<std::vector<vault::PersonId>> FindAndRecord(vault::Vault& vault, const PersonSelector& sel) {
  ASSIGN_OR_RETURN(std::vector<vault::PersonId> ids, FindPeople(vault, sel));
  tlog::Event event = vault.MakeEvent("person.find");
  nlohmann::ordered_json persons = nlohmann::ordered_json::array();
  for (const auto& id : ids) persons.push_back(id.ToString());
  event.objects = {{"selector", SelectorKind(sel)}, {"matches", ids.size()}, {"persons", persons}};
  RETURN_IF_ERROR(vault.Record(event));
  return ids;
}

Result<vault::PersonData> ReadPerson(vault::Vault& vault, const vault::PersonId& id,
                                     const ReadOptions& o) {
  const std::string person = id.ToString();
  RETURN_IF_ERROR(vault.Authorize(o.clear ? access::Action::kReadClear : access::Action::kReadMasked,
                                  {{"person", person}}));
  // Frozen data (retained by law) is readable only with a legal ground.
  RETURN_IF_ERROR(CheckFrozenRead(vault, id, o.legal_ground));
  if (o.clear && o.purpose.empty()) {
    tlog::Event refused = vault.MakeEvent("person.read_clear");
    refused.result = "refused";
    refused.objects = {{"person", person}, {"reason", "no purpose given"}};
    RETURN_IF_ERROR(vault.Record(refused));
    return Fail(InvalidArgument("--clear needs --purpose \"why you need the clear text\""));
  }
  ASSIGN_OR_RETURN(vault::PersonData d, vault.Read(id));
  // Record the read before showing anything.
  tlog::Event event = vault.MakeEvent(o.clear ? "person.read_clear" : "person.read_masked",
                                      o.purpose);
  event.objects = {{"person", person}};
  if (o.clear) {
    // Each dataset.field once, in first-seen order (a set: a person in a
    // thousand datasets has fifteen thousand fields).
    nlohmann::ordered_json fields = nlohmann::ordered_json::array();
    std::set<std::string> seen;
    for (const auto& f : d.fields) {
      std::string qualified = f.dataset + "." + f.field;
      if (seen.insert(qualified).second) fields.push_back(std::move(qualified));
    }
    event.objects["fields"] = fields;
  }
  RETURN_IF_ERROR(vault.Record(event));
  return d;
}

std::string DisplayValue(const vault::FieldValue& f, bool clear) {
  if (clear) return f.value;
  auto type = detect::PiiTypeFromName(f.type).value_or(detect::PiiType::kOther);
  return detect::MaskValue(type, f.value);
}

}  // namespace custos::workflow
