// The Vault's calls for workflows that keep documents, read datasets, count
// or destroy people, and read the audit log: the one way to storage from
// above the vault (workflows and the CLI never see the Store).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "vault/vault.h"

namespace custos::vault {

std::string SerializeDatasetSchema(const std::vector<Column>& columns) {
  nlohmann::json schema = nlohmann::json::array();
  for (const auto& c : columns) {
    nlohmann::json col = {{"name", c.name}, {"type", c.type}, {"sensitive", c.sensitive}};
    if (c.damaged > 0) col["damaged"] = c.damaged;
    schema.push_back(std::move(col));
  }
  return schema.dump();
}

Result<std::vector<Column>> ParseDatasetSchema(std::string_view dataset, std::string_view text) {
  auto damaged = [&] {
    return Fail(DataLoss("the schema of dataset '" + std::string(dataset) + "' is damaged"));
  };
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return damaged();
  std::vector<Column> out;
  out.reserve(j.size());
  for (const auto& c : j) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) return damaged();
    Column col;
    col.name = c["name"].get<std::string>();
    col.type = c.value("type", "other");
    col.sensitive = c.value("sensitive", false);
    col.damaged = c.value("damaged", uint64_t{0});
    out.push_back(std::move(col));
  }
  return out;
}

std::string_view KeyWrapAlgorithm(KeyWrapFormat f) {
  switch (f) {
    case KeyWrapFormat::kV1XChaCha20Poly1305: return "XChaCha20-Poly1305";
    case KeyWrapFormat::kV2Aes256Gcm: return "AES-256-GCM";
    case KeyWrapFormat::kUnknown: break;
  }
  return "unknown";
}

// ---------------------------------------------------------------- documents

Result<std::optional<std::string>> Vault::GetDoc(std::string_view kind, std::string_view key) {
  return store_->GetDoc(kind, key);
}

Result<std::vector<std::pair<std::string, std::string>>> Vault::ListDocs(std::string_view kind) {
  return store_->ListDocs(kind);
}

Status Vault::PutDoc(std::string_view kind, std::string_view key, std::string_view body) {
  return store_->PutDoc(kind, key, body);
}

Status Vault::PutStateDoc(std::string_view kind, std::string_view key, std::string_view body) {
  if (std::find(std::begin(kStateDocKinds), std::end(kStateDocKinds), kind) ==
      std::end(kStateDocKinds)) {
    return Fail(InvalidArgument("'" + std::string(kind) + "' documents are custody records: "
                                "they change only with an audit entry"));
  }
  RETURN_IF_ERROR(BeginWrite());
  return FinishWrite(store_->PutDoc(kind, key, body));
}

Status Vault::DeleteDoc(std::string_view kind, std::string_view key) {
  return store_->DeleteDoc(kind, key);
}

Result<std::optional<std::string>> Vault::GetPersonDoc(std::string_view kind,
                                                       std::string_view key, int64_t person_pk) {
  return store_->GetPersonDoc(kind, key, person_pk);
}

Status Vault::PutPersonDoc(std::string_view kind, std::string_view key, int64_t person_pk,
                           std::string_view body) {
  return store_->PutPersonDoc(kind, key, person_pk, body);
}

Status Vault::ForEachPersonDoc(std::string_view kind, std::string_view key,
                               const std::function<Status(int64_t, std::string_view)>& visit) {
  return store_->ForEachPersonDoc(kind, key, visit);
}

Status Vault::DeletePersonDocs(std::string_view kind, std::string_view key) {
  return store_->DeletePersonDocs(kind, key);
}

// ---------------------------------------------------------------- datasets

Result<std::vector<DatasetInfo>> Vault::Datasets() {
  ASSIGN_OR_RETURN(std::vector<store::DatasetRow> rows, store_->ListDatasets());
  std::vector<DatasetInfo> out;
  out.reserve(rows.size());
  for (auto& r : rows) {
    DatasetInfo d;
    d.id = r.id;
    d.name = std::move(r.name);
    // A server reads schemas for every lookup: parsed once per text.
    auto cached = parsed_schemas_.find(r.id);
    if (cached == parsed_schemas_.end() || cached->second.first != r.schema_json) {
      ASSIGN_OR_RETURN(std::vector<Column> parsed, ParseDatasetSchema(d.name, r.schema_json));
      cached =
          parsed_schemas_.insert_or_assign(r.id, std::pair{r.schema_json, std::move(parsed)}).first;
    }
    d.columns = cached->second.second;
    d.source_sha256 = std::move(r.source_sha256);
    d.source_format = std::move(r.source_format);
    d.imported_at = r.imported_at;
    d.rows = r.rows;
    d.people = r.people;
    out.push_back(std::move(d));
  }
  return out;
}

Status Vault::UpdateDatasetCounts(int64_t dataset_id, uint64_t rows, uint64_t people) {
  return store_->UpdateDatasetCounts(dataset_id, rows, people);
}

// ---------------------------------------------------------------- people

Result<std::vector<int64_t>> Vault::PersonPks() { return store_->ListPersonPks(); }

Result<std::vector<int64_t>> Vault::PersonPksInDataset(int64_t dataset_id) {
  return store_->ListPersonPksInDataset(dataset_id);
}

Status Vault::ForEachPersonKey(
    const std::function<Status(int64_t, KeyWrapFormat, ByteSpan)>& visit) {
  return store_->ForEachPerson([&](const store::PersonRow& row) -> Status {
    KeyWrapFormat f = KeyWrapFormat::kUnknown;
    if (row.wrapped_key.size() == crypto::KeyWrap::kV2Size && row.wrapped_key[0] == 0x02) {
      f = KeyWrapFormat::kV2Aes256Gcm;
    } else if (row.wrapped_key.size() == crypto::KeyWrap::kV1Size) {
      f = KeyWrapFormat::kV1XChaCha20Poly1305;
    }
    return visit(row.pk, f, row.wrapped_key);
  });
}

Result<std::vector<store::RecordRow>> Vault::SealedRecordsOf(int64_t person_pk) {
  return store_->RecordsOf(person_pk);
}

Status Vault::RewriteRecord(int64_t record_id, ByteSpan body) {
  return store_->UpdateRecord(record_id, body);
}

Status Vault::DeleteRecord(int64_t record_id) { return store_->DeleteRecord(record_id); }

Status Vault::DeletePerson(int64_t person_pk) { return store_->DeletePerson(person_pk); }

Result<uint64_t> Vault::DeletePersonsExcept(const std::vector<int64_t>& keep) {
  return store_->DeletePersonsExcept(keep);
}

// ---------------------------------------------------------------- reads

Result<Vault::ReadView> Vault::BeginReadView() {
  RETURN_IF_ERROR(store_->BeginRead());
  ReadView view(store_.get());
  RETURN_IF_ERROR(audit_->Reload());
  return view;
}

Result<tlog::VerifyReport> Vault::VerifyAudit() {
  return tlog::VerifyLog(*store_, audit_->verifier_key());
}

// ---------------------------------------------------------------- audit, files

Status Vault::ForEachAuditEntry(uint64_t from,
                                const std::function<Status(uint64_t, ByteSpan)>& visit) {
  RETURN_IF_ERROR(Authorize(access::Action::kAuditRead));
  store::ReadSnapshot snapshot(*store_);
  RETURN_IF_ERROR(snapshot.status());
  return store_->ForEachAuditEntry(from, visit);
}

Result<std::vector<store::CheckpointRow>> Vault::Checkpoints() {
  RETURN_IF_ERROR(Authorize(access::Action::kAuditRead));
  return store_->ListCheckpoints();
}

std::vector<std::string> Vault::Files() const { return store_->Files(); }

std::string_view Vault::StoreKind() const {
  return store::IsPostgresUri(path_) ? "postgresql" : "sqlite";
}

Result<Vault::ResidueSettings> Vault::ReadResidueSettings() {
  ASSIGN_OR_RETURN(store::Store::ResidueSettings s, store_->ReadResidueSettings());
  ResidueSettings r;
  r.secure_delete = s.zeroes_freed_space;
  r.journal_mode = std::move(s.journal_mode);
  return r;
}

namespace {

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

Result<Vault::ResidueScan> Vault::ScanForResidue(const std::vector<Bytes>& needles) {
  ResidueScan scan;
  scan.needles = needles.size();
  // Needles by their first 8 bytes, behind a 2^20-bit filter of those: one
  // load and one bit test per byte of the files, a lookup only on a hit.
  std::unordered_map<uint64_t, std::vector<const Bytes*>> by_head;
  std::vector<uint64_t> filter(1 << 14, 0);
  auto slot = [](uint64_t head) { return (head * 0x9E3779B97F4A7C15ull) >> 44; };
  for (const Bytes& n : needles) {
    if (n.size() < 16) return Fail(Internal("a residue needle is shorter than 16 bytes"));
    const uint64_t head = Load64(n.data());
    by_head[head].push_back(&n);
    const uint64_t bit = slot(head);
    filter[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
  std::vector<bool> found(needles.size(), false);
  std::unordered_map<const Bytes*, size_t> index;
  for (size_t i = 0; i < needles.size(); ++i) index[&needles[i]] = i;
  size_t longest = 16;
  for (const Bytes& n : needles) longest = std::max(longest, n.size());
  for (const std::string& path : store_->Files()) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // a -wal or -journal that does not exist: nothing to scan
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    const std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    scan.files.emplace_back(name, static_cast<uint64_t>(st.st_size));
    // Read in blocks that overlap by the longest needle, so that a needle
    // across two blocks is still seen whole.
    std::vector<uint8_t> buf(size_t{1} << 20);
    size_t have = 0;
    for (;;) {
      const ssize_t got = ::read(fd, buf.data() + have, buf.size() - have);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        ::close(fd);
        return Fail(Unavailable("cannot read " + path + " for the residue scan"));
      }
      have += static_cast<size_t>(got);
      const bool end = got == 0;
      const size_t limit = end ? (have >= 8 ? have - 7 : 0) : (have > longest ? have - longest : 0);
      for (size_t i = 0; i < limit; ++i) {
        const uint64_t head = Load64(buf.data() + i);
        const uint64_t bit = slot(head);
        if ((filter[bit >> 6] >> (bit & 63) & 1) == 0) continue;
        auto it = by_head.find(head);
        if (it == by_head.end()) continue;
        for (const Bytes* n : it->second) {
          if (i + n->size() <= have && std::memcmp(buf.data() + i, n->data(), n->size()) == 0) {
            found[index[n]] = true;
          }
        }
      }
      if (end) break;
      std::memmove(buf.data(), buf.data() + limit, have - limit);
      have -= limit;
    }
    ::close(fd);
  }
  scan.found = static_cast<uint64_t>(std::count(found.begin(), found.end(), true));
  return scan;
}

}  // namespace custos::vault
