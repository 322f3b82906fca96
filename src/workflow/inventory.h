// Inventory (数据清单): what a customer file holds, read-only, no vault.
//
// Reads the file with the ingest layer; types every column with
// detect::ColumnClassifier from a sample of the first rows; then checks every
// value of every row with its column's validator, scans free text for
// personal data (detect::TextScanner), groups rows into people the way
// import does (same valid resident ID, a 15-digit one upgraded to 18;
// without one, same mobile and same name) and collects findings
// (report::FindingKind) with their first row numbers. docs/inventory.md
// describes every figure and finding.
//
// Memory is bounded by the number of distinct people and rows, at about
// 40 bytes per row (keyed 64-bit hashes of normalized keys in flat tables;
// no value is kept), plus a few thousand rows in flight. The result holds
// counts, types and row numbers only, never a value from the file.
//
// Threads: one reads, `threads` analyse rows, the caller's thread folds the
// results in file order (so the report does not depend on scheduling), and
// one hashes the file.
#ifndef CUSTOS_WORKFLOW_INVENTORY_H_
#define CUSTOS_WORKFLOW_INVENTORY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "ingest/reader.h"
#include "report/data_map.h"

namespace custos::workflow {

struct InventoryOptions {
  ingest::ReadOptions read;
  // The day ages (minors under 14) and future birth dates are judged on.
  Date today = TodayInChina();
  // Rows sampled for classification (the first ones).
  size_t sample_rows = 2000;
  // Called now and then, from the calling thread, with (bytes consumed, bytes total).
  std::function<void(uint64_t, uint64_t)> progress;
  // Analysis threads besides the reader; 0 picks the number of cores (at most 8).
  unsigned threads = 0;
  // Slots of each table that groups rows into people (16 bytes a slot at
  // most) before it spills to a temporary file in $TMPDIR: the default
  // holds ~1.4 million keys a table in memory (80 MB in all). A power of
  // two >= 1024.
  size_t max_table_slots = size_t{1} << 21;
};

// Errors: kNotFound (no file), kInvalidArgument from the reader, naming
// FILE:LINE:COL (malformed or undecodable input, unknown encoding),
// kInternal if the free-text scanner cannot be built, kUnavailable if a
// temporary file for the people tables cannot be written. A file with a header
// and no rows is not an error: its report has rows == 0.
Result<report::InventoryReport> RunInventory(const std::string& path,
                                             const InventoryOptions& options);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_INVENTORY_H_
