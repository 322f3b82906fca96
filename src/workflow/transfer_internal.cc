#include "workflow/transfer_internal.h"

#include <cctype>

namespace custos::workflow::internal {

Status CheckId(std::string_view what, std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      ok = false;
  }
  if (!ok) {
    return Fail(
        InvalidArgument(std::string(what) + " id must be 1-64 characters of A-Z a-z 0-9 . _ -"));
  }
  return Ok();
}

Result<LoadedTransfer> LoadTransfer(vault::Vault& v, const std::string& id) {
  RETURN_IF_ERROR(CheckId("transfer", id));
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kTransferKind, id));
  if (!body) return Fail(NotFound("no transfer '" + id + "'"));
  ASSIGN_OR_RETURN(TransferDoc doc, ParseTransferDoc(id, *body));
  return LoadedTransfer{std::move(doc), std::move(*body)};
}

Status ExpectUnchanged(vault::Vault& v, std::string_view kind, const std::string& key,
                       const std::optional<std::string>& seen) {
  // The stored text, not what it parses to: every writer serializes the
  // same way, and any change at all by another command must stop this one.
  ASSIGN_OR_RETURN(std::optional<std::string> now, v.GetDoc(kind, key));
  if (now == seen) return Ok();
  return Fail(Unavailable(std::string(kind) + " '" + key +
                          "' was changed by another command while this one ran; nothing was "
                          "recorded: run it again"));
}

// ---- The plan's scope ----

Result<SchemaInfo> LoadSchemas(vault::Vault& v, const std::string& dataset) {
  SchemaInfo info;
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, v.Datasets());
  bool found = dataset.empty();
  for (const auto& d : datasets) {
    if (!dataset.empty() && d.name != dataset) continue;
    found = true;
    for (const auto& c : d.columns) {
      info.columns.emplace(c.name, c);
      if (c.damaged > 0) info.damaged[c.name] += c.damaged;
    }
  }
  if (!found) return Fail(InvalidArgument("no dataset '" + dataset + "' in this vault"));
  return info;
}

vault::Column ColumnIn(const SchemaInfo& schemas, const std::string& name) {
  auto it = schemas.columns.find(name);
  return it != schemas.columns.end() ? it->second : vault::Column{};
}

bool PlannedSensitive(const TransferPlan& plan, const SchemaInfo& schemas) {
  for (const auto& f : plan.fields) {
    auto it = schemas.columns.find(f);
    if (it != schemas.columns.end() && it->second.sensitive) return true;
  }
  return false;
}

Result<std::vector<int64_t>> PeopleInScope(vault::Vault& v, const TransferPlan& plan) {
  if (plan.dataset.empty()) return v.PersonPks();
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, v.Datasets());
  int64_t ds = -1;
  for (const auto& d : datasets) {
    if (d.name == plan.dataset) ds = d.id;
  }
  return v.PersonPksInDataset(ds);
}

Result<std::vector<std::string>> ColumnsOfType(vault::Vault& v, std::string_view type) {
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, v.Datasets());
  std::vector<std::string> names;
  for (const auto& d : datasets) {
    for (const auto& c : d.columns) {
      if (c.type == type) names.push_back(c.name);
    }
  }
  return names;
}

std::string TermOf(const TransferPlan& plan, const std::string& key) {
  auto it = plan.contract.find(key);
  return it != plan.contract.end() ? it->second : std::string();
}

// ---- Small helpers ----

nlohmann::ordered_json CountsJson(const std::map<std::string, uint64_t>& counts) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, n] : counts) j[k] = n;
  return j;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace custos::workflow::internal
