// The destruction plan: who is destroyed, who is retained (and rewritten
// without the fields no rule keeps), computed from the retention bindings.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "policy/retention_rules.h"
#include "vault/record_codec.h"
#include "workflow/blockers.h"
#include "workflow/destruction.h"
#include "workflow/destruction_internal.h"
#include "workflow/retention.h"

namespace custos::workflow {
namespace internal {
namespace {

// person -> dataset name -> field -> the unexpired bindings that keep it.
struct Kept {
  std::string rule;
  Date until;
};
using Retained =
    std::unordered_map<int64_t, std::map<std::string, std::map<std::string, std::vector<Kept>>>>;

Result<Retained> RetainedOn(vault::Vault& vault, const Date& today) {
  ASSIGN_OR_RETURN(std::vector<Binding> bindings, LoadBindings(vault));
  Retained retained;
  for (const auto& b : bindings) {
    for (const auto& [pk, until] : b.expiry) {
      if (!(today < until)) continue;
      auto& per = retained[pk][b.dataset];
      for (const auto& f : b.fields) per[f].push_back({b.rule, until});
    }
  }
  return retained;
}

// Splits everyone into the people to destroy and those to keep, tallying
// the destroyed people's key-wrap formats and sampling their wrapped keys.
Status SortPeople(vault::Vault& vault, const Retained& retained, Work& w) {
  return vault.ForEachPersonKey([&](int64_t pk, vault::KeyWrapFormat format,
                                    ByteSpan wrapped) -> Status {
    ++w.people_total;
    if (retained.count(pk) != 0) {
      w.kept.push_back(pk);
      return Ok();
    }
    w.destroy.push_back(pk);
    w.destroy_wraps.push_back(format);
    if (w.residue_sample.size() < kResidueSample) {
      w.residue_sample.emplace_back(wrapped.begin(), wrapped.end());
    } else if (w.destroy.size() % (w.destroy.size() / kResidueSample + 1) == 0) {
      w.residue_sample[w.destroy.size() % kResidueSample].assign(wrapped.begin(), wrapped.end());
    }
    return Ok();
  });
}

// A retained person's records: which fields each keeps, and how each is
// rewritten without the others (DropRecordFields needs no key).
Status PlanRewrites(vault::Vault& vault, const std::map<int64_t, vault::DatasetInfo>& datasets,
                    int64_t pk,
                    const std::map<std::string, std::map<std::string, std::vector<Kept>>>& per,
                    Work& w) {
  ASSIGN_OR_RETURN(std::vector<store::RecordRow> recs, vault.SealedRecordsOf(pk));
  std::vector<RecordChange> changes;
  std::set<int64_t> datasets_kept;
  std::set<std::pair<int64_t, std::string>> fields_counted;
  for (const auto& r : recs) {
    auto dit = datasets.find(r.dataset_id);
    if (dit == datasets.end()) return Fail(DataLoss("a record refers to an unknown dataset"));
    const vault::DatasetInfo& ds = dit->second;
    auto pit = per.find(ds.name);
    std::vector<bool> drop(ds.columns.size(), true);
    if (pit != per.end()) {
      for (size_t i = 0; i < ds.columns.size(); ++i) {
        auto fit = pit->second.find(ds.columns[i].name);
        if (fit == pit->second.end()) continue;
        drop[i] = false;
        if (!fields_counted.insert({r.dataset_id, ds.columns[i].name}).second) continue;
        FieldKeep& fk = w.keep[r.dataset_id][ds.columns[i].name];
        ++fk.people;
        for (const auto& k : fit->second) {
          auto [it, fresh] = fk.rules.emplace(k.rule, k.until);
          if (!fresh && it->second < k.until) it->second = k.until;
        }
      }
    }
    uint32_t removed = 0;
    ASSIGN_OR_RETURN(Bytes body, vault::DropRecordFields(r.body, drop, &removed));
    ASSIGN_OR_RETURN(uint32_t values_left, vault::CountRecordValues(body));
    const bool gone = values_left == 0;
    if (!gone) {
      ++w.kept_records[r.dataset_id];
      datasets_kept.insert(r.dataset_id);
    }
    if (removed == 0 && !gone) continue;
    w.fields_to_remove += removed;
    changes.push_back({r.id, gone ? Bytes{} : std::move(body), removed});
  }
  for (int64_t d : datasets_kept) ++w.kept_people[d];
  if (!changes.empty()) w.rewrite.emplace_back(pk, std::move(changes));
  return Ok();
}

}  // namespace

Result<std::map<int64_t, vault::DatasetInfo>> LoadDatasets(vault::Vault& vault) {
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> all, vault.Datasets());
  std::map<int64_t, vault::DatasetInfo> out;
  for (auto& d : all) out.emplace(d.id, std::move(d));
  return out;
}

Result<Work> ComputeWork(vault::Vault& vault, const std::map<int64_t, vault::DatasetInfo>& datasets,
                         const Date& today) {
  ASSIGN_OR_RETURN(Retained retained, RetainedOn(vault, today));
  Work w;
  RETURN_IF_ERROR(SortPeople(vault, retained, w));
  w.retained_people = w.kept.size();
  for (int64_t pk : w.kept) RETURN_IF_ERROR(PlanRewrites(vault, datasets, pk, retained[pk], w));
  return w;
}

}  // namespace internal

namespace {

// One dataset's part of the plan.
DatasetPlan PlanDataset(const vault::DatasetInfo& ds, const internal::Work& w,
                        const policy::Catalogue& cat) {
  DatasetPlan dp;
  dp.dataset = ds.name;
  const uint64_t kept_people = w.kept_people.count(ds.id) ? w.kept_people.at(ds.id) : 0;
  const uint64_t kept_records = w.kept_records.count(ds.id) ? w.kept_records.at(ds.id) : 0;
  dp.people_total = std::max<uint64_t>(ds.people, kept_people);
  dp.people_retained = kept_people;
  dp.people_destroyed = dp.people_total - kept_people;
  dp.records_total = std::max<uint64_t>(ds.rows, kept_records);
  dp.records_retained = kept_records;
  dp.records_destroyed = dp.records_total - kept_records;
  for (const auto& c : ds.columns) {
    FieldPlan f;
    f.field = c.name;
    f.type = c.type;
    f.sensitive = c.sensitive;
    auto kit = w.keep.find(ds.id);
    if (kit != w.keep.end()) {
      auto fit = kit->second.find(c.name);
      if (fit != kit->second.end()) {
        f.retained_people = fit->second.people;
        for (const auto& [rule, until] : fit->second.rules) {
          const policy::Rule* r = cat.Find(rule);
          f.retained_by.push_back(
              {rule, r ? r->citation : "", r ? policy::CitationZh(*r) : "", FormatIsoDate(until)});
        }
      }
    }
    f.destroyed_people = std::max<uint64_t>(ds.people, f.retained_people) - f.retained_people;
    dp.fields.push_back(std::move(f));
  }
  return dp;
}

}  // namespace

Result<DestroyPlan> PlanDestruction(vault::Vault& vault, const Date& today) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kDestroyPlan));
  ASSIGN_OR_RETURN(auto datasets, internal::LoadDatasets(vault));
  ASSIGN_OR_RETURN(internal::Work w, internal::ComputeWork(vault, datasets, today));
  ASSIGN_OR_RETURN(policy::Catalogue cat, LoadRules(vault));
  DestroyPlan p;
  p.people_total = w.people_total;
  p.people_destroyed = w.destroy.size();
  p.people_retained = w.retained_people;
  p.people_rewritten = w.rewrite.size();
  PlanSnapshot& s = p.snapshot;
  s.today = FormatIsoDate(today);
  s.catalogue_version = cat.version;
  s.people_total = p.people_total;
  s.people_destroyed = p.people_destroyed;
  s.people_retained = p.people_retained;
  s.people_rewritten = p.people_rewritten;
  s.fields_removed_from_retained = w.fields_to_remove;
  for (const auto& [id, ds] : datasets) s.datasets.push_back(PlanDataset(ds, w, cat));
  ASSIGN_OR_RETURN(s.blockers, TransferBlockers(vault, &s.transfers));
  p.blockers = s.blockers;
  return p;
}

}  // namespace custos::workflow
