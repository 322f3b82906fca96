#include "workflow/destruction.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/file.h"
#include "crypto/random.h"
#include "package/ssh_key.h"
#include "package/sshsig.h"
#include "report/certificate.h"
#include "tlog/audit_log.h"
#include "vault/record_codec.h"
#include "workflow/retention.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kBatchKind = "destruction";
constexpr std::string_view kCertificateKind = "certificate";
constexpr std::string_view kMediaKind = "media";

// Per (dataset, field): what the retained people keep.
struct FieldKeep {
  uint64_t people = 0;
  std::map<std::string, Date> rules;  // rule -> latest expiry
};

struct RecordChange {
  int64_t record_id = 0;
  Bytes body;       // empty when the record goes whole
  uint32_t removed = 0;
};

// What a destruction has still to do, and what the retained people keep.
struct Work {
  uint64_t people_total = 0;
  std::vector<int64_t> destroy;
  std::vector<int64_t> kept;
  std::vector<std::pair<int64_t, std::vector<RecordChange>>> rewrite;
  uint64_t retained_people = 0;
  uint64_t fields_to_remove = 0;
  std::map<int64_t, std::map<std::string, FieldKeep>> keep;  // dataset id -> field -> keep
  std::map<int64_t, uint64_t> kept_records;                 // dataset id -> records
  std::map<int64_t, uint64_t> kept_people;                  // dataset id -> people
  // The people to destroy: how their data keys are wrapped, and a sample of
  // the wrapped keys for the residue scan after the purge.
  std::map<vault::KeyWrapFormat, uint64_t> destroy_wraps;
  std::vector<Bytes> residue_sample;
};

// Wrapped keys of destroyed people looked for in the vault's files after the
// purge: all of them up to this many, a spread beyond (16 bytes each).
constexpr size_t kResidueSample = 4096;

size_t PrefixSize(ByteSpan body) { return body.size() > 1 && body[1] == 2 ? 20 : 8; }

bool NoFieldsLeft(ByteSpan body) { return body.size() == 6 + PrefixSize(body) + 2; }

using vault::DatasetInfo;

Result<std::map<int64_t, DatasetInfo>> LoadDatasets(vault::Vault& vault) {
  ASSIGN_OR_RETURN(std::vector<DatasetInfo> all, vault.Datasets());
  std::map<int64_t, DatasetInfo> out;
  for (auto& d : all) out.emplace(d.id, std::move(d));
  return out;
}

Result<Work> ComputeWork(vault::Vault& vault, const std::map<int64_t, DatasetInfo>& datasets,
                         const Date& today) {
  vault::Vault& s = vault;
  ASSIGN_OR_RETURN(std::vector<Binding> bindings, LoadBindings(vault));
  // person -> (dataset name -> field -> (rule, until)) for unexpired bindings.
  struct Kept {
    std::string rule;
    Date until;
  };
  std::unordered_map<int64_t, std::map<std::string, std::map<std::string, std::vector<Kept>>>> retained;
  for (const auto& b : bindings) {
    for (const auto& [pk, until] : b.expiry) {
      if (!(today < until)) continue;
      auto& per = retained[pk][b.dataset];
      for (const auto& f : b.fields) per[f].push_back({b.rule, until});
    }
  }
  Work w;
  std::vector<int64_t> kept_pks;
  RETURN_IF_ERROR(s.ForEachPersonKey(
      [&](int64_t pk, vault::KeyWrapFormat format, ByteSpan wrapped) -> Status {
        ++w.people_total;
        if (retained.count(pk) != 0) {
          kept_pks.push_back(pk);
          return Ok();
        }
        w.destroy.push_back(pk);
        ++w.destroy_wraps[format];
        // A sample of the keys to destroy, to look for in the files after
        // the purge (the residue scan): every one up to the sample's size,
        // then a spread of them.
        if (w.residue_sample.size() < kResidueSample) {
          w.residue_sample.emplace_back(wrapped.begin(), wrapped.end());
        } else if (w.destroy.size() % (w.destroy.size() / kResidueSample + 1) == 0) {
          w.residue_sample[w.destroy.size() % kResidueSample].assign(wrapped.begin(), wrapped.end());
        }
        return Ok();
      }));
  w.retained_people = kept_pks.size();
  w.kept = kept_pks;
  for (int64_t pk : kept_pks) {
    const auto& per = retained[pk];
    ASSIGN_OR_RETURN(std::vector<store::RecordRow> recs, s.SealedRecordsOf(pk));
    std::vector<RecordChange> changes;
    std::set<int64_t> datasets_kept;
    std::set<std::pair<int64_t, std::string>> fields_counted;
    for (const auto& r : recs) {
      auto dit = datasets.find(r.dataset_id);
      if (dit == datasets.end()) return Fail(DataLoss("a record refers to an unknown dataset"));
      const DatasetInfo& ds = dit->second;
      auto pit = per.find(ds.name);
      std::vector<bool> drop(ds.columns.size(), true);
      if (pit != per.end()) {
        for (size_t i = 0; i < ds.columns.size(); ++i) {
          auto fit = pit->second.find(ds.columns[i].name);
          if (fit == pit->second.end()) continue;
          drop[i] = false;
          if (fields_counted.insert({r.dataset_id, ds.columns[i].name}).second) {
            FieldKeep& fk = w.keep[r.dataset_id][ds.columns[i].name];
            ++fk.people;
            for (const auto& k : fit->second) {
              auto [it, fresh] = fk.rules.emplace(k.rule, k.until);
              if (!fresh && it->second < k.until) it->second = k.until;
            }
          }
        }
      }
      uint32_t removed = 0;
      ASSIGN_OR_RETURN(Bytes body, vault::DropRecordFields(r.body, drop, &removed));
      bool gone = NoFieldsLeft(body);
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
  }
  return w;
}

std::vector<Blocker> TransferBlockers(const std::vector<std::pair<std::string, std::string>>& docs,
                                      json* transfers) {
  std::vector<Blocker> out;
  for (const auto& [key, body] : docs) {
    auto j = json::parse(body, nullptr, false);
    std::string state = (!j.is_discarded() && j.is_object()) ? j.value("state", "") : "";
    std::string receipt;
    if (!j.is_discarded() && j.is_object()) {
      for (const char* m : {"receipt", "receipt_sha256"}) {
        if (receipt.empty() && j.contains(m)) {
          receipt = j[m].is_string() ? j[m].get<std::string>() : j[m].dump();
        }
      }
    }
    if (transfers != nullptr) {
      json t = {{"id", key}, {"state", state.empty() ? "unknown" : state}, {"receipt", receipt}};
      if (!j.is_discarded() && j.is_object() && j.contains("people") && j["people"].is_number()) {
        t["people"] = j["people"];
      }
      transfers->push_back(t);
    }
    if (state != "closed") {
      out.push_back({"transfer " + key + " is " + (state.empty() ? "in an unknown state" : "'" + state + "'") +
                         ": no receipt recorded",
                     "record the recipient's receipt for transfer " + key +
                         " (custos transfer commands) or cancel the transfer"});
    }
  }
  return out;
}

Result<std::vector<Blocker>> ObjectionBlockers(vault::Vault& vault) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs("objection"));
  std::vector<Blocker> out;
  for (const auto& [key, body] : docs) {
    auto j = json::parse(body, nullptr, false);
    std::string state = (!j.is_discarded() && j.is_object()) ? j.value("state", "") : "";
    if (state == "closed" || state == "answered" || state == "resolved") continue;
    out.push_back({"objection " + key + " is pending", "answer the objection and mark it resolved"});
  }
  return out;
}

std::string NewBatchId(const Date& today) {
  Bytes r(4);
  crypto::RandomFill(r);
  std::string d = FormatIsoDate(today);
  d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
  return "D" + d + "-" + HexEncode(r);
}

json CheckpointJson(vault::Vault& vault) {
  auto cp = vault.audit().LatestCheckpoint();
  if (!cp || !*cp) return json{{"size", 0}, {"note", ""}};
  return json{{"size", (*cp)->size}, {"note", (*cp)->note}};
}

std::string Sha256Hex(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return HexEncode(ByteSpan(h, sizeof h));
}

std::string TriggerCitation(const std::string& trigger) {
  if (trigger == "retention-expired") {
    return "PIPL Art. 47 ¶1: the retention period has expired";
  }
  return "PIPL Art. 47 ¶1 (2): the processor stops providing the product or service (closure of "
         "the branch)";
}

}  // namespace

Result<DestroyPlan> PlanDestruction(vault::Vault& vault, const Date& today) {
  ASSIGN_OR_RETURN(auto datasets, LoadDatasets(vault));
  ASSIGN_OR_RETURN(Work w, ComputeWork(vault, datasets, today));
  ASSIGN_OR_RETURN(policy::Catalogue cat, LoadRules(vault));
  DestroyPlan p;
  p.people_total = w.people_total;
  p.people_destroyed = w.destroy.size();
  p.people_retained = w.retained_people;
  p.people_rewritten = w.rewrite.size();
  json ds_json = json::array();
  for (const auto& [id, ds] : datasets) {
    uint64_t kept_people = w.kept_people.count(id) ? w.kept_people.at(id) : 0;
    uint64_t kept_records = w.kept_records.count(id) ? w.kept_records.at(id) : 0;
    json fields = json::array();
    for (const auto& c : ds.columns) {
      uint64_t retained = 0;
      json rules = json::array();
      auto kit = w.keep.find(id);
      if (kit != w.keep.end()) {
        auto fit = kit->second.find(c.name);
        if (fit != kit->second.end()) {
          retained = fit->second.people;
          for (const auto& [rule, until] : fit->second.rules) {
            const policy::Rule* r = cat.Find(rule);
            rules.push_back({{"rule", rule},
                             {"citation", r ? r->citation : ""},
                             {"until", FormatIsoDate(until)}});
          }
        }
      }
      uint64_t total = std::max<uint64_t>(ds.people, retained);
      fields.push_back({{"field", c.name},
                        {"type", c.type},
                        {"sensitive", c.sensitive},
                        {"destroyed_people", total - retained},
                        {"retained_people", retained},
                        {"retained_by", rules}});
    }
    uint64_t total_people = std::max<uint64_t>(ds.people, kept_people);
    uint64_t total_records = std::max<uint64_t>(ds.rows, kept_records);
    ds_json.push_back({{"dataset", ds.name},
                       {"people", {{"total", total_people}, {"retained", kept_people},
                                   {"destroyed", total_people - kept_people}}},
                       {"records", {{"total", total_records}, {"retained", kept_records},
                                    {"destroyed", total_records - kept_records}}},
                       {"fields", fields}});
  }
  json transfers = json::array();
  ASSIGN_OR_RETURN(auto tdocs, vault.ListDocs("transfer"));
  p.blockers = TransferBlockers(tdocs, &transfers);
  ASSIGN_OR_RETURN(std::vector<Blocker> objections, ObjectionBlockers(vault));
  p.blockers.insert(p.blockers.end(), objections.begin(), objections.end());
  json blockers = json::array();
  for (const auto& b : p.blockers) blockers.push_back({{"what", b.what}, {"resolve", b.resolve}});
  p.json = {{"today", FormatIsoDate(today)},
            {"catalogue_version", cat.version},
            {"people", {{"total", p.people_total},
                        {"destroyed", p.people_destroyed},
                        {"retained", p.people_retained},
                        {"rewritten", p.people_rewritten}}},
            {"fields_removed_from_retained", w.fields_to_remove},
            {"datasets", ds_json},
            {"transfers", transfers},
            {"blockers", blockers}};
  return p;
}

Result<std::vector<std::pair<std::string, json>>> ListDestructions(vault::Vault& vault) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kBatchKind));
  std::vector<std::pair<std::string, json>> out;
  for (auto& [key, body] : docs) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Fail(DataLoss("destruction batch " + key + " is damaged"));
    }
    out.emplace_back(key, std::move(j));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second.value("created_at", "") < b.second.value("created_at", "");
  });
  return out;
}

Result<ExecuteReport> ExecuteDestruction(vault::Vault& vault, const ExecuteOptions& o) {
  if (o.approver.empty()) return Fail(InvalidArgument("--approver NAME is required (the unit head who approves)"));
  if (o.supervisors.size() != 2 || o.supervisors[0].empty() || o.supervisors[1].empty() ||
      o.supervisors[0] == o.supervisors[1]) {
    return Fail(InvalidArgument("give two different supervisors (监销人): --supervisor NAME --supervisor NAME"));
  }
  if (o.supervisors[0] == o.approver || o.supervisors[1] == o.approver) {
    return Fail(InvalidArgument("a supervisor may not be the approver"));
  }
  if (o.chunk_people == 0) return Fail(InvalidArgument("chunk size must be positive"));
  vault::Vault& s = vault;
  auto fault = [&](std::string_view step) -> Status { return o.fault ? o.fault(step) : Ok(); };
  ASSIGN_OR_RETURN(auto batches, ListDestructions(vault));
  ExecuteReport report;
  json doc;
  for (auto& [key, j] : batches) {
    if (j.value("state", "") != "done") {
      report.id = key;
      doc = j;
      report.resumed = true;
    }
  }
  ASSIGN_OR_RETURN(auto datasets, LoadDatasets(vault));
  if (!report.resumed) {
    ASSIGN_OR_RETURN(DestroyPlan plan, PlanDestruction(vault, o.today));
    if (!plan.blockers.empty()) {
      std::string msg = "destruction is blocked:";
      for (const auto& b : plan.blockers) msg += "\n  - " + b.what + " -> " + b.resolve;
      return Fail(FailedPrecondition(msg));
    }
    if (plan.people_destroyed == 0 && plan.people_rewritten == 0 && !batches.empty()) {
      report.id = batches.back().first;
      report.already_done = true;
      return report;
    }
    report.id = NewBatchId(o.today);
    doc = {{"id", report.id},
           {"state", "planned"},
           {"trigger", o.trigger},
           {"legal_basis", TriggerCitation(o.trigger)},
           {"today", FormatIsoDate(o.today)},
           {"approver", o.approver},
           {"supervisors", o.supervisors},
           {"executor", vault.actor()},
           {"created_at", FormatRfc3339(NowUnixSeconds())},
           {"plan", plan.json},
           {"checkpoint_before", CheckpointJson(vault)},
           {"progress", {{"chunks", 0}, {"people_destroyed", 0}, {"people_rewritten", 0},
                         {"fields_removed", 0}}}};
    tlog::Event e = vault.MakeEvent("destroy.execute");
    e.objects = {{"destruction", report.id},
                 {"trigger", o.trigger},
                 {"approver", o.approver},
                 {"supervisors", o.supervisors},
                 {"people_to_destroy", plan.people_destroyed},
                 {"people_to_rewrite", plan.people_rewritten},
                 {"people_retained", plan.people_retained},
                 {"catalogue_version", plan.json["catalogue_version"]}};
    RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) -> Status {
      // Another process may have begun a destruction since the list was read.
      ASSIGN_OR_RETURN(auto now, ListDestructions(vault));
      if (now.size() != batches.size()) {
        return Fail(Unavailable("another destruction began while this one was being planned; "
                                "run destroy execute again to resume it"));
      }
      return s.PutDoc(kBatchKind, report.id, doc.dump());
    }));
    RETURN_IF_ERROR(fault("planned"));
  }
  ASSIGN_OR_RETURN(Date today, ParseIsoDate(doc.value("today", "")));
  std::string state = doc.value("state", "");
  auto put_doc = [&]() { return s.PutDoc(kBatchKind, report.id, doc.dump()); };

  if (state == "planned" || state == "executing") {
    ASSIGN_OR_RETURN(Work w, ComputeWork(vault, datasets, today));
    size_t di = 0, ri = 0;
    while (di < w.destroy.size() || ri < w.rewrite.size() || state == "planned") {
      uint64_t destroyed = 0, rewritten = 0, removed = 0;
      uint64_t chunk = doc["progress"].value("chunks", uint64_t{0}) + 1;
      tlog::Event e = vault.MakeEvent("destroy.chunk");
      Status committed = vault.Transact(e, [&](tlog::Event& ev) -> Status {
        uint64_t n = 0;
        if (di == 0 && w.destroy.size() >= o.bulk_min_people && w.kept.size() < w.destroy.size()) {
          ASSIGN_OR_RETURN(uint64_t deleted, s.DeletePersonsExcept(w.kept));
          if (deleted != w.destroy.size()) {
            // People were added or forgotten by another process since the
            // work was computed: nothing here is damaged, but the approved
            // scope no longer matches. Rolled back; a second run recomputes.
            return Fail(Unavailable("the vault changed while the destruction ran (" +
                                    std::to_string(deleted) + " people to delete, not " +
                                    std::to_string(w.destroy.size()) +
                                    "); nothing was deleted: run destroy execute again"));
          }
          destroyed = deleted;
          di = w.destroy.size();
          n = o.chunk_people;  // the bulk chunk is a chunk of its own
        }
        for (; di < w.destroy.size() && n < o.chunk_people; ++di, ++n) {
          Status deleted = s.DeletePerson(w.destroy[di]);
          // Forgotten by another process meanwhile: gone either way.
          if (!deleted && deleted.error().code() == ErrorCode::kNotFound) continue;
          RETURN_IF_ERROR(deleted);
          ++destroyed;
        }
        for (; ri < w.rewrite.size() && n < o.chunk_people; ++ri, ++n) {
          for (const auto& c : w.rewrite[ri].second) {
            if (c.body.empty()) {
              RETURN_IF_ERROR(s.DeleteRecord(c.record_id));
            } else {
              RETURN_IF_ERROR(s.RewriteRecord(c.record_id, c.body));
            }
            removed += c.removed;
          }
          ++rewritten;
        }
        auto& pr = doc["progress"];
        pr["chunks"] = chunk;
        pr["people_destroyed"] = pr.value("people_destroyed", uint64_t{0}) + destroyed;
        pr["people_rewritten"] = pr.value("people_rewritten", uint64_t{0}) + rewritten;
        pr["fields_removed"] = pr.value("fields_removed", uint64_t{0}) + removed;
        doc["state"] = "executing";
        if (!doc.contains("started_at")) doc["started_at"] = FormatRfc3339(NowUnixSeconds());
        ev.objects = {{"destruction", report.id},
                      {"chunk", chunk},
                      {"people_destroyed", destroyed},
                      {"people_rewritten", rewritten},
                      {"fields_removed", removed},
                      {"method", "crypto-shred"}};
        return put_doc();
      });
      RETURN_IF_ERROR(committed);
      state = "executing";
      report.people_destroyed += destroyed;
      report.people_rewritten += rewritten;
      report.fields_removed += removed;
      ++report.chunks;
      RETURN_IF_ERROR(fault("chunk"));
    }
    // Purge residue: freed pages are zeroed (secure_delete), the WAL is
    // checkpointed and truncated, VACUUM rebuilds the file.
    ASSIGN_OR_RETURN(vault::PurgeResult purge, vault.PurgeResidue(/*vacuum=*/true));
    if (!purge.purged) {
      return Fail(Unavailable("destruction " + report.id + ": every person in scope is "
                              "destroyed, but " + purge.why_not +
                              "; run destroy execute again when the vault is idle to finish"));
    }
    ASSIGN_OR_RETURN(Work after, ComputeWork(vault, datasets, today));
    uint64_t wal_bytes = 0;
    for (const auto& f : s.Files()) {
      struct stat st;
      if (f.size() > 4 && f.compare(f.size() - 4, 4, "-wal") == 0 && ::stat(f.c_str(), &st) == 0) {
        wal_bytes = static_cast<uint64_t>(st.st_size);
      }
    }
    if (!after.destroy.empty() || !after.rewrite.empty() || wal_bytes != 0) {
      // Another process wrote meanwhile (an import adds people, any change
      // refills the WAL): not damage, and a second run finishes the work.
      return Fail(Unavailable("destruction " + report.id + ": verification after the purge found " +
                              std::to_string(after.destroy.size()) + " people and " +
                              std::to_string(after.rewrite.size()) +
                              " rewrites left and " + std::to_string(wal_bytes) +
                              " bytes in the WAL (another process wrote meanwhile); run "
                              "destroy execute again"));
    }
    auto verified = vault.VerifyAudit();
    if (!verified) return Fail(verified.error().WithContext("destruction " + report.id));
    doc["verification"] = {{"people_left_to_destroy", 0},
                           {"fields_left_to_remove", 0},
                           {"wal_bytes_after_purge", 0},
                           {"vacuum", true},
                           {"secure_delete", true},
                           {"audit_log_verified_entries", verified->entries}};
    doc["state"] = "purged";
    doc["purged_at"] = FormatRfc3339(NowUnixSeconds());
    tlog::Event e = vault.MakeEvent("destroy.purge");
    e.objects = {{"destruction", report.id}, {"vacuum", true}, {"wal_truncated", true},
                 {"verified", true}};
    Status purged = vault.Transact(e, [&](tlog::Event&) -> Status {
      for (const auto& [id, ds] : datasets) {
        uint64_t rows = after.kept_records.count(id) ? after.kept_records.at(id) : 0;
        uint64_t people = after.kept_people.count(id) ? after.kept_people.at(id) : 0;
        RETURN_IF_ERROR(s.UpdateDatasetCounts(id, rows, people));
      }
      return put_doc();
    });
    RETURN_IF_ERROR(purged);
    state = "purged";
    RETURN_IF_ERROR(fault("purged"));
  }
  if (state == "purged") {
    doc["checkpoint_after"] = CheckpointJson(vault);
    doc["state"] = "done";
    doc["finished_at"] = FormatRfc3339(NowUnixSeconds());
    tlog::Event e = vault.MakeEvent("destroy.done");
    const auto& pr = doc["progress"];
    e.objects = {{"destruction", report.id},
                 {"chunks", pr.value("chunks", uint64_t{0})},
                 {"people_destroyed", pr.value("people_destroyed", uint64_t{0})},
                 {"people_rewritten", pr.value("people_rewritten", uint64_t{0})},
                 {"fields_removed", pr.value("fields_removed", uint64_t{0})}};
    RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) { return put_doc(); }));
    ASSIGN_OR_RETURN(report.purge, vault.PurgeResidue(/*vacuum=*/false));
  }
  return report;
}

Result<json> BuildCertificate(vault::Vault& vault, const std::string& want) {
  ASSIGN_OR_RETURN(auto batches, ListDestructions(vault));
  const json* doc = nullptr;
  std::string id;
  for (const auto& [key, j] : batches) {
    if (want.empty() ? j.value("state", "") == "done" : key == want) {
      doc = &j;
      id = key;
    }
  }
  if (doc == nullptr) {
    return Fail(NotFound(want.empty() ? "no finished destruction batch (run custos destroy execute)"
                                      : "no destruction batch " + want));
  }
  if (doc->value("state", "") != "done") {
    return Fail(FailedPrecondition("destruction " + id + " is '" + doc->value("state", "") +
                                   "', not done: run custos destroy execute to finish it"));
  }
  const json& plan = (*doc)["plan"];
  json data = json::array();
  json retained = json::array();
  for (const auto& ds : plan["datasets"]) {
    json fields = json::array();
    for (const auto& f : ds["fields"]) {
      fields.push_back({{"field", f["field"]}, {"type", f["type"]}, {"sensitive", f["sensitive"]},
                        {"people", f["destroyed_people"]}});
      for (const auto& r : f["retained_by"]) {
        retained.push_back({{"dataset", ds["dataset"]}, {"field", f["field"]},
                            {"people", f["retained_people"]}, {"rule", r["rule"]},
                            {"citation", r["citation"]}, {"until", r["until"]}});
      }
    }
    data.push_back({{"dataset", ds["dataset"]},
                    {"people", ds["people"]["destroyed"]},
                    {"records", ds["records"]["destroyed"]},
                    {"fields", fields}});
  }
  ASSIGN_OR_RETURN(std::vector<json> media, ListMedia(vault));
  json media_done = json::array();
  for (auto& m : media) {
    if (m.value("state", "") == "destroyed") media_done.push_back(m);
  }
  const json& pr = (*doc)["progress"];
  json cert = {
      {"format", "custos-destruction-certificate"},
      {"version", 1},
      {"destruction", id},
      {"vault", vault.IdHex()},
      {"trigger", (*doc)["trigger"]},
      {"legal_basis", (*doc)["legal_basis"]},
      {"no_retention_confirmation",
       "No retention rule of catalogue version " + plan.value("catalogue_version", "") +
           " applied, on " + plan.value("today", "") +
           ", to any of the data destroyed: every field of a person bound to an unexpired rule "
           "was kept (frozen) and is listed under \"retained\"."},
      {"catalogue_version", plan["catalogue_version"]},
      {"effective_date", plan["today"]},
      {"people", {{"destroyed", pr.value("people_destroyed", uint64_t{0})},
                  {"retained_rewritten", pr.value("people_rewritten", uint64_t{0})},
                  {"retained", plan["people"]["retained"]},
                  {"fields_removed_from_retained", pr.value("fields_removed", uint64_t{0})}}},
      {"data", data},
      {"retained", retained},
      {"transfers", plan["transfers"]},
      {"media", media_done},
      {"method",
       {{"name", "cryptographic erasure (crypto-shredding)"},
        {"description",
         "each person's data key, wrapped under the vault key, was deleted with the person's "
         "encrypted records and blind-index entries; retained people's records were rewritten "
         "without the destroyed fields' ciphertexts; the vault file was then purged"},
        {"field_encryption", std::string(crypto::FieldSuiteName(vault.field_suite()))},
        {"key_wrapping", "XChaCha20-Poly1305"},
        {"residue", "SQLite secure_delete=ON, WAL checkpoint(TRUNCATE), VACUUM"}}},
      {"approver", (*doc)["approver"]},
      {"supervisors", (*doc)["supervisors"]},
      {"executor", (*doc)["executor"]},
      {"times", {{"planned_at", doc->value("created_at", "")},
                 {"started_at", doc->value("started_at", "")},
                 {"purged_at", doc->value("purged_at", "")},
                 {"finished_at", doc->value("finished_at", "")}}},
      {"chunks", pr.value("chunks", uint64_t{0})},
      {"verification", (*doc)["verification"]},
      {"audit", {{"checkpoint_before", (*doc)["checkpoint_before"]},
                 {"checkpoint_after", (*doc)["checkpoint_after"]}}},
      {"signing_key", package::SshEd25519PublicKeyLine(vault.signer().public_key(),
                                                       "custos-vault-" + vault.IdHex())},
      {"issued_at", FormatRfc3339(NowUnixSeconds())}};
  return cert;
}

Result<IssuedCertificate> IssueCertificate(vault::Vault& vault, const std::string& id,
                                           const std::string& out_dir, const std::string& lang) {
  if (lang != "zh" && lang != "en") return Fail(InvalidArgument("--lang is zh or en"));
  if (out_dir.empty()) return Fail(InvalidArgument("--out DIR is required"));
  ASSIGN_OR_RETURN(json cert, BuildCertificate(vault, id));
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Fail(Unavailable("cannot create directory " + out_dir));
  }
  IssuedCertificate out;
  out.destruction = cert["destruction"].get<std::string>();
  std::string text = cert.dump(2, ' ', false) + "\n";
  ASSIGN_OR_RETURN(std::string sig, package::SshSigSign(vault.signer(), kCertificateNamespace, AsBytes(text)));
  ASSIGN_OR_RETURN(std::string html, report::RenderCertificateHtml(text, lang));
  out.json_path = out_dir + "/certificate.json";
  out.sig_path = out_dir + "/certificate.json.sig";
  out.html_path = out_dir + "/certificate.html";
  out.sha256 = Sha256Hex(text);
  tlog::Event e = vault.MakeEvent("certificate.issue");
  e.objects = {{"destruction", out.destruction}, {"sha256", out.sha256}, {"lang", lang}};
  RETURN_IF_ERROR(vault.Transact(e, [&](tlog::Event&) {
    json d = {{"destruction", out.destruction}, {"sha256", out.sha256},
              {"issued_at", cert["issued_at"]}};
    return vault.PutDoc(kCertificateKind, out.destruction, d.dump());
  }));
  RETURN_IF_ERROR(WriteFileAtomic(out.json_path, text));
  RETURN_IF_ERROR(WriteFileAtomic(out.sig_path, sig));
  RETURN_IF_ERROR(WriteFileAtomic(out.html_path, html));
  return out;
}

// ---------------------------------------------------------------- media

namespace {
const std::set<std::string>& MediaKinds() {
  static const std::set<std::string> k = {"disk", "ssd", "tape", "paper", "usb", "optical", "other"};
  return k;
}
const std::set<std::string>& MediaMethods() {
  static const std::set<std::string> m = {"shred", "degauss", "incinerate", "overwrite"};
  return m;
}
Status ValidMediaId(const MediaRecord& m) {
  if (m.id.empty() || m.id.size() > 128) return Fail(InvalidArgument("--id ID is required (the medium's serial or label)"));
  if (MediaKinds().count(m.kind) == 0) {
    return Fail(InvalidArgument("--kind must be one of disk, ssd, tape, paper, usb, optical, other"));
  }
  return Ok();
}
}  // namespace

Status RegisterMedia(vault::Vault& vault, const MediaRecord& m) {
  RETURN_IF_ERROR(ValidMediaId(m));
  ASSIGN_OR_RETURN(std::optional<std::string> existing, vault.GetDoc(kMediaKind, m.id));
  if (existing) return Fail(AlreadyExists("medium " + m.id + " is already registered"));
  json d = {{"id", m.id}, {"kind", m.kind}, {"description", m.description},
            {"state", "registered"}, {"registered_at", FormatRfc3339(NowUnixSeconds())}};
  tlog::Event e = vault.MakeEvent("media.register");
  e.objects = {{"medium", m.id}, {"kind", m.kind}};
  return vault.Transact(e, [&](tlog::Event&) { return vault.PutDoc(kMediaKind, m.id, d.dump()); });
}

Status RecordMediaDestruction(vault::Vault& vault, const MediaRecord& m) {
  RETURN_IF_ERROR(ValidMediaId(m));
  if (MediaMethods().count(m.method) == 0) {
    return Fail(InvalidArgument("--method must be one of shred, degauss, incinerate, overwrite"));
  }
  if (m.executor.empty()) return Fail(InvalidArgument("--executor NAME is required"));
  if (m.witnesses.size() != 2 || m.witnesses[0].empty() || m.witnesses[1].empty() ||
      m.witnesses[0] == m.witnesses[1]) {
    return Fail(InvalidArgument("give two different witnesses: --witness NAME --witness NAME"));
  }
  if (!m.vendor_certificate.empty() && m.vendor.empty()) {
    return Fail(InvalidArgument("--vendor-certificate needs --vendor NAME"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> existing, vault.GetDoc(kMediaKind, m.id));
  json d = json::object();
  if (existing) {
    d = json::parse(*existing, nullptr, false);
    if (d.is_discarded() || !d.is_object()) return Fail(DataLoss("media record " + m.id + " is damaged"));
    if (d.value("state", "") == "destroyed") {
      return Fail(FailedPrecondition("medium " + m.id + " is already recorded as destroyed"));
    }
    if (d.value("kind", "") != m.kind) {
      return Fail(InvalidArgument("medium " + m.id + " was registered as " + d.value("kind", "")));
    }
  } else {
    d = {{"id", m.id}, {"kind", m.kind}, {"description", m.description}};
  }
  d["state"] = "destroyed";
  d["method"] = m.method;
  d["executor"] = m.executor;
  d["witnesses"] = m.witnesses;
  d["vendor"] = m.vendor;
  d["vendor_certificate"] = m.vendor_certificate;
  d["destroyed_at"] = FormatRfc3339(NowUnixSeconds());
  tlog::Event e = vault.MakeEvent("media.record");
  e.objects = {{"medium", m.id}, {"kind", m.kind}, {"method", m.method},
               {"executor", m.executor}, {"witnesses", m.witnesses},
               {"vendor", m.vendor}, {"vendor_certificate", m.vendor_certificate}};
  return vault.Transact(e, [&](tlog::Event&) { return vault.PutDoc(kMediaKind, m.id, d.dump()); });
}

Result<std::vector<json>> ListMedia(vault::Vault& vault) {
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kMediaKind));
  std::vector<json> out;
  for (const auto& [key, body] : docs) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Fail(DataLoss("media record " + key + " is damaged"));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace custos::workflow
