// Bulk reads (Vault::ReadSelected, ReadSelectedBatches): one scan of the
// store in person order, batches of sealed people opened by worker
// threads, and the batches consumed in scan order by a thread of their own.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "vault/record_codec.h"
#include "vault/vault.h"

namespace custos::vault {
namespace {

// A dataset as a bulk read uses it.
struct ScopedDataset {
  const DatasetColumns* columns = nullptr;
  bool in_scope = false;
  std::vector<std::string> names;  // column names (RecordContext)
  std::vector<bool> wanted;        // by position
};

std::unordered_map<int64_t, ScopedDataset> ScopeDatasets(
    const std::vector<DatasetColumns>& datasets, const Selection& selection) {
  std::unordered_map<int64_t, ScopedDataset> scoped;
  for (const auto& d : datasets) {
    ScopedDataset sd;
    sd.columns = &d;
    sd.in_scope = selection.dataset.empty() || d.name == selection.dataset;
    sd.wanted.resize(d.columns.size());
    for (size_t i = 0; i < d.columns.size(); ++i) {
      sd.names.push_back(d.columns[i].name);
      sd.wanted[i] = std::find(selection.fields.begin(), selection.fields.end(),
                               d.columns[i].name) != selection.fields.end();
    }
    scoped.emplace(d.id, std::move(sd));
  }
  return scoped;
}

// People as the scan found them, still sealed: what a worker needs. Wrapped
// keys and record bodies are copied into one buffer per batch.
struct SealedRecord {
  int64_t id = 0;
  const ScopedDataset* dataset = nullptr;  // null: unknown dataset
  size_t body_at = 0, body_size = 0;
};
struct SealedPerson {
  int64_t pk = 0;
  PersonId id;
  uint32_t kek_version = 0;
  size_t key_at = 0, key_size = 0;
  bool has_records = false;              // any record, in scope or not (Read unwraps then)
  size_t first_record = 0, records = 0;  // in Batch::records
};

// How many people a batch holds, and how many batches may be in flight per
// worker: enough to keep the workers busy, little enough to stay small
// (a batch holds about a megabyte of sealed records at 1 KiB a record).
constexpr size_t kBatchPeople = 1024;
constexpr size_t kBatchesPerWorker = 3;

struct Batch {
  std::vector<SealedPerson> people;
  std::vector<SealedRecord> records;
  Bytes bytes;
  // Filled by a worker: the opened people, then what the batch stage made
  // of them.
  std::vector<SelectedPerson> opened;
  std::unique_ptr<internal::BatchOutput> output;
  Status status;
  bool done = false;

  static std::unique_ptr<Batch> New() {
    auto b = std::make_unique<Batch>();
    b->people.reserve(kBatchPeople);
    b->records.reserve(kBatchPeople + kBatchPeople / 4);
    return b;
  }
  void Wipe() {
    for (auto& p : opened) {
      for (auto& f : p.fields) std::fill(f.value.begin(), f.value.end(), '\0');
    }
  }
  // Copies a person and their records in scope into the batch.
  void Add(const store::PersonRow& row, const PersonId& id, std::span<const store::RecordView> rows,
           const std::unordered_map<int64_t, ScopedDataset>& scoped) {
    SealedPerson& sp = people.emplace_back();
    sp.pk = row.pk;
    sp.id = id;
    sp.kek_version = row.kek_version;
    sp.key_at = bytes.size();
    sp.key_size = row.wrapped_key.size();
    bytes.insert(bytes.end(), row.wrapped_key.begin(), row.wrapped_key.end());
    sp.has_records = !rows.empty();
    sp.first_record = records.size();
    for (const auto& r : rows) {
      auto it = scoped.find(r.dataset_id);
      const ScopedDataset* ds = it == scoped.end() ? nullptr : &it->second;
      if (ds != nullptr && !ds->in_scope) continue;
      SealedRecord& sr = records.emplace_back();
      sr.id = r.id;
      sr.dataset = ds;
      sr.body_at = bytes.size();
      sr.body_size = r.body.size();
      bytes.insert(bytes.end(), r.body.begin(), r.body.end());
    }
    sp.records = records.size() - sp.first_record;
  }
};

// Opens one person's sealed records of a batch with their field cipher:
// wanted fields into `out`, damaged records and fields named.
void OpenRecordsOf(const crypto::FieldCipher& cipher, ByteSpan vault_id, const Batch& b,
                   const SealedPerson& sp, std::vector<OpenedField>& fields, SelectedPerson& out) {
  for (size_t r = sp.first_record; r < sp.first_record + sp.records; ++r) {
    const SealedRecord& rec = b.records[r];
    if (rec.dataset == nullptr) {
      out.damaged_records.emplace_back(rec.id, DataLoss("record refers to an unknown dataset"));
      continue;
    }
    const std::string& name = rec.dataset->columns->name;
    RecordContext ctx{vault_id, sp.id.bytes(), name, &rec.dataset->names};
    fields.clear();
    Status st = OpenRecordFields(cipher, ctx, ByteSpan(b.bytes).subspan(rec.body_at, rec.body_size),
                                 rec.dataset->wanted, /*with_meta=*/true, fields);
    if (st && !fields.empty() && fields.back().position == kRecordMetaPosition) {
      st = ApplyRecordMeta(fields);
    }
    if (!st) {
      out.damaged_records.emplace_back(
          rec.id, st.error().WithContext("person " + sp.id.ToString() + ", dataset '" + name +
                                         "', record " + std::to_string(rec.id)));
      continue;
    }
    for (auto& f : fields) {
      SelectedField& sf = out.fields.emplace_back();
      sf.damaged = f.damaged;
      sf.dataset = rec.dataset->columns;
      sf.position = f.position;
      sf.record = static_cast<uint64_t>(rec.id);
      sf.value = std::move(f.value);
      if (!f.status) {
        sf.status =
            Fail(f.status.error().WithContext("person " + sp.id.ToString() + ", dataset '" + name +
                                              "', field '" + rec.dataset->names[f.position] + "'"));
      }
    }
  }
}

// Batches in scan order, each opened (and prepared) by whichever worker
// takes it. With workers, the batches are consumed, in order, by a thread
// of their own, so that the scan (the caller's thread) and the consumer (a
// package's encryption, hashing and writing) run side by side: on one
// thread they were the slowest stage of a package. Without workers, each
// batch is opened and consumed on the caller's thread as it is submitted.
class Pipeline {
 public:
  using Open = std::function<void(Batch&)>;
  using Consume = std::function<Status(internal::BatchOutput&)>;

  Pipeline(int workers, Open open, Consume consume)
      : workers_(workers),
        max_in_flight_(kBatchesPerWorker * static_cast<size_t>(std::max(1, workers))),
        open_(std::move(open)),
        consume_(std::move(consume)) {
    for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
    if (workers_ > 0) threads_.emplace_back([this] { ConsumeInOrder(); });
  }
  ~Pipeline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    done_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  Status Submit(std::unique_ptr<Batch> b) {
    if (workers_ == 0) {
      open_(*b);
      RETURN_IF_ERROR(b->status);
      return consume_(*b->output);
    }
    std::unique_lock<std::mutex> lock(mu_);
    room_cv_.wait(lock, [&] { return consumer_failed_ || in_flight_.size() < max_in_flight_; });
    if (consumer_failed_) return consumed_;
    todo_.push_back(b.get());
    in_flight_.push_back(std::move(b));
    work_cv_.notify_one();
    return Ok();
  }

  // Waits until every batch is consumed; the consumer's error, if any.
  Status Finish() {
    if (workers_ == 0) return Ok();
    {
      std::lock_guard<std::mutex> lock(mu_);
      scan_done_ = true;
    }
    done_cv_.notify_all();
    threads_.back().join();  // the consumer: every batch consumed, or its error
    threads_.pop_back();
    return Failure(Ok());
  }

  // The consumer's error comes first: it stopped at an earlier batch.
  Status Failure(Status scan_error) {
    std::lock_guard<std::mutex> lock(mu_);
    return consumer_failed_ ? consumed_ : scan_error;
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
      if (stop_) return;
      Batch* b = todo_.front();
      todo_.pop_front();
      lock.unlock();
      open_(*b);
      lock.lock();
      b->done = true;
      done_cv_.notify_all();
    }
  }

  void ConsumeInOrder() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      done_cv_.wait(lock, [&] {
        return stop_ || (!in_flight_.empty() && in_flight_.front()->done) ||
               (scan_done_ && in_flight_.empty());
      });
      if (stop_ || in_flight_.empty()) return;
      std::unique_ptr<Batch> b = std::move(in_flight_.front());
      in_flight_.pop_front();
      room_cv_.notify_all();
      lock.unlock();
      Status st = b->status;
      if (st) {
        // An exception must not escape this thread (std::terminate).
        try {
          st = consume_(*b->output);
        } catch (const std::exception& e) {
          st = Fail(Internal(std::string("bulk read stopped: ") + e.what()));
        }
      }
      b.reset();  // its output wipes what it holds, here
      lock.lock();
      if (!st) {
        consumed_ = std::move(st);
        consumer_failed_ = true;
        stop_ = true;
        work_cv_.notify_all();
        room_cv_.notify_all();
        return;
      }
    }
  }

  const int workers_;
  const size_t max_in_flight_;
  const Open open_;
  const Consume consume_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_, room_cv_;
  std::deque<std::unique_ptr<Batch>> in_flight_;  // in scan order
  std::deque<Batch*> todo_;
  bool stop_ = false;       // workers and consumer quit
  bool scan_done_ = false;  // nothing more will be submitted
  Status consumed_;         // the consumer's first error (then it stops)
  bool consumer_failed_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

Status Vault::ReadSelected(const Selection& selection,
                           const std::function<Status(const SelectedPerson&)>& visit) {
  // A batch's people, taken whole (the vector, not its strings, moves) to be
  // visited on this thread, and wiped after.
  struct People {
    std::vector<SelectedPerson> people;
    People() = default;
    People(const People&) = delete;
    People& operator=(const People&) = delete;
    ~People() {
      for (auto& p : people) {
        for (auto& f : p.fields) std::fill(f.value.begin(), f.value.end(), '\0');
      }
    }
  };
  return ReadSelectedBatches<People>(
      selection,
      [](std::vector<SelectedPerson>& batch, People& out) -> Status {
        out.people = std::move(batch);
        return Ok();
      },
      [&visit](People& batch) -> Status {
        for (const SelectedPerson& p : batch.people) RETURN_IF_ERROR(visit(p));
        return Ok();
      });
}

Status Vault::ReadBatches(const Selection& selection, const ErasedPrepare& prepare,
                          const std::function<Status(internal::BatchOutput&)>& consume) {
  store::ReadSnapshot snapshot(*store_);  // schemas, persons and records of one state
  RETURN_IF_ERROR(snapshot.status());
  ASSIGN_OR_RETURN(std::vector<DatasetColumns> datasets, LoadDatasetColumns());
  const std::unordered_map<int64_t, ScopedDataset> scoped = ScopeDatasets(datasets, selection);

  // Unwraps a batch's keys, opens the selected fields and runs the batch
  // stage. Reads only const state of the vault (KEK, vault id), so workers
  // run it in parallel.
  auto open = [this, &prepare](Batch& b) {
    b.opened.resize(b.people.size());
    std::vector<OpenedField> fields;
    // One key buffer and one cipher for the batch, rekeyed for each person.
    crypto::SecretBytes key(crypto::kKeySize);
    std::optional<crypto::FieldCipher> cipher;
    for (size_t i = 0; i < b.people.size() && b.status; ++i) {
      const SealedPerson& sp = b.people[i];
      SelectedPerson& out = b.opened[i];
      out.pk = sp.pk;
      out.id = sp.id;
      if (!sp.has_records) continue;
      Status unwrapped = UnwrapDataKeyInto(ByteSpan(b.bytes).subspan(sp.key_at, sp.key_size),
                                           sp.kek_version, sp.id, key);
      if (!unwrapped) {
        b.status = std::move(unwrapped);
        break;
      }
      if (cipher) {
        cipher->Rekey(key);
      } else {
        auto created = crypto::FieldCipher::Create(suite_, key);
        if (!created) {
          b.status = Fail(created.error());
          break;
        }
        cipher.emplace(std::move(*created));
      }
      OpenRecordsOf(*cipher, id_, b, sp, fields, out);
    }
    if (b.status) b.status = prepare(b.opened, b.output);
    b.Wipe();
    b.opened.clear();
  };

  const int workers = selection.workers >= 0
                          ? selection.workers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Pipeline pipeline(workers, open, consume);
  const std::vector<int64_t>& want = selection.people;
  size_t next = 0;        // the next wanted person
  bool finished = false;  // all wanted people were scanned: the scan stopped early
  auto batch = Batch::New();
  Status scan = store_->ForEachPersonWithRecords(
      [&](const store::PersonRow& row, std::span<const store::RecordView> records) -> Status {
        if (next < want.size() && want[next] < row.pk) {
          return Fail(NotFound("no person " + IdOf(want[next]).ToString() + " in this vault"));
        }
        if (next == want.size() || want[next] != row.pk) return Ok();
        ++next;
        batch->Add(row, IdOf(row.pk), records, scoped);
        if (batch->people.size() >= kBatchPeople) {
          RETURN_IF_ERROR(pipeline.Submit(std::move(batch)));
          batch = Batch::New();
        }
        if (next == want.size()) {  // nothing more to read: stop the scan
          finished = true;
          return Fail(Internal("scan stopped"));
        }
        return Ok();
      });
  if (!finished && !scan) return pipeline.Failure(scan);
  if (next < want.size()) {
    return pipeline.Failure(
        Fail(NotFound("no person " + IdOf(want[next]).ToString() + " in this vault")));
  }
  if (!batch->people.empty()) RETURN_IF_ERROR(pipeline.Submit(std::move(batch)));
  return pipeline.Finish();
}

}  // namespace custos::vault
