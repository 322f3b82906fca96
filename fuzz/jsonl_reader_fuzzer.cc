// libFuzzer target for the JSON Lines reader (nlohmann's SAX parser and the
// encoding layer under it).
//
// The input is a whole file. It is read twice, once in one piece and once
// in tiny chunks that cut multibyte characters, CRLFs and lines everywhere;
// both readings must agree exactly (header, rows, lines, encoding, or the
// same error). Every row must hold one valid UTF-8 string per header column,
// each within max_field_bytes and free of NUL, and every error must name the
// input.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_ingest. Seed corpus: testdata/fuzz/jsonl_reader/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ingest/encoding.h"
#include "ingest/reader.h"

namespace {

using custos::ingest::IsValidUtf8;
using custos::ingest::OpenJsonlFromString;
using custos::ingest::ReadOptions;
using custos::ingest::Row;

constexpr size_t kMaxRows = 10000;
constexpr size_t kMaxFieldBytes = 256;
// Above this, encoding detection samples differ between chunk sizes by design.
constexpr size_t kMaxCompareBytes = 60 << 10;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<uint64_t> lines;
  std::string encoding;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome Read(const std::string& data, const ReadOptions& options, size_t chunk) {
  Outcome out;
  auto reader = OpenJsonlFromString(data, "fuzz.jsonl", options, chunk);
  if (!reader) {
    out.error = reader.error().ToString();
    Check(out.error.find("fuzz.jsonl") != std::string::npos);
    return out;
  }
  const auto& header = (*reader)->header();
  Check(!header.empty());
  for (const std::string& name : header) Check(!name.empty() && IsValidUtf8(name));
  out.header = header;
  Row row;
  uint64_t last_line = 0;
  while (out.rows.size() < kMaxRows) {
    auto more = (*reader)->Next(row);
    if (!more) {
      out.error = more.error().ToString();
      Check(out.error.find("fuzz.jsonl:") != std::string::npos);
      auto again = (*reader)->Next(row);  // errors are sticky
      Check(!again && again.error().ToString() == out.error);
      break;
    }
    if (!*more) break;
    Check(row.fields.size() == header.size());
    Check(row.number == out.rows.size() + 1);
    Check(row.line > last_line);
    last_line = row.line;
    for (const std::string& f : row.fields) {
      Check(f.size() <= kMaxFieldBytes);
      Check(IsValidUtf8(f));
      Check(f.find('\0') == std::string::npos);
    }
    out.rows.push_back(row.fields);
    out.lines.push_back(row.line);
  }
  Check((*reader)->bytes_total() == data.size());
  Check((*reader)->bytes_consumed() <= data.size());
  out.encoding = (*reader)->encoding();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  ReadOptions options;
  options.max_field_bytes = kMaxFieldBytes;
  const Outcome whole = Read(input, options, 0);
  if (size <= kMaxCompareBytes) {
    const size_t chunk = 1 + size % 7;
    Check(Read(input, options, chunk) == whole);
  }
  for (const char* encoding : {"gbk", "gb18030"}) {
    options.encoding = encoding;
    (void)Read(input, options, 3);
  }
  return 0;
}
