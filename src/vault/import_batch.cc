// ImportBatch: an import as a two-stage pipeline.
//
// The calling thread groups rows into people, computes blind-index MACs and
// draws new data keys; it fills a Chunk with the store operations that
// result. A Writer thread wraps the new keys and applies chunks to the store
// in order. Chunks are recycled through a small fixed pool, so memory stays
// bounded whatever the size of the import and the faster stage waits for
// the slower one.
//
// Encrypting the rows is the one large piece of work either thread can do,
// so it goes to whichever is ahead: while the Writer has chunks queued the
// calling thread encrypts, and while the Writer waits for work the calling
// thread passes rows on in clear (in memory only) for the Writer to
// encrypt. The Writer encrypts a row of a person whose key is not in the
// chunk by reading that person's wrapped key back from the open transaction.

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <thread>

#include "base/time.h"
#include "crypto/random.h"
#include "vault/record_codec.h"
#include "vault/vault.h"

namespace custos::vault {
namespace {

// Rows per chunk, and chunks in the pool: two being worked on, two waiting.
constexpr size_t kChunkRows = 1024;
constexpr size_t kChunks = 4;

}  // namespace

struct ImportBatch::Chunk {
  enum class OpKind : uint8_t { kPerson, kRecord, kPlainRecord, kIndex };
  struct Op {
    OpKind kind;
    uint8_t index_kind = 0;
    int64_t person = 0;
    // kPerson: the key's slot in `keys`; kRecord: the body in `arena`;
    // kPlainRecord: the row's index in `plain`.
    uint32_t offset = 0;
    uint32_t size = 0;
    // kIndex: the MAC; kPerson, kPlainRecord: the person's id.
    std::array<uint8_t, 16> bytes{};
  };
  std::vector<Op> ops;
  Bytes arena;
  std::vector<std::vector<std::string>> plain;
  size_t plain_used = 0;  // rows of `plain` in use (the rest keep their capacity)
  // New people's data keys, in secure memory: one per row at most.
  crypto::SecretBytes keys{kChunkRows * crypto::kKeySize};
  size_t keys_used = 0;
  size_t rows = 0;

  std::span<uint8_t> Key(size_t slot) {
    return keys.MutableSecret().subspan(slot * crypto::kKeySize, crypto::kKeySize);
  }
  std::span<const uint8_t> Key(size_t slot) const {
    return keys.RevealSecret().subspan(slot * crypto::kKeySize, crypto::kKeySize);
  }
  void Clear() {
    ops.clear();
    arena.clear();
    plain_used = 0;
    if (keys_used > 0) sodium_memzero(keys.MutableSecret().data(), keys_used * crypto::kKeySize);
    keys_used = 0;
    rows = 0;
  }
  ByteSpan Span(const Op& op) const { return ByteSpan(arena.data() + op.offset, op.size); }
};

// The store thread and the pool of chunks it shares with the caller.
class ImportBatch::Writer {
 public:
  Writer(Vault* vault, const store::DatasetRow* dataset,
         const std::vector<std::string>* column_names)
      : vault_(vault), dataset_(dataset), column_names_(column_names) {
    for (size_t i = 0; i < kChunks; ++i) free_.push_back(std::make_unique<Chunk>());
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { (void)Finish(); }

  // A chunk to fill; waits while all are in use.
  std::unique_ptr<Chunk> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    free_cv_.wait(lock, [&] { return !free_.empty(); });
    std::unique_ptr<Chunk> c = std::move(free_.back());
    free_.pop_back();
    return c;
  }

  // How the writer stood when a chunk was queued.
  enum class Pace { kWaiting, kBusy, kBehind };

  // Queues a filled chunk and says whether the writer was waiting for it,
  // busy with the previous one, or behind (another chunk already queued).
  Pace Put(std::unique_ptr<Chunk> chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    const Pace pace = waiting_ ? Pace::kWaiting : full_.empty() ? Pace::kBusy : Pace::kBehind;
    full_.push_back(std::move(chunk));
    work_cv_.notify_one();
    return pace;
  }

  Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  // Waits until every queued chunk is written and stops the thread.
  Status Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      work_cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    return error_;
  }

 private:
  void Run() {
    for (;;) {
      std::unique_ptr<Chunk> chunk;
      bool failed;
      {
        std::unique_lock<std::mutex> lock(mu_);
        waiting_ = full_.empty() && !done_;
        work_cv_.wait(lock, [&] { return !full_.empty() || done_; });
        waiting_ = false;
        if (full_.empty()) return;
        chunk = std::move(full_.front());
        full_.pop_front();
        failed = !error_;
      }
      // After a failure the rest is only drained: the batch rolls back.
      Status st = failed ? Ok() : Apply(*chunk);
      chunk->Clear();
      std::lock_guard<std::mutex> lock(mu_);
      if (!st && error_) error_ = st;
      free_.push_back(std::move(chunk));
      free_cv_.notify_one();
    }
  }

  // The cipher of `person`: the one at hand, the new key in this chunk, or
  // the wrapped key read back from the store.
  Status UseCipher(const Chunk& chunk, int64_t person, const std::array<uint8_t, 16>& uid) {
    if (cipher_ && cipher_person_ == person) return Ok();
    if (person == chunk_new_person_) {
      std::memcpy(key_.MutableSecret().data(), chunk.Key(chunk_new_slot_).data(), crypto::kKeySize);
      ASSIGN_OR_RETURN(crypto::FieldCipher cipher,
                       crypto::FieldCipher::Create(vault_->suite_, key_));
      cipher_.emplace(std::move(cipher));
    } else {
      ASSIGN_OR_RETURN(std::optional<store::PersonRow> row, vault_->store_->GetPerson(person));
      if (!row) return Fail(Internal("person vanished during import"));
      ASSIGN_OR_RETURN(PersonId id, PersonId::FromBytes(uid));
      ASSIGN_OR_RETURN(crypto::FieldCipher cipher, vault_->CipherForKey(row->wrapped_key, row->kek_version, id));
      cipher_.emplace(std::move(cipher));
    }
    cipher_person_ = person;
    return Ok();
  }

  Status Apply(const Chunk& chunk) {
    store::Store& store = *vault_->store_;
    chunk_new_person_ = 0;
    for (const Chunk::Op& op : chunk.ops) {
      switch (op.kind) {
        case Chunk::OpKind::kPerson:
          std::memcpy(key_.MutableSecret().data(), chunk.Key(op.offset).data(), crypto::kKeySize);
          person_.pk = op.person;
          person_.wrapped_key =
              vault_->WrapDataKey(*vault_->key_wrap_, vault_->kek_version_, key_, op.bytes);
          person_.kek_version = vault_->kek_version_;
          person_.created_at = dataset_->imported_at;
          RETURN_IF_ERROR(store.InsertPerson(person_));
          chunk_new_person_ = op.person;
          chunk_new_slot_ = op.offset;
          break;
        case Chunk::OpKind::kRecord:
          RETURN_IF_ERROR(
              store.InsertRecord(op.person, dataset_->id, chunk.Span(op)).map([](int64_t) {}));
          break;
        case Chunk::OpKind::kPlainRecord: {
          RETURN_IF_ERROR(UseCipher(chunk, op.person, op.bytes));
          RecordContext ctx{vault_->id_, op.bytes, dataset_->name, column_names_};
          body_.clear();
          const std::vector<std::string>& plain = chunk.plain[op.offset];
          // The metadata, if any, rides past the columns (SealRecordInto
          // seals only as many values as there are columns).
          const std::string_view meta =
              plain.size() > column_names_->size() ? std::string_view(plain.back()) : "";
          SealRecordInto(*cipher_, ctx, plain, body_, meta);
          RETURN_IF_ERROR(store.InsertRecord(op.person, dataset_->id, body_).map([](int64_t) {}));
          break;
        }
        case Chunk::OpKind::kIndex:
          RETURN_IF_ERROR(store.InsertIndex(op.index_kind, op.bytes, op.person));
          break;
      }
    }
    return Ok();
  }

  Vault* vault_;
  const store::DatasetRow* dataset_;
  const std::vector<std::string>* column_names_;
  store::PersonRow person_;
  crypto::SecretBytes key_{crypto::kKeySize};
  int64_t chunk_new_person_ = 0;  // the person of the last key in the chunk being written
  uint32_t chunk_new_slot_ = 0;
  int64_t cipher_person_ = 0;
  std::optional<crypto::FieldCipher> cipher_;
  Bytes body_;

  std::mutex mu_;
  std::condition_variable work_cv_, free_cv_;
  std::deque<std::unique_ptr<Chunk>> full_;
  std::vector<std::unique_ptr<Chunk>> free_;
  bool done_ = false;
  bool waiting_ = false;  // the writer waits for a chunk
  Status error_;
  std::thread thread_;
};

// ---------------------------------------------------------------- Vault side

Result<std::unique_ptr<ImportBatch>> Vault::BeginImport(const DatasetSpec& spec) {
  if (spec.name.empty()) return Fail(InvalidArgument("a dataset needs a name (--dataset)"));
  if (spec.columns.empty()) return Fail(InvalidArgument("a dataset needs at least one column"));
  if (spec.columns.size() >= 65536) return Fail(InvalidArgument("too many columns (max 65535)"));
  std::unique_ptr<ImportBatch> b(new ImportBatch(this));
  for (const auto& c : spec.columns) b->column_names_.push_back(c.name);
  b->columns_ = spec.columns;
  b->damaged_.assign(spec.columns.size(), 0);
  b->dataset_.name = spec.name;
  b->dataset_.schema_json = SerializeDatasetSchema(spec.columns);
  b->dataset_.source_sha256 = spec.source_sha256;
  b->dataset_.source_format = spec.source_format;
  b->dataset_.imported_at = NowUnixSeconds();
  RETURN_IF_ERROR(BeginWrite());
  b->open_ = true;
  RETURN_IF_ERROR(b->Start());
  return b;
}

// ---------------------------------------------------------------- ImportBatch

ImportBatch::ImportBatch(Vault* vault)
    : vault_(vault), groups_(vault->group_map_shard_slots_) {}

ImportBatch::~ImportBatch() {
  if (writer_) (void)writer_->Finish();
  if (open_) {
    vault_->store_->Rollback();
    (void)vault_->audit_->Reload();
  }
}

Status ImportBatch::Start() {
  store::Store& store = *vault_->store_;
  RETURN_IF_ERROR(store.InsertDataset(dataset_));
  ASSIGN_OR_RETURN(std::optional<Bytes> next, store.GetMeta(Vault::kMetaNextPersonPk));
  if (next && next->size() == 8) next_pk_ = static_cast<int64_t>(ReadU64BE(next->data()));
  first_new_pk_ = next_pk_;
  for (IndexKind k : {IndexKind::kResidentId, IndexKind::kMobileAndName}) {
    RETURN_IF_ERROR(
        store.ForEachIndexEntry(static_cast<uint8_t>(k), [&](ByteSpan mac, int64_t pk) -> Status {
          if (mac.size() != 16 || pk <= 0 || pk > MacMap::kMaxValue) {
            return Fail(DataLoss("a blind-index entry is damaged"));
          }
          Mac m;
          std::memcpy(m.data(), mac.data(), 16);
          return groups_.Put(m, pk);
        }));
  }
  writer_ = std::make_unique<Writer>(vault_, &dataset_, &column_names_);
  chunk_ = writer_->Take();
  return Ok();
}

Result<int64_t> ImportBatch::NewPerson() {
  if (next_pk_ > MacMap::kMaxValue) {
    return Fail(FailedPrecondition("this vault has reached its limit of " +
                                   std::to_string(MacMap::kMaxValue) + " people"));
  }
  const int64_t pk = next_pk_++;
  Chunk& c = *chunk_;
  Chunk::Op op{Chunk::OpKind::kPerson};
  op.person = pk;
  op.offset = static_cast<uint32_t>(c.keys_used++);
  std::memcpy(op.bytes.data(), vault_->IdOf(pk).bytes().data(), 16);
  std::span<uint8_t> key = c.Key(op.offset);
  crypto::RandomFill(key);
  c.ops.push_back(op);
  ++new_people_;
  cached_cipher_.reset();
  cached_person_ = 0;
  if (seal_here_) {
    if (scratch_key_.empty()) scratch_key_ = crypto::SecretBytes(crypto::kKeySize);
    std::memcpy(scratch_key_.MutableSecret().data(), key.data(), crypto::kKeySize);
    ASSIGN_OR_RETURN(crypto::FieldCipher cipher,
                     crypto::FieldCipher::Create(vault_->suite_, scratch_key_));
    cached_cipher_.emplace(std::move(cipher));
    cached_person_ = pk;
    cached_uid_ = op.bytes;
  }
  return pk;
}

void ImportBatch::MarkTouched(int64_t person) {
  // One bit per person from before the batch, sized on first use.
  if (touched_existing_.empty()) touched_existing_.resize(static_cast<size_t>(first_new_pk_));
  auto bit = touched_existing_[static_cast<size_t>(person)];
  if (!bit) {
    bit = true;
    ++touched_count_;
  }
}

void ImportBatch::AddIndex(IndexKind kind, const Mac& mac, int64_t person) {
  Chunk::Op op{Chunk::OpKind::kIndex};
  op.index_kind = static_cast<uint8_t>(kind);
  op.person = person;
  op.bytes = mac;
  chunk_->ops.push_back(op);
}

Status ImportBatch::AddGroupIndex(IndexKind kind, const Mac& mac, int64_t person) {
  ASSIGN_OR_RETURN(bool changed, groups_.Assign(mac, person));
  if (changed) AddIndex(kind, mac, person);
  return Ok();
}

void ImportBatch::SealRow(int64_t person, const std::vector<std::string>& values,
                          std::string_view meta) {
  if (seal_here_ && cached_cipher_ && cached_person_ == person) {
    RecordContext ctx{vault_->id_, cached_uid_, dataset_.name, &column_names_};
    Chunk::Op op{Chunk::OpKind::kRecord};
    op.person = person;
    op.offset = static_cast<uint32_t>(chunk_->arena.size());
    SealRecordInto(*cached_cipher_, ctx, values, chunk_->arena, meta);
    op.size = static_cast<uint32_t>(chunk_->arena.size() - op.offset);
    chunk_->ops.push_back(op);
    return;
  }
  // The writer encrypts it. The metadata, if any, rides as one value past
  // the columns.
  Chunk& c = *chunk_;
  if (c.plain_used == c.plain.size()) c.plain.emplace_back();
  c.plain[c.plain_used] = values;
  if (!meta.empty()) c.plain[c.plain_used].emplace_back(meta);
  Chunk::Op op{Chunk::OpKind::kPlainRecord};
  op.person = person;
  op.offset = static_cast<uint32_t>(c.plain_used++);
  std::memcpy(op.bytes.data(), vault_->IdOf(person).bytes().data(), 16);
  c.ops.push_back(op);
}

Status ImportBatch::AddRow(const RowIdentity& who, const std::vector<std::string>& values) {
  return AddRows(who, std::span<const std::vector<std::string>>(&values, 1));
}

Status ImportBatch::AddRow(const RowIdentity& who, const std::vector<std::string>& values,
                           const std::vector<uint32_t>& damaged) {
  const std::vector<std::vector<uint32_t>> one = {damaged};
  return AddRows(who, std::span<const std::vector<std::string>>(&values, 1), &one);
}

Result<std::string> ImportBatch::MetaFor(const std::vector<uint32_t>& damaged) {
  if (damaged.empty()) return std::string();
  for (size_t i = 0; i < damaged.size(); ++i) {
    if (damaged[i] >= column_names_.size() || (i > 0 && damaged[i] <= damaged[i - 1])) {
      return Fail(Internal("damaged positions must be ascending column positions"));
    }
  }
  for (uint32_t pos : damaged) ++damaged_[pos];
  RecordMeta meta;
  meta.damaged = damaged;
  return EncodeRecordMeta(meta);
}

Status ImportBatch::AddRows(const RowIdentity& who,
                            std::span<const std::vector<std::string>> rows,
                            const std::vector<std::vector<uint32_t>>* damaged) {
  if (damaged != nullptr && damaged->size() != rows.size()) {
    return Fail(Internal("one list of damaged positions per row"));
  }
  if (!open_ || !writer_) return Fail(Internal("import batch already finished"));
  for (const auto& values : rows) {
    if (values.size() != column_names_.size()) {
      return Fail(Internal("row has " + std::to_string(values.size()) + " values for " +
                           std::to_string(column_names_.size()) + " columns"));
    }
  }
  // Each MAC is computed once and used for both the lookup and the index.
  std::optional<Mac> id_mac, mobile_name_mac;
  if (!who.resident_id.empty()) id_mac = vault_->IndexMac(IndexKind::kResidentId, who.resident_id);
  if (!who.mobile.empty() && !who.name.empty()) {
    mobile_name_.assign(who.mobile);
    mobile_name_.push_back('\0');
    mobile_name_.append(who.name);
    mobile_name_mac = vault_->IndexMac(IndexKind::kMobileAndName, mobile_name_);
  }
  std::optional<int64_t> person;
  if (id_mac) {
    ASSIGN_OR_RETURN(person, groups_.Find(*id_mac));
  } else if (mobile_name_mac) {
    ASSIGN_OR_RETURN(person, groups_.Find(*mobile_name_mac));
  }
  if (!person) {
    ASSIGN_OR_RETURN(person, NewPerson());
  } else if (*person < first_new_pk_) {
    MarkTouched(*person);
  }
  if (id_mac) RETURN_IF_ERROR(AddGroupIndex(IndexKind::kResidentId, *id_mac, *person));
  if (!who.mobile.empty()) {
    AddIndex(IndexKind::kMobile, vault_->IndexMac(IndexKind::kMobile, who.mobile), *person);
  }
  if (mobile_name_mac) {
    RETURN_IF_ERROR(AddGroupIndex(IndexKind::kMobileAndName, *mobile_name_mac, *person));
  }
  for (const std::string& e : who.emails) {
    AddIndex(IndexKind::kEmail, vault_->IndexMac(IndexKind::kEmail, e), *person);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::vector<std::string>& values = rows[r];
    std::string meta;
    if (damaged != nullptr) {
      ASSIGN_OR_RETURN(meta, MetaFor((*damaged)[r]));
    }
    SealRow(*person, values, meta);
    ++rows_;
    if (++chunk_->rows >= kChunkRows) RETURN_IF_ERROR(Submit());
  }
  return Ok();
}

Status ImportBatch::Submit() {
  // Encrypt here while the writer is behind, hand rows on while it waits.
  const Writer::Pace pace = writer_->Put(std::move(chunk_));
  if (sealing_ == Sealing::kAdaptive) {
    if (pace == Writer::Pace::kWaiting) seal_here_ = false;
    if (pace == Writer::Pace::kBehind) seal_here_ = true;
  }
  chunk_ = writer_->Take();
  return writer_->error();
}

Status ImportBatch::Commit(const tlog::Event& event, const std::function<Status()>& also) {
  if (!open_ || !writer_) return Fail(Internal("import batch already finished"));
  writer_->Put(std::move(chunk_));
  Status written = writer_->Finish();
  writer_.reset();
  RETURN_IF_ERROR(written);
  store::Store& store = *vault_->store_;
  if (also) RETURN_IF_ERROR(also());
  if (!source_sha256_.empty()) {
    RETURN_IF_ERROR(store.UpdateDatasetSource(dataset_.id, source_sha256_));
  }
  Bytes next;
  AppendU64BE(next, static_cast<uint64_t>(next_pk_));
  RETURN_IF_ERROR(store.PutMeta(Vault::kMetaNextPersonPk, next));
  RETURN_IF_ERROR(store.UpdateDatasetCounts(dataset_.id, rows_, people_touched()));
  if (std::any_of(damaged_.begin(), damaged_.end(), [](uint64_t n) { return n > 0; })) {
    // The schema as written at the start, with the columns' damaged counts.
    for (size_t i = 0; i < damaged_.size() && i < columns_.size(); ++i) {
      columns_[i].damaged = damaged_[i];
    }
    RETURN_IF_ERROR(store.UpdateDatasetSchema(dataset_.id, SerializeDatasetSchema(columns_)));
  }
  RETURN_IF_ERROR(vault_->audit_->Append(event).map([](uint64_t) {}));
  RETURN_IF_ERROR(vault_->audit_->SignCheckpoint());
  RETURN_IF_ERROR(store.Commit());
  open_ = false;
  return Ok();
}

}  // namespace custos::vault
