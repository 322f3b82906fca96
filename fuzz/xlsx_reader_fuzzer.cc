// libFuzzer target for the XLSX reader (libzip, the streaming element
// splitter and pugixml under it).
//
// The input is either a whole .xlsx file (it starts with "PK" or with the
// OLE2 signature), read as it is, or a bundle of parts in text:
//
//   === xl/workbook.xml
//   <workbook ...>...</workbook>
//   === xl/worksheets/sheet1.xml
//   <worksheet ...>...
//
// which is zipped (stored, uncompressed) before reading, so that mutations
// reach the XML instead of breaking deflate streams and CRCs. Either way the
// first worksheet is read, then the sheet named "Sheet2" if there is one.
// Every row must hold one valid UTF-8 string per header column, each within
// max_field_bytes and free of NUL; rows come in increasing sheet order; and
// every error must name the input.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_ingest and libzip. Seed corpus: testdata/fuzz/xlsx_reader/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/encoding.h"
#include "ingest/reader.h"
#include "ingest/xlsx_test_util.h"

namespace {

using custos::ingest::IsValidUtf8;
using custos::ingest::OpenXlsxFromString;
using custos::ingest::ReadOptions;
using custos::ingest::Row;

constexpr size_t kMaxRows = 10000;
constexpr size_t kMaxFieldBytes = 256;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Splits a bundle at lines "=== NAME".
custos::ingest::testing::Parts ParseBundle(std::string_view text) {
  custos::ingest::testing::Parts parts;
  constexpr std::string_view kMark = "=== ";
  size_t at = text.starts_with(kMark) ? 0 : text.find("\n=== ");
  if (at == std::string_view::npos) return parts;
  if (at > 0) ++at;  // past the '\n'
  while (at < text.size()) {
    const size_t name_start = at + kMark.size();
    size_t name_end = text.find('\n', name_start);
    if (name_end == std::string_view::npos) name_end = text.size();
    size_t next = text.find("\n=== ", name_end);
    const size_t body_start = std::min(name_end + 1, text.size());
    const size_t body_end = next == std::string_view::npos ? text.size() : next;
    parts.emplace_back(std::string(text.substr(name_start, name_end - name_start)),
                       std::string(text.substr(body_start, body_end - body_start)));
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  return parts;
}

void Read(const std::string& data, const ReadOptions& options) {
  auto reader = OpenXlsxFromString(data, "fuzz.xlsx", options);
  if (!reader) {
    Check(reader.error().message().starts_with("fuzz.xlsx"));
    return;
  }
  const auto& header = (*reader)->header();
  Check(!header.empty());
  for (const std::string& name : header) Check(!name.empty() && IsValidUtf8(name));
  Row row;
  uint64_t rows = 0;
  uint64_t last_line = 0;
  while (rows < kMaxRows) {
    auto more = (*reader)->Next(row);
    if (!more) {
      Check(more.error().message().starts_with("fuzz.xlsx"));
      // Errors are sticky.
      auto again = (*reader)->Next(row);
      Check(!again && again.error().message() == more.error().message());
      break;
    }
    if (!*more) break;
    Check(row.fields.size() == header.size());
    Check(row.number == ++rows);
    Check(row.line > last_line && row.line <= 1048576);
    last_line = row.line;
    bool any = false;
    for (const std::string& f : row.fields) {
      Check(f.size() <= kMaxFieldBytes);
      Check(IsValidUtf8(f));
      Check(f.find('\0') == std::string::npos);
      any = any || !f.empty();
    }
    Check(any);  // rows without a value are skipped
  }
  Check((*reader)->bytes_consumed() <= (*reader)->bytes_total());
  Check((*reader)->format() == "xlsx");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string file;
  if (input.starts_with("PK") || input.starts_with("\xD0\xCF\x11\xE0")) {
    file = std::string(input);
  } else {
    file = custos::ingest::testing::MakeZip(ParseBundle(input), /*deflate=*/false);
  }
  ReadOptions options;
  options.max_field_bytes = kMaxFieldBytes;
  Read(file, options);
  options.sheet = "Sheet2";
  Read(file, options);
  return 0;
}
