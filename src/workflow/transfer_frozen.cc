// Frozen fields (PIPL Art. 47 ¶2: frozen data is only stored and protected,
// never provided): which planned fields a retention rule freezes for whom.
#include <algorithm>

#include "workflow/retention.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow {
namespace internal {

Result<std::vector<FrozenSet>> LoadFrozenSets(vault::Vault& v, const TransferPlan& plan,
                                              const Date& today) {
  ASSIGN_OR_RETURN(std::vector<Binding> bindings, LoadBindings(v));
  std::vector<FrozenSet> out;
  for (const Binding& b : bindings) {
    if (!plan.dataset.empty() && b.dataset != plan.dataset) continue;
    FrozenSet fs;
    fs.dataset = b.dataset;
    for (const auto& f : plan.fields) {
      if (b.fields.count(f)) fs.fields.push_back(f);
    }
    if (fs.fields.empty()) continue;
    for (const auto& [pk, until] : b.expiry) {  // std::map: ascending pk
      if (today < until) fs.people.push_back(pk);
    }
    if (!fs.people.empty()) out.push_back(std::move(fs));
  }
  return out;
}

void FrozenFor(const std::vector<FrozenSet>& sets, int64_t pk, std::vector<const FrozenSet*>& out) {
  out.clear();
  for (const FrozenSet& fs : sets) {
    if (std::binary_search(fs.people.begin(), fs.people.end(), pk)) out.push_back(&fs);
  }
}

bool Withheld(const std::vector<const FrozenSet*>& frozen, std::string_view dataset,
              std::string_view field) {
  for (const FrozenSet* fs : frozen) {
    if (fs->dataset == dataset &&
        std::find(fs->fields.begin(), fs->fields.end(), field) != fs->fields.end()) {
      return true;
    }
  }
  return false;
}

void CountWithheld(const std::vector<const FrozenSet*>& frozen,
                   std::map<std::string, uint64_t>& counts) {
  if (frozen.empty()) return;
  std::vector<std::string_view> names;
  for (const FrozenSet* fs : frozen)
    names.insert(names.end(), fs->fields.begin(), fs->fields.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (std::string_view n : names) ++counts[std::string(n)];
}

}  // namespace internal

Result<std::map<std::string, uint64_t>> FrozenPlannedFields(vault::Vault& v,
                                                            const TransferPlan& plan,
                                                            const Date& today) {
  ASSIGN_OR_RETURN(std::vector<internal::FrozenSet> sets, internal::LoadFrozenSets(v, plan, today));
  std::map<std::string, uint64_t> out;
  for (const auto& field : plan.fields) {
    // People, not bindings: two rules may freeze one field for one person.
    std::vector<int64_t> people;
    for (const internal::FrozenSet& fs : sets) {
      if (std::find(fs.fields.begin(), fs.fields.end(), field) == fs.fields.end()) continue;
      people.insert(people.end(), fs.people.begin(), fs.people.end());
    }
    if (people.empty()) continue;
    std::sort(people.begin(), people.end());
    out[field] = static_cast<uint64_t>(std::unique(people.begin(), people.end()) - people.begin());
  }
  return out;
}

}  // namespace custos::workflow
