#include "workflow/import.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>

#include "base/file.h"
#include "crypto/kdf.h"
#include "detect/header.h"
#include "detect/validators.h"
#include "ingest/encoding.h"

namespace custos::workflow {
namespace {

// Which columns identify a person, by detected type.
struct IdentityColumns {
  std::vector<size_t> ids, mobiles, emails, names;
};

IdentityColumns FindIdentityColumns(const std::vector<detect::ColumnGuess>& cols) {
  IdentityColumns ic;
  for (size_t i = 0; i < cols.size(); ++i) {
    switch (cols[i].type) {
      case detect::PiiType::kCnResidentId: ic.ids.push_back(i); break;
      case detect::PiiType::kCnMobile: ic.mobiles.push_back(i); break;
      case detect::PiiType::kEmail: ic.emails.push_back(i); break;
      case detect::PiiType::kPersonName: ic.names.push_back(i); break;
      default: break;
    }
  }
  return ic;
}

// Which columns may hold long numbers a spreadsheet damaged, and how to
// tell (detect::CheckDigitsLost): identifiers and columns of no type.
struct DamageColumns {
  std::vector<bool> check;        // by column
  std::vector<bool> number_converted;  // by column
};

DamageColumns FindDamageColumns(const std::vector<detect::ColumnGuess>& cols) {
  DamageColumns dc;
  for (const auto& g : cols) {
    const bool check = g.type == detect::PiiType::kCnResidentId ||
                       g.type == detect::PiiType::kBankCard || g.type == detect::PiiType::kOther ||
                       g.type == detect::PiiType::kFreeText;
    dc.check.push_back(check);
    dc.number_converted.push_back(g.number_converted);
  }
  return dc;
}

// Turns a row into its identity (normalized identifiers) and adds it, with
// the positions of values a number conversion damaged (kept, marked).
class RowImporter {
 public:
  RowImporter(vault::ImportBatch& batch, IdentityColumns ic, DamageColumns dc, Date today)
      : batch_(batch), ic_(std::move(ic)), dc_(std::move(dc)), today_(today) {}

  Status Add(const ingest::Row& row) {
    const std::vector<std::string>& fields = row.fields;
    damaged_.clear();
    size_t next_number_cell = 0;
    for (size_t c = 0; c < fields.size() && c < dc_.check.size(); ++c) {
      while (next_number_cell < row.number_cells.size() && row.number_cells[next_number_cell] < c) {
        ++next_number_cell;
      }
      if (!dc_.check[c] || fields[c].empty()) continue;
      const bool number_cell =
          next_number_cell < row.number_cells.size() && row.number_cells[next_number_cell] == c;
      if (detect::CheckDigitsLost(fields[c], number_cell, dc_.number_converted[c]) !=
          detect::DigitsLost::kNo) {
        damaged_.push_back(static_cast<uint32_t>(c));
      }
    }
    who_.Clear();
    for (size_t c : ic_.ids) {
      if (std::binary_search(damaged_.begin(), damaged_.end(), static_cast<uint32_t>(c))) {
        continue;  // a damaged number never identifies anyone
      }
      detect::IdInfo info = detect::CheckResidentId(fields[c], today_);
      if (info.status == detect::IdStatus::kValid) {
        who_.resident_id = std::move(info.normalized);
        break;
      }
      if (info.status == detect::IdStatus::kLegacy15) {
        who_.resident_id = detect::UpgradeLegacyId(info.normalized);
        break;
      }
    }
    for (size_t c : ic_.mobiles) {
      if (auto m = detect::NormalizeMobile(fields[c])) {
        who_.mobile = std::move(*m);
        break;
      }
    }
    if (!who_.mobile.empty()) {
      for (size_t c : ic_.names) {
        if (!fields[c].empty()) {
          who_.name = detect::NormalizeWidth(fields[c]);
          break;
        }
      }
    }
    for (size_t c : ic_.emails) {
      if (auto e = detect::NormalizeEmail(fields[c])) who_.emails.push_back(std::move(*e));
    }
    return batch_.AddRow(who_, fields, damaged_);
  }

 private:
  vault::ImportBatch& batch_;
  IdentityColumns ic_;
  DamageColumns dc_;
  Date today_;
  std::vector<uint32_t> damaged_;
  vault::RowIdentity who_;
};

}  // namespace

Result<std::string> FileSha256(const std::string& path) {
  // Through the reader's own source: an upload held sealed reads as itself.
  ASSIGN_OR_RETURN(std::unique_ptr<ingest::ByteSource> source, ingest::OpenFileSource(path));
  crypto::Sha256Stream h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, source->Read(buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(AsBytes(std::string_view(buf.data(), n)));
  }
  auto d = h.Finish();
  return HexEncode(d);
}

Result<ImportReport> ImportFile(vault::Vault& vault, const std::string& path,
                                const ImportOptions& options) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kImport));
  ImportReport report;
  report.dataset = options.dataset;
  // The file's SHA-256 is computed beside the import (on the core its start
  // leaves idle) and recorded with the dataset at commit.
  std::future<Result<std::string>> sha256 = std::async(std::launch::async, FileSha256, path);
  // Run again on the same file (after a crash or a lost terminal, say): the
  // dataset is there whole, because an import commits whole or not at all.
  ASSIGN_OR_RETURN(std::vector<vault::DatasetInfo> datasets, vault.Datasets());
  for (const vault::DatasetInfo& d : datasets) {
    if (d.name != options.dataset) continue;
    ASSIGN_OR_RETURN(report.sha256, sha256.get());
    if (d.source_sha256 != report.sha256) {
      return Fail(AlreadyExists("dataset '" + d.name + "' already exists, imported from another "
                                "file (sha256 " + d.source_sha256 + "); choose another --dataset"));
    }
    report.already_imported = true;
    report.format = d.source_format;
    report.rows = d.rows;
    report.people = d.people;
    return report;
  }
  Result<std::unique_ptr<ingest::RowReader>> opened = ingest::OpenTable(path, options.read);
  if (!opened) {
    Result<std::string> hashed = sha256.get();
    return Fail(hashed ? opened.error() : hashed.error());  // "no such file" from either
  }
  std::unique_ptr<ingest::RowReader> reader = std::move(*opened);
  report.format = reader->format();
  report.encoding = reader->encoding();
  // Column names are stored in clear and appear in the audit log: a file
  // without a header row would put a customer's data there. Such a file is
  // refused; a single header cell that reads as a value is stored as
  // column_N (detect/header.h).
  const detect::HeaderVerdict verdict = detect::JudgeHeaderRow(reader->header(), options.today);
  if (verdict.row_is_data) {
    return Fail(InvalidArgument(path + ": the first row looks like data, not a header (column " +
                                std::to_string(*verdict.data_column + 1) +
                                " holds a customer's value); add a header row naming the columns"));
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < reader->header().size(); ++i) {
    names.push_back(detect::ColumnNameFor(verdict, reader->header(), i));
  }
  RETURN_IF_ERROR(detect::CheckDistinctColumnNames(reader->header(), verdict, path));

  // Classify from a sample; the sampled rows are kept and imported first.
  detect::ColumnClassifier classifier(names, options.today);
  std::deque<ingest::Row> sample;
  ingest::Row row;
  bool more = true;
  while (sample.size() < options.sample_rows) {
    ASSIGN_OR_RETURN(more, reader->Next(row));
    if (!more) break;
    classifier.Observe(row.fields);
    sample.push_back(row);
  }
  if (sample.empty()) {
    return Fail(InvalidArgument(path + ": the file has a header but no data rows"));
  }
  report.columns = classifier.Guess();

  vault::DatasetSpec spec;
  spec.name = options.dataset;
  spec.source_format = report.format;
  for (const auto& g : report.columns) {
    spec.columns.push_back({g.name, std::string(detect::PiiTypeName(g.type)), g.sensitive});
  }
  ASSIGN_OR_RETURN(std::unique_ptr<vault::ImportBatch> batch, vault.BeginImport(spec));
  RowImporter importer(*batch, FindIdentityColumns(report.columns),
                      FindDamageColumns(report.columns), options.today);
  for (auto& r : sample) RETURN_IF_ERROR(importer.Add(r));
  sample.clear();
  uint64_t since_progress = 0;
  while (more) {
    ASSIGN_OR_RETURN(more, reader->Next(row));
    if (!more) break;
    RETURN_IF_ERROR(importer.Add(row));
    if (options.progress && ++since_progress == 65536) {
      since_progress = 0;
      options.progress(reader->bytes_consumed(), reader->bytes_total());
    }
  }
  ASSIGN_OR_RETURN(report.sha256, sha256.get());
  report.rows = batch->rows();
  report.people = batch->people_touched();
  report.new_people = batch->new_people();
  report.damaged = batch->damaged();
  tlog::Event event = vault.MakeEvent("import");
  nlohmann::ordered_json sensitive = nlohmann::ordered_json::array();
  for (const auto& c : report.columns) {
    if (c.sensitive) sensitive.push_back(c.name);
  }
  event.objects = {{"dataset", report.dataset},
                   {"file_sha256", report.sha256},
                   {"format", report.format},
                   {"encoding", reader->encoding()},
                   {"rows", report.rows},
                   {"people", report.people},
                   {"new_people", report.new_people},
                   {"columns", report.columns.size()},
                   {"sensitive_columns", sensitive}};
  nlohmann::ordered_json damaged = nlohmann::ordered_json::object();
  for (size_t c = 0; c < report.damaged.size(); ++c) {
    if (report.damaged[c] > 0) damaged[report.columns[c].name] = report.damaged[c];
  }
  if (!damaged.empty()) event.objects["damaged_values"] = damaged;
  batch->set_source_sha256(report.sha256);
  RETURN_IF_ERROR(batch->Commit(event));
  report.encoding = reader->encoding();
  if (options.progress) options.progress(reader->bytes_total(), reader->bytes_total());
  return report;
}

}  // namespace custos::workflow
