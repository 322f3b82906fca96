// Responses to notices (consent, objection, withdrawal), read from the CSV
// file the sender's staff keep (docs/formats/package.md, "Responses file")
// and recorded all or nothing.
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "base/bytes.h"
#include "base/time.h"
#include "ingest/reader.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow {

using internal::CountsJson;
using internal::ExpectUnchanged;
using internal::LoadedTransfer;
using internal::LoadRefs;
using internal::LoadTransfer;
using internal::PackRef;
using internal::Trim;

namespace {

// Associated-data label of a response's evidence sealed under the person's key.
constexpr std::string_view kEvidenceLabel = "transfer.response.evidence";

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
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferWork));
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
  e.objects = {{"transfer", transfer},
               {"recorded", rep.recorded},
               {"by_response", CountsJson(rep.by_response)}};
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

}  // namespace custos::workflow
