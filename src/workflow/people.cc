#include "workflow/people.h"

#include "detect/mask.h"
#include "detect/validators.h"

namespace custos::workflow {

Result<std::vector<vault::PersonId>> FindPeople(vault::Vault& vault, const PersonSelector& sel) {
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

std::string DisplayValue(const vault::FieldValue& f, bool clear) {
  if (clear) return f.value;
  auto type = detect::PiiTypeFromName(f.type).value_or(detect::PiiType::kOther);
  return detect::MaskValue(type, f.value);
}

}  // namespace custos::workflow
