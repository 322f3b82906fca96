#include "workflow/inventory.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/spill_runs.h"
#include "crypto/random.h"
#include "detect/classify.h"
#include "detect/header.h"
#include "detect/scanner.h"
#include "detect/validators.h"
#include "workflow/import.h"
#include "workflow/inventory_rows.h"
#include "workflow/key_table.h"

namespace custos::workflow {
namespace {

using detect::PiiType;
using internal::FlatTable;
using internal::KeyHasher;
using internal::NoValue;
using namespace internal;  // the row analysis (inventory_rows.h)
using report::FindingKind;

// ---- Folding results in file order ----

struct Accumulator {
  uint64_t count = 0;
  std::vector<uint64_t> rows;
  void Add(uint64_t row) {
    ++count;
    if (rows.size() < report::kMaxFindingRows) rows.push_back(row);
  }
};

// 8 bytes, so that a slot of the ID table is 16.
struct IdSlot {
  static constexpr uint32_t kReported = 0x80000000u;
  uint32_t person_and_reported = 0;  // high bit: same_id_different_names already counted
  uint32_t name_hash = 0;            // of the first row with a name; 0: none yet

  uint32_t person() const { return person_and_reported & ~kReported; }
  bool reported() const { return person_and_reported & kReported; }
};
static_assert(sizeof(IdSlot) == 8);

class Folder {
 public:
  // max_table_slots: see FlatTable.
  Folder(const Plan& plan, report::InventoryReport& r, size_t max_table_slots)
      : plan_(plan),
        r_(r),
        column_acc_(plan.columns.size()),
        ids_(max_table_slots),
        mobile_names_(max_table_slots),
        rows_seen_(max_table_slots) {}

  // kUnavailable if a table's spill file fails.
  Status Fold(const uint32_t* cells, const RowFacts& f) {
    ++r_.rows;
    for (size_t c = 0; c < plan_.columns.size(); ++c) {
      const uint32_t cell = cells[c];
      if (cell == Cell(kValid)) {  // the common case: nothing else to record
        ++r_.columns[c].non_empty;
        ++r_.columns[c].valid;
        continue;
      }
      const CellState state = StateOf(cell);
      if (state == kEmpty) continue;
      report::ColumnInventory& col = r_.columns[c];
      ++col.non_empty;
      if (state == kValid) {
        ++col.valid;
      } else {
        ++col.invalid;
      }
      if (auto kind = KindOf(cell)) Acc(c, *kind).Add(f.number);
      if (const uint32_t types = ContainsOf(cell)) {
        ++col.values_with_pii;
        for (int t = 0; t < detect::kPiiTypeCount; ++t) {
          if (types & (1u << t)) ++col.contains[static_cast<size_t>(t)];
        }
        if (col.type == PiiType::kFreeText) {
          Acc(c, FindingKind::kFreeTextContainsPii).Add(f.number);
        } else {
          Acc(c, FindingKind::kOtherColumnContainsPii).Add(f.number);
        }
        if (types & kSensitiveTypes) {
          ++col.values_with_sensitive_pii;
          Acc(c, FindingKind::kSensitiveColumnInFreeText).Add(f.number);
        }
      }
    }
    if (f.sex_mismatch) RowAcc(FindingKind::kSexMismatchId).Add(f.number);
    ASSIGN_OR_RETURN(auto seen, rows_seen_.FindOrInsert(f.row_hash));
    if (!seen.second) RowAcc(FindingKind::kDuplicateRows).Add(f.number);

    uint32_t person;
    bool is_new = false;
    bool minor = false;
    if (f.id_key != 0) {
      ASSIGN_OR_RETURN(auto id, ids_.FindOrInsert(f.id_key));
      auto [slot, inserted] = id;
      if (inserted) {
        ASSIGN_OR_RETURN(slot->person_and_reported, NewPerson());
        slot->name_hash = f.name_hash;
        is_new = true;
        minor = f.minor;
      } else if (f.name_hash != 0) {
        if (slot->name_hash == 0) {
          slot->name_hash = f.name_hash;
        } else if (slot->name_hash != f.name_hash && !slot->reported()) {
          slot->person_and_reported |= IdSlot::kReported;
          RowAcc(FindingKind::kSameIdDifferentNames).Add(f.number);
        }
      }
      person = slot->person();
      // As import does: the mobile and name also find this person later.
      if (f.mn_key != 0) {
        ASSIGN_OR_RETURN(auto mn, mobile_names_.FindOrInsert(f.mn_key));
        if (mn.second) *mn.first = person;
      }
    } else if (f.mn_key != 0) {
      ASSIGN_OR_RETURN(auto found, mobile_names_.FindOrInsert(f.mn_key));
      auto [mn, mn_new] = found;
      if (mn_new) {
        ASSIGN_OR_RETURN(*mn, NewPerson());
        is_new = true;
      }
      person = *mn;
    } else {
      ASSIGN_OR_RETURN(person, NewPerson());
      is_new = true;
      ++r_.rows_without_person_key;
      RowAcc(FindingKind::kRowsWithoutPersonKey).Add(f.number);
    }
    ASSIGN_OR_RETURN(uint8_t * flags_at, person_flags_.At(person));
    uint8_t& flags = *flags_at;
    if (minor) {
      ++r_.minors;
      RowAcc(FindingKind::kMinorUnder14).Add(f.number);
      flags |= kMinorFlag;
    }
    if (!is_new && !(flags & kSeveralRowsFlag)) {
      flags |= kSeveralRowsFlag;
      ++r_.people_on_several_rows;
      RowAcc(FindingKind::kPersonMultipleRows).Add(f.number);
    }
    if ((f.sensitive || (flags & kMinorFlag)) && !(flags & kSensitiveFlag)) {
      flags |= kSensitiveFlag;
      ++r_.people_with_sensitive;
    }
    return Ok();
  }

  // Starts loading the table slots a later row will probe (random accesses
  // into tables of tens of MB: each would otherwise be a cache miss).
  void Prefetch(const RowFacts& f) const {
    rows_seen_.Prefetch(f.row_hash);
    if (f.id_key != 0) ids_.Prefetch(f.id_key);
    if (f.mn_key != 0) mobile_names_.Prefetch(f.mn_key);
  }

  // Findings in FindingKind order, row-level ones before column ones.
  std::vector<report::Finding> Findings() const {
    std::vector<report::Finding> out;
    for (int k = 0; k < report::kFindingKindCount; ++k) {
      const auto kind = static_cast<FindingKind>(k);
      auto it = row_acc_.find(k);
      if (it != row_acc_.end() && it->second.count > 0) {
        out.push_back({kind, std::nullopt, it->second.count, it->second.rows});
      }
      for (size_t c = 0; c < column_acc_.size(); ++c) {
        const Accumulator& a = column_acc_[c][static_cast<size_t>(k)];
        if (a.count > 0) out.push_back({kind, c, a.count, a.rows});
      }
    }
    return out;
  }

  void AddColumnFinding(size_t column, FindingKind kind, uint64_t count,
                        std::vector<uint64_t> rows) {
    Accumulator& a = Acc(column, kind);
    a.count = count;
    a.rows = std::move(rows);
  }

 private:
  static constexpr uint8_t kSeveralRowsFlag = 1;
  static constexpr uint8_t kSensitiveFlag = 2;
  static constexpr uint8_t kMinorFlag = 4;

  // Person numbers share 32 bits with IdSlot's flag: at most 2^31 people
  // (a file of billions of rows).
  Result<uint32_t> NewPerson() {
    if (r_.people >= IdSlot::kReported) {
      return Fail(InvalidArgument("more than " + std::to_string(IdSlot::kReported) +
                                  " people in one file"));
    }
    return static_cast<uint32_t>(r_.people++);
  }
  Accumulator& Acc(size_t column, FindingKind kind) {
    return column_acc_[column][static_cast<size_t>(kind)];
  }
  Accumulator& RowAcc(FindingKind kind) { return row_acc_[static_cast<int>(kind)]; }

  const Plan& plan_;
  report::InventoryReport& r_;
  std::vector<std::array<Accumulator, report::kFindingKindCount>> column_acc_;
  std::map<int, Accumulator> row_acc_;
  FlatTable<IdSlot> ids_;
  FlatTable<uint32_t> mobile_names_;
  FlatTable<NoValue> rows_seen_;
  SpillBytes person_flags_;  // one byte per person, the recent ones in memory
};

// ---- The pipeline: reader -> analyzers -> folder, in file order ----

constexpr size_t kBatchRows = 2048;
constexpr size_t kPrefetchAhead = 8;

struct Batch {
  enum class State { kFree, kFilled, kAnalyzing, kAnalyzed };
  State state = State::kFree;
  uint64_t seq = 0;
  std::vector<ingest::Row> rows;
  size_t count = 0;
  std::vector<uint32_t> cells;  // count x columns
  std::vector<RowFacts> facts;
  uint64_t bytes_consumed = 0;
  bool end = false;  // no rows follow this batch
  std::optional<Error> error;
};

// Shared state of the threads. All fields but the slots' contents are
// guarded by mu; a slot's contents belong to whoever moved it to its state
// (reader: kFree -> kFilled; an analyzer: kFilled -> kAnalyzed; the folder:
// kAnalyzed -> kFree).
struct Pipeline {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Batch> slots;
  uint64_t next_to_analyze = 0;
  bool analysis_done = false;  // an analyzer took the last batch
  bool abort = false;

  Batch& Slot(uint64_t seq) { return slots[seq % slots.size()]; }
};

void ReaderLoop(Pipeline& p, ingest::RowReader& reader, uint64_t first_seq) {
  for (uint64_t seq = first_seq;; ++seq) {
    Batch& b = p.Slot(seq);
    {
      std::unique_lock lock(p.mu);
      p.cv.wait(lock, [&] { return p.abort || b.state == Batch::State::kFree; });
      if (p.abort) return;
    }
    b.count = 0;
    b.end = false;
    b.error.reset();
    if (b.rows.size() < kBatchRows) b.rows.resize(kBatchRows);
    while (b.count < kBatchRows) {
      Result<bool> more = reader.Next(b.rows[b.count]);
      if (!more) {
        b.error = more.error();
        b.end = true;
        break;
      }
      if (!*more) {
        b.end = true;
        break;
      }
      ++b.count;
    }
    b.bytes_consumed = reader.bytes_consumed();
    {
      std::lock_guard lock(p.mu);
      b.seq = seq;
      b.state = Batch::State::kFilled;
    }
    p.cv.notify_all();
    if (b.end) return;
  }
}

Status AnalyzeBatch(RowAnalyzer& analyzer, size_t columns, Batch& b) {
  b.cells.resize(b.count * columns);
  b.facts.resize(b.count);
  for (size_t i = 0; i < b.count; ++i) {
    RETURN_IF_ERROR(analyzer.Analyze(b.rows[i], b.cells.data() + i * columns, b.facts[i]));
  }
  return Ok();
}

void AnalyzerLoop(Pipeline& p, RowAnalyzer& analyzer, size_t columns) {
  for (;;) {
    Batch* b = nullptr;
    {
      std::unique_lock lock(p.mu);
      p.cv.wait(lock, [&] {
        if (p.abort || p.analysis_done) return true;
        const Batch& next = p.Slot(p.next_to_analyze);
        return next.state == Batch::State::kFilled && next.seq == p.next_to_analyze;
      });
      if (p.abort || p.analysis_done) return;
      b = &p.Slot(p.next_to_analyze++);
      b->state = Batch::State::kAnalyzing;
      if (b->end) p.analysis_done = true;
    }
    if (!b->error) {
      Status st = AnalyzeBatch(analyzer, columns, *b);
      if (!st) b->error = st.error();
    }
    {
      std::lock_guard lock(p.mu);
      b->state = Batch::State::kAnalyzed;
    }
    p.cv.notify_all();
  }
}

// Joins every thread it started, after telling them to stop.
class Threads {
 public:
  explicit Threads(Pipeline& p) : p_(p) {}
  ~Threads() {
    {
      std::lock_guard lock(p_.mu);
      p_.abort = true;
    }
    p_.cv.notify_all();
    for (auto& t : threads_) t.join();
  }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

  template <typename F>
  Status Start(F&& f) {
    try {
      threads_.emplace_back(std::forward<F>(f));
    } catch (const std::exception&) {
      return Fail(Unavailable("inventory: cannot start a thread"));
    }
    return Ok();
  }

 private:
  Pipeline& p_;
  std::vector<std::thread> threads_;
};

// Reads the first rows into batch 0, showing each to the classifier.
Status ReadSample(ingest::RowReader& reader, detect::ColumnClassifier& classifier, size_t rows,
                  Batch& first) {
  first.rows.resize(rows);
  while (first.count < first.rows.size()) {
    ASSIGN_OR_RETURN(bool more, reader.Next(first.rows[first.count]));
    if (!more) {
      first.end = true;
      break;
    }
    classifier.Observe(first.rows[first.count].fields);
    ++first.count;
  }
  first.bytes_consumed = reader.bytes_consumed();
  first.seq = 0;
  first.state = Batch::State::kFilled;
  return Ok();
}

// The report's columns and the plan of what to check in each, from the
// classifier's guesses. A header cell that reads as a customer's value is
// never shown: the column is column_N (every column, when the whole row
// reads as data), and it is listed in `data_like_headers`.
Plan MakePlan(const std::vector<std::string>& headers,
              const std::vector<detect::ColumnGuess>& guesses, const Date& today,
              report::InventoryReport& r, std::vector<size_t>& data_like_headers) {
  Plan plan;
  plan.today = today;
  const detect::HeaderVerdict verdict = detect::JudgeHeaderRow(headers, today);
  for (size_t c = 0; c < headers.size(); ++c) {
    const detect::ColumnGuess& g = guesses[c];
    report::ColumnInventory col;
    col.name = detect::ColumnNameFor(verdict, headers, c);
    if (!verdict.passes[c]) data_like_headers.push_back(c);
    col.type = g.type;
    col.confidence = g.confidence;
    col.sensitive = g.sensitive;
    col.scanned = g.type == PiiType::kFreeText || g.type == PiiType::kOther;
    r.columns.push_back(std::move(col));

    ColumnPlan cp;
    cp.check = CheckFor(g.type);
    cp.sensitive = g.sensitive;
    cp.scanned = r.columns.back().scanned;
    cp.number_converted = g.number_converted;
    plan.columns.push_back(cp);
    if (g.type == PiiType::kCnResidentId && !r.id_column) r.id_column = c;
    if (g.type == PiiType::kCnMobile && !r.mobile_column) r.mobile_column = c;
    if (g.type == PiiType::kPersonName && !r.name_column) r.name_column = c;
    if (g.type == PiiType::kOther && !plan.sex_column && detect::IsSexHeader(headers[c])) {
      plan.sex_column = c;
    }
  }
  plan.name_column = r.name_column;
  return plan;
}

// Folds the analysed batches in file order, freeing each slot for the
// reader, with progress every 16 batches and at the end.
Status FoldInOrder(Pipeline& p, Folder& folder, size_t columns,
                   const std::function<void(uint64_t, uint64_t)>& progress, uint64_t total) {
  uint64_t since_progress = 0;
  for (uint64_t seq = 0;; ++seq) {
    Batch& b = p.Slot(seq);
    {
      std::unique_lock lock(p.mu);
      p.cv.wait(lock, [&] { return b.state == Batch::State::kAnalyzed && b.seq == seq; });
    }
    if (b.error) return Fail(*b.error);
    for (size_t i = 0; i < b.count; ++i) {
      if (i + kPrefetchAhead < b.count) folder.Prefetch(b.facts[i + kPrefetchAhead]);
      RETURN_IF_ERROR(folder.Fold(b.cells.data() + i * columns, b.facts[i]));
    }
    const bool end = b.end;
    const uint64_t consumed = b.bytes_consumed;
    {
      std::lock_guard lock(p.mu);
      b.state = Batch::State::kFree;
    }
    p.cv.notify_all();
    if (progress && (++since_progress % 16 == 0 || end)) progress(consumed, total);
    if (end) return Ok();
  }
}

}  // namespace

Result<report::InventoryReport> RunInventory(const std::string& path,
                                             const InventoryOptions& options) {
  report::InventoryReport r;
  r.file = path;
  r.today = options.today;
  r.generated_at = NowUnixSeconds();

  ASSIGN_OR_RETURN(std::unique_ptr<ingest::RowReader> reader,
                   ingest::OpenTable(path, options.read));
  ASSIGN_OR_RETURN(std::unique_ptr<detect::TextScanner> scanner,
                   detect::TextScanner::Create(options.today));
  r.format = reader->format();
  std::error_code size_error;
  r.bytes = std::filesystem::file_size(path, size_error);  // XLSX readers count XML bytes instead
  if (size_error) r.bytes = 0;
  const std::vector<std::string> headers = reader->header();
  const size_t columns = headers.size();
  RETURN_IF_ERROR(detect::CheckDistinctColumnNames(
      headers, detect::JudgeHeaderRow(headers, options.today), path));

  // The file's hash, alongside the reading (the file is read twice; the
  // second read comes from the page cache).
  std::optional<Result<std::string>> sha;
  std::thread sha_thread;
  try {
    sha_thread = std::thread([&] { sha = FileSha256(path); });
  } catch (const std::exception&) {
    sha = FileSha256(path);
  }
  struct JoinSha {
    std::thread& t;
    ~JoinSha() {
      if (t.joinable()) t.join();
    }
  } join_sha{sha_thread};

  Pipeline p;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = std::min(8u, options.threads != 0 ? options.threads : cores);
  p.slots.resize(2 * static_cast<size_t>(workers) + 2);

  // The sample: the first rows, classified, then analysed as batch 0.
  Batch& first = p.Slot(0);
  detect::ColumnClassifier classifier(headers, options.today);
  RETURN_IF_ERROR(ReadSample(*reader, classifier, std::max<size_t>(options.sample_rows, 1), first));
  r.sample_rows = first.count;
  std::vector<size_t> data_like_headers;
  const Plan plan = MakePlan(headers, classifier.Guess(), options.today, r, data_like_headers);

  KeyHasher hasher;
  std::vector<std::unique_ptr<RowAnalyzer>> analyzers;
  for (unsigned i = 0; i < workers; ++i) {
    ASSIGN_OR_RETURN(detect::TextScanner::Scratch scratch, scanner->NewScratch());
    analyzers.push_back(std::make_unique<RowAnalyzer>(plan, hasher, *scanner, std::move(scratch)));
  }
  Folder folder(plan, r, options.max_table_slots);

  const uint64_t progress_total = reader->bytes_total();  // read before the reader thread runs
  {
    Threads threads(p);
    if (!first.end) {
      RETURN_IF_ERROR(threads.Start([&] { ReaderLoop(p, *reader, 1); }));
    }
    for (auto& a : analyzers) {
      RowAnalyzer* analyzer = a.get();
      RETURN_IF_ERROR(
          threads.Start([&p, analyzer, columns] { AnalyzerLoop(p, *analyzer, columns); }));
    }
    RETURN_IF_ERROR(FoldInOrder(p, folder, columns, options.progress, progress_total));
  }  // joins the reader and the analyzers

  r.encoding = reader->encoding();  // final only at the end (gbk may become gb18030)
  for (size_t c : data_like_headers) {
    folder.AddColumnFinding(c, FindingKind::kHeaderLooksLikeData, 1, {});
  }
  for (size_t c = 0; c < columns; ++c) {
    if (r.rows > 0 && r.columns[c].non_empty == 0) {
      std::vector<uint64_t> rows;
      for (uint64_t n = 1; n <= std::min<uint64_t>(r.rows, report::kMaxFindingRows); ++n) {
        rows.push_back(n);
      }
      folder.AddColumnFinding(c, FindingKind::kEmptyColumn, r.rows, std::move(rows));
    }
  }
  r.findings = folder.Findings();

  if (sha_thread.joinable()) sha_thread.join();
  if (!sha || !*sha) return Fail(sha ? sha->error() : Internal("inventory: file hash missing"));
  r.sha256 = **sha;
  return r;
}

}  // namespace custos::workflow
