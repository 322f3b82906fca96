// libFuzzer target for the ustar reader (package/tar.h).
//
// The input is a whole archive. It is read twice: whole with
// ReadTarArchive, and entry by entry with TarReader, reading contents in
// small pieces and skipping every third entry's content; both must agree
// (same entries, or the same error). Invariants: only the documented codes; every name is
// relative, without "." or ".." components, unique; contents add up to no
// more than the input; and an archive that reads cleanly, written again
// with TarWriter (when its names fit), reads back identically.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_package. Seed corpus: testdata/fuzz/tar/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "package/tar.h"

namespace {

using custos::Bytes;
using custos::ByteSpan;
using custos::ErrorCode;
using custos::package::TarFile;
using custos::package::TarReadOptions;

constexpr TarReadOptions kOptions{.max_entries = 16, .max_entry_size = 1 << 20};

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<std::string> names;
  std::vector<Bytes> contents;  // empty where skipped
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome Whole(ByteSpan input) {
  Outcome out;
  auto files = custos::package::ReadTarArchive(input, kOptions);
  if (!files) {
    const ErrorCode code = files.error().code();
    Check(code == ErrorCode::kInvalidArgument || code == ErrorCode::kDataLoss);
    out.error = files.error().ToString();
    return out;
  }
  for (const TarFile& f : *files) {
    Check(f.content.size() == f.entry.size);
    out.names.push_back(f.entry.name);
    out.contents.push_back(f.content);
  }
  return out;
}

// Every third entry's content is skipped (left to Next), recorded as empty.
bool Skipped(size_t index) { return index % 3 == 2; }

Outcome Streamed(ByteSpan input, size_t piece) {
  Outcome out;
  custos::package::SpanSource source(input);
  custos::package::TarReader reader(source, kOptions);
  for (size_t index = 0;; ++index) {
    auto entry = reader.Next();
    if (!entry) {
      out.error = entry.error().ToString();
      return out;
    }
    if (!entry->has_value()) return out;
    out.names.push_back((*entry)->name);
    Bytes content;
    std::vector<uint8_t> buffer(piece);
    while (!Skipped(index)) {
      auto n = reader.Read(buffer);
      if (!n) {
        out.error = n.error().ToString();
        return out;
      }
      if (*n == 0) break;
      content.insert(content.end(), buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(*n));
    }
    out.contents.push_back(content);
  }
}

void CheckName(const std::string& name) {
  Check(!name.empty() && name.front() != '/');
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string part = name.substr(start, slash - start);
    Check(!part.empty() && part != "." && part != "..");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan input(data, size);
  const Outcome whole = Whole(input);
  const Outcome streamed = Streamed(input, 1 + size % 700);
  Check(streamed.error == whole.error);
  if (whole.error.empty()) {
    Outcome expected = whole;
    for (size_t i = 0; i < expected.contents.size(); ++i) {
      if (Skipped(i)) expected.contents[i].clear();
    }
    Check(streamed == expected);
  }
  std::set<std::string> unique(whole.names.begin(), whole.names.end());
  Check(unique.size() == whole.names.size());
  size_t total = 0;
  for (size_t i = 0; i < whole.names.size(); ++i) {
    CheckName(whole.names[i]);
    total += whole.contents[i].size();
  }
  Check(total <= size);

  if (whole.error.empty()) {
    Bytes rewritten;
    custos::package::BytesSink sink(rewritten);
    custos::package::TarWriter writer(sink);
    for (size_t i = 0; i < whole.names.size(); ++i) {
      if (!custos::package::CheckTarName(whole.names[i])) return 0;  // longer than 100 bytes
      Check(writer.AddFile(whole.names[i], whole.contents[i], 0).has_value());
    }
    Check(writer.Finish().has_value());
    Check(Whole(rewritten) == whole);
  }
  return 0;
}
