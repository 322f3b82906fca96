#include "workflow/transfer_doc.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "vault/doc_reader.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

json CountsJson(const std::map<std::string, uint64_t>& m) {
  json j = json::object();
  for (const auto& [k, n] : m) j[k] = n;
  return j;
}

}  // namespace

// ---- Recipients ----

std::string SerializeRecipient(const Recipient& r, std::string_view added_at) {
  return json{{"v", 1},
              {"id", r.id},
              {"name", r.name},
              {"uscc", r.uscc},
              {"contact", r.contact},
              {"age_recipient", r.age_recipient},
              {"ssh_key", r.ssh_key},
              {"added_at", added_at}}
      .dump();
}

Result<Recipient> ParseRecipient(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kRecipientKind, id, body, 1));
  Recipient r;
  r.id = d.Str("id");
  r.name = d.Str("name");
  r.uscc = d.Str("uscc");
  r.contact = d.Str("contact");
  r.age_recipient = d.Str("age_recipient");
  r.ssh_key = d.Str("ssh_key");
  RETURN_IF_ERROR(d.status());
  return r;
}

// ---- Plans ----

Result<TransferMode> ParseTransferMode(std::string_view s) {
  if (s == "head-office") return TransferMode::kHeadOffice;
  if (s == "art22") return TransferMode::kArt22;
  if (s == "art23") return TransferMode::kArt23;
  return Fail(InvalidArgument("mode must be head-office, art22 or art23"));
}

std::string_view TransferModeName(TransferMode m) {
  switch (m) {
    case TransferMode::kHeadOffice: return "head-office";
    case TransferMode::kArt22: return "art22";
    case TransferMode::kArt23: return "art23";
  }
  return "head-office";
}

std::string_view TransferStateName(TransferState s) {
  switch (s) {
    case TransferState::kPlanned: return "planned";
    case TransferState::kNoticed: return "noticed";
    case TransferState::kPackaged: return "packaged";
    case TransferState::kClosed: return "closed";
  }
  return "planned";
}

namespace {

std::optional<TransferState> StateFromName(std::string_view s) {
  for (TransferState t : {TransferState::kPlanned, TransferState::kNoticed,
                          TransferState::kPackaged, TransferState::kClosed}) {
    if (TransferStateName(t) == s) return t;
  }
  return std::nullopt;
}

}  // namespace

std::string SerializeTransferDoc(const TransferDoc& doc) {
  const TransferPlan& p = doc.plan;
  json terms = json::object();
  for (const auto& [k, val] : p.contract) terms[k] = val;
  json j = {
      {"v", TransferDoc::kVersion},
      {"id", p.id},
      {"recipient", p.recipient},
      {"mode", TransferModeName(p.mode)},
      {"purpose", p.purpose},
      {"method", p.method},
      {"fields", p.fields},
      {"dataset", p.dataset},
      {"approved_by", p.approved_by},
      {"processor",
       {{"name", p.processor_name}, {"contact", p.processor_contact}, {"uscc", p.processor_uscc}}},
      {"contract", terms},
      {"state", TransferStateName(doc.state)},
      {"created_at", doc.created_at}};
  json notices = json::array();
  for (const NoticeRun& n : doc.notices) {
    notices.push_back({{"time", n.time},
                       {"channel", n.channel},
                       {"notices", n.notices},
                       {"missing_contact", n.missing_contact},
                       {"sha256", n.sha256}});
  }
  j["notices"] = notices;
  if (doc.package) {
    const PackageRecord& k = *doc.package;
    j["package"] = {{"manifest_sha256", k.manifest_sha256},
                    {"created_at", k.created_at},
                    {"people", k.people},
                    {"records", k.records},
                    {"withheld_frozen", CountsJson(k.withheld_frozen)},
                    {"damaged", CountsJson(k.damaged)},
                    {"out", k.out}};
  }
  if (!doc.closed_at.empty()) j["closed_at"] = doc.closed_at;
  if (!doc.receipt_sha256.empty()) j["receipt_sha256"] = doc.receipt_sha256;
  return j.dump();
}

Result<TransferDoc> ParseTransferDoc(std::string_view id, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kTransferKind, id, body, TransferDoc::kVersion));
  TransferDoc doc;
  TransferPlan& p = doc.plan;
  p.id = d.Str("id");
  p.recipient = d.Str("recipient");
  const std::string mode = d.Str("mode");
  p.purpose = d.Str("purpose");
  p.method = d.Str("method", false);
  p.fields = d.Strings("fields");
  p.dataset = d.Str("dataset", false);
  p.approved_by = d.Str("approved_by", false);
  DocReader processor = d.Object("processor", false);
  p.processor_name = processor.Str("name", false);
  p.processor_contact = processor.Str("contact", false);
  p.processor_uscc = processor.Str("uscc", false);
  RETURN_IF_ERROR(processor.status());
  p.contract = d.StringMap("contract");
  const std::string state = d.Str("state");
  doc.created_at = d.Str("created_at", false);
  for (DocReader& n : d.Objects("notices")) {
    NoticeRun run;
    run.time = n.Str("time");
    run.channel = n.Str("channel");
    run.notices = n.U64("notices");
    run.missing_contact = n.U64("missing_contact");
    run.sha256 = n.Str("sha256");
    RETURN_IF_ERROR(n.status());
    doc.notices.push_back(std::move(run));
  }
  if (d.Has("package")) {
    DocReader k = d.Object("package");
    PackageRecord pkg;
    pkg.manifest_sha256 = k.Str("manifest_sha256");
    pkg.created_at = k.Str("created_at");
    pkg.people = k.U64("people");
    pkg.records = k.U64("records");
    pkg.withheld_frozen = k.Counts("withheld_frozen");
    pkg.damaged = k.Counts("damaged");
    pkg.out = k.Str("out", false);
    RETURN_IF_ERROR(k.status());
    doc.package = std::move(pkg);
  }
  doc.closed_at = d.Str("closed_at", false);
  doc.receipt_sha256 = d.Str("receipt_sha256", false);
  RETURN_IF_ERROR(d.status());
  auto parsed_mode = ParseTransferMode(mode);
  auto parsed_state = StateFromName(state);
  if (!parsed_mode || !parsed_state) return Fail(d.Damaged("an unknown mode or state"));
  p.mode = *parsed_mode;
  doc.state = *parsed_state;
  if (doc.state >= TransferState::kPackaged && !doc.package) {
    return Fail(d.Damaged("a packaged transfer without its package"));
  }
  return doc;
}

// ---- Per person ----

std::string SerializeRefDoc(const RefDoc& d) { return json{{"ref", d.ref}}.dump(); }

Result<RefDoc> ParseRefDoc(std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kRefKind, "", body, 1));
  RefDoc r;
  r.ref = d.Str("ref");
  RETURN_IF_ERROR(d.status());
  return r;
}

std::string SerializeNoticeDoc(const NoticeDoc& d) {
  return json{{"sha256", d.sha256}, {"time", d.time}, {"channel", d.channel}}.dump();
}

Result<NoticeDoc> ParseNoticeDoc(std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kNoticeKind, "", body, 1));
  NoticeDoc n;
  n.sha256 = d.Str("sha256");
  n.time = d.Str("time");
  n.channel = d.Str("channel");
  RETURN_IF_ERROR(d.status());
  return n;
}

std::string_view ResponseName(Response r) {
  switch (r) {
    case Response::kConsent: return "consent";
    case Response::kObject: return "object";
    case Response::kWithdraw: return "withdraw";
  }
  return "consent";
}

std::optional<Response> ParseResponseWord(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string t(s);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "consent" || t == "同意") return Response::kConsent;
  if (t == "object" || t == "反对") return Response::kObject;
  if (t == "withdraw" || t == "撤回") return Response::kWithdraw;
  return std::nullopt;
}

std::string SerializeResponseDoc(const ResponseDoc& d) {
  json j = {{"response", ResponseName(d.response)},
            {"time", d.time},
            {"sensitive_consent", d.sensitive_consent},
            {"guardian_consent", d.guardian_consent},
            {"line", d.line}};
  if (!d.evidence_sealed.empty()) j["evidence_sealed"] = d.evidence_sealed;
  return j.dump();
}

Result<ResponseDoc> ParseResponseDoc(std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kResponseKind, "", body, 1));
  ResponseDoc r;
  const std::string response = d.Str("response");
  r.time = d.Str("time");
  r.sensitive_consent = d.Bool("sensitive_consent", false);
  r.guardian_consent = d.Bool("guardian_consent", false);
  r.line = d.U64("line", false);
  r.evidence_sealed = d.Str("evidence_sealed", false);
  RETURN_IF_ERROR(d.status());
  auto parsed = ParseResponseWord(response);
  if (!parsed) return Fail(d.Damaged("an unknown response"));
  r.response = *parsed;
  return r;
}

// ---- Included set ----

namespace {

constexpr uint64_t kMaxPk = uint64_t{1} << 62;

void AppendVarint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

bool ReadVarint(const Bytes& in, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= in.size()) return false;
    const uint8_t b = in[at++];
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

IncludedSet IncludedSet::Of(const std::vector<int64_t>& pks) {
  IncludedSet s;
  for (int64_t pk : pks) {
    if (!s.runs_.empty() && s.runs_.back().second == pk) {
      ++s.runs_.back().second;
    } else {
      s.runs_.emplace_back(pk, pk + 1);
    }
  }
  s.people_ = pks.size();
  return s;
}

bool IncludedSet::Contains(int64_t pk) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), pk,
                             [](int64_t p, const auto& run) { return p < run.first; });
  return it != runs_.begin() && pk < std::prev(it)->second;
}

std::string IncludedSet::ToDoc(const std::string& manifest_sha256) const {
  Bytes b;
  int64_t end = 0;
  for (const auto& [first, last] : runs_) {
    AppendVarint(b, static_cast<uint64_t>(first - end));
    AppendVarint(b, static_cast<uint64_t>(last - first));
    end = last;
  }
  return json{{"manifest_sha256", manifest_sha256}, {"people", people_}, {"runs", Base64Encode(b)}}
      .dump();
}

Result<IncludedSet> IncludedSet::FromDoc(const std::string& transfer, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kIncludedKind, transfer, body, 1));
  const std::string runs_text = d.Str("runs");
  const uint64_t want = d.U64("people");
  RETURN_IF_ERROR(d.status());
  auto runs = Base64Decode(runs_text);
  if (!runs) return Fail(d.Damaged("runs that are not base64"));
  IncludedSet s;
  size_t at = 0;
  int64_t end = 0;
  uint64_t people = 0;
  while (at < runs->size()) {
    uint64_t gap = 0, length = 0;
    if (!ReadVarint(*runs, at, gap) || !ReadVarint(*runs, at, length) || length == 0 ||
        gap > kMaxPk || length > kMaxPk || static_cast<uint64_t>(end) + gap + length > kMaxPk) {
      return Fail(d.Damaged("a malformed run"));
    }
    const int64_t first = end + static_cast<int64_t>(gap);
    end = first + static_cast<int64_t>(length);
    s.runs_.emplace_back(first, end);
    people += length;
  }
  if (people != want) return Fail(d.Damaged("runs that do not add up to its count"));
  s.people_ = people;
  return s;
}

Result<LegacyIncludedDoc> ParseLegacyIncludedDoc(std::string_view transfer, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kIncludedKind, transfer, body, 1));
  LegacyIncludedDoc r;
  r.manifest_sha256 = d.Str("manifest_sha256");
  RETURN_IF_ERROR(d.status());
  return r;
}

// ---- Recipient side ----

std::string SerializeReceivedDoc(const ReceivedDoc& d) {
  return json{{"v", 1},
              {"transfer", d.transfer},
              {"dataset", d.dataset},
              {"people", d.people},
              {"records", d.records},
              {"imported_at", d.imported_at},
              {"sender_key", d.sender_key},
              {"recipient_name", d.recipient_name}}
      .dump();
}

Result<ReceivedDoc> ParseReceivedDoc(std::string_view manifest_sha256, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kReceivedKind, manifest_sha256, body, 1));
  ReceivedDoc r;
  r.transfer = d.Str("transfer");
  r.dataset = d.Str("dataset");
  r.people = d.U64("people");
  r.records = d.U64("records");
  r.imported_at = d.Str("imported_at", false);
  r.sender_key = d.Str("sender_key", false);
  r.recipient_name = d.Str("recipient_name", false);
  RETURN_IF_ERROR(d.status());
  return r;
}

}  // namespace custos::workflow
