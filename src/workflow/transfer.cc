#include "workflow/transfer.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "base/file.h"
#include "base/json_text.h"
#include "base/time.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "detect/types.h"
#include "detect/validators.h"
#include "ingest/reader.h"
#include "package/age.h"
#include "package/byte_stream.h"
#include "package/ssh_key.h"
#include "package/sshsig.h"
#include "package/tar.h"
#include "report/notice.h"
#include "workflow/handover.h"
#include "workflow/retention.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;

// Associated-data label of a response's evidence sealed under the person's key.
constexpr std::string_view kEvidenceLabel = "transfer.response.evidence";
// Who left in a package. A doc per transfer (IncludedSet, below); packages
// made before it recorded a person doc per person, still read.

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

// A transfer's document as stored (`body`, for ExpectUnchanged) and read.
struct LoadedTransfer {
  TransferDoc doc;
  std::string body;
};

Result<LoadedTransfer> LoadTransfer(vault::Vault& v, const std::string& id) {
  RETURN_IF_ERROR(CheckId("transfer", id));
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kTransferKind, id));
  if (!body) return Fail(NotFound("no transfer '" + id + "'"));
  ASSIGN_OR_RETURN(TransferDoc doc, ParseTransferDoc(id, *body));
  return LoadedTransfer{std::move(doc), std::move(*body)};
}

// Inside a change's write transaction: the document `kind`/`key` is still
// the text the change read before it began (nullopt: absent). Another
// process may have changed it meanwhile; going on would undo that change,
// so the command stops with kUnavailable and can simply be run again.
Status ExpectUnchanged(vault::Vault& v, std::string_view kind, const std::string& key,
                       const std::optional<std::string>& seen) {
  ASSIGN_OR_RETURN(std::optional<std::string> now, v.GetDoc(kind, key));
  if (now == seen) return Ok();
  return Fail(Unavailable(std::string(kind) + " '" + key +
                          "' was changed by another command while this one ran; nothing was "
                          "recorded: run it again"));
}

// Dataset columns by name, for the datasets in scope.
struct SchemaInfo {
  std::map<int64_t, std::string> dataset_names;
  std::map<std::string, vault::Column> columns;  // first seen by name
  std::map<std::string, uint64_t> damaged;       // by column name, summed over datasets
};

Result<SchemaInfo> LoadSchemas(vault::Vault& v, const std::string& dataset) {
  SchemaInfo info;
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, v.Datasets());
  bool found = dataset.empty();
  for (const auto& d : datasets) {
    info.dataset_names[d.id] = d.name;
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

Result<std::vector<int64_t>> PeopleInScope(vault::Vault& v, const TransferPlan& plan) {
  if (plan.dataset.empty()) return v.PersonPks();
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, v.Datasets());
  int64_t ds = -1;
  for (const auto& d : datasets) {
    if (d.name == plan.dataset) ds = d.id;
  }
  return v.PersonPksInDataset(ds);
}

constexpr char kRefAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Reference codes: 8 characters of kRefAlphabet, i.e. 40 bits, held packed
// (never 0: the packed form of "00000000" is reserved as "no code").
uint64_t NewPackedRef() {
  for (;;) {
    std::array<uint8_t, 5> b{};
    crypto::RandomFill(b);
    uint64_t x = 0;
    for (uint8_t c : b) x = (x << 8) | c;
    if (x != 0) return x;
  }
}

std::string UnpackRef(uint64_t x) {
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kRefAlphabet[x & 31];
    x >>= 5;
  }
  return s;
}

// A stored code back to 40 bits (0 if it is not one: never matched).
uint64_t PackRef(std::string_view ref) {
  if (ref.size() != 8) return 0;
  uint64_t x = 0;
  for (char ch : ref) {
    const char* at = std::strchr(kRefAlphabet, ch);
    if (ch == '\0' || at == nullptr) return 0;
    x = (x << 5) | static_cast<uint64_t>(at - kRefAlphabet);
  }
  return x;
}

// The reference codes given so far for `transfer`, packed, as (pk, code)
// in pk order. A stored code that does not read as one (its document
// damaged, or not a code) is left out: the person gets a new one, and it
// never matches a response.
Result<std::vector<std::pair<int64_t, uint64_t>>> LoadRefs(vault::Vault& v,
                                                           const std::string& transfer) {
  std::vector<std::pair<int64_t, uint64_t>> refs;
  RETURN_IF_ERROR(
      v.ForEachPersonDoc(kRefKind, transfer, [&](int64_t pk, std::string_view body) -> Status {
        auto doc = ParseRefDoc(body);
        const uint64_t ref = doc ? PackRef(doc->ref) : 0;
        if (ref != 0) refs.emplace_back(pk, ref);
        return Ok();
      }));
  return refs;
}

std::string CsvField(std::string_view s) {
  bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// The names of the columns of detected type `type`, in every dataset (for a
// bulk read that opens only them).
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

// Of `people` (ascending), those with a valid resident ID number saying
// they are under 14 today, ascending: one bulk read of the ID columns.
Result<std::vector<int64_t>> MinorsAmong(vault::Vault& v, std::vector<int64_t> people) {
  std::vector<int64_t> minors;
  if (people.empty()) return minors;
  vault::Selection sel;
  sel.people = std::move(people);
  ASSIGN_OR_RETURN(sel.fields, ColumnsOfType(v, "cn_resident_id"));
  if (sel.fields.empty()) return minors;
  const Date today = TodayInChina();
  RETURN_IF_ERROR(v.ReadSelected(sel, [&](const vault::SelectedPerson& p) -> Status {
    for (const auto& f : p.fields) {
      if (f.value.empty() || f.dataset->columns[f.position].type != "cn_resident_id") continue;
      detect::IdInfo info = detect::CheckResidentId(f.value, today);
      if (info.status == detect::IdStatus::kValid && AgeOn(info.birth, today) < 14) {
        minors.push_back(p.pk);
        break;
      }
    }
    return Ok();
  }));
  return minors;
}

bool PlannedSensitive(const TransferPlan& plan, const SchemaInfo& schemas) {
  for (const auto& f : plan.fields) {
    auto it = schemas.columns.find(f);
    if (it != schemas.columns.end() && it->second.sensitive) return true;
  }
  return false;
}

json Counts(const std::map<std::string, uint64_t>& m) {
  json j = json::object();
  for (const auto& [k, n] : m) j[k] = n;
  return j;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// ---- The package payload, streamed ----

// The SHA-256 (hex) of the manifest.json that leads the archive at `path`,
// or "" if the file is no package.
Result<std::string> LeadingManifestSha256(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<package::FileSource> in, package::FileSource::Open(path));
  package::TarReadOptions options;
  options.max_entry_size = uint64_t{1} << 20;
  package::TarReader tar(*in, options);
  auto entry = tar.Next();
  if (!entry || !*entry || (*entry)->name != "manifest.json") return std::string();
  Bytes manifest;
  package::BytesSink sink(manifest);
  if (!tar.ReadContent(sink)) return std::string();
  return Sha256Hex(manifest);
}

// ---- Frozen fields (PIPL Art. 47 ¶2) ----

// One retention binding as the transfer needs it: the planned fields it
// freezes and the people it freezes them for today, sorted by pk (a binary
// search per person, and 8 bytes per frozen person in memory).
struct FrozenSet {
  std::string dataset;
  std::vector<std::string> fields;  // planned fields the binding covers
  std::vector<int64_t> people;      // frozen on `today`, ascending
};

// The bindings that freeze planned fields of datasets in the plan's scope,
// loaded in bulk (LoadBindings: one pass per binding, no query per person).
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

// The sets that freeze something for `pk` (into `out`, cleared first).
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

// Counts one person once per planned field frozen for them (in any dataset).
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

// ---- The payload's lines ----

// One batch of payload lines (docs/formats/package.md), formatted on a
// worker thread of the bulk read, and what they count. Clear personal data:
// wiped when destroyed.
struct PayloadLines {
  std::string text;
  uint64_t people = 0;
  uint64_t records = 0;
  std::map<std::string, uint64_t> withheld_frozen;  // field -> people
  std::map<std::string, uint64_t> damaged;          // field -> values marked damaged

  PayloadLines() = default;
  PayloadLines(const PayloadLines&) = delete;
  PayloadLines& operator=(const PayloadLines&) = delete;
  ~PayloadLines() { std::fill(text.begin(), text.end(), '\0'); }
};

// Makes room for `more` bytes at the end of `text` without leaving a copy
// of it in freed memory, as std::string's own growth would.
void ReserveWiping(std::string& text, size_t more) {
  if (text.capacity() - text.size() >= more) return;
  std::string bigger;
  bigger.reserve(std::max(2 * text.capacity(), text.size() + more));
  bigger.append(text);
  std::fill(text.begin(), text.end(), '\0');
  text.swap(bigger);
}

// An upper bound of the bytes FormatPayloadLines writes for `d`: every
// byte of a name or value escaped as \u00XX (6 bytes), plus the JSON
// around them.
size_t LongestLine(const vault::SelectedPerson& d) {
  size_t n = 64;
  for (const auto& f : d.fields) {
    n += 6 * (f.value.size() + f.dataset->name.size() + f.dataset->columns[f.position].name.size()) + 32;
    if (f.damaged) n += 6 * f.dataset->columns[f.position].name.size() + 16;  // in "damaged"
  }
  return n;
}

// The JSON text around a dataset's values, escaped once a batch instead of
// once a person: `{"dataset":"NAME","fields":{` and each column's `"NAME":`.
class PayloadKeys {
 public:
  struct Texts {
    std::string record_open;
    std::vector<std::string> keys;  // by column position
  };
  const Texts& For(const vault::DatasetColumns* d) {
    for (const auto& [dataset, texts] : cache_) {
      if (dataset == d) return texts;
    }
    Texts t;
    t.record_open = R"({"dataset":)";
    AppendJsonString(t.record_open, d->name);
    t.record_open += R"(,"fields":{)";
    for (const auto& c : d->columns) {
      std::string& k = t.keys.emplace_back();
      AppendJsonString(k, c.name);
      k.push_back(':');
    }
    return cache_.emplace_back(d, std::move(t)).second;
  }

 private:
  std::vector<std::pair<const vault::DatasetColumns*, Texts>> cache_;
};

// Appends one line per person to `lines`, leaving out the fields `frozen`
// for them (PIPL Art. 47 ¶2: only stored and protected, never provided),
// and counts people, records and withheld fields. kDataLoss for the first
// person (in order) with a damaged record, a value in scope that does not
// authenticate or is not valid UTF-8. Thread safety: reads `frozen` only,
// so threads may format different batches at once.
Status FormatPayloadLines(const std::vector<vault::SelectedPerson>& people,
                          const std::vector<FrozenSet>& frozen, PayloadLines& lines) {
  // About 200 bytes a person for three short fields. Before each line the
  // text makes room for the longest that line can be, so it only grows
  // (and wipes what it leaves) here, never inside std::string.
  ReserveWiping(lines.text, people.size() * 256);
  std::array<uint8_t, 16> ref{};
  std::vector<const FrozenSet*> frozen_here;
  PayloadKeys keys;
  std::string& buf = lines.text;
  for (const vault::SelectedPerson& d : people) {
    FrozenFor(frozen, d.pk, frozen_here);
    CountWithheld(frozen_here, lines.withheld_frozen);
    if (!d.damaged_records.empty()) {
      return Fail(d.damaged_records.front().second.WithContext("not packaging damaged data"));
    }
    ReserveWiping(buf, LongestLine(d));
    crypto::RandomFill(ref);
    buf += R"({"person":")";
    AppendHex(buf, ref);
    buf += R"(","records":[)";
    // Fields come record by record, so a record's fields are adjacent. A
    // record's damaged values (allowed by the caller) are named after its
    // fields: {"dataset":..,"fields":{..},"damaged":["银行卡号"]}.
    uint64_t record = 0;
    bool in_record = false;
    std::vector<const std::string*> damaged_here;
    auto close_record = [&] {
      buf += '}';
      if (!damaged_here.empty()) {
        buf += R"(,"damaged":[)";
        for (size_t i = 0; i < damaged_here.size(); ++i) {
          if (i > 0) buf += ',';
          AppendJsonString(buf, *damaged_here[i]);
        }
        buf += ']';
        damaged_here.clear();
      }
      buf += '}';
    };
    for (const auto& f : d.fields) {
      const std::string& dataset = f.dataset->name;
      const std::string& field = f.dataset->columns[f.position].name;
      if (!frozen_here.empty() && Withheld(frozen_here, dataset, field)) continue;
      // Before the empty check: a value that failed to authenticate reads
      // back empty, and must stop the package rather than vanish from it.
      if (!f.status) {
        return Fail(DataLoss("person " + d.id.ToString() + " field " + dataset + "." + field +
                             " does not authenticate; not packaging damaged data"));
      }
      if (f.value.empty()) continue;
      const PayloadKeys::Texts& texts = keys.For(f.dataset);
      if (!in_record || f.record != record) {
        if (in_record) {
          close_record();
          buf += ',';
        }
        buf += texts.record_open;
        record = f.record;
        in_record = true;
        ++lines.records;
      } else {
        buf.push_back(',');
      }
      buf += texts.keys[f.position];
      if (!AppendJsonString(buf, f.value)) {
        return Fail(DataLoss("person " + d.id.ToString() + " field " + dataset + "." + field +
                             " is not valid UTF-8; not packaging damaged data"));
      }
      if (f.damaged) {
        damaged_here.push_back(&field);
        ++lines.damaged[field];
      }
    }
    if (in_record) close_record();
    buf += "]}\n";
    ++lines.people;
  }
  return Ok();
}

// ---- Who left in a package ----

// The people a package held, as runs of consecutive person numbers: a few
// bytes when nearly everyone leaves, about two bytes a person at worst,
// instead of a store row per person (writing a million of those was a
// third of packaging a million people).
//
// Stored as the doc (kIncludedKind, transfer id):
//   {"manifest_sha256":"<hex>","people":N,"runs":"<base64>"}
// runs = base64 of LEB128 pairs (gap, length): a run covers person numbers
// [start, start + length), start = the previous run's end + gap (the first
// run's: 0 + gap); length >= 1.

// The people a packaged transfer held: its IncludedSet doc, or, for a
// package made before those, its per-person docs.
Result<IncludedSet> LoadIncluded(vault::Vault& v, const std::string& transfer) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, v.GetDoc(kIncludedKind, transfer));
  if (body) return IncludedSet::FromDoc(transfer, *body);
  std::vector<int64_t> pks;  // visited in pk order, so sorted
  RETURN_IF_ERROR(v.ForEachPersonDoc(kIncludedKind, transfer,
                                     [&](int64_t pk, std::string_view person_doc) -> Status {
                                       auto legacy = ParseLegacyIncludedDoc(transfer, person_doc);
                                       if (!legacy) return Fail(legacy.error());
                                       pks.push_back(pk);
                                       return Ok();
                                     }));
  return IncludedSet::Of(pks);
}

std::string LegalBasis(TransferMode m) {
  switch (m) {
    case TransferMode::kHeadOffice:
      return "head office as continuing processor (same legal person; PIPL Art. 17 notice)";
    case TransferMode::kArt22:
      return "PIPL Art. 22 (transfer on dissolution; recipient bound to original purposes and "
             "methods)";
    case TransferMode::kArt23:
      return "PIPL Art. 23 (provision to another processor with separate consent)";
  }
  return "";
}

}  // namespace

// ---- Recipients ----

Status AddRecipient(vault::Vault& v, const Recipient& r) {
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

Result<Recipient> GetRecipient(vault::Vault& v, const std::string& id) {
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
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, id));
  return std::move(t.doc.plan);
}

Result<std::map<std::string, uint64_t>> FrozenPlannedFields(vault::Vault& v,
                                                            const TransferPlan& plan,
                                                            const Date& today) {
  ASSIGN_OR_RETURN(std::vector<FrozenSet> sets, LoadFrozenSets(v, plan, today));
  std::map<std::string, uint64_t> out;
  for (const auto& field : plan.fields) {
    // People, not bindings: two rules may freeze one field for one person.
    std::vector<int64_t> people;
    for (const FrozenSet& fs : sets) {
      if (std::find(fs.fields.begin(), fs.fields.end(), field) == fs.fields.end()) continue;
      people.insert(people.end(), fs.people.begin(), fs.people.end());
    }
    if (people.empty()) continue;
    std::sort(people.begin(), people.end());
    out[field] = static_cast<uint64_t>(std::unique(people.begin(), people.end()) - people.begin());
  }
  return out;
}

Status SetTransferTerms(vault::Vault& v, const std::string& id,
                        const std::map<std::string, std::string>& terms,
                        const std::string& approved_by) {
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

// ---- Notices ----

Result<Channel> ParseChannel(std::string_view s) {
  if (s == "sms") return Channel::kSms;
  if (s == "letter") return Channel::kLetter;
  if (s == "email") return Channel::kEmail;
  return Fail(InvalidArgument("channel must be sms, letter or email"));
}

Result<NoticeBatch> MakeNotices(vault::Vault& v, const std::string& transfer, Channel channel,
                                bool english, const std::string& out_path) {
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  TransferPlan plan = t.doc.plan;
  if (t.doc.state == TransferState::kClosed) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' is closed"));
  }
  std::vector<std::string> missing;
  if (plan.processor_name.empty()) missing.push_back("processor_name");
  if (plan.processor_contact.empty()) missing.push_back("processor_contact");
  if (plan.contract["retention"].empty()) missing.push_back("retention");
  if (plan.method.empty()) missing.push_back("method");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Fail(FailedPrecondition("notices need these terms first: " + list));
  }
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, plan.dataset));
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, PeopleInScope(v, plan));

  report::NoticeContent c;
  c.mode = plan.mode == TransferMode::kHeadOffice ? report::NoticeMode::kHeadOffice
           : plan.mode == TransferMode::kArt22    ? report::NoticeMode::kArt22
                                                  : report::NoticeMode::kArt23;
  c.processor_name = plan.processor_name;
  c.processor_contact = plan.processor_contact;
  c.recipient_name = r.name;
  c.recipient_contact = r.contact;
  c.purpose = plan.purpose;
  c.method = plan.method;
  for (const auto& f : plan.fields) c.type_names.push_back(schemas.columns[f].type);
  c.sensitive = PlannedSensitive(plan, schemas);
  c.retention = plan.contract["retention"];

  std::string contact_type, contact_header;
  std::string_view channel_name;
  switch (channel) {
    case Channel::kSms:
      contact_type = "cn_mobile", contact_header = "mobile", channel_name = "sms";
      break;
    case Channel::kEmail:
      contact_type = "email", contact_header = "email", channel_name = "email";
      break;
    case Channel::kLetter:
      contact_type = "address", contact_header = "address", channel_name = "letter";
      break;
  }

  // Each person's reference code: the one given before, else a new one
  // (8 base32 characters, kept unique among this transfer's codes). Codes
  // are packed into 40 bits, so a million people cost ~50 MB in all here.
  std::vector<std::pair<int64_t, uint64_t>> old_refs;  // by pk
  std::unordered_set<uint64_t> used;
  ASSIGN_OR_RETURN(old_refs, LoadRefs(v, transfer));
  for (const auto& [pk, ref] : old_refs) used.insert(ref);

  // The columns that hold the channel's contact, in any dataset: only they
  // are decrypted.
  vault::Selection sel;
  sel.people = pks;
  ASSIGN_OR_RETURN(sel.fields, ColumnsOfType(v, contact_type));

  // Rows go straight to a temporary file beside `out_path`, which replaces
  // it once the notices are logged; what the transaction needs is kept per
  // person in 48 bytes.
  struct Sent {
    int64_t pk;
    uint64_t new_ref;  // packed; 0: the person had a code already
    crypto::Digest sha256;
  };
  std::vector<Sent> sent;
  std::vector<int64_t> new_ref_only;  // new codes of people without a contact
  std::vector<std::pair<int64_t, uint64_t>> missing_refs;
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> file, AtomicFileWriter::Create(out_path, 0600));
  RETURN_IF_ERROR(file->Append("ref," + contact_header + ",message\r\n"));
  NoticeBatch out;
  crypto::Sha256Stream digest;
  std::string line;
  Status read = v.ReadSelected(sel, [&](const vault::SelectedPerson& p) -> Status {
    std::string_view contact;
    for (const auto& f : p.fields) {
      if (f.status && !f.value.empty() && f.dataset->columns[f.position].type == contact_type) {
        contact = f.value;
        break;
      }
    }
    uint64_t ref = 0, new_ref = 0;
    const auto old = std::lower_bound(old_refs.begin(), old_refs.end(),
                                      std::make_pair(p.pk, uint64_t{0}));
    if (old != old_refs.end() && old->first == p.pk) {
      ref = old->second;
    } else {
      do {
        ref = NewPackedRef();
      } while (!used.insert(ref).second);
      new_ref = ref;
    }
    if (contact.empty()) {
      out.missing_contact.push_back(p.id.ToString());
      if (new_ref != 0) missing_refs.emplace_back(p.pk, new_ref);
      return Ok();
    }
    c.ref = UnpackRef(ref);
    const std::string message = report::RenderNotice(c, english);
    const crypto::Digest h = crypto::Sha256(AsBytes(message));
    digest.Update(h);
    line.clear();
    line += CsvField(c.ref);
    line += ',';
    line += CsvField(contact);
    line += ',';
    line += CsvField(message);
    line += "\r\n";
    RETURN_IF_ERROR(file->Append(line));
    sent.push_back({p.pk, new_ref, h});
    ++out.notices;
    return Ok();
  });
  if (!line.empty()) sodium_memzero(line.data(), line.size());
  RETURN_IF_ERROR(read);
  out.digest = HexEncode(digest.Finish());

  const std::string now = FormatRfc3339(NowUnixSeconds());
  uint64_t new_refs = missing_refs.size();
  for (const Sent& x : sent) new_refs += x.new_ref != 0;
  tlog::Event e = v.MakeEvent("transfer.notices", plan.purpose);
  e.objects = {{"transfer", transfer},          {"channel", channel_name},
               {"lang", english ? "en" : "zh"}, {"people", pks.size()},
               {"notices", out.notices},        {"missing_contact", out.missing_contact.size()},
               {"new_refs", new_refs},          {"notices_sha256", out.digest}};
  Status tx = v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kTransferKind, transfer, t.body));
    auto put_ref = [&](int64_t pk, uint64_t ref) {
      return v.PutPersonDoc(kRefKind, transfer, pk, SerializeRefDoc({UnpackRef(ref)}));
    };
    for (const auto& [pk, ref] : missing_refs) RETURN_IF_ERROR(put_ref(pk, ref));
    for (const Sent& x : sent) {
      if (x.new_ref != 0) RETURN_IF_ERROR(put_ref(x.pk, x.new_ref));
      const NoticeDoc notice{HexEncode(x.sha256), now, std::string(channel_name)};
      RETURN_IF_ERROR(v.PutPersonDoc(kNoticeKind, transfer, x.pk, SerializeNoticeDoc(notice)));
    }
    if (t.doc.state == TransferState::kPlanned) t.doc.state = TransferState::kNoticed;
    t.doc.notices.push_back(
        {now, std::string(channel_name), out.notices, out.missing_contact.size(), out.digest});
    return v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(t.doc));
  });
  RETURN_IF_ERROR(tx);
  // Logged and committed: now the file takes its name. Should this fail,
  // running the command again writes the same codes.
  RETURN_IF_ERROR(file->Commit());
  return out;
}

// ---- Responses ----

namespace {

// The bad lines of a responses file: every one counted, the first
// kShown kept for the refusal.
class BadLines {
 public:
  void Add(std::string what) {
    if (shown_.size() < kShown) shown_.push_back(std::move(what));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  // "N bad line(s), nothing recorded: line 3: unknown ref ZZZZZZZZ; ..."
  Error Refusal() const {
    std::string msg = std::to_string(count_) + " bad line(s), nothing recorded: ";
    for (size_t i = 0; i < shown_.size(); ++i) msg += (i ? "; " : "") + shown_[i];
    if (count_ > shown_.size()) msg += "; ...";
    return InvalidArgument(msg);
  }

 private:
  static constexpr size_t kShown = 20;
  std::vector<std::string> shown_;
  uint64_t count_ = 0;
};

// The columns of a responses file (docs/formats/package.md, "Responses
// file") by position in its header; -1 where absent.
struct ResponseColumns {
  int ref = -1, response = -1, time = -1, evidence = -1, sensitive = -1, guardian = -1;

  static ResponseColumns Of(const std::vector<std::string>& header) {
    ResponseColumns c;
    for (size_t i = 0; i < header.size(); ++i) {  // a name given twice: its last column
      const std::string& name = header[i];
      int* at = name == "ref"                 ? &c.ref
                : name == "response"          ? &c.response
                : name == "time"              ? &c.time
                : name == "evidence"          ? &c.evidence
                : name == "sensitive_consent" ? &c.sensitive
                : name == "guardian_consent"  ? &c.guardian
                                              : nullptr;
      if (at) *at = static_cast<int>(i);
    }
    return c;
  }
};

// A cell, trimmed ("" for an absent column).
std::string CellOf(const std::vector<std::string>& fields, int column) {
  return column < 0 ? std::string() : Trim(fields[static_cast<size_t>(column)]);
}

void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}

std::optional<bool> ParseYesNo(std::string_view s) {
  std::string t = Trim(s);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "yes" || t == "y" || t == "true" || t == "1" || t == "是") return true;
  if (t == "no" || t == "n" || t == "false" || t == "0" || t == "否" || t.empty()) return false;
  return std::nullopt;
}

// Reference codes packed in 40 bits, sorted: 16 bytes a person.
using RefIndex = std::vector<std::pair<uint64_t, int64_t>>;

// Called for each good line: the person, their response (evidence not yet
// sealed) and the evidence cell, which the caller wipes.
using GoodLine = std::function<Status(int64_t pk, ResponseDoc&, const std::string& evidence)>;

// One data row: `good` for a good one, else what is wrong with it to `bad`,
// never repeating a cell but the ref code.
Status CheckResponse(ingest::Row& row, const ResponseColumns& cols, const RefIndex& by_ref,
                     BadLines& bad, const GoodLine& good) {
  const std::string at = "line " + std::to_string(row.line) + ": ";
  std::string ref = CellOf(row.fields, cols.ref);
  std::transform(ref.begin(), ref.end(), ref.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  const std::optional<Response> response = ParseResponseWord(CellOf(row.fields, cols.response));
  const std::string time = CellOf(row.fields, cols.time);
  const std::optional<bool> sensitive = ParseYesNo(CellOf(row.fields, cols.sensitive));
  const std::optional<bool> guardian = ParseYesNo(CellOf(row.fields, cols.guardian));
  const uint64_t packed = PackRef(ref);
  auto it = std::lower_bound(by_ref.begin(), by_ref.end(), std::make_pair(packed, int64_t{0}));
  if (ref.empty()) {
    bad.Add(at + "no ref");
  } else if (packed == 0 || it == by_ref.end() || it->first != packed) {
    bad.Add(at + "unknown ref " + ref);
  } else if (!response) {
    bad.Add(at + "response must be consent, object or withdraw (同意, 反对, 撤回)");
  } else if (time.empty()) {
    bad.Add(at + "no time");
  } else if (auto when = ParseRfc3339(time); !when) {
    bad.Add(at + "time: " + when.error().message());
  } else if (!sensitive || !guardian) {
    bad.Add(at + "sensitive_consent and guardian_consent must be yes or no");
  } else {
    ResponseDoc doc{*response, FormatRfc3339(*when), *sensitive, *guardian, row.line, ""};
    std::string evidence = CellOf(row.fields, cols.evidence);
    Status recorded = good(it->second, doc, evidence);
    Wipe(evidence);  // it may quote the person
    if (cols.evidence >= 0) Wipe(row.fields[static_cast<size_t>(cols.evidence)]);
    return recorded;
  }
  return Ok();
}

// Reads the responses file `csv` with the project's CSV reader (quoting,
// CRLF, a BOM, GBK and GB18030 as for imports), calling `good` for every
// good line and reporting the others to `bad`. A file the reader cannot
// read on (malformed, ragged) ends there, its error ("responses:LINE:COL:
// what") one more bad line. Errors other than bad lines stop it.
Status ReadResponses(std::string_view csv, const RefIndex& by_ref, BadLines& bad,
                     const GoodLine& good) {
  ingest::ReadOptions options;
  options.delimiter = ',';
  auto reader = ingest::OpenCsvFromString(std::string(csv), "responses", options);
  if (!reader) {
    if (reader.error().code() != ErrorCode::kInvalidArgument) return Fail(reader.error());
    bad.Add(reader.error().message());
    return Ok();
  }
  const ResponseColumns cols = ResponseColumns::Of((*reader)->header());
  bool complete = true;
  for (auto [name, column] : {std::pair{"ref", cols.ref}, std::pair{"response", cols.response},
                              std::pair{"time", cols.time}}) {
    if (column < 0) {
      bad.Add(std::string("the header has no '") + name + "' column");
      complete = false;
    }
  }
  if (!complete) return Ok();
  ingest::Row row;
  for (;;) {
    auto more = (*reader)->Next(row);
    if (!more) {
      if (more.error().code() != ErrorCode::kInvalidArgument) return Fail(more.error());
      bad.Add(more.error().message());
      return Ok();
    }
    if (!*more) return Ok();
    RETURN_IF_ERROR(CheckResponse(row, cols, by_ref, bad, good));
  }
}

}  // namespace

Result<ResponsesReport> RecordResponses(vault::Vault& v, const std::string& transfer,
                                        std::string_view csv) {
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  RefIndex by_ref;
  ASSIGN_OR_RETURN(auto refs, LoadRefs(v, transfer));
  by_ref.reserve(refs.size());
  for (const auto& [pk, ref] : refs) by_ref.emplace_back(ref, pk);
  std::sort(by_ref.begin(), by_ref.end());

  // The file is read twice: once to check every line (nothing is kept but
  // counts and the first errors), then, in the transaction, to write each
  // response, so memory does not grow with the number of lines.
  ResponsesReport rep;
  BadLines bad;
  RETURN_IF_ERROR(ReadResponses(csv, by_ref, bad,
                                [&](int64_t, ResponseDoc& response, const std::string&) -> Status {
                                  ++rep.recorded;
                                  ++rep.by_response[std::string(ResponseName(response.response))];
                                  return Ok();
                                }));
  if (!bad.empty()) return Fail(bad.Refusal());
  tlog::Event e = v.MakeEvent("transfer.responses");
  e.objects = {
      {"transfer", transfer}, {"recorded", rep.recorded}, {"by_response", Counts(rep.by_response)}};
  Status tx = v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kTransferKind, transfer, t.body));
    BadLines again;  // the same file: none, as checked above
    Status written = ReadResponses(
        csv, by_ref, again,
        [&](int64_t pk, ResponseDoc& response, const std::string& evidence) -> Status {
          // Evidence may quote the person (a message, an ID number): sealed
          // under their key, so it is shredded with them.
          if (!evidence.empty()) {
            ASSIGN_OR_RETURN(Bytes sealed, v.SealForPerson(pk, kEvidenceLabel, evidence));
            response.evidence_sealed = Base64Encode(sealed);
          }
          return v.PutPersonDoc(kResponseKind, transfer, pk, SerializeResponseDoc(response));
        });
    RETURN_IF_ERROR(written);
    if (!again.empty()) return Fail(again.Refusal());
    return Ok();
  });
  RETURN_IF_ERROR(tx);
  return rep;
}

// ---- Status ----

namespace {

// A person's response as parsed for `transfer`, naming the transfer should
// it be damaged.
Result<ResponseDoc> ParseResponseOf(const std::string& transfer, std::string_view body) {
  auto r = ParseResponseDoc(body);
  if (!r) return Fail(r.error().WithContext("transfer '" + transfer + "'"));
  return r;
}

// A person's latest response, as the consent rules need it: 16 bytes (a
// million people: 16 MB, where JSON objects took hundreds).
struct Answer {
  int64_t pk;
  Response response;
  bool sensitive_consent, guardian_consent;
};

// Every response recorded for `transfer`, in pk order. A damaged one is
// kDataLoss: read as no answer, it could hide an objection.
Result<std::vector<Answer>> LoadAnswers(vault::Vault& v, const std::string& transfer) {
  std::vector<Answer> answers;  // visited in pk order, so sorted
  RETURN_IF_ERROR(
      v.ForEachPersonDoc(kResponseKind, transfer, [&](int64_t pk, std::string_view body) -> Status {
        ASSIGN_OR_RETURN(ResponseDoc r, ParseResponseOf(transfer, body));
        answers.push_back({pk, r.response, r.sensitive_consent, r.guardian_consent});
        return Ok();
      }));
  return answers;
}

const Answer* AnswerOf(const std::vector<Answer>& answers, int64_t pk) {
  auto it = std::lower_bound(answers.begin(), answers.end(), pk,
                             [](const Answer& a, int64_t p) { return a.pk < p; });
  return it != answers.end() && it->pk == pk ? &*it : nullptr;
}

// Art. 31: of the people in scope (`pks`, ascending) whose consent would
// count, those under 14, ascending. Their ID numbers are read in one bulk
// pass, not person by person.
Result<std::vector<int64_t>> ConsentingMinors(vault::Vault& v, const std::vector<Answer>& answers,
                                              const std::vector<int64_t>& pks, bool sensitive) {
  std::vector<int64_t> consenters;
  for (const Answer& a : answers) {
    if (a.response == Response::kConsent && (!sensitive || a.sensitive_consent) &&
        std::binary_search(pks.begin(), pks.end(), a.pk)) {  // in scope, still here
      consenters.push_back(a.pk);
    }
  }
  return MinorsAmong(v, std::move(consenters));
}

// Who may leave before a package is made (docs/formats/package.md,
// "Exclusion reasons"): everyone but those who objected or withdrew; under
// Art. 23 only those who consented, to sensitive fields separately, and
// for people under 14 with their guardian's consent too.
struct ConsentRules {
  TransferMode mode = TransferMode::kHeadOffice;
  bool sensitive = false;       // a planned field is sensitive
  std::vector<int64_t> minors;  // ascending: consenters under 14
};

PersonStatus Decide(const ConsentRules& rules, int64_t pk, const Answer* answer) {
  PersonStatus ps;
  ps.pk = pk;
  if (answer && answer->response == Response::kObject) {
    ps.reason = "objected";
  } else if (answer && answer->response == Response::kWithdraw) {
    ps.reason = "withdrew";
  } else if (rules.mode != TransferMode::kArt23) {
    ps.included = true;
  } else if (!answer) {
    ps.reason = "no_consent";
    ps.pending = true;
  } else if (rules.sensitive && !answer->sensitive_consent) {
    ps.reason = "no_sensitive_consent";
  } else if (std::binary_search(rules.minors.begin(), rules.minors.end(), pk) &&
             !answer->guardian_consent) {
    ps.reason = "minor_without_guardian_consent";
  } else {
    ps.included = true;
  }
  return ps;
}

// Once packaged, what actually left is what the package holds.
void ApplyPackage(const IncludedSet& included, PersonStatus& ps) {
  ps.included = included.Contains(ps.pk);
  if (ps.included) ps.reason.clear(), ps.pending = false;
  if (!ps.included && ps.reason.empty()) ps.reason = "not_in_package";
}

// The status of a transfer whose document is `doc`; `frozen` is what is
// frozen today (ignored once packaged: the package's own counts are kept).
Result<TransferStatus> StatusOf(vault::Vault& v, const std::string& transfer,
                                const TransferDoc& doc, const std::vector<FrozenSet>& frozen) {
  TransferStatus st;
  st.plan = doc.plan;
  st.state = doc.state;
  const bool packaged = doc.state >= TransferState::kPackaged;
  if (doc.package) st.manifest_sha256 = doc.package->manifest_sha256;
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, st.plan.dataset));
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, PeopleInScope(v, st.plan));
  ASSIGN_OR_RETURN(std::vector<Answer> answers, LoadAnswers(v, transfer));
  ConsentRules rules;
  rules.mode = st.plan.mode;
  rules.sensitive = PlannedSensitive(st.plan, schemas);
  if (rules.mode == TransferMode::kArt23) {
    ASSIGN_OR_RETURN(rules.minors, ConsentingMinors(v, answers, pks, rules.sensitive));
  }
  IncludedSet included;
  if (packaged) {
    ASSIGN_OR_RETURN(included, LoadIncluded(v, transfer));
    st.withheld_frozen = doc.package->withheld_frozen;
  }
  std::vector<const FrozenSet*> frozen_here;
  st.persons.reserve(pks.size());
  for (int64_t pk : pks) {
    PersonStatus ps = Decide(rules, pk, AnswerOf(answers, pk));
    if (packaged) ApplyPackage(included, ps);
    ++st.people;
    if (ps.included) {
      ++st.included;
      if (!packaged && !frozen.empty()) {
        FrozenFor(frozen, pk, frozen_here);
        CountWithheld(frozen_here, st.withheld_frozen);
      }
    } else if (ps.pending && !packaged) {
      ++st.pending;
    } else {
      ++st.excluded[ps.reason];
    }
    st.persons.push_back(std::move(ps));
  }
  return st;
}

}  // namespace

Result<TransferStatus> GetTransferStatus(vault::Vault& v, const std::string& transfer,
                                         const Date& today) {
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  std::vector<FrozenSet> frozen;
  if (t.doc.state < TransferState::kPackaged) {
    ASSIGN_OR_RETURN(frozen, LoadFrozenSets(v, t.doc.plan, today));
  }
  return StatusOf(v, transfer, t.doc, frozen);
}

Result<std::vector<TransferSummary>> ListTransfers(vault::Vault& v) {
  ASSIGN_OR_RETURN(auto docs, v.ListDocs(kTransferKind));
  std::vector<TransferSummary> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(TransferDoc doc, ParseTransferDoc(key, body));
    out.push_back({key, doc.plan.recipient, doc.plan.mode, doc.state,
                   doc.package ? doc.package->manifest_sha256 : std::string()});
  }
  return out;
}

Result<bool> PersonTransferred(vault::Vault& v, int64_t person_pk) {
  ASSIGN_OR_RETURN(std::vector<TransferSummary> all, ListTransfers(v));
  for (const auto& t : all) {
    if (t.state < TransferState::kPackaged) continue;
    ASSIGN_OR_RETURN(std::optional<std::string> set, v.GetDoc(kIncludedKind, t.id));
    if (set) {
      ASSIGN_OR_RETURN(IncludedSet included, IncludedSet::FromDoc(t.id, *set));
      if (included.Contains(person_pk)) return true;
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<std::string> d,  // a package made before IncludedSet
                     v.GetPersonDoc(kIncludedKind, t.id, person_pk));
    if (d) {
      RETURN_IF_ERROR(ParseLegacyIncludedDoc(t.id, *d));
      return true;
    }
  }
  return false;
}

Result<bool> PersonObjected(vault::Vault& v, int64_t person_pk) {
  ASSIGN_OR_RETURN(std::vector<TransferSummary> all, ListTransfers(v));
  for (const auto& t : all) {
    ASSIGN_OR_RETURN(std::optional<std::string> d,
                     v.GetPersonDoc(kResponseKind, t.id, person_pk));
    if (!d) continue;
    ASSIGN_OR_RETURN(ResponseDoc r, ParseResponseOf(t.id, *d));
    if (r.response == Response::kObject || r.response == Response::kWithdraw) return true;
  }
  return false;
}

// ---- Package ----

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

Result<PackageReport> BuildPackage(vault::Vault& v, const std::string& transfer,
                                   const std::string& out_path, const Date& today,
                                   bool allow_damaged) {
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  TransferDoc& doc = t.doc;
  const TransferPlan& plan = doc.plan;
  const std::string out_abs = AbsolutePath(out_path);
  // A package is recorded before its file takes its name. A package that
  // was recorded for this path but is not there (the run was killed in
  // between, or the file could not be named) is built again, replacing it.
  std::string replaces;
  const bool recorded_here = doc.state == TransferState::kPackaged && doc.package->out == out_abs;
  if (recorded_here && FileExists(out_path)) {
    // Whether the file there is the recorded package: its manifest's hash.
    ASSIGN_OR_RETURN(std::string manifest_sha256, LeadingManifestSha256(out_path));
    if (manifest_sha256 == doc.package->manifest_sha256) {
      PackageReport done;
      done.already_built = true;
      done.manifest_sha256 = manifest_sha256;
      done.people = doc.package->people;
      done.records = doc.package->records;
      done.withheld_frozen = doc.package->withheld_frozen;
      done.damaged = doc.package->damaged;
      return done;
    }
  }
  if (recorded_here && !FileExists(out_path)) {
    replaces = doc.package->manifest_sha256;
  } else if (doc.state >= TransferState::kPackaged) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' is already " +
                                   std::string(TransferStateName(doc.state))));
  }
  std::vector<std::string> missing = MissingTerms(plan);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Fail(FailedPrecondition("transfer '" + transfer +
                                   "' cannot be packaged; missing contract terms: " + list));
  }
  if (doc.state != TransferState::kNoticed && replaces.empty()) {
    return Fail(FailedPrecondition("transfer '" + transfer +
                                   "' has no notices yet (custos transfer notices)"));
  }
  if (FileExists(out_path)) return Fail(AlreadyExists(out_path + " exists"));
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(package::AgeRecipient age, package::AgeRecipient::Parse(r.age_recipient));
  ASSIGN_OR_RETURN(SchemaInfo schemas, LoadSchemas(v, plan.dataset));
  if (!allow_damaged) {
    ASSIGN_OR_RETURN(auto damaged, DamagedPlannedFields(v, plan));
    if (!damaged.empty()) {
      std::string list;
      for (const auto& [field, n] : damaged) {
        list += (list.empty() ? "" : ", ") + field + ": " + std::to_string(n);
      }
      return Fail(FailedPrecondition(
          "transfer '" + transfer + "' would provide values that were damaged before import (" +
          list + "; long numbers a spreadsheet stored as numbers, their digits past the 15th "
          "lost). Import the column again from a text export, or package them as they are with "
          "--allow-damaged (recorded)"));
    }
  }

  // Everything below runs in the one write transaction that also records the
  // package: the people, their responses and their data are read from one
  // snapshot, and SQLite takes its locks once instead of once per query
  // (per-statement read transactions were a fifth of the time at 1 M people).
  PackageReport rep;
  std::unique_ptr<TempFileBeside> archive;
  tlog::Event event = v.MakeEvent("transfer.package", plan.purpose);
  Status tx = v.Transact(event, [&](tlog::Event& e) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kTransferKind, transfer, t.body));
    ASSIGN_OR_RETURN(std::vector<FrozenSet> frozen, LoadFrozenSets(v, plan, today));
    ASSIGN_OR_RETURN(TransferStatus st, StatusOf(v, transfer, doc, frozen));
    rep.excluded = st.excluded;
    if (st.pending) rep.excluded["no_consent"] += st.pending;

    // One bulk read of the included people, in pk order, opening only the
    // planned fields (of the planned dataset); keys are unwrapped, fields
    // decrypted and lines formatted on the worker threads while this thread
    // scans the store and encrypts.
    vault::Selection selection;
    selection.people.reserve(st.included);
    for (const auto& ps : st.persons) {
      if (ps.included) selection.people.push_back(ps.pk);
    }
    selection.fields = plan.fields;
    selection.dataset = plan.dataset;

    ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> cp, v.audit().LatestCheckpoint());
    json fields = json::array();
    for (const auto& f : plan.fields) {
      const vault::Column& c = schemas.columns[f];
      fields.push_back({{"name", f}, {"type", c.type}, {"sensitive", c.sensitive}});
    }
    json terms = json::object();
    for (const auto& [k, val] : plan.contract) terms[k] = val;
    std::string signing_key = package::SshEd25519PublicKeyLine(v.signer().public_key(), "");
    while (!signing_key.empty() && signing_key.back() == ' ') signing_key.pop_back();
    auto manifest_text = [&](const PackageReport& counts, uint64_t payload_size,
                             const std::string& payload_sha256, int64_t created_at) {
      const json manifest = {{"format", "custos-package"},
                             {"version", 1},
                             {"transfer", transfer},
                             {"mode", TransferModeName(plan.mode)},
                             {"legal_basis", LegalBasis(plan.mode)},
                             {"approved_by", plan.approved_by},
                             {"sender",
                              {{"name", plan.processor_name},
                               {"uscc", plan.processor_uscc},
                               {"contact", plan.processor_contact},
                               {"signing_key", signing_key}}},
                             {"recipient",
                              {{"id", r.id},
                               {"name", r.name},
                               {"uscc", r.uscc},
                               {"contact", r.contact},
                               {"age_recipient", r.age_recipient},
                               {"ssh_key", r.ssh_key}}},
                             {"purpose", plan.purpose},
                             {"method", plan.method},
                             {"fields", fields},
                             {"contract", terms},
                             {"counts",
                              {{"people", counts.people},
                               {"records", counts.records},
                               {"excluded", Counts(counts.excluded)},
                               {"withheld_frozen", Counts(counts.withheld_frozen)},
                               {"damaged", Counts(counts.damaged)}}},
                             {"files", json::array({{{"name", "payload.jsonl.age"},
                                                     {"size", payload_size},
                                                     {"sha256", payload_sha256}}})},
                             {"sender_checkpoint", cp ? cp->note : std::string()},
                             {"created_at", FormatRfc3339(created_at)}};
      return manifest.dump();
    };

    // The payload streams through age straight into the archive, at the
    // offset it will have behind the manifest and its signature, so memory
    // stays flat whatever the number of people, no plaintext reaches the
    // disk, and the 200 MB of a million people are written once. Those two
    // files hold the payload's size and hash, so they are written last;
    // where the payload starts depends on their sizes, guessed here from a
    // manifest with the counts expected (one record a person, about 200
    // bytes a line; a wrong guess only costs moving the payload). The
    // archive is linked into place once complete.
    PackageReport expected = rep;
    expected.people = expected.records = selection.people.size();
    for (const FrozenSet& fs : frozen) {
      for (const auto& f : fs.fields) expected.withheld_frozen[f] += fs.people.size();
    }
    if (allow_damaged) {
      for (const auto& f : plan.fields) {
        if (auto it = schemas.damaged.find(f); it != schemas.damaged.end()) {
          expected.damaged[f] = it->second;
        }
      }
    }
    const std::string manifest_guess = manifest_text(
        expected, uint64_t{200} * selection.people.size(), std::string(64, '0'), NowUnixSeconds());
    // Signed only for the signature's length; neither leaves this function.
    ASSIGN_OR_RETURN(std::string sig_guess,
                     package::SshSigSign(v.signer(), kPackageNamespace, AsBytes(manifest_guess)));
    ASSIGN_OR_RETURN(archive, TempFileBeside::Create(out_path));
    const std::array<uint64_t, 2> size_guesses = {manifest_guess.size(), sig_guess.size()};
    package::TarFileWriter tar(archive->fd(), archive->name(), size_guesses);
    package::HashingSink digest(&tar.content());
    std::vector<package::AgeRecipient> recips = {age};
    ASSIGN_OR_RETURN(package::AgeEncryptor enc, package::AgeEncryptor::Create(recips, digest));

    Status read = v.ReadSelectedBatches<PayloadLines>(
        selection,
        [&frozen](std::vector<vault::SelectedPerson>& people, PayloadLines& lines) {
          return FormatPayloadLines(people, frozen, lines);
        },
        [&](PayloadLines& lines) -> Status {
          rep.people += lines.people;
          rep.records += lines.records;
          for (const auto& [field, n] : lines.withheld_frozen) rep.withheld_frozen[field] += n;
          for (const auto& [field, n] : lines.damaged) rep.damaged[field] += n;
          return enc.Write(AsBytes(lines.text));
        });
    RETURN_IF_ERROR(read);
    RETURN_IF_ERROR(enc.Finish());
    const uint64_t payload_size = digest.size();
    const std::string payload_sha256 = HexEncode(digest.Finish());

    const int64_t now = NowUnixSeconds();
    const std::string manifest = manifest_text(rep, payload_size, payload_sha256, now);
    ASSIGN_OR_RETURN(std::string sig,
                     package::SshSigSign(v.signer(), kPackageNamespace, AsBytes(manifest)));
    rep.manifest_sha256 = Sha256Hex(AsBytes(manifest));
    const std::array<package::TarMember, 2> leading = {
        package::TarMember{"manifest.json", AsBytes(manifest)},
        package::TarMember{"manifest.json.sig", AsBytes(sig)}};
    RETURN_IF_ERROR(tar.Finish(leading, "payload.jsonl.age", now));

    e.objects = {{"transfer", transfer},
                 {"recipient", plan.recipient},
                 {"mode", TransferModeName(plan.mode)},
                 {"manifest_sha256", rep.manifest_sha256},
                 {"payload_sha256", payload_sha256},
                 {"people", rep.people},
                 {"records", rep.records},
                 {"excluded", Counts(rep.excluded)},
                 {"fields", plan.fields}};
    if (!replaces.empty()) e.objects["replaces_manifest_sha256"] = replaces;
    if (allow_damaged) {
      e.objects["allow_damaged"] = true;
      e.objects["damaged_values"] = Counts(rep.damaged);
    }
    RETURN_IF_ERROR(v.PutDoc(kIncludedKind, transfer,
                                     IncludedSet::Of(selection.people).ToDoc(rep.manifest_sha256)));
    doc.state = TransferState::kPackaged;
    doc.package = PackageRecord{rep.manifest_sha256, FormatRfc3339(now), rep.people, rep.records,
                                rep.withheld_frozen, rep.damaged,        out_abs};
    RETURN_IF_ERROR(v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(doc)));
    return archive->Sync();
  });
  RETURN_IF_ERROR(tx);
  // Recorded and committed: only now does the archive take its name, so a
  // package file that exists is always one the audit log knows. Killed
  // before this line, the unnamed archive vanishes and a second run builds
  // the package again.
  Status linked = archive->LinkTo(out_path);
  if (!linked) {
    return Fail(linked.error().WithContext(
        "the package was recorded (manifest " + rep.manifest_sha256 +
        ") but its file could not be named; run the command again to build it anew"));
  }
  return rep;
}

namespace {

// What a receipt says (docs/formats/package.md, "Receipts"), read only once
// its signature verified. A member missing or of another type reads empty.
struct ReceiptClaims {
  std::string format;
  std::string transfer;
  std::string manifest_sha256;
  std::string time;
  uint64_t people = 0;  // imported.people
};

ReceiptClaims ClaimsOf(const Receipt& rc) {
  const auto text = [&](const char* key) {
    auto it = rc.json.find(key);
    return it != rc.json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ReceiptClaims c{text("format"), text("transfer"), text("manifest_sha256"), text("time"), 0};
  auto imported = rc.json.find("imported");
  if (imported != rc.json.end() && imported->is_object()) {
    auto people = imported->find("people");
    if (people != imported->end() && people->is_number_unsigned()) {
      c.people = people->get<uint64_t>();
    }
  }
  return c;
}

}  // namespace

Result<CloseReport> CloseTransfer(vault::Vault& v, const std::string& transfer,
                                  std::string_view receipt_text) {
  ASSIGN_OR_RETURN(LoadedTransfer t, LoadTransfer(v, transfer));
  if (t.doc.state == TransferState::kClosed)
    return Fail(FailedPrecondition("transfer '" + transfer + "' is already closed"));
  if (t.doc.state != TransferState::kPackaged) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' has not been packaged"));
  }
  const TransferPlan& plan = t.doc.plan;
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, package::ParseSshEd25519PublicKey(r.ssh_key));
  ASSIGN_OR_RETURN(Receipt rc, ParseReceipt(receipt_text));
  auto parsed = package::ParseSshSignature(rc.signature);
  if (!parsed) {
    return Fail(DataLoss("the receipt's signature is damaged: " + parsed.error().message()));
  }
  auto intact = package::SshSigVerify(rc.signature, parsed->public_key, kReceiptNamespace,
                                      AsBytes(rc.json_text));
  if (!intact) {
    return Fail(DataLoss("the receipt was modified or its signature is damaged: " +
                         intact.error().message()));
  }
  if (parsed->public_key != key) {
    auto other = package::SshSigVerify(rc.signature, key, kReceiptNamespace, AsBytes(rc.json_text));
    return Fail(Unauthenticated("receipt not signed by recipient '" + r.id + "'s registered key: " +
                                (other ? std::string("?") : other.error().message())));
  }
  const ReceiptClaims claims = ClaimsOf(rc);
  const std::string& want = t.doc.package->manifest_sha256;
  if (claims.format != "custos-receipt" || claims.transfer != transfer ||
      claims.manifest_sha256 != want) {
    return Fail(FailedPrecondition("the receipt is for another package (transfer '" +
                                   claims.transfer + "', manifest " + claims.manifest_sha256 +
                                   "); transfer '" + transfer + "' packaged manifest " + want));
  }
  const uint64_t sent = t.doc.package->people;
  if (claims.people != sent) {
    return Fail(FailedPrecondition("the receipt acknowledges " + std::to_string(claims.people) +
                                   " people; the package held " + std::to_string(sent)));
  }
  const std::string receipt_sha = Sha256Hex(AsBytes(receipt_text));
  tlog::Event e = v.MakeEvent("transfer.close");
  e.objects = {{"transfer", transfer},    {"recipient", plan.recipient},
               {"manifest_sha256", want}, {"receipt_sha256", receipt_sha},
               {"people", claims.people}, {"received_at", claims.time}};
  Status tx = v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(ExpectUnchanged(v, kTransferKind, transfer, t.body));
    t.doc.state = TransferState::kClosed;
    t.doc.closed_at = FormatRfc3339(NowUnixSeconds());
    t.doc.receipt_sha256 = receipt_sha;
    return v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(t.doc));
  });
  RETURN_IF_ERROR(tx);
  return CloseReport{claims.people, want};
}

}  // namespace custos::workflow
