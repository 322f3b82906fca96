#include "workflow/retention.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/file.h"
#include "workflow/retention_doc.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

// Dates as branch systems write them: 2024-03-05, 2024/3/5, 2024.03.05,
// 20240305, optionally followed by a time.
std::optional<Date> ParseLooseDate(std::string_view v) {
  if (v.size() >= 8 && std::all_of(v.begin(), v.begin() + 8, [](char c) { return c >= '0' && c <= '9'; }) &&
      (v.size() == 8 || v[8] == ' ' || v[8] == 'T')) {
    int y = std::stoi(std::string(v.substr(0, 4)));
    int m = std::stoi(std::string(v.substr(4, 2)));
    int d = std::stoi(std::string(v.substr(6, 2)));
    if (IsValidDate(y, m, d)) return Date{y, m, d};
    return std::nullopt;
  }
  int parts[3] = {0, 0, 0};
  int idx = 0;
  size_t i = 0;
  for (; i < v.size() && idx < 3; ++i) {
    char c = v[i];
    if (c >= '0' && c <= '9') {
      parts[idx] = parts[idx] * 10 + (c - '0');
      if (parts[idx] > 9999) return std::nullopt;
    } else if ((c == '-' || c == '/' || c == '.') && idx < 2) {
      ++idx;
    } else {
      break;
    }
  }
  if (idx != 2 || !IsValidDate(parts[0], parts[1], parts[2])) return std::nullopt;
  return Date{parts[0], parts[1], parts[2]};
}

Result<vault::DatasetInfo> FindDataset(vault::Vault& vault, const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> all, vault.Datasets());
  for (auto& d : all) {
    if (d.name == name) return std::move(d);
  }
  return Fail(NotFound("no dataset '" + name + "' in this vault (see custos inventory)"));
}

}  // namespace

Result<policy::Catalogue> LoadRules(vault::Vault& vault, const std::string& rules_file) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetDoc(kCatalogueKind, "current"));
  std::optional<policy::Catalogue> current;
  if (stored) {
    ASSIGN_OR_RETURN(StoredCatalogue c, ParseStoredCatalogue(*stored));
    current = std::move(c.catalogue);
  }
  policy::Catalogue wanted;
  std::string source;
  if (!rules_file.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(rules_file));
    auto parsed = policy::ParseCatalogue(text);
    if (!parsed) return Fail(parsed.error().WithContext(rules_file));
    wanted = std::move(*parsed);
    source = "file";
  } else if (current) {
    return std::move(*current);
  } else {
    wanted = policy::DefaultCatalogue();
    source = "shipped-default";
  }
  if (current && current->canonical_json == wanted.canonical_json) return std::move(*current);
  // Storing the shipped catalogue the first time is no one's decision;
  // replacing the vault's rules is the officer's.
  if (source == "file") RETURN_IF_ERROR(vault.Authorize(access::Action::kRetentionRules));
  tlog::Event e = vault.MakeEvent("retention.rules");
  e.objects = {{"version", wanted.version},
               {"previous_version", current ? current->version : ""},
               {"source", source},
               {"rules", wanted.rules.size()}};
  const StoredCatalogue doc{FormatRfc3339(NowUnixSeconds()), source, wanted};
  RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) {
    return vault.PutDoc(kCatalogueKind, "current", SerializeStoredCatalogue(doc));
  }));
  return wanted;
}

Result<ApplyReport> ApplyRetention(vault::Vault& vault, const ApplyOptions& o, const Date& today) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kRetentionApply));
  if (o.fields.empty()) return Fail(InvalidArgument("--fields needs at least one field"));
  if (o.start_date.has_value() == !o.start_field.empty()) {
    return Fail(InvalidArgument("give exactly one of --start-date DATE and --start-field FIELD"));
  }
  ASSIGN_OR_RETURN(policy::Catalogue cat, LoadRules(vault, o.rules_file));
  const policy::Rule* rule = cat.Find(o.rule);
  if (rule == nullptr) {
    std::string ids;
    for (const auto& r : cat.rules) ids += (ids.empty() ? "" : ", ") + r.id;
    return Fail(NotFound("no retention rule '" + o.rule + "' in catalogue version " + cat.version +
                         " (rules: " + ids + ")"));
  }
  ASSIGN_OR_RETURN(vault::DatasetInfo ds, FindDataset(vault, o.dataset));
  const std::vector<vault::Column>& cols = ds.columns;
  auto has = [&](const std::string& f) {
    return std::any_of(cols.begin(), cols.end(), [&](const vault::Column& c) { return c.name == f; });
  };
  for (const auto& f : o.fields) {
    if (!has(f)) return Fail(InvalidArgument("dataset '" + o.dataset + "' has no field '" + f + "'"));
  }
  if (!o.start_field.empty() && !has(o.start_field)) {
    return Fail(InvalidArgument("dataset '" + o.dataset + "' has no field '" + o.start_field + "'"));
  }
  // The people of the dataset: one scan; with a start field, one bulk read
  // of that field alone.
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, vault.PersonPksInDataset(ds.id));
  ApplyReport report;
  report.binding = BindingKey(rule->id, ds.name);
  report.catalogue_version = cat.version;
  std::vector<std::pair<int64_t, Date>> expiries;
  expiries.reserve(pks.size());
  if (o.start_date) {
    for (int64_t pk : pks) expiries.emplace_back(pk, policy::ExpiryOf(*rule, *o.start_date));
  } else {
    vault::Selection sel;
    sel.people = pks;
    sel.fields = {o.start_field};
    sel.dataset = ds.name;
    RETURN_IF_ERROR(vault.ReadSelected(sel, [&](const vault::SelectedPerson& p) -> Status {
      // The latest date the person's records hold: retention runs longest.
      std::optional<Date> latest;
      for (const auto& f : p.fields) {
        if (!f.status) continue;
        auto date = ParseLooseDate(f.value);
        if (date && (!latest || *latest < *date)) latest = date;
      }
      if (!latest) ++report.start_unknown;
      expiries.emplace_back(p.pk, policy::ExpiryOf(*rule, latest ? *latest : today));
      return Ok();
    }));
  }
  if (!expiries.empty()) {
    auto [lo, hi] = std::minmax_element(expiries.begin(), expiries.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
    report.earliest_expiry = FormatIsoDate(lo->second);
    report.latest_expiry = FormatIsoDate(hi->second);
  }
  report.people = expiries.size();
  BindingDoc binding;
  binding.rule = rule->id;
  binding.dataset = ds.name;
  binding.fields = o.fields;
  binding.start_date = o.start_date;
  binding.start_field = o.start_field;
  binding.citation = rule->citation;
  binding.catalogue_version = cat.version;
  binding.applied_at = FormatRfc3339(NowUnixSeconds());
  binding.people = report.people;
  tlog::Event e = vault.MakeEvent("retention.apply");
  e.objects = {{"rule", rule->id},
               {"dataset", ds.name},
               {"fields", o.fields},
               {"start", o.start_date ? "date" : "field"},
               {"catalogue_version", cat.version},
               {"people", report.people},
               {"start_unknown", report.start_unknown},
               {"earliest_expiry", report.earliest_expiry},
               {"latest_expiry", report.latest_expiry}};
  Status stored = vault.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(vault.DeletePersonDocs(kExpiryKind, report.binding));
    RETURN_IF_ERROR(vault.PutDoc(kBindingKind, report.binding, SerializeBindingDoc(binding)));
    for (const auto& [pk, date] : expiries) {
      RETURN_IF_ERROR(vault.PutPersonDoc(kExpiryKind, report.binding, pk, SerializeExpiry(date)));
    }
    return Ok();
  });
  RETURN_IF_ERROR(stored);
  return report;
}

Result<std::vector<Binding>> LoadBindings(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kRetentionRead));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kBindingKind));
  std::vector<Binding> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(BindingDoc doc, ParseBindingDoc(key, body));
    Binding b;
    b.key = key;
    b.rule = doc.rule;
    b.dataset = doc.dataset;
    b.fields.insert(doc.fields.begin(), doc.fields.end());
    const std::string& binding_key = key;  // clang 14 cannot capture a structured binding
    RETURN_IF_ERROR(vault.ForEachPersonDoc(kExpiryKind, key, [&](int64_t pk, std::string_view pbody) -> Status {
      ASSIGN_OR_RETURN(Date expiry, ParseExpiry(binding_key, pbody));
      b.expiry.emplace(pk, expiry);
      return Ok();
    }));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<FrozenField>> FrozenFields(vault::Vault& vault, int64_t pk, const Date& today) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kBindingKind));
  std::vector<FrozenField> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(std::optional<std::string> pdoc, vault.GetPersonDoc(kExpiryKind, key, pk));
    if (!pdoc) continue;
    ASSIGN_OR_RETURN(BindingDoc doc, ParseBindingDoc(key, body));
    ASSIGN_OR_RETURN(Date until, ParseExpiry(key, *pdoc));
    if (!(today < until)) continue;
    for (const std::string& f : doc.fields) out.push_back({doc.dataset, f, doc.rule, FormatIsoDate(until)});
  }
  return out;
}

Result<bool> IsFrozen(vault::Vault& vault, int64_t pk, const std::string& dataset,
                      const std::string& field, const Date& today) {
  ASSIGN_OR_RETURN(std::vector<FrozenField> frozen, FrozenFields(vault, pk, today));
  return std::any_of(frozen.begin(), frozen.end(), [&](const FrozenField& f) {
    return f.dataset == dataset && f.field == field;
  });
}

Status CheckFrozenRead(vault::Vault& vault, const vault::PersonId& id,
                       const std::string& legal_ground, const Date& today) {
  ASSIGN_OR_RETURN(int64_t pk, vault.PkOf(id));
  ASSIGN_OR_RETURN(std::vector<FrozenField> frozen, FrozenFields(vault, pk, today));
  if (frozen.empty()) return Ok();
  // Data kept by law is the officer's to read, with a current training.
  RETURN_IF_ERROR(vault.Authorize(access::Action::kReadFrozen, {{"person", id.ToString()}}));
  json fields = json::array();
  for (const auto& f : frozen) fields.push_back(f.dataset + "." + f.field);
  tlog::Event e = vault.MakeEvent("retention.read_frozen", legal_ground);
  e.objects = {{"person", id.ToString()}, {"fields", fields}};
  if (legal_ground.empty()) {
    e.result = "refused";
    e.objects["reason"] = "no legal ground given";
    RETURN_IF_ERROR(vault.Record(e));
    return Fail(PermissionDenied(
        "person " + id.ToString() + " has data frozen under a statutory retention rule (PIPL "
        "Art. 47 ¶2): it may be read only with --legal-ground \"the legal ground, e.g. a tax "
        "audit\", and the read is recorded"));
  }
  return vault.Record(e);
}

}  // namespace custos::workflow
