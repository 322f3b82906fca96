#include "api/people_api.h"

#include <map>
#include <set>

namespace custos::api {
namespace {

// dataset -> record -> field -> value; `damaged` gets "dataset.field" of each
// value damaged before import, `errors` each integrity failure.
json FieldsJson(const vault::PersonData& d, bool clear, json& errors, json& damaged) {
  std::map<std::string, std::map<uint64_t, json>> grouped;
  std::vector<std::string> order;
  std::set<std::string> damaged_fields;
  for (const auto& f : d.fields) {
    if (!grouped.count(f.dataset)) order.push_back(f.dataset);
    json& rec = grouped[f.dataset][f.record];
    if (rec.is_null()) rec = json::object();
    if (f.status) {
      rec[f.field] = workflow::DisplayValue(f, clear);
      if (f.damaged) damaged_fields.insert(f.dataset + "." + f.field);
    } else {
      rec[f.field] = nullptr;
      errors.push_back(f.status.error().message());
    }
  }
  for (const auto& [rid, err] : d.damaged_records) errors.push_back(err.message());
  for (const std::string& name : damaged_fields) damaged.push_back(name);
  json datasets = json::array();
  for (const auto& name : order) {
    json recs = json::array();
    for (auto& [rid, fields] : grouped[name]) recs.push_back({{"record", rid}, {"fields", fields}});
    datasets.push_back({{"dataset", name}, {"records", recs}});
  }
  return datasets;
}

}  // namespace

Result<json> FindPeopleJson(vault::Vault& vault, const workflow::PersonSelector& sel) {
  ASSIGN_OR_RETURN(std::vector<vault::PersonId> ids, workflow::FindAndRecord(vault, sel));
  json people = json::array();
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(vault::PersonData d, vault.Read(id));
    std::string name;
    std::set<std::string> datasets;
    std::set<uint64_t> records;
    for (const auto& f : d.fields) {
      datasets.insert(f.dataset);
      records.insert(f.record);
      if (name.empty() && f.type == "person_name" && f.status) {
        name = workflow::DisplayValue(f, false);
      }
    }
    people.push_back({{"person", id.ToString()},
                      {"name", name},
                      {"datasets", datasets},
                      {"records", records.size()}});
  }
  return json{{"matches", people.size()}, {"people", people}};
}

Result<json> ShowPersonJson(vault::Vault& vault, const workflow::PersonSelector& sel,
                            const workflow::ReadOptions& options) {
  ASSIGN_OR_RETURN(vault::PersonId id, workflow::ResolvePerson(vault, sel));
  ASSIGN_OR_RETURN(vault::PersonData d, workflow::ReadPerson(vault, id, options));
  json errors = json::array();
  json damaged = json::array();
  json datasets = FieldsJson(d, options.clear, errors, damaged);
  return json{{"person", id.ToString()},
              {"masked", !options.clear},
              {"datasets", datasets},
              {"damaged", damaged},
              {"errors", errors}};
}

}  // namespace custos::api
