#include "workflow/transfer_payload.h"

#include <array>

#include "base/bytes.h"
#include "base/json_text.h"
#include "crypto/random.h"

namespace custos::workflow::internal {
namespace {

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
    n +=
        6 * (f.value.size() + f.dataset->name.size() + f.dataset->columns[f.position].name.size()) +
        32;
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

// One record's fields, as FormatPayloadLines adds them: fields come record
// by record, so a record's fields are adjacent. A record's damaged values
// are named after its fields: {"dataset":..,"fields":{..},"damaged":["银行卡号"]}.
class RecordWriter {
 public:
  explicit RecordWriter(std::string& buf) : buf_(buf) {}
  // Starts the record of `f` unless it is the one open; then its key.
  void Field(const vault::SelectedField& f, const PayloadKeys::Texts& texts, uint64_t& records) {
    if (!open_ || f.record != record_) {
      if (open_) {
        Close();
        buf_ += ',';
      }
      buf_ += texts.record_open;
      record_ = f.record;
      open_ = true;
      ++records;
    } else {
      buf_.push_back(',');
    }
    buf_ += texts.keys[f.position];
  }
  void MarkDamaged(const std::string& field) { damaged_.push_back(&field); }
  // Closes the open record, if any.
  void Finish() {
    if (open_) Close();
    open_ = false;
  }

 private:
  void Close() {
    buf_ += '}';
    if (!damaged_.empty()) {
      buf_ += R"(,"damaged":[)";
      for (size_t i = 0; i < damaged_.size(); ++i) {
        if (i > 0) buf_ += ',';
        AppendJsonString(buf_, *damaged_[i]);
      }
      buf_ += ']';
      damaged_.clear();
    }
    buf_ += '}';
  }

  std::string& buf_;
  uint64_t record_ = 0;
  bool open_ = false;
  std::vector<const std::string*> damaged_;
};

// One person's line (see FormatPayloadLines), `frozen_here` being the sets
// that freeze something for them.
Status AppendPersonLine(const vault::SelectedPerson& d,
                        const std::vector<const FrozenSet*>& frozen_here, PayloadKeys& keys,
                        PayloadLines& lines) {
  std::string& buf = lines.text;
  std::array<uint8_t, 16> ref{};
  crypto::RandomFill(ref);
  buf += R"({"person":")";
  AppendHex(buf, ref);
  buf += R"(","records":[)";
  RecordWriter record(buf);
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
    record.Field(f, keys.For(f.dataset), lines.records);
    if (!AppendJsonString(buf, f.value)) {
      return Fail(DataLoss("person " + d.id.ToString() + " field " + dataset + "." + field +
                           " is not valid UTF-8; not packaging damaged data"));
    }
    if (f.damaged) {
      record.MarkDamaged(field);
      ++lines.damaged[field];
    }
  }
  record.Finish();
  buf += "]}\n";
  ++lines.people;
  return Ok();
}

}  // namespace

Status FormatPayloadLines(const std::vector<vault::SelectedPerson>& people,
                          const std::vector<FrozenSet>& frozen, PayloadLines& lines) {
  // About 200 bytes a person for three short fields. Before each line the
  // text makes room for the longest that line can be, so it only grows
  // (and wipes what it leaves) here, never inside std::string.
  ReserveWiping(lines.text, people.size() * 256);
  std::vector<const FrozenSet*> frozen_here;
  PayloadKeys keys;
  for (const vault::SelectedPerson& d : people) {
    FrozenFor(frozen, d.pk, frozen_here);
    CountWithheld(frozen_here, lines.withheld_frozen);
    if (!d.damaged_records.empty()) {
      return Fail(d.damaged_records.front().second.WithContext("not packaging damaged data"));
    }
    ReserveWiping(lines.text, LongestLine(d));
    RETURN_IF_ERROR(AppendPersonLine(d, frozen_here, keys, lines));
  }
  return Ok();
}

}  // namespace custos::workflow::internal
