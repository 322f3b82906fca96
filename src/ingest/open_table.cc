// OpenTable: the reader for a file, by extension and then by content.
#include <algorithm>
#include <string>
#include <string_view>

#include "base/file.h"
#include "ingest/encoding.h"
#include "ingest/ole2.h"
#include "ingest/reader.h"

namespace custos::ingest {
namespace {

enum class Format { kCsv, kTsv, kJsonl, kXlsx, kXls, kUnknown };

// The lower-case extension of the last path component, without the dot.
std::string Extension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return ext;
}

Format ByExtension(const std::string& ext) {
  if (ext == "csv" || ext == "txt") return Format::kCsv;
  if (ext == "tsv") return Format::kTsv;
  if (ext == "jsonl" || ext == "ndjson") return Format::kJsonl;
  if (ext == "xlsx" || ext == "xlsm") return Format::kXlsx;
  if (ext == "xls") return Format::kXls;
  return Format::kUnknown;
}

// Looks at the first bytes: '{' (after a BOM and whitespace) is JSON Lines,
// a ZIP or OLE2 signature is XLSX, anything else is CSV (whose reader rejects binary).
Result<Format> Sniff(const std::string& path) {
  // Not ASSIGN_OR_RETURN: g++ 12 -O2 then warns, falsely, that the moved
  // string may be read uninitialized.
  const Result<std::string> bytes = ReadFileHead(path, 4096);
  if (!bytes) return Fail(bytes.error());
  const std::string_view head = *bytes;
  // An OLE2 compound file: an .xls, or a password-protected .xlsx, which
  // the XLSX reader tells apart.
  if (head.starts_with("PK\x03\x04") || head.starts_with(internal::kOle2Magic)) {
    return Format::kXlsx;
  }
  std::string_view rest = head;
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
  const size_t first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] == '{') return Format::kJsonl;
  return Format::kCsv;
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenTable(const std::string& path, const ReadOptions& options) {
  Format format = ByExtension(Extension(path));
  if (format == Format::kUnknown) {
    ASSIGN_OR_RETURN(format, Sniff(path));
  }
  if (!options.sheet.empty() && format != Format::kXlsx && FileExists(path)) {
    return Fail(InvalidArgument(path + ": a sheet was named, but this is not an .xlsx workbook"));
  }
  switch (format) {
    case Format::kCsv:
    case Format::kUnknown:
      return OpenCsv(path, options);
    case Format::kTsv: {
      ReadOptions tsv = options;
      if (tsv.delimiter == 0) tsv.delimiter = '\t';
      return OpenCsv(path, tsv);
    }
    case Format::kJsonl:
      return OpenJsonl(path, options);
    case Format::kXlsx:
      return OpenXlsx(path, options);
    case Format::kXls:
      if (!FileExists(path)) return Fail(NotFound(path + ": no such file"));
      return Fail(InvalidArgument(path +
                                  ": .xls (Excel 97-2003) workbooks are not supported; save it "
                                  "as .xlsx or as \"CSV UTF-8\""));
  }
  return OpenCsv(path, options);
}

}  // namespace custos::ingest
