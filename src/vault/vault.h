// The vault: people, their data keys, their encrypted records, the blind
// index, and the vault's own keys. One Store underneath.
//
// Key hierarchy (docs/formats/field-ciphertext.md):
//   KEK (key file or Argon2id(passphrase)) wraps: every person's data key,
//   the index root, the Ed25519 signing seed.
//   index root --HKDF--> blind-index key.
//
// The vault knows nothing about detection or file formats: callers (the
// workflow layer) pass column names and already-normalized identifiers.
//
// Thread safety: a Vault is used by one thread at a time.
#ifndef CUSTOS_VAULT_VAULT_H_
#define CUSTOS_VAULT_VAULT_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "access/roles.h"
#include "base/bytes.h"
#include "base/result.h"
#include "crypto/aead.h"
#include "crypto/id_cipher.h"
#include "crypto/kdf.h"
#include "crypto/secret_bytes.h"
#include "crypto/signer.h"
#include "store/store.h"
#include "tlog/audit_log.h"
#include "vault/key_shares.h"
#include "vault/key_source.h"
#include "vault/mac_map.h"

namespace custos::vault {

// The opaque id of a person: 16 random bytes, shown as 32 hex digits.
class PersonId {
 public:
  // kInvalidArgument unless 32 hex digits.
  static Result<PersonId> Parse(std::string_view hex);
  static Result<PersonId> FromBytes(ByteSpan b);
  std::string ToString() const { return HexEncode(bytes_); }
  ByteSpan bytes() const { return bytes_; }
  friend bool operator==(const PersonId&, const PersonId&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

enum class IndexKind : uint8_t {
  kResidentId = 1,
  kMobile = 2,
  kEmail = 3,
  kMobileAndName = 4,
};

using Mac = std::array<uint8_t, 16>;

struct Column {
  std::string name;
  std::string type;       // detected type name (detect/types.h vocabulary)
  bool sensitive = false;
  // Values of this column damaged before import (FieldValue::damaged), as
  // counted by the import; 0 in a DatasetSpec.
  uint64_t damaged = 0;
};

struct DatasetSpec {
  std::string name;
  std::vector<Column> columns;
  std::string source_sha256;
  std::string source_format;
};

// One field of a person as read back.
struct FieldValue {
  std::string dataset;
  uint64_t record = 0;   // record id within the vault
  std::string field;
  std::string type;
  bool sensitive = false;
  std::string value;     // clear text; empty when !status
  Status status;         // kDataLoss when this value failed to authenticate
  // The value was damaged before import (a long number a spreadsheet
  // stored as a number: its digits past the 15th are lost).
  bool damaged = false;
};

struct PersonData {
  PersonId id;
  int64_t created_at = 0;
  std::vector<FieldValue> fields;
  // Records whose structure was damaged (kDataLoss), by record id.
  std::vector<std::pair<uint64_t, Error>> damaged_records;
};

// A dataset's name and columns, parsed once for a bulk read.
struct DatasetColumns {
  int64_t id = 0;
  std::string name;
  std::vector<Column> columns;
};

// A dataset as the vault keeps it: its columns (from its schema, the one
// codec of it: ParseDatasetSchema) and counts.
struct DatasetInfo {
  int64_t id = 0;
  std::string name;
  std::vector<Column> columns;
  std::string source_sha256;  // hex
  std::string source_format;  // csv, jsonl, xlsx, package
  int64_t imported_at = 0;
  uint64_t rows = 0;
  uint64_t people = 0;
};

// A dataset's schema: a JSON array of {name, type, sensitive[, damaged]}.
std::string SerializeDatasetSchema(const std::vector<Column>& columns);
// kDataLoss naming the dataset when it does not parse.
Result<std::vector<Column>> ParseDatasetSchema(std::string_view dataset, std::string_view json);

// How a person's data key is wrapped (docs/formats/field-ciphertext.md).
enum class KeyWrapFormat { kV1XChaCha20Poly1305, kV2Aes256Gcm, kUnknown };
std::string_view KeyWrapAlgorithm(KeyWrapFormat f);  // "XChaCha20-Poly1305", "AES-256-GCM"

// One field of a bulk read (Vault::ReadSelected).
struct SelectedField {
  const DatasetColumns* dataset = nullptr;  // valid during the visit
  uint32_t position = 0;                    // index into dataset->columns
  uint64_t record = 0;                      // record id within the vault
  std::string value;                        // clear text; empty when !status
  Status status;  // kDataLoss (naming person, dataset, field) when it failed to authenticate
  bool damaged = false;  // damaged before import (as FieldValue::damaged)
};

struct SelectedPerson {
  int64_t pk = 0;
  PersonId id;
  // Records in id order, fields in position order within a record.
  std::vector<SelectedField> fields;
  // Records in scope whose structure was damaged (kDataLoss), by record id.
  std::vector<std::pair<uint64_t, Error>> damaged_records;
};

// What a bulk read opens.
struct Selection {
  std::vector<int64_t> people;      // person numbers, ascending, no duplicates
  std::vector<std::string> fields;  // column names; other fields stay sealed
  std::string dataset;              // only this dataset's records; empty: every dataset
  // Threads that unwrap keys and decrypt besides the caller's: 0 does all
  // on the calling thread; negative, one per core.
  int workers = -1;
};

class Vault;

namespace internal {
// What a batch stage of Vault::ReadSelectedBatches leaves, type-erased.
struct BatchOutput {
  virtual ~BatchOutput() = default;
};
}  // namespace internal

// One row's identifiers, normalized by the caller (detect/validators.h). They
// decide which person the row belongs to and what the blind index holds.
struct RowIdentity {
  std::string resident_id;          // a valid 18-character ID number, or empty
  std::string mobile;               // detect::NormalizeMobile, or empty
  std::string name;                 // detect::NormalizeWidth of the name, or empty
  std::vector<std::string> emails;  // detect::NormalizeEmail of each
  void Clear() {
    resident_id.clear();
    mobile.clear();
    name.clear();
    emails.clear();
  }
};

// An import in progress: one write transaction. Nothing is visible to others
// and nothing is kept unless Commit() succeeds; destroying an uncommitted
// batch rolls it back.
//
// AddRow groups, indexes and encrypts on the calling thread while a second
// thread writes to the store, so an import uses two cores. Until Commit()
// returns or the batch is destroyed, nothing else may use the vault.
class ImportBatch {
 public:
  ~ImportBatch();
  ImportBatch(const ImportBatch&) = delete;
  ImportBatch& operator=(const ImportBatch&) = delete;

  // Adds one row (values.size() == columns) to the person it belongs to: the
  // person with the same resident ID; for a row without one, the person with
  // the same mobile and name; else a new person with a fresh data key.
  // Indexes the row's identifiers for that person. An error from the store
  // thread surfaces here or at Commit().
  Status AddRow(const RowIdentity& who, const std::vector<std::string>& values);
  // The same, recording which of the row's values were damaged before
  // import (positions, ascending): they are stored as they are, marked.
  Status AddRow(const RowIdentity& who, const std::vector<std::string>& values,
                const std::vector<uint32_t>& damaged);
  // Several rows known to be one person's (a handover package's person):
  // the identity decides the person once, and all rows go to them.
  // `damaged`, if given, has one entry per row (as for AddRow).
  Status AddRows(const RowIdentity& who, std::span<const std::vector<std::string>> rows,
                 const std::vector<std::vector<uint32_t>>* damaged = nullptr);

  // Which thread encrypts rows: the faster one (kAdaptive, the default), or
  // always the caller or the writer (tests cover each path with these).
  enum class Sealing { kAdaptive, kCaller, kWriter };
  void set_sealing(Sealing s) {
    sealing_ = s;
    seal_here_ = s != Sealing::kWriter;
  }

  uint64_t rows() const { return rows_; }
  // Values marked damaged so far, by column.
  const std::vector<uint64_t>& damaged() const { return damaged_; }
  int64_t dataset_id() const { return dataset_.id; }
  uint64_t new_people() const { return new_people_; }
  uint64_t people_touched() const { return new_people_ + touched_count_; }

  // The source file's SHA-256 (hex), when it is known only at the end
  // (it is computed beside the import): recorded with the dataset at Commit.
  void set_source_sha256(std::string sha256) { source_sha256_ = std::move(sha256); }

  // Appends `event` (the import's audit entry) and a signed checkpoint, then
  // commits everything in one transaction. `also`, if given, runs first in
  // that transaction, once every row is written: it may use the vault's
  // document calls (Vault::PutDoc...). Afterwards the batch is spent.
  Status Commit(const tlog::Event& event, const std::function<Status()>& also = nullptr);

 private:
  friend class Vault;
  struct Chunk;
  class Writer;
  explicit ImportBatch(Vault* vault);
  Status Start();
  Result<int64_t> NewPerson();
  // Indexes a grouping identifier (resident ID, mobile+name) for a person
  // unless it already points to them.
  // kUnavailable if the grouping map's spill file fails.
  Status AddGroupIndex(IndexKind kind, const Mac& mac, int64_t person);
  void MarkTouched(int64_t person);  // REQUIRES: 0 < person < first_new_pk_
  void AddIndex(IndexKind kind, const Mac& mac, int64_t person);
  // `meta`: the record's metadata (EncodeRecordMeta), empty for none.
  void SealRow(int64_t person, const std::vector<std::string>& values, std::string_view meta);
  // The metadata of a row damaged at `damaged` (checked, counted in damaged_).
  Result<std::string> MetaFor(const std::vector<uint32_t>& damaged);
  Status Submit();  // hands the current chunk to the writer

  Vault* vault_;
  store::DatasetRow dataset_;
  std::vector<std::string> column_names_;
  std::vector<Column> columns_;    // as the spec gave them (the schema)
  std::string source_sha256_;
  std::vector<uint64_t> damaged_;  // by column
  bool open_ = false;
  uint64_t rows_ = 0;
  uint64_t new_people_ = 0;
  int64_t next_pk_ = 1;
  int64_t first_new_pk_ = 1;
  MacMap groups_;  // grouping MACs (resident ID, mobile+name) -> person
  std::vector<bool> touched_existing_;  // by person number, of people from before this batch
  uint64_t touched_count_ = 0;
  crypto::SecretBytes scratch_key_;
  std::string mobile_name_;
  // The last person's cipher: consecutive rows of one person reuse it.
  int64_t cached_person_ = 0;
  std::array<uint8_t, 16> cached_uid_{};
  std::optional<crypto::FieldCipher> cached_cipher_;
  Sealing sealing_ = Sealing::kAdaptive;
  bool seal_here_ = true;  // encrypt on this thread (else the writer does)
  std::unique_ptr<Chunk> chunk_;    // being filled
  std::unique_ptr<Writer> writer_;  // the store thread
};

// How an open vault shares its file with other processes.
struct OpenOptions {
  // How long a change waits for another process's change to finish before
  // it fails with kUnavailable (naming the process that holds the vault).
  std::chrono::milliseconds lock_wait{30000};
  // store::StoreOptions::mmap_bytes (a server's handles).
  int64_t mmap_bytes = 0;
};

// What Vault::PurgeResidue achieved.
struct PurgeResult {
  bool purged = false;  // the write-ahead log was emptied
  std::string why_not;  // when !purged: what kept it (another process...)
};

// Documents of operational state that Vault::PutStateDoc may write without
// an audit entry (access/sessions.h: a session's last use).
inline constexpr std::string_view kStateDocKinds[] = {"session"};

// Several processes may open one vault at once. Every change runs in one
// write transaction that first re-reads what other processes may have
// changed since this one last looked (the audit log's frontier, the key
// version); reads see one committed state per call.
class Vault {
 public:
  // Creates a new vault: a SQLite file, or the schema of a PostgreSQL
  // database when `path` is a postgresql:// URI (store::CreateStore). For a
  // key file that does not exist yet, creates it (0600). kAlreadyExists if
  // the vault exists; nothing is left behind when creating it fails.
  static Result<std::unique_ptr<Vault>> Create(const std::string& path, const KeySource& key,
                                               const std::string& actor = "unknown",
                                               const OpenOptions& options = {});
  // Opens a vault. kUnauthenticated when the key does not open it; nothing
  // is written to the vault file before the key is verified.
  // Attempts noted by NoteRefusedAttempt are moved into the audit log here
  // (later, by another open, if another process is writing right now).
  static Result<std::unique_ptr<Vault>> Open(const std::string& path, const KeySource& key,
                                             const std::string& actor = "unknown",
                                             const OpenOptions& options = {});

  ~Vault();

  const std::string& path() const { return path_; }
  ByteSpan id() const { return id_; }
  std::string IdHex() const { return HexEncode(id_); }
  uint32_t kek_version() const { return kek_version_; }
  std::string kek_source() const;  // "key-file" or "passphrase"
  crypto::FieldSuite field_suite() const { return suite_; }
  // The storage underneath, for tests and for this layer. Workflows and the
  // CLI reach storage only through the Vault's own calls below.
  store::Store& store_for_testing() { return *store_; }
  const crypto::Signer& signer() const { return *signer_; }

  // Starts an import of a new dataset. kAlreadyExists if the name is taken.
  Result<std::unique_ptr<ImportBatch>> BeginImport(const DatasetSpec& spec);

  // For tests: the grouping map's memory limit for later imports (see
  // MacMap), so that small imports spill to disk.
  void set_group_map_shard_slots_for_testing(size_t slots) { group_map_shard_slots_ = slots; }

  // The blind-index MAC of an identifier.
  Mac IndexMac(IndexKind kind, std::string_view normalized) const;

  // People with this identifier (usually zero or one).
  Result<std::vector<PersonId>> Find(IndexKind kind, std::string_view normalized);

  // Decrypts everything stored for a person. kNotFound if there is no such
  // person. Field-level integrity failures are reported per field.
  Result<PersonData> Read(const PersonId& id);

  // Reads many people at once, decrypting only the selected fields: one
  // scan of the store in pk order (Store::ForEachPersonWithRecords), the
  // schemas parsed once, and the data keys unwrapped and fields opened on
  // `workers` threads while the calling thread scans. Calls `visit` once
  // per selected person, in pk order, one call at a time: on a thread of
  // the read's own when there are workers (so the scan and the visits run
  // side by side), else on the calling thread; everything it did is
  // visible to the caller once ReadSelected returns. The visitor's first
  // error (or exception, as kInternal) stops the read and is returned;
  // should the scan fail while earlier people are still being visited, the
  // scan's error is returned unless a visit had already failed. Memory
  // stays bounded (a few batches of people in flight), whatever their
  // number. Field failures are reported per field and damaged records per
  // person, as by Read. kNotFound if a selected person is not in the vault;
  // kDataLoss if a dataset's schema or a selected person's wrapped data key
  // is damaged. REQUIRES: `visit` does not use this vault or its store
  // (IdOf, PkOf, store(), Read...): with workers it runs while the scan
  // uses them.
  Status ReadSelected(const Selection& selection,
                      const std::function<Status(const SelectedPerson&)>& visit);

  // As ReadSelected, with the per-person work on the worker threads too:
  // `prepare` runs on a worker, once per batch of people (up to about a
  // thousand, consecutive in pk order), and fills an `Out` that `consume`
  // then receives, batch after batch in pk order, one at a time (on the
  // thread that visits, as for ReadSelected). `prepare` may take the people
  // (move the vector); whatever of their fields it leaves is wiped once it
  // returns. Each `Out` is destroyed once consumed or when the read stops,
  // so one that holds clear text wipes it in its destructor. The first error in pk
  // order, of `prepare` or `consume`, stops the read and is returned (the
  // batches before it were consumed). REQUIRES: `prepare` may run on
  // several threads at once, so it only reads state that nothing writes
  // during the read; neither function uses this vault.
  template <typename Out>
  Status ReadSelectedBatches(
      const Selection& selection,
      const std::function<Status(std::vector<SelectedPerson>&, Out&)>& prepare,
      const std::function<Status(Out&)>& consume);

  // Who is acting: stamped on every audit entry this vault writes (its user
  // id as `actor`, how it authenticated as `via`). Open and Create make it
  // the key holder (access::KeyHolder) under the label they were given; the
  // access layer replaces it once a user has authenticated.
  void set_principal(access::Principal p) { principal_ = std::move(p); }
  const access::Principal& principal() const { return principal_; }
  const std::string& actor() const { return principal_.user; }
  // An event with this vault's actor filled in.
  tlog::Event MakeEvent(std::string action, std::string purpose = "") const;

  // Whether the principal may do `a` (access::CheckRole; and for actions that
  // need it, a passed training: Principal::trained). A refusal is recorded
  // in the audit log (action: the rule's name, result "refused", objects
  // naming the roles it needs) and returned as kPermissionDenied. `objects`
  // says what the refused call was about (a person, a transfer), never a
  // value.
  Status Authorize(access::Action a, const nlohmann::ordered_json& objects = {});
  // Records a refusal of `action` by a rule other than a role (a custodian
  // changing their own account, a record of one's own training): the entry
  // names the reason; returns `why`.
  Status Refuse(const std::string& action, nlohmann::ordered_json objects, const Error& why);

  // Appends one audit entry and a signed checkpoint in a transaction of
  // their own (for actions that change nothing else: reads, refusals); or,
  // with an audit sink set, hands the entry to the sink and returns once
  // the sink has committed it.
  Status Record(const tlog::Event& event);

  // Group commit (a server's many readers): entries that Record() hands
  // over instead of committing each alone. Append returns once the entry is
  // committed (or the batch it was in failed).
  class AuditSink {
   public:
    virtual ~AuditSink() = default;
    virtual Status Append(const tlog::Event& event) = 0;
  };
  void set_audit_sink(AuditSink* sink) { audit_sink_ = sink; }

  // Appends `events` as consecutive entries, in one transaction with one
  // signed checkpoint: all or none. The events keep their own actors.
  Status RecordBatch(std::span<tlog::Event> events);

  // How often the key was used without a user on a vault that has users
  // (break-glass): counted as each such entry is written, so reports and
  // certificates can say so without reading the whole log.
  struct BreakGlassUses {
    uint64_t count = 0;
    uint64_t first_seq = 0, last_seq = 0;
    std::string first_at, last_at;
    // {"uses", "first_seq", "first_at", "last_seq", "last_at"}, or
    // {"uses": 0}: how reports and certificates show it.
    nlohmann::ordered_json ToJson() const;
  };
  Result<BreakGlassUses> BreakGlass();

  // Runs `change` in one write transaction, then appends `event` (which the
  // change may complete, e.g. with counts) and a signed checkpoint before the
  // commit: the change and its audit entry commit together or not at all.
  // The transaction waits for other processes' (OpenOptions::lock_wait),
  // then fails with kUnavailable; kUnauthenticated if another process
  // rotated the vault's key since this one opened it.
  Status Transact(tlog::Event event, const std::function<Status(tlog::Event&)>& change);

  // The audit log. Its size and frontier are those of this process's last
  // look: call RefreshAudit() inside a read transaction (store::ReadSnapshot)
  // before reading proofs or roots; Transact refreshes it by itself.
  tlog::AuditLog& audit() { return *audit_; }
  Status RefreshAudit() { return audit_->Reload(); }

  // Copies the whole vault to a new one at `to` (a file, or a postgresql://
  // URI: the other backend or the same), as it is: ids, keys, documents
  // and the audit log with its checkpoints. Verifies this vault's audit log
  // first and keeps writers out until the copy is done; then opens the copy
  // with `key` (this vault's), verifies its log, compares what both hold,
  // and records the move on both ends (vault.copy here, vault.copied
  // there). kAlreadyExists if `to` holds a vault; a copy that fails leaves
  // nothing at `to`. `progress` hears of the persons copied.
  struct CopyReport {
    store::CopyCounts counts;
    uint64_t source_audit_size = 0;       // entries verified before the copy
    std::string source_root_sha256;       // the log's root then (hex)
    uint64_t destination_audit_size = 0;  // entries verified in the copy, with vault.copied
  };
  Result<CopyReport> CopyTo(const std::string& to, const KeySource& key,
                            const std::function<void(uint64_t persons)>& progress = {});

  // Runs tlog::AuditLog::Repair in a write transaction of its own (rolled
  // back with `dry_run`). See there for what it does and never does.
  Result<tlog::AuditLog::RepairReport> RepairAudit(bool dry_run);

  // Empties the write-ahead log (and with `vacuum` rebuilds the file), so
  // that nothing deleted lingers in the vault's files. Another process
  // reading or writing can keep it from finishing: it waits up to the lock
  // wait, then reports what kept it rather than failing (what was deleted
  // stays deleted; the next purge removes the residue). kUnavailable only
  // for I/O errors.
  Result<PurgeResult> PurgeResidue(bool vacuum);
  // `custos vault purge`: a custodian's PurgeResidue, recorded first (the
  // entry's own pages are then purged with the rest).
  Result<PurgeResult> Purge(bool vacuum);

  // Re-wraps every data key, the index root and the signing seed under a new
  // KEK in one transaction (with its audit entry); field ciphertexts are
  // untouched. Afterwards only the new key opens the vault. Returns the
  // number of data keys re-wrapped and how the purge of the old wraps went.
  struct RotateResult {
    uint64_t rewrapped = 0;
    PurgeResult purge;
  };
  Result<RotateResult> RotateKek(const KeySource& new_key);

  // Splits the KEK into one share per custodian, any `threshold` of which
  // rebuild it (vault/key_shares.h). `holders` name the custodians (their
  // age recipients), in share order, for the `keys.split` audit entry.
  // `deliver` gets the shares (to encrypt and write them); only when it
  // succeeds is the split recorded. Returns the split's id (hex).
  Result<std::string> SplitKek(int threshold, const std::vector<std::string>& holders,
                               const std::function<Status(const std::vector<KeyShare>&)>& deliver);

  // Crypto-shreds a person: deletes the wrapped data key, every record and
  // index entry (with its audit entry), then purges residue from the vault
  // files (see PurgeResidue: another process can delay that part).
  struct ForgetResult {
    uint64_t records = 0;
    PurgeResult purge;
  };
  Result<ForgetResult> Forget(const PersonId& id);

  Result<uint64_t> CountPeople() { return store_->CountPersons(); }

  // ---- Workflow documents ----
  // Small JSON texts that hold no personal data (recipients, transfers,
  // retention bindings, destruction batches...) by (kind, key), and
  // per-person ones by (kind, key, person): each kind's typed codec lives in
  // the layer that owns it. Writes REQUIRE a change in progress (inside
  // Transact's function); reads see the change's own writes there.
  Result<std::optional<std::string>> GetDoc(std::string_view kind, std::string_view key);
  // (key, body) pairs of a kind, in key order.
  Result<std::vector<std::pair<std::string, std::string>>> ListDocs(std::string_view kind);
  Status PutDoc(std::string_view kind, std::string_view key, std::string_view body);
  // Writes a document of operational state that is not custody and that the
  // log need not carry (a session's last use), in a write transaction of its
  // own without an audit entry. Only kinds in kStateDocKinds; others are
  // kInvalidArgument.
  Status PutStateDoc(std::string_view kind, std::string_view key, std::string_view body);
  Status DeleteDoc(std::string_view kind, std::string_view key);
  Result<std::optional<std::string>> GetPersonDoc(std::string_view kind, std::string_view key,
                                                  int64_t person_pk);
  Status PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                      std::string_view body);
  // Visits (person, body) for one (kind, key) in person order.
  Status ForEachPersonDoc(std::string_view kind, std::string_view key,
                          const std::function<Status(int64_t, std::string_view)>& visit);
  Status DeletePersonDocs(std::string_view kind, std::string_view key);

  // ---- Datasets ----
  // Every dataset, in id order. kDataLoss if a schema is damaged.
  Result<std::vector<DatasetInfo>> Datasets();
  // REQUIRES a change in progress.
  Status UpdateDatasetCounts(int64_t dataset_id, uint64_t rows, uint64_t people);

  // ---- People and records, for workflows that destroy or count ----
  // Every person's number, ascending.
  Result<std::vector<int64_t>> PersonPks();
  // The persons with at least one record of the dataset, ascending.
  Result<std::vector<int64_t>> PersonPksInDataset(int64_t dataset_id);
  // Visits every person in pk order with their wrapped data key (sealed
  // under the KEK: no secret without it) and its format; the bytes are
  // valid only during the visit.
  Status ForEachPersonKey(
      const std::function<Status(int64_t pk, KeyWrapFormat, ByteSpan wrapped_key)>& visit);
  // A person's records, still sealed (vault/record_codec.h), in id order.
  Result<std::vector<store::RecordRow>> SealedRecordsOf(int64_t person_pk);
  // REQUIRE a change in progress: what a destruction does (vault/record_codec.h
  // DropRecordFields makes the rewritten bodies without any key).
  Status RewriteRecord(int64_t record_id, ByteSpan body);
  Status DeleteRecord(int64_t record_id);
  // Crypto-shreds a person in a change in progress (their key, records,
  // index entries and per-person documents). kNotFound if absent.
  Status DeletePerson(int64_t person_pk);
  // The same for everyone NOT in `keep` (ascending); returns how many.
  Result<uint64_t> DeletePersonsExcept(const std::vector<int64_t>& keep);

  // ---- Reading several things from one state ----
  // A read transaction (one committed state of the vault for every read
  // until it ends, whatever other processes commit), with the audit log's
  // frontier re-read in it. Move-only; it ends when destroyed.
  // REQUIRES: no change (Transact) runs while it is open.
  class ReadView {
   public:
    ReadView(ReadView&& other) noexcept : store_(std::exchange(other.store_, nullptr)) {}
    ReadView& operator=(ReadView&&) = delete;
    ReadView(const ReadView&) = delete;
    ~ReadView() {
      if (store_ != nullptr) store_->EndRead();
    }

   private:
    friend class Vault;
    explicit ReadView(store::Store* s) : store_(s) {}
    store::Store* store_;
  };
  Result<ReadView> BeginReadView();

  // ---- The audit log, read ----
  // tlog::VerifyLog over this vault's log, with its own key.
  Result<tlog::VerifyReport> VerifyAudit();
  // Visits entries with seq >= from, in order (one read transaction).
  Status ForEachAuditEntry(uint64_t from, const std::function<Status(uint64_t, ByteSpan)>& visit);
  Result<std::vector<store::CheckpointRow>> Checkpoints();

  // ---- The vault's files ----
  // What the store is made of on disk (main file, WAL...), for residue scans.
  std::vector<std::string> Files() const;
  // "sqlite" (a file) or "postgresql" (a database): what destruction can
  // check of the residue, and what it must leave to the database's owner.
  std::string_view StoreKind() const;
  // What protects deleted data from lingering, read back from the store now
  // (not what was asked for): SQLite's secure_delete and journal mode.
  struct ResidueSettings {
    bool secure_delete = false;
    std::string journal_mode;
  };
  Result<ResidueSettings> ReadResidueSettings();

  // The residue scan: looks for each of `needles` (byte strings of at
  // least 16 bytes, e.g. wrapped keys of people just destroyed) in every
  // file of the vault, byte for byte. Reports each file read (name without
  // its directory, size) and how many needles were found anywhere.
  struct ResidueScan {
    std::vector<std::pair<std::string, uint64_t>> files;
    uint64_t needles = 0;
    uint64_t found = 0;
  };
  Result<ResidueScan> ScanForResidue(const std::vector<Bytes>& needles);

  // Seals a small value that belongs to a person (a consent's evidence,
  // say) under that person's data key, bound to the vault, the person and
  // `label` (XChaCha20-Poly1305, random nonce): it is shredded with them.
  // kNotFound if there is no such person.
  Result<Bytes> SealForPerson(int64_t pk, std::string_view label, std::string_view plaintext);
  // Opens it. kDataLoss if it does not authenticate (altered, or sealed for
  // another person or label); kNotFound if the person is gone.
  Result<std::string> OpenForPerson(int64_t pk, std::string_view label, ByteSpan sealed);

  PersonId IdOf(int64_t pk) const;
  // kNotFound for an id that is not one of this vault's (or no longer exists
  // is checked by the caller).
  Result<int64_t> PkOf(const PersonId& id) const;

 private:
  friend class ImportBatch;
  static constexpr std::string_view kMetaNextPersonPk = "next_person_pk";  // BE64, never decreases
  // Where CopyTo moved the vault: set, it takes no more changes; with the
  // move's random token, which the copy looks for before it takes any.
  static constexpr std::string_view kMetaMovedTo = "moved_to";
  static constexpr std::string_view kMetaMoveToken = "move_token";
  // On a copy until it finds its source's move: "TOKEN\nSOURCE" (empty:
  // arrived).
  static constexpr std::string_view kMetaCopyPending = "copy_pending";
  // Inside BeginWrite, on a copy still marked pending: clears the mark if
  // the source recorded the move (else kFailedPrecondition).
  Status FinishArrival(std::string_view marker);
  Vault() = default;
  // Associated data of a value sealed under the KEK of `kek_version`.
  Bytes WrapAd(std::string_view label, std::optional<ByteSpan> person,
               uint32_t kek_version) const;
  // The same into `ad` (replacing what it held), for a reused buffer.
  void WrapAdInto(std::string_view label, std::optional<ByteSpan> person, uint32_t kek_version,
                  Bytes& ad) const;
  // Wraps a person's data key under `wrap` (the vault's, or a new KEK's in
  // a rotation).
  Bytes WrapDataKey(const crypto::KeyWrap& wrap, uint32_t kek_version,
                    const crypto::SecretBytes& key, ByteSpan uid) const;
  // The key wrapper of the KEK, and the index MAC and id cipher, from the
  // index root.
  Status DeriveKeys();
  // Inside Transact: one more break-glass entry, at `seq`.
  Status CountBreakGlass(uint64_t seq);
  Result<crypto::SecretBytes> UnwrapDataKey(const store::PersonRow& row) const;
  // The same for a key and a person id the caller has (IdOf is for one
  // thread: workers and the import's writer pass the id).
  Result<crypto::SecretBytes> UnwrapDataKey(ByteSpan wrapped_key, uint32_t kek_version,
                                            const PersonId& id) const;
  // The same into `key` (32 bytes), reused across people by bulk reads.
  Status UnwrapDataKeyInto(ByteSpan wrapped_key, uint32_t kek_version, const PersonId& id,
                           crypto::SecretBytes& key) const;
  Result<crypto::FieldCipher> CipherForRow(const store::PersonRow& row) const;
  Result<crypto::FieldCipher> CipherForKey(ByteSpan wrapped_key, uint32_t kek_version,
                                           const PersonId& id) const;
  // Folds refused-attempt notes into the log; `wait` for the write lock
  // (else they wait for a later open when another process writes).
  Status FoldRefusedAttempts(bool wait = false);
  // A PostgreSQL vault's notes, which are documents of its schema.
  Status FoldRefusedDocs(bool wait);
  Result<bool> HasRefusedNotes();
  // The key of the notes' keyed hash (the log names a fold by it).
  Result<crypto::SecretBytes> RefusedNotesKey() const;
  // Begins a write transaction (waiting up to the lock wait, or not at all
  // with `try_only`) and re-reads what another process may have changed.
  Status BeginWrite(bool try_only = false);
  // Commits, or rolls back and reloads the audit frontier when `st` failed.
  Status FinishWrite(Status st);
  // Every dataset's columns (kDataLoss if a schema is damaged).
  Result<std::vector<DatasetColumns>> LoadDatasetColumns();
  // ReadSelectedBatches without its type: `prepare` leaves the batch's
  // output in its second argument.
  using ErasedPrepare =
      std::function<Status(std::vector<SelectedPerson>&, std::unique_ptr<internal::BatchOutput>&)>;
  Status ReadBatches(const Selection& selection, const ErasedPrepare& prepare,
                     const std::function<Status(internal::BatchOutput&)>& consume);

  std::string path_;
  std::unique_ptr<store::Store> store_;
  Bytes id_;
  uint32_t kek_version_ = 1;
  bool passphrase_ = false;
  crypto::FieldSuite suite_ = crypto::FieldSuite::kAes256Gcm;
  crypto::SecretBytes kek_;
  std::unique_ptr<crypto::KeyWrap> key_wrap_;  // data keys under kek_
  crypto::SecretBytes index_root_;
  std::unique_ptr<crypto::HmacSha256> index_mac_;
  std::unique_ptr<crypto::IdCipher> id_cipher_;
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<tlog::AuditLog> audit_;
  AuditSink* audit_sink_ = nullptr;
  // Dataset schemas parsed, by dataset id, with the text they came from.
  std::unordered_map<int64_t, std::pair<std::string, std::vector<Column>>> parsed_schemas_;
  access::Principal principal_ = access::KeyHolder("unknown");
  void set_actor(std::string label) { principal_ = access::KeyHolder(std::move(label)); }
  size_t group_map_shard_slots_ = MacMap::kDefaultMaxShardSlots;
  OpenOptions options_;
};

template <typename Out>
Status Vault::ReadSelectedBatches(
    const Selection& selection,
    const std::function<Status(std::vector<SelectedPerson>&, Out&)>& prepare,
    const std::function<Status(Out&)>& consume) {
  struct Typed final : internal::BatchOutput {
    Out out;
  };
  return ReadBatches(
      selection,
      [&prepare](std::vector<SelectedPerson>& people,
                 std::unique_ptr<internal::BatchOutput>& out) -> Status {
        auto typed = std::make_unique<Typed>();
        Status st = prepare(people, typed->out);
        out = std::move(typed);
        return st;
      },
      [&consume](internal::BatchOutput& out) { return consume(static_cast<Typed&>(out).out); });
}

// Notes an attempt refused before the vault could be opened (wrong key) in
// `<vault>.refused`, a file of its own: the vault file stays byte-for-byte
// unchanged, and the next successful open moves the notes into the audit
// log as vault.refused entries. No personal data: the command and reason only.
// A PostgreSQL vault has no file beside it: the note is a document of its
// schema (the one write made without the key), folded the same way.
Status NoteRefusedAttempt(const std::string& vault_path, const std::string& actor,
                          const std::string& command, const std::string& reason);

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_VAULT_H_
