// Import: a branch export file into a vault, all or nothing.
//
// Reads with the ingest layer, classifies columns with the detect layer,
// groups rows into people (same valid resident ID; without one, same mobile
// and same name), and stores each row encrypted under its person's key.
#ifndef CUSTOS_WORKFLOW_IMPORT_H_
#define CUSTOS_WORKFLOW_IMPORT_H_

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "detect/classify.h"
#include "ingest/reader.h"
#include "vault/vault.h"

namespace custos::workflow {

struct ImportOptions {
  std::string dataset;
  ingest::ReadOptions read;
  Date today = TodayInChina();
  // Rows sampled for classification before anything is written.
  size_t sample_rows = 2000;
  // Called now and then with (bytes consumed, bytes total).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct ImportReport {
  std::string dataset;
  std::string format;
  std::string encoding;
  std::string sha256;
  uint64_t rows = 0;
  uint64_t people = 0;      // distinct people in this dataset
  uint64_t new_people = 0;  // of which new to the vault
  std::vector<detect::ColumnGuess> columns;
  // Values damaged before import, by column (long numbers a spreadsheet
  // stored as numbers): imported as they are, marked damaged.
  std::vector<uint64_t> damaged;
  // The dataset held this very file already (same name, same SHA-256):
  // nothing was read or written, and rows/people are the dataset's.
  bool already_imported = false;
};

// Errors: those of the reader (kInvalidArgument naming file:line:column),
// kAlreadyExists for a dataset name in use by another file, kInvalidArgument
// for a file with a header but no rows. On any error nothing is stored. The
// same file into the dataset it already fills is no error (a second run
// after the first was interrupted): see ImportReport::already_imported.
Result<ImportReport> ImportFile(vault::Vault& vault, const std::string& path,
                                const ImportOptions& options);

// SHA-256 of a file, hex.
Result<std::string> FileSha256(const std::string& path);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_IMPORT_H_
