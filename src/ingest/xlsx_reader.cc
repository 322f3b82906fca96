// XLSX reading: an Office Open XML workbook (a ZIP package of XML parts)
// read with libzip and pugixml.
//
//   book.xlsx (ZIP)
//   ├─ _rels/.rels                  -> the main part (xl/workbook.xml)
//   ├─ xl/workbook.xml              sheet names, r:id, the 1904 date flag
//   ├─ xl/_rels/workbook.xml.rels   r:id -> worksheets/sheetN.xml, styles, shared strings
//   ├─ xl/styles.xml                cellXfs: style index -> number format (dates)
//   ├─ xl/sharedStrings.xml         <sst><si>...</si>...</sst>, held in memory
//   └─ xl/worksheets/sheetN.xml     <worksheet>...<sheetData><row>...</row>...</sheetData>
//
// Memory. pugixml builds whole documents, and a sheet of a million rows is
// hundreds of megabytes of XML, so the sheet (and the shared strings) are
// never loaded whole: ElementStream below decompresses a part 64 KiB at a
// time and cuts out one child element of <sheetData> (one <row>) or of
// <sst> (one <si>) at a time, which pugixml then parses on its own. The
// cutting tracks the markup that can hide a '<' or '>' (comments, CDATA,
// processing instructions, quoted attribute values) and checks that every
// end tag matches its start tag, so a fragment is exactly one element.
// Peak memory is therefore about: the shared strings (at most
// SharedStrings::kDefaultMemoryBudget in memory, the rest sealed in a
// temporary file with a cache of the same size) + one row's XML (at most max_element_bytes_:
// 64 * max_field_bytes, at least 1 MiB) and its pugixml document + the
// decompression buffers; not the size of the sheet. Measured: 26 MB peak
// RSS for 200,000 rows with 605,000 shared strings (73 MB of XML), 5.6 MB
// for 1,000,000 rows of inline strings (381 MB of XML).
#include <zip.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/encoding.h"
#include "ingest/reader.h"
#include "ingest/shared_strings.h"

namespace custos::ingest {
namespace {

// How much of a part is decompressed at a time.
constexpr size_t kReadChunk = 64 << 10;
// Parts parsed whole (workbook, relationships, styles).
constexpr uint64_t kMaxWholePartBytes = 64 << 20;
// Streamed parts: a sheet and the shared-strings table, uncompressed.
constexpr uint64_t kMaxSheetPartBytes = uint64_t{8} << 30;
constexpr uint64_t kMaxSharedStringsPartBytes = uint64_t{2} << 30;
// Strings a workbook may have (shared string indexes are read as 32 bits).
constexpr uint64_t kMaxSharedStrings = uint64_t{0xffffffff} - 1;
// Zip bombs: a part bigger than kRatioCheckAbove may expand at most
// kMaxExpansion times. Spreadsheet XML compresses 5-20x; deflate's ceiling
// is about 1000x, reached only by long runs of one byte.
constexpr uint64_t kRatioCheckAbove = 8 << 20;
constexpr uint64_t kMaxExpansion = 500;
constexpr size_t kMaxXmlDepth = 64;
// Excel's limits.
constexpr uint32_t kMaxSheetRows = 1048576;
constexpr uint32_t kMaxSheetColumns = 16384;
constexpr uint64_t kExcelMaxSerial = 2958465;  // 9999-12-31

constexpr unsigned kParseFlags = pugi::parse_default | pugi::parse_ws_pcdata_single;

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// The local part of a qualified XML name: "x:row" -> "row".
std::string_view LocalName(std::string_view qname) {
  const size_t colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

bool IsLocal(const pugi::xml_node& node, std::string_view local) {
  return node.type() == pugi::node_element && LocalName(node.name()) == local;
}

pugi::xml_node Child(const pugi::xml_node& node, std::string_view local) {
  for (pugi::xml_node c : node.children()) {
    if (IsLocal(c, local)) return c;
  }
  return {};
}

// An attribute by local name ("r:id" matches "id" only if `prefixed`).
pugi::xml_attribute Attr(const pugi::xml_node& node, std::string_view local,
                         bool prefixed = false) {
  for (pugi::xml_attribute a : node.attributes()) {
    const std::string_view name = a.name();
    if (prefixed ? (name.find(':') != std::string_view::npos && LocalName(name) == local)
                 : name == local) {
      return a;
    }
  }
  return {};
}

// Appends the character data directly inside `node`.
void AppendText(const pugi::xml_node& node, std::string& out) {
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
}

std::string TextOf(const pugi::xml_node& node) {
  std::string out;
  AppendText(node, out);
  return out;
}

// A shared or inline string: its <t>, or the <t> of each rich-text run <r>.
// Phonetic guides (<rPh>, furigana/pinyin) are not part of the value.
std::string RichText(const pugi::xml_node& si) {
  std::string out;
  for (pugi::xml_node c : si.children()) {
    if (IsLocal(c, "t")) {
      AppendText(c, out);
    } else if (IsLocal(c, "r")) {
      for (pugi::xml_node t : c.children()) {
        if (IsLocal(t, "t")) AppendText(t, out);
      }
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The UTF-16 code unit of an "_xHHHH_" escape at s[i], or -1.
int XEscapeAt(std::string_view s, size_t i) {
  if (i + 7 > s.size() || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int h = HexValue(s[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes OOXML's "_xHHHH_" escapes (ST_Xstring): Excel writes characters
// that XML cannot carry, such as a carriage return, as _x000D_, and a
// literal "_x" as _x005F_x. A lone surrogate or NUL stays as written.
std::string DecodeXEscapes(std::string s) {
  if (s.find("_x") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const int u = XEscapeAt(s, i);
    if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF)) {
      out += s[i++];
      continue;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      const int lo = XEscapeAt(s, i + 7);
      if (lo < 0xDC00 || lo > 0xDFFF) {
        out += s[i++];
        continue;
      }
      AppendUtf8(out, 0x10000 + ((static_cast<uint32_t>(u) - 0xD800) << 10) +
                          (static_cast<uint32_t>(lo) - 0xDC00));
      i += 14;
      continue;
    }
    AppendUtf8(out, static_cast<uint32_t>(u));
    i += 7;
  }
  return out;
}

std::string_view TrimAscii(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  s = TrimAscii(s);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "A" for 0, "XFD" for 16383.
std::string ColumnLetters(uint32_t col) {
  std::string s;
  uint32_t n = col + 1;
  while (n > 0) {
    s.insert(s.begin(), static_cast<char>('A' + (n - 1) % 26));
    n = (n - 1) / 26;
  }
  return s;
}

// Text from the file (a sheet or tag name, never a value) fit for a
// message: at most `max` bytes, cut at a character boundary, and only its
// valid UTF-8 prefix.
std::string ForMessage(std::string_view s, size_t max = 64) {
  bool truncated = false;
  size_t keep = ValidUtf8Prefix(s, &truncated);
  if (keep > max) {
    keep = max;
    while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
  }
  return std::string(s.substr(0, keep)) + (keep < s.size() ? "..." : "");
}

std::string Quoted(std::string_view s) { return "\"" + ForMessage(s) + "\""; }

// 1-based line and column of byte `offset` of `text`.
std::string LineColOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

// ---- Dates ----

// kDuration: elapsed time ([h]:mm:ss), shown as hours that may pass 24.
enum class DateKind : uint8_t { kNone, kDate, kTime, kDateTime, kDuration };

// Built-in number formats (ECMA-376 Part 1, 18.8.30) that show a date or a
// time. 27-36 and 50-58 are the East Asian built-ins (zh-CN: 27 is
// yyyy"年"m"月", 31 is yyyy"年"m"月"d"日", 32 is h"时"mm"分", ...) that
// Chinese Excel writes without a <numFmt> entry.
DateKind BuiltinDateKind(uint32_t id) {
  if (id >= 14 && id <= 17) return DateKind::kDate;
  if (id >= 18 && id <= 21) return DateKind::kTime;
  if (id == 22) return DateKind::kDateTime;
  if (id == 46) return DateKind::kDuration;
  if (id == 45 || id == 47) return DateKind::kTime;
  if ((id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54) || id == 57 || id == 58) {
    return DateKind::kDate;
  }
  if ((id >= 32 && id <= 35) || id == 55 || id == 56) return DateKind::kTime;
  return DateKind::kNone;
}

// Whether a custom format code shows a date and/or a time: after dropping
// quoted text, escaped characters, [colour]/[$-locale] brackets and AM/PM,
// y or d is a date, h or s a time, and m is a month unless h or s is there
// (then it is minutes). Only the first section (before ';') counts.
DateKind CustomDateKind(std::string_view code) {
  bool y_or_d = false;
  bool m = false;
  bool h_or_s = false;
  bool elapsed = false;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == ';') break;
    if (c == '"') {
      const size_t close = code.find('"', i + 1);
      if (close == std::string_view::npos) break;
      i = close;
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;  // the next character is literal (or a fill / a space width)
    } else if (c == '[') {
      const size_t close = code.find(']', i + 1);
      if (close == std::string_view::npos) break;
      const std::string_view inner = code.substr(i + 1, close - i - 1);
      // [h], [mm], [ss]: elapsed time.
      if (!inner.empty() && inner.find_first_not_of("hHmMsS") == std::string_view::npos) {
        h_or_s = true;
        elapsed = true;
      }
      i = close;
    } else {
      const std::string_view rest = code.substr(i);
      auto starts_ci = [&](std::string_view w) {
        if (rest.size() < w.size()) return false;
        for (size_t k = 0; k < w.size(); ++k) {
          char a = rest[k];
          if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
          if (a != w[k]) return false;
        }
        return true;
      };
      if (starts_ci("am/pm")) {
        i += 4;
        continue;
      }
      if (starts_ci("a/p")) {
        i += 2;
        continue;
      }
      if (starts_ci("general")) {
        i += 6;
        continue;
      }
      switch (c) {
        case 'y':
        case 'Y':
        case 'd':
        case 'D':
          y_or_d = true;
          break;
        case 'm':
        case 'M':
          m = true;
          break;
        case 'h':
        case 'H':
        case 's':
        case 'S':
          h_or_s = true;
          break;
        default:
          break;
      }
    }
  }
  const bool date = y_or_d || (m && !h_or_s);
  if (elapsed && !date) return DateKind::kDuration;
  if (date && h_or_s) return DateKind::kDateTime;
  if (date) return DateKind::kDate;
  if (h_or_s) return DateKind::kTime;
  return DateKind::kNone;
}

// Howard Hinnant's civil_from_days: days since 1970-01-01 -> y, m, d.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

// Days from 1970-01-01 to the day before each system's day 1 (1900) or to
// its day 0 (1904).
constexpr int64_t kEpoch1899Dec30 = -25569;
constexpr int64_t kEpoch1899Dec31 = -25568;
constexpr int64_t kEpoch1904Jan1 = -24107;

// An Excel serial date as ISO 8601 text, as a date format shows it; the
// number as written if it is no date Excel can show (negative, beyond
// 9999-12-31, 1900-01-00, or the 1900-02-29 that the 1900 system counts but
// the calendar does not have).
std::string FormatSerial(std::string_view text, DateKind kind, bool date1904) {
  const std::string_view t = TrimAscii(text);
  double value = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(value) ||
      value < 0 || value >= static_cast<double>(kExcelMaxSerial + 1)) {
    return std::string(text);
  }
  const int64_t total = std::llround(value * 86400.0);
  if (kind == DateKind::kDuration) {
    char text_out[48];
    std::snprintf(text_out, sizeof text_out, "%02lld:%02d:%02d",
                  static_cast<long long>(total / 3600), static_cast<int>(total / 60 % 60),
                  static_cast<int>(total % 60));
    return text_out;
  }
  const int64_t days = total / 86400;
  const int64_t secs = total % 86400;
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%02d:%02d:%02d", static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  if (kind == DateKind::kTime && days == 0) return time_text;
  int64_t epoch_day = 0;
  if (date1904) {
    epoch_day = kEpoch1904Jan1 + days;
  } else if (days == 0 || days == 60 || days > static_cast<int64_t>(kExcelMaxSerial)) {
    return std::string(text);
  } else {
    epoch_day = (days < 60 ? kEpoch1899Dec31 : kEpoch1899Dec30) + days;
  }
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(epoch_day, y, m, d);
  if (y > 9999) return std::string(text);
  char date_text[32];
  std::snprintf(date_text, sizeof date_text, "%04d-%02u-%02u", static_cast<int>(y), m, d);
  if (kind == DateKind::kDate) return date_text;
  return std::string(date_text) + " " + time_text;
}

// A cell of type "d" holds ISO 8601 text; midnight is shown as the date.
std::string IsoDateCell(std::string_view text) {
  const std::string_view t = TrimAscii(text);
  if (t.size() > 10 && t[10] == 'T') {
    std::string_view time = t.substr(11);
    if (time.ends_with('Z')) time.remove_suffix(1);
    if (time.find_first_not_of("0:.") == std::string_view::npos)
      return std::string(t.substr(0, 10));
  }
  return std::string(t);
}

// ---- ZIP ----

std::string ZipErrorText(zip_error_t* error) {
  const char* s = zip_error_strerror(error);
  return s != nullptr ? s : "unknown error";
}

// A part of the package, streamed out of the archive.
class ZipEntryReader {
 public:
  ZipEntryReader(zip_file_t* file, std::string where, uint64_t size)
      : file_(file), where_(std::move(where)), size_(size) {}
  ~ZipEntryReader() { zip_fclose(file_); }
  ZipEntryReader(const ZipEntryReader&) = delete;
  ZipEntryReader& operator=(const ZipEntryReader&) = delete;

  // Appends up to `n` bytes to `out`; returns how many, 0 only at the end.
  Result<size_t> Read(std::string& out, size_t n) {
    const size_t old = out.size();
    out.resize(old + n);
    const zip_int64_t got = zip_fread(file_, out.data() + old, n);
    if (got < 0) {
      out.resize(old);
      return Fail(InvalidArgument(
          where_ + ": corrupt ZIP entry: " + ZipErrorText(zip_file_get_error(file_))));
    }
    out.resize(old + static_cast<size_t>(got));
    consumed_ += static_cast<uint64_t>(got);
    // libzip checks the CRC at the end; the size we check ourselves, so
    // that the limits checked against the declared size hold.
    if (consumed_ > size_) {
      return Fail(InvalidArgument(where_ + ": corrupt ZIP entry: larger than its declared size"));
    }
    return static_cast<size_t>(got);
  }
  uint64_t consumed() const { return consumed_; }
  uint64_t size() const { return size_; }
  const std::string& where() const { return where_; }

 private:
  zip_file_t* file_;
  std::string where_;
  uint64_t size_;
  uint64_t consumed_ = 0;
};

class ZipArchive {
 public:
  // `name` is the path or stand-in that messages use. `data` backs an
  // in-memory archive (empty for a file).
  static Result<std::unique_ptr<ZipArchive>> OpenFile(const std::string& path);
  static Result<std::unique_ptr<ZipArchive>> OpenMemory(std::string data, const std::string& name);

  ~ZipArchive() {
    if (zip_ != nullptr) zip_discard(zip_);
  }
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::string& name() const { return name_; }
  bool Has(const std::string& part) const {
    return zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE) >= 0;
  }
  // Opens a part for streaming; checks it against `max_bytes` and the
  // expansion limit. kInvalidArgument if it is missing.
  Result<std::unique_ptr<ZipEntryReader>> Open(const std::string& part, uint64_t max_bytes) const;
  Result<std::string> ReadWhole(const std::string& part, uint64_t max_bytes) const;

 private:
  ZipArchive(std::string name, std::string data) : name_(std::move(name)), data_(std::move(data)) {}
  static Result<std::unique_ptr<ZipArchive>> Finish(std::unique_ptr<ZipArchive> archive, zip_t* zip,
                                                    int code);

  std::string name_;
  std::string data_;  // must outlive zip_ (an in-memory source points into it)
  zip_t* zip_ = nullptr;
};

Result<std::unique_ptr<ZipArchive>> ZipArchive::Finish(std::unique_ptr<ZipArchive> archive,
                                                       zip_t* zip, int code) {
  if (zip != nullptr) {
    archive->zip_ = zip;
    return archive;
  }
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  const std::string text = ZipErrorText(&error);
  zip_error_fini(&error);
  const std::string& name = archive->name_;
  switch (code) {
    case ZIP_ER_NOZIP:
      return Fail(InvalidArgument(name + ": not a ZIP archive, so not an .xlsx workbook"));
    case ZIP_ER_NOENT:
      return Fail(NotFound(name + ": no such file"));
    case ZIP_ER_MEMORY:
      return Fail(Internal(name + ": out of memory opening the ZIP archive"));
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
      return Fail(Unavailable(name + ": cannot read: " + text));
    default:
      return Fail(InvalidArgument(name + ": corrupt ZIP archive: " + text));
  }
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::OpenFile(const std::string& path) {
  std::unique_ptr<ZipArchive> archive(new ZipArchive(path, ""));
  int code = ZIP_ER_OK;
  zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY, &code);
  return Finish(std::move(archive), zip, code);
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::OpenMemory(std::string data,
                                                           const std::string& name) {
  std::unique_ptr<ZipArchive> archive(new ZipArchive(name, std::move(data)));
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source =
      zip_source_buffer_create(archive->data_.data(), archive->data_.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return Fail(Internal(name + ": cannot create a ZIP source"));
  }
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY, &error);
  const int code = zip_error_code_zip(&error);
  zip_error_fini(&error);
  if (zip == nullptr) zip_source_free(source);
  return Finish(std::move(archive), zip, code);
}

Result<std::unique_ptr<ZipEntryReader>> ZipArchive::Open(const std::string& part,
                                                         uint64_t max_bytes) const {
  const std::string where = name_ + ": " + ForMessage(part, 128);
  const zip_int64_t index = zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE);
  if (index < 0) return Fail(InvalidArgument(where + ": no such part in the workbook"));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      (st.valid & ZIP_STAT_SIZE) == 0 || (st.valid & ZIP_STAT_COMP_SIZE) == 0) {
    return Fail(InvalidArgument(where + ": corrupt ZIP entry: no size"));
  }
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
    return Fail(InvalidArgument(
        where +
        ": the ZIP entry is encrypted; password-protected workbooks are not supported; "
        "save without a password"));
  }
  if (st.size > max_bytes) {
    return Fail(InvalidArgument(where + ": " + std::to_string(st.size) +
                                " bytes uncompressed, more than the limit of " + MiB(max_bytes)));
  }
  if (st.size > kRatioCheckAbove && st.size / std::max<uint64_t>(st.comp_size, 1) > kMaxExpansion) {
    return Fail(InvalidArgument(where + ": expands from " + std::to_string(st.comp_size) + " to " +
                                std::to_string(st.size) + " bytes, more than " +
                                std::to_string(kMaxExpansion) +
                                " times: refusing a possible zip bomb"));
  }
  zip_file_t* file = zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    return Fail(InvalidArgument(
        where + ": cannot open the ZIP entry: " + ZipErrorText(zip_get_error(zip_))));
  }
  return std::make_unique<ZipEntryReader>(file, where, st.size);
}

Result<std::string> ZipArchive::ReadWhole(const std::string& part, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry, Open(part, max_bytes));
  std::string out;
  out.reserve(static_cast<size_t>(entry->size()));
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, entry->Read(out, kReadChunk));
    if (n == 0) break;
  }
  return out;
}

// ---- OLE2 (password-protected workbooks, .xls) ----

constexpr std::string_view kOleMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

// Whether `bytes` holds a directory entry of an encrypted OOXML package
// (MS-OFFCRYPTO: streams "EncryptionInfo" and "EncryptedPackage").
bool HasEncryptionStream(std::string_view bytes) {
  static const std::string kName = [] {
    std::string s;
    for (char c : std::string_view("EncryptedPackage")) {
      s += c;
      s += '\0';
    }
    return s;
  }();
  static const std::string kInfo = [] {
    std::string s;
    for (char c : std::string_view("EncryptionInfo")) {
      s += c;
      s += '\0';
    }
    return s;
  }();
  return bytes.find(kName) != std::string_view::npos || bytes.find(kInfo) != std::string_view::npos;
}

// The first directory sector of a compound file, given its header, or "".
template <typename ReadAt>
std::string FirstDirectorySector(std::string_view header, ReadAt read_at) {
  if (header.size() < 0x34) return "";
  const auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(header[i])); };
  const uint32_t shift = u8(0x1E) | (u8(0x1F) << 8);
  const uint32_t sid = u8(0x30) | (u8(0x31) << 8) | (u8(0x32) << 16) | (u8(0x33) << 24);
  if ((shift != 9 && shift != 12) || sid >= 0xFFFFFFFA) return "";
  return read_at((uint64_t{sid} + 1) << shift, size_t{1} << shift);
}

Error OleError(const std::string& name, bool encrypted) {
  if (encrypted) {
    return InvalidArgument(name +
                           ": password-protected workbooks are not supported; save without a "
                           "password");
  }
  return InvalidArgument(name +
                         ": an OLE2 compound file, not an .xlsx: an Excel 97-2003 workbook (save "
                         "it as .xlsx) or a password-protected workbook (not supported; save "
                         "without a password)");
}

// kInvalidArgument if the file is an OLE2 compound file, not a ZIP.
Status CheckNotOle(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  std::string head(64 << 10, '\0');
  size_t got = 0;
  while (got < head.size()) {
    ASSIGN_OR_RETURN(size_t n, source->Read(head.data() + got, head.size() - got));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  if (got == 0) return Fail(InvalidArgument(path + ": empty file, not an .xlsx workbook"));
  if (!head.starts_with(kOleMagic)) return Ok();
  bool encrypted = HasEncryptionStream(head);
  if (!encrypted) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f != nullptr) {
      const std::string sector = FirstDirectorySector(head, [&](uint64_t off, size_t n) {
        std::string s(n, '\0');
        if (off > static_cast<uint64_t>(INT64_MAX) ||
            fseeko(f, static_cast<off_t>(off), SEEK_SET) != 0) {
          return std::string();
        }
        s.resize(std::fread(s.data(), 1, n, f));
        return s;
      });
      std::fclose(f);
      encrypted = HasEncryptionStream(sector);
    }
  }
  return Fail(OleError(path, encrypted));
}

Status CheckNotOle(std::string_view data, const std::string& name) {
  if (data.empty()) return Fail(InvalidArgument(name + ": empty file, not an .xlsx workbook"));
  if (!data.starts_with(kOleMagic)) return Ok();
  bool encrypted = HasEncryptionStream(data.substr(0, 64 << 10));
  if (!encrypted) {
    encrypted = HasEncryptionStream(FirstDirectorySector(data, [&](uint64_t off, size_t n) {
      return off < data.size() ? std::string(data.substr(static_cast<size_t>(off), n))
                               : std::string();
    }));
  }
  return Fail(OleError(name, encrypted));
}

// Whether `xml` has a character reference to U+0000 ("&#0;", "&#x00;"):
// pugixml would decode it into its NUL-terminated strings and silently cut
// the value there.
bool HasNulCharRef(std::string_view xml) {
  for (size_t at = xml.find("&#"); at != std::string_view::npos; at = xml.find("&#", at + 2)) {
    size_t i = at + 2;
    const bool hex = i < xml.size() && (xml[i] == 'x' || xml[i] == 'X');
    if (hex) ++i;
    const size_t digits = i;
    while (i < xml.size() && xml[i] == '0') ++i;
    if (i > digits && i < xml.size() && xml[i] == ';') return true;
  }
  return false;
}

// ---- Streaming XML ----

// The child elements of one container element of a part, one at a time,
// each as the exact text of the element ("<row r="5">...</row>"), read with
// bounded memory (see the file comment). The container is the root element
// (`container` empty; for <sst>) or a child of it (<sheetData>). After the
// last child the rest of the part is still read and checked, so that a
// truncated or corrupt part (bad CRC) fails instead of ending early.
class ElementStream {
 public:
  ElementStream(std::unique_ptr<ZipEntryReader> entry, std::string root, std::string container,
                size_t max_element_bytes)
      : entry_(std::move(entry)),
        root_(std::move(root)),
        container_depth_(container.empty() ? 0 : 1),
        container_(container.empty() ? root_ : std::move(container)),
        max_element_bytes_(max_element_bytes) {}

  // Sets *element to the next child of the container, valid until the next
  // call; returns false at the end of the part. Errors: kInvalidArgument
  // "FILE: PART:LINE:COL: what" (malformed or truncated XML, a NUL byte, an
  // element longer than max_element_bytes).
  Result<bool> Next(std::string_view* element);

  // "FILE: PART:LINE:COL" for byte `offset` of the element last returned.
  std::string WhereInElement(size_t offset) { return Where(element_abs_ + offset); }
  // Whether the container element was found.
  bool saw_container() const { return container_open_; }
  uint64_t bytes_consumed() const { return entry_->consumed(); }
  uint64_t bytes_total() const { return entry_->size(); }

 private:
  std::string Where(uint64_t abs);
  Error ErrorAt(uint64_t abs, const std::string& what) {
    return InvalidArgument(Where(abs) + ": " + what);
  }
  // Reads another chunk; false at the end of the part.
  Result<bool> More();
  // Drops the bytes before pos_, counting their lines.
  void Compact();
  // Position of `needle` at or after `from`, reading as needed.
  Result<size_t> Find(size_t from, std::string_view needle, std::string_view what);
  // Position of the '>' that ends the tag starting before `from`.
  Result<size_t> FindTagEnd(size_t from);
  // Ensures n bytes at `at` if the part has them.
  Result<bool> Ensure(size_t at, size_t n);
  // Returns buf_[element_start_, end) as the next element, after checks.
  Result<bool> Emit(size_t end, std::string_view* element);

  std::unique_ptr<ZipEntryReader> entry_;
  std::string root_;
  size_t container_depth_;  // 0: the root is the container; 1: a child of it
  std::string container_;
  size_t max_element_bytes_;

  std::string buf_;
  size_t pos_ = 0;
  uint64_t base_ = 0;        // part offset of buf_[0]
  uint64_t line_ = 1;        // line of buf_[0]
  uint64_t line_start_ = 0;  // part offset where that line starts
  bool eof_ = false;
  bool started_ = false;
  bool done_ = false;
  size_t token_start_ = 0;

  std::vector<std::string> stack_;  // open elements, qualified names
  bool root_seen_ = false;
  bool container_open_ = false;
  bool container_closed_ = false;
  bool in_element_ = false;
  size_t element_start_ = 0;  // in buf_
  size_t element_depth_ = 0;  // stack_.size() before its start tag
  uint64_t element_abs_ = 0;  // part offset of the element last returned
};

std::string ElementStream::Where(uint64_t abs) {
  uint64_t line = line_;
  uint64_t start = line_start_;
  const uint64_t end = std::min<uint64_t>(abs, base_ + buf_.size());
  for (uint64_t i = base_; i < end; ++i) {
    if (buf_[static_cast<size_t>(i - base_)] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return entry_->where() + ":" + std::to_string(line) + ":" + std::to_string(abs - start + 1);
}

void ElementStream::Compact() {
  for (size_t i = 0; i < pos_; ++i) {
    if (buf_[i] == '\n') {
      ++line_;
      line_start_ = base_ + i + 1;
    }
  }
  buf_.erase(0, pos_);
  base_ += pos_;
  token_start_ -= std::min(token_start_, pos_);
  pos_ = 0;
}

Result<bool> ElementStream::More() {
  if (eof_) return false;
  const size_t keep_from = in_element_ ? element_start_ : token_start_;
  if (buf_.size() - keep_from > max_element_bytes_) {
    return Fail(ErrorAt(base_ + keep_from, std::string(in_element_ ? "element" : "markup") +
                                               " is longer than " +
                                               std::to_string(max_element_bytes_) + " bytes"));
  }
  const size_t old = buf_.size();
  ASSIGN_OR_RETURN(size_t n, entry_->Read(buf_, kReadChunk));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  if (const void* nul = std::memchr(buf_.data() + old, '\0', n)) {
    return Fail(ErrorAt(base_ + static_cast<uint64_t>(static_cast<const char*>(nul) - buf_.data()),
                        "NUL byte: not XML text"));
  }
  if (base_ == 0 && old < 2 && buf_.size() >= 2 &&
      (buf_.starts_with("\xFF\xFE") || buf_.starts_with("\xFE\xFF"))) {
    return Fail(ErrorAt(0, "UTF-16 XML is not supported"));
  }
  return true;
}

Result<bool> ElementStream::Ensure(size_t at, size_t n) {
  while (buf_.size() < at + n) {
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) return false;
  }
  return true;
}

Result<size_t> ElementStream::Find(size_t from, std::string_view needle, std::string_view what) {
  size_t scan = from;
  for (;;) {
    const size_t at = buf_.find(needle, scan);
    if (at != std::string::npos) return at;
    scan = std::max(from, buf_.size() >= needle.size() ? buf_.size() - needle.size() + 1 : 0);
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      return Fail(ErrorAt(base_ + token_start_,
                          std::string(what) + " is not closed before the end of the part"));
    }
  }
}

Result<size_t> ElementStream::FindTagEnd(size_t from) {
  char quote = 0;
  size_t i = from;
  for (;;) {
    for (; i < buf_.size(); ++i) {
      const char c = buf_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return i;
      } else if (c == '<') {
        return Fail(ErrorAt(base_ + i, "malformed XML: '<' inside a tag"));
      }
    }
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      return Fail(ErrorAt(base_ + token_start_, "tag is not closed before the end of the part"));
    }
  }
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Result<bool> ElementStream::Emit(size_t end, std::string_view* element) {
  in_element_ = false;
  element_abs_ = base_ + element_start_;
  if (end - element_start_ > max_element_bytes_) {
    return Fail(ErrorAt(element_abs_,
                        "element is longer than " + std::to_string(max_element_bytes_) + " bytes"));
  }
  *element = std::string_view(buf_).substr(element_start_, end - element_start_);
  if (HasNulCharRef(*element)) {
    return Fail(ErrorAt(element_abs_, "malformed XML: a character reference to NUL"));
  }
  return true;
}

Result<bool> ElementStream::Next(std::string_view* element) {
  if (done_) return false;
  if (!started_) {
    started_ = true;
    ASSIGN_OR_RETURN(bool have_bom, Ensure(0, 3));
    if (have_bom && buf_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte-order mark
  }
  for (;;) {
    if (!in_element_ && pos_ > kReadChunk) Compact();
    token_start_ = pos_;
    // Text up to the next '<'. Inside the root it is content (an element's
    // text is pugixml's to check); outside it, only white space may appear.
    size_t lt = std::string::npos;
    for (;;) {
      lt = buf_.find('<', pos_);
      const size_t text_end = lt == std::string::npos ? buf_.size() : lt;
      if (stack_.empty()) {
        for (size_t i = pos_; i < text_end; ++i) {
          if (!IsXmlSpace(buf_[i])) {
            return Fail(ErrorAt(base_ + i, "malformed XML: text outside the root element"));
          }
        }
      }
      if (lt != std::string::npos) break;
      pos_ = buf_.size();
      if (!in_element_) {
        Compact();
        token_start_ = 0;
      }
      ASSIGN_OR_RETURN(bool more, More());
      if (!more) {
        if (!stack_.empty()) {
          return Fail(ErrorAt(base_ + buf_.size(), "malformed XML: the part ends inside <" +
                                                       ForMessage(stack_.back(), 40) + ">"));
        }
        if (!root_seen_) return Fail(ErrorAt(0, "malformed XML: no root element"));
        done_ = true;
        return false;
      }
    }
    token_start_ = lt;
    ASSIGN_OR_RETURN(bool have_two, Ensure(lt, 2));
    if (!have_two) return Fail(ErrorAt(base_ + lt, "malformed XML: the part ends inside a tag"));
    const char kind = buf_[lt + 1];
    if (kind == '?') {
      ASSIGN_OR_RETURN(size_t end, Find(lt + 2, "?>", "processing instruction"));
      pos_ = end + 2;
      continue;
    }
    if (kind == '!') {
      ASSIGN_OR_RETURN(bool have_nine, Ensure(lt, 9));
      const std::string_view head = std::string_view(buf_).substr(lt, have_nine ? 9 : 4);
      if (head.starts_with("<!--")) {
        ASSIGN_OR_RETURN(size_t end, Find(lt + 4, "-->", "comment"));
        pos_ = end + 3;
        continue;
      }
      if (head == "<![CDATA[" && !stack_.empty()) {
        ASSIGN_OR_RETURN(size_t end, Find(lt + 9, "]]>", "CDATA section"));
        pos_ = end + 3;
        continue;
      }
      return Fail(ErrorAt(base_ + lt,
                          "malformed XML: a DOCTYPE or other declaration (Office XML "
                          "has none)"));
    }
    if (kind == '/') {
      ASSIGN_OR_RETURN(size_t gt, Find(lt + 2, ">", "end tag"));
      const std::string_view name = TrimAscii(std::string_view(buf_).substr(lt + 2, gt - lt - 2));
      if (stack_.empty() || name != stack_.back()) {
        return Fail(ErrorAt(
            base_ + lt,
            "malformed XML: end tag </" + ForMessage(name, 40) + "> does not match " +
                (stack_.empty() ? "any start tag" : "<" + ForMessage(stack_.back(), 40) + ">")));
      }
      stack_.pop_back();
      pos_ = gt + 1;
      if (container_open_ && !container_closed_ && stack_.size() == container_depth_) {
        container_closed_ = true;
      }
      if (in_element_ && stack_.size() == element_depth_) return Emit(pos_, element);
      continue;
    }
    // A start tag or an empty-element tag.
    ASSIGN_OR_RETURN(size_t gt, FindTagEnd(lt + 1));
    const bool empty = buf_[gt - 1] == '/' && gt - 1 > lt;
    size_t name_end = lt + 1;
    while (name_end < gt && !IsXmlSpace(buf_[name_end]) && buf_[name_end] != '/') ++name_end;
    const std::string_view name = std::string_view(buf_).substr(lt + 1, name_end - lt - 1);
    if (name.empty()) return Fail(ErrorAt(base_ + lt, "malformed XML: a tag without a name"));
    if (stack_.empty()) {
      if (root_seen_) return Fail(ErrorAt(base_ + lt, "malformed XML: a second root element"));
      root_seen_ = true;
      if (LocalName(name) != root_) {
        return Fail(ErrorAt(
            base_ + lt, "the root element is <" + ForMessage(name, 40) + ">, not <" + root_ + ">"));
      }
    }
    const size_t depth = stack_.size();
    bool starts_element = false;
    if (!in_element_ && container_open_ && !container_closed_ && depth == container_depth_ + 1) {
      starts_element = true;
      in_element_ = true;
      element_start_ = lt;
      element_depth_ = depth;
    }
    if (!container_open_ && depth == container_depth_ && LocalName(name) == container_) {
      container_open_ = true;
      container_closed_ = empty;
    }
    pos_ = gt + 1;
    if (empty) {
      if (starts_element) return Emit(pos_, element);
      continue;
    }
    if (stack_.size() >= kMaxXmlDepth) {
      return Fail(ErrorAt(base_ + lt, "malformed XML: elements nested more than " +
                                          std::to_string(kMaxXmlDepth) + " deep"));
    }
    stack_.emplace_back(name);
  }
}

// ---- The reader ----

struct Relationship {
  std::string type;    // the URI's last segment: "worksheet", "styles", ...
  std::string target;  // resolved part name
  bool external = false;
};

// Percent-decodes a relationship target (a URI reference).
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A relationship target resolved against the folder of its source part
// ("xl/"): "worksheets/sheet1.xml" -> "xl/worksheets/sheet1.xml",
// "/xl/x.xml" -> "xl/x.xml", ".." segments applied.
std::string ResolveTarget(std::string_view source_dir, std::string_view target) {
  std::string path = PercentDecode(target);
  if (const size_t hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  std::string joined = path.starts_with('/') ? path.substr(1) : std::string(source_dir) + path;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    const std::string seg = joined.substr(start, slash - start);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = slash + 1;
  }
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string DirOf(const std::string& part) {
  const size_t slash = part.rfind('/');
  return slash == std::string::npos ? "" : part.substr(0, slash + 1);
}

std::string RelsPartOf(const std::string& part) {
  const size_t slash = part.rfind('/');
  const std::string file = slash == std::string::npos ? part : part.substr(slash + 1);
  return DirOf(part) + "_rels/" + file + ".rels";
}

class XlsxReader final : public RowReader {
 public:
  XlsxReader(std::unique_ptr<ZipArchive> zip, const ReadOptions& options)
      : zip_(std::move(zip)),
        name_(zip_->name()),
        max_field_bytes_(options.max_field_bytes),
        max_element_bytes_(std::max<size_t>(size_t{1} << 20, options.max_field_bytes > SIZE_MAX / 64
                                                                 ? SIZE_MAX
                                                                 : options.max_field_bytes * 64)) {}

  // Finds the sheet, loads styles and shared strings, reads the header.
  Status Init(const std::string& sheet);

  const std::vector<std::string>& header() const override { return header_; }
  Result<bool> Next(Row& row) override;
  std::string encoding() const override { return "utf-8"; }
  std::string format() const override { return "xlsx"; }
  uint64_t bytes_consumed() const override { return sheet_ ? sheet_->bytes_consumed() : 0; }
  uint64_t bytes_total() const override { return sheet_ ? sheet_->bytes_total() : 0; }

 private:
  struct Cell {
    uint32_t col = 0;
    std::string value;
    bool number = false;  // a number cell (not text, not a date)
  };

  Result<pugi::xml_document> LoadPart(const std::string& part, const char* root) const;
  Result<std::map<std::string, Relationship>> LoadRels(const std::string& source_part) const;
  Status LoadStyles(const std::string& part);
  Status LoadSharedStrings(const std::string& part);
  // Reads the next row that has a value into cells_[0, ncells_) and
  // row_number_; false at the end of the sheet.
  Result<bool> NextSheetRow();
  // `number` tells whether the cell held a number (not a date or text).
  Result<bool> CellValue(const pugi::xml_node& c, uint32_t col, std::string& out, bool* number);
  std::string CellWhere(uint32_t col) const {
    return name_ + ": sheet " + Quoted(sheet_name_) + ", cell " + ColumnLetters(col) +
           std::to_string(row_number_);
  }

  std::unique_ptr<ZipArchive> zip_;  // declared first: outlives sheet_'s open entry
  std::string name_;
  size_t max_field_bytes_;
  size_t max_element_bytes_;
  std::string sheet_name_;
  bool date1904_ = false;
  std::vector<DateKind> xf_kinds_;     // by cellXfs index
  SharedStrings shared_;
  std::unique_ptr<ElementStream> sheet_;
  pugi::xml_document doc_;
  std::vector<std::string> header_;
  std::vector<Cell> cells_;
  size_t ncells_ = 0;
  uint32_t row_number_ = 0;
  uint64_t rows_ = 0;
  bool done_ = false;
  std::optional<Error> error_;
};

Result<pugi::xml_document> XlsxReader::LoadPart(const std::string& part, const char* root) const {
  ASSIGN_OR_RETURN(std::string text, zip_->ReadWhole(part, kMaxWholePartBytes));
  const std::string where = name_ + ": " + ForMessage(part, 128);
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    return Fail(InvalidArgument(where + ":" + LineColOf(text, nul) + ": NUL byte: not XML text"));
  }
  if (HasNulCharRef(text)) {
    return Fail(InvalidArgument(where + ": malformed XML: a character reference to NUL"));
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result r =
      doc.load_buffer(text.data(), text.size(), kParseFlags, pugi::encoding_utf8);
  if (!r) {
    return Fail(InvalidArgument(where + ":" + LineColOf(text, static_cast<size_t>(r.offset)) +
                                ": malformed XML (" + r.description() + ")"));
  }
  if (!IsLocal(doc.document_element(), root)) {
    return Fail(InvalidArgument(where + ": the root element is <" +
                                ForMessage(doc.document_element().name(), 40) + ">, not <" + root +
                                ">"));
  }
  return doc;
}

Result<std::map<std::string, Relationship>> XlsxReader::LoadRels(
    const std::string& source_part) const {
  std::map<std::string, Relationship> rels;
  const std::string part = RelsPartOf(source_part);
  if (!zip_->Has(part)) return rels;
  ASSIGN_OR_RETURN(pugi::xml_document doc, LoadPart(part, "Relationships"));
  const std::string dir = DirOf(source_part);
  for (pugi::xml_node r : doc.document_element().children()) {
    if (!IsLocal(r, "Relationship")) continue;
    Relationship rel;
    const std::string_view type = r.attribute("Type").value();
    rel.type = std::string(type.substr(type.rfind('/') + 1));
    rel.external = std::string_view(r.attribute("TargetMode").value()) == "External";
    rel.target = ResolveTarget(dir, r.attribute("Target").value());
    rels.emplace(r.attribute("Id").value(), std::move(rel));
  }
  return rels;
}

Status XlsxReader::LoadStyles(const std::string& part) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, LoadPart(part, "styleSheet"));
  const pugi::xml_node sheet = doc.document_element();
  std::map<uint32_t, DateKind> custom;
  for (pugi::xml_node f : Child(sheet, "numFmts").children()) {
    if (!IsLocal(f, "numFmt")) continue;
    const std::optional<uint64_t> id = ParseUint(f.attribute("numFmtId").value());
    if (id && *id <= UINT32_MAX) {
      custom[static_cast<uint32_t>(*id)] = CustomDateKind(f.attribute("formatCode").value());
    }
  }
  for (pugi::xml_node xf : Child(sheet, "cellXfs").children()) {
    if (!IsLocal(xf, "xf")) continue;
    DateKind kind = DateKind::kNone;
    const std::optional<uint64_t> id = ParseUint(xf.attribute("numFmtId").value());
    if (id && *id <= UINT32_MAX) {
      const auto it = custom.find(static_cast<uint32_t>(*id));
      kind = it != custom.end() ? it->second : BuiltinDateKind(static_cast<uint32_t>(*id));
    }
    xf_kinds_.push_back(kind);
  }
  return Ok();
}

Status XlsxReader::LoadSharedStrings(const std::string& part) {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry,
                   zip_->Open(part, kMaxSharedStringsPartBytes));
  ElementStream sst(std::move(entry), "sst", "", max_element_bytes_);
  pugi::xml_document doc;
  for (;;) {
    std::string_view element;
    ASSIGN_OR_RETURN(bool more, sst.Next(&element));
    if (!more) break;
    const pugi::xml_parse_result r =
        doc.load_buffer(element.data(), element.size(), kParseFlags, pugi::encoding_utf8);
    if (!r) {
      return Fail(InvalidArgument(sst.WhereInElement(static_cast<size_t>(r.offset)) +
                                  ": malformed XML (" + r.description() + ")"));
    }
    const pugi::xml_node si = doc.first_child();
    if (!IsLocal(si, "si")) continue;
    const std::string text = DecodeXEscapes(RichText(si));
    if (!IsValidUtf8(text) || text.find('\0') != std::string::npos) {
      return Fail(InvalidArgument(sst.WhereInElement(0) + ": shared string " +
                                  std::to_string(shared_.size()) +
                                  " is not valid UTF-8 text"));
    }
    if (shared_.size() >= kMaxSharedStrings) {
      return Fail(InvalidArgument(name_ + ": " + ForMessage(part, 128) + ": more than " +
                                  std::to_string(kMaxSharedStrings) + " shared strings"));
    }
    RETURN_IF_ERROR(shared_.Add(text));
  }
  return Ok();
}

Status XlsxReader::Init(const std::string& sheet) {
  // The main part, from the package relationships (usually xl/workbook.xml).
  std::string workbook_part = "xl/workbook.xml";
  ASSIGN_OR_RETURN(auto package_rels, LoadRels(""));
  for (const auto& [id, rel] : package_rels) {
    if (rel.type == "officeDocument" && !rel.external) workbook_part = rel.target;
  }
  if (!zip_->Has(workbook_part)) {
    return Fail(InvalidArgument(name_ + ": not an Excel workbook: the package has no " +
                                ForMessage(workbook_part, 128)));
  }
  ASSIGN_OR_RETURN(pugi::xml_document workbook, LoadPart(workbook_part, "workbook"));
  const pugi::xml_node wb = workbook.document_element();
  const std::string_view d1904 = Child(wb, "workbookPr").attribute("date1904").value();
  date1904_ = d1904 == "1" || d1904 == "true";

  ASSIGN_OR_RETURN(auto rels, LoadRels(workbook_part));
  struct SheetEntry {
    std::string name;
    const Relationship* rel = nullptr;
  };
  std::vector<SheetEntry> sheets;
  for (pugi::xml_node s : Child(wb, "sheets").children()) {
    if (!IsLocal(s, "sheet")) continue;
    SheetEntry entry{s.attribute("name").value(), nullptr};
    const auto it = rels.find(Attr(s, "id", /*prefixed=*/true).value());
    if (it != rels.end() && !it->second.external) entry.rel = &it->second;
    sheets.push_back(std::move(entry));
  }
  const SheetEntry* chosen = nullptr;
  if (sheet.empty()) {
    for (const SheetEntry& s : sheets) {
      if (s.rel != nullptr && s.rel->type == "worksheet") {
        chosen = &s;
        break;
      }
    }
    if (chosen == nullptr) {
      return Fail(InvalidArgument(name_ + ": the workbook has no worksheet"));
    }
  } else {
    for (const SheetEntry& s : sheets) {
      if (s.name == sheet) chosen = &s;
    }
    if (chosen == nullptr) {  // Excel's sheet names are case-insensitive
      for (const SheetEntry& s : sheets) {
        if (s.name.size() == sheet.size() &&
            std::equal(s.name.begin(), s.name.end(), sheet.begin(), [](char a, char b) {
              auto lower = [](char c) {
                return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
              };
              return lower(a) == lower(b);
            })) {
          chosen = &s;
        }
      }
    }
    if (chosen == nullptr) {
      std::string names;
      for (const SheetEntry& s : sheets) names += (names.empty() ? "" : ", ") + Quoted(s.name);
      return Fail(NotFound(name_ + ": no sheet named " + Quoted(sheet) + "; the workbook has " +
                           (names.empty() ? "no sheets" : names)));
    }
    if (chosen->rel == nullptr) {
      return Fail(InvalidArgument(name_ + ": sheet " + Quoted(chosen->name) +
                                  " has no part in the package"));
    }
    if (chosen->rel->type != "worksheet") {
      return Fail(InvalidArgument(
          name_ + ": sheet " + Quoted(chosen->name) +
          (chosen->rel->type == "chartsheet" ? " is a chart sheet" : " is not a worksheet") +
          ", not a table"));
    }
  }
  sheet_name_ = chosen->name;
  if (!zip_->Has(chosen->rel->target)) {
    return Fail(InvalidArgument(name_ + ": sheet " + Quoted(sheet_name_) + " refers to " +
                                ForMessage(chosen->rel->target, 128) +
                                ", which the package does not have"));
  }
  const std::string sheet_part = chosen->rel->target;
  for (const auto& [id, rel] : rels) {
    if (rel.external || !zip_->Has(rel.target)) continue;
    if (rel.type == "styles" && xf_kinds_.empty()) {
      RETURN_IF_ERROR(LoadStyles(rel.target));
    } else if (rel.type == "sharedStrings" && shared_.size() == 0) {
      RETURN_IF_ERROR(LoadSharedStrings(rel.target));
    }
  }

  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry,
                   zip_->Open(sheet_part, kMaxSheetPartBytes));
  sheet_ = std::make_unique<ElementStream>(std::move(entry), "worksheet", "sheetData",
                                           max_element_bytes_);
  ASSIGN_OR_RETURN(bool found, NextSheetRow());
  if (!found) {
    return Fail(InvalidArgument(name_ + ": sheet " + Quoted(sheet_name_) + " is empty, no header"));
  }
  const uint32_t width = cells_[ncells_ - 1].col + 1;
  std::vector<std::string> raw(width);
  for (size_t i = 0; i < ncells_; ++i) raw[cells_[i].col] = std::move(cells_[i].value);
  header_.reserve(width);
  for (uint32_t i = 0; i < width; ++i) header_.push_back(HeaderName(raw[i], i));
  return Ok();
}

Result<bool> XlsxReader::CellValue(const pugi::xml_node& c, uint32_t col, std::string& out,
                                   bool* number) {
  out.clear();
  *number = false;
  const std::string_view type = c.attribute("t").value();
  const pugi::xml_node v = Child(c, "v");
  if (type == "s") {
    if (!v) return true;
    const std::optional<uint64_t> index = ParseUint(TextOf(v));
    if (!index || *index >= shared_.size()) {
      return Fail(InvalidArgument(CellWhere(col) +
                                  ": refers to a shared string that the "
                                  "workbook does not have (it has " +
                                  std::to_string(shared_.size()) + ")"));
    }
    ASSIGN_OR_RETURN(std::string_view text, shared_.Get(static_cast<uint32_t>(*index)));
    out.assign(text);
    return true;
  }
  if (type == "inlineStr") {
    const pugi::xml_node is = Child(c, "is");
    out = DecodeXEscapes(is ? RichText(is) : TextOf(v));
  } else if (type == "str") {
    out = DecodeXEscapes(TextOf(v));
  } else if (type == "b") {
    const std::string text(TrimAscii(TextOf(v)));
    out = text == "1" ? "TRUE" : text == "0" ? "FALSE" : text;
  } else if (type == "d") {
    out = IsoDateCell(TextOf(v));
  } else if (type == "e") {
    out = TextOf(v);
  } else {  // "n", absent, or unknown: a number, kept exactly as written
    out = TrimAscii(TextOf(v));
    if (!out.empty() && (type.empty() || type == "n")) {
      *number = true;
      const std::optional<uint64_t> style = ParseUint(c.attribute("s").value());
      if (style && *style < xf_kinds_.size()) {
        const DateKind kind = xf_kinds_[static_cast<size_t>(*style)];
        if (kind != DateKind::kNone) {
          out = FormatSerial(out, kind, date1904_);
          *number = false;
        }
      }
    }
  }
  if (!IsValidUtf8(out) || out.find('\0') != std::string::npos) {
    return Fail(InvalidArgument(CellWhere(col) + ": the value is not valid UTF-8 text"));
  }
  return true;
}

// Parses "C5" into a column (0-based) and a row (1-based, 0 if absent).
bool ParseCellRef(std::string_view ref, uint32_t* col, uint32_t* row) {
  size_t i = 0;
  uint32_t c = 0;
  while (i < ref.size() && i < 3 &&
         ((ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z'))) {
    const char up = ref[i] >= 'a' ? static_cast<char>(ref[i] - 'a' + 'A') : ref[i];
    c = c * 26 + static_cast<uint32_t>(up - 'A' + 1);
    ++i;
  }
  if (i == 0 || c > kMaxSheetColumns) return false;
  uint32_t r = 0;
  const size_t digits = i;
  while (i < ref.size() && ref[i] >= '0' && ref[i] <= '9' && i - digits < 8) {
    r = r * 10 + static_cast<uint32_t>(ref[i] - '0');
    ++i;
  }
  if (i != ref.size()) return false;
  *col = c - 1;
  *row = r;
  return true;
}

Result<bool> XlsxReader::NextSheetRow() {
  for (;;) {
    std::string_view element;
    ASSIGN_OR_RETURN(bool more, sheet_->Next(&element));
    if (!more) return false;
    const pugi::xml_parse_result r =
        doc_.load_buffer(element.data(), element.size(), kParseFlags, pugi::encoding_utf8);
    if (!r) {
      return Fail(InvalidArgument(sheet_->WhereInElement(static_cast<size_t>(r.offset)) +
                                  ": malformed XML (" + r.description() + ")"));
    }
    const pugi::xml_node row = doc_.first_child();
    if (!IsLocal(row, "row")) continue;
    auto sheet_where = [&] { return name_ + ": sheet " + Quoted(sheet_name_); };
    uint32_t number = row_number_ + 1;
    if (const pugi::xml_attribute ra = row.attribute("r")) {
      const std::optional<uint64_t> n = ParseUint(ra.value());
      if (!n || *n == 0 || *n > kMaxSheetRows) {
        return Fail(InvalidArgument(sheet_->WhereInElement(0) + ": row number is not 1 to " +
                                    std::to_string(kMaxSheetRows)));
      }
      if (*n <= row_number_) {
        return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(*n) +
                                    ": comes after row " + std::to_string(row_number_) +
                                    " (rows out of order or repeated)"));
      }
      number = static_cast<uint32_t>(*n);
    }
    if (number > kMaxSheetRows) {
      return Fail(InvalidArgument(sheet_where() + ": more than " + std::to_string(kMaxSheetRows) +
                                  " rows"));
    }
    row_number_ = number;
    ncells_ = 0;
    int64_t last_col = -1;
    for (pugi::xml_node c : row.children()) {
      if (!IsLocal(c, "c")) continue;
      uint32_t col = static_cast<uint32_t>(last_col + 1);
      if (const pugi::xml_attribute ref = c.attribute("r")) {
        uint32_t ref_row = 0;
        if (!ParseCellRef(ref.value(), &col, &ref_row)) {
          return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                      ": a cell reference is not a column letter and a row "
                                      "number (A1 to XFD1048576)"));
        }
        if (ref_row != 0 && ref_row != number) {
          return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                      ": holds cell " + ColumnLetters(col) +
                                      std::to_string(ref_row) + " of another row"));
        }
      }
      if (col >= kMaxSheetColumns) {
        return Fail(InvalidArgument(sheet_where() + ", row " + std::to_string(number) +
                                    ": more than " + std::to_string(kMaxSheetColumns) +
                                    " columns"));
      }
      if (static_cast<int64_t>(col) <= last_col) {
        return Fail(InvalidArgument(CellWhere(col) + ": comes after column " +
                                    ColumnLetters(static_cast<uint32_t>(last_col)) +
                                    " (cells out of order or repeated)"));
      }
      last_col = col;
      if (ncells_ == cells_.size()) cells_.emplace_back();
      Cell& cell = cells_[ncells_];
      RETURN_IF_ERROR(CellValue(c, col, cell.value, &cell.number));
      if (cell.value.empty()) continue;
      if (cell.value.size() > max_field_bytes_) {
        return Fail(InvalidArgument(CellWhere(col) + ": value in " + ColumnLabel(header_, col) +
                                    " is longer than " + std::to_string(max_field_bytes_) +
                                    " bytes"));
      }
      cell.col = col;
      ++ncells_;
    }
    if (ncells_ > 0) return true;  // rows without a value are skipped, as blank CSV lines are
  }
}

Result<bool> XlsxReader::Next(Row& row) {
  if (error_) return Fail(*error_);
  if (done_) return false;
  auto found = NextSheetRow();
  if (!found) {
    error_ = found.error();
    return Fail(*error_);
  }
  if (!*found) {
    done_ = true;
    return false;
  }
  const size_t ncols = header_.size();
  row.fields.resize(ncols);
  for (std::string& f : row.fields) f.clear();
  row.number_cells.clear();
  for (size_t i = 0; i < ncells_; ++i) {
    Cell& cell = cells_[i];
    if (cell.col >= ncols) {
      error_ = InvalidArgument(CellWhere(cell.col) + ": a value beyond the header's " +
                               std::to_string(ncols) + (ncols == 1 ? " column" : " columns") +
                               " (A to " + ColumnLetters(static_cast<uint32_t>(ncols - 1)) + ")");
      return Fail(*error_);
    }
    row.fields[cell.col].swap(cell.value);
    if (cell.number) row.number_cells.push_back(cell.col);
  }
  row.line = row_number_;
  row.number = ++rows_;
  return true;
}

Result<std::unique_ptr<RowReader>> OpenXlsxArchive(std::unique_ptr<ZipArchive> zip,
                                                   const ReadOptions& options) {
  if (options.max_field_bytes == 0) {
    return Fail(InvalidArgument(zip->name() + ": max_field_bytes must be positive"));
  }
  auto reader = std::make_unique<XlsxReader>(std::move(zip), options);
  RETURN_IF_ERROR(reader->Init(options.sheet));
  return std::unique_ptr<RowReader>(std::move(reader));
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenXlsx(const std::string& path, const ReadOptions& options) {
  RETURN_IF_ERROR(CheckNotOle(path));
  ASSIGN_OR_RETURN(std::unique_ptr<ZipArchive> zip, ZipArchive::OpenFile(path));
  return OpenXlsxArchive(std::move(zip), options);
}

Result<std::unique_ptr<RowReader>> OpenXlsxFromString(std::string data, const std::string& name,
                                                      const ReadOptions& options) {
  RETURN_IF_ERROR(CheckNotOle(data, name));
  ASSIGN_OR_RETURN(std::unique_ptr<ZipArchive> zip, ZipArchive::OpenMemory(std::move(data), name));
  return OpenXlsxArchive(std::move(zip), options);
}

}  // namespace custos::ingest
