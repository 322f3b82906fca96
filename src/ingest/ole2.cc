// Telling an OLE2 compound file (an encrypted workbook or an .xls) from an
// .xlsx, by its magic and the names of its streams. See ole2.h.
#include "ingest/ole2.h"

#include <cstdint>
#include <cstdio>

#include "ingest/encoding.h"

namespace custos::ingest::internal {
namespace {

// How much of the start of a file is searched for the stream names before
// the first directory sector is looked up (a small file has its directory
// there).
constexpr size_t kHeadBytes = 64 << 10;

// A stream name as a compound file's directory stores it: UTF-16LE.
std::string Utf16Le(std::string_view ascii) {
  std::string s;
  for (char c : ascii) {
    s += c;
    s += '\0';
  }
  return s;
}

// Whether `bytes` holds a directory entry of an encrypted OOXML package
// (MS-OFFCRYPTO: streams "EncryptionInfo" and "EncryptedPackage").
bool HasEncryptionStream(std::string_view bytes) {
  static const std::string kName = Utf16Le("EncryptedPackage");
  static const std::string kInfo = Utf16Le("EncryptionInfo");
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

}  // namespace

Status CheckNotOle(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string head, ReadFileHead(path, kHeadBytes));
  if (head.empty()) return Fail(InvalidArgument(path + ": empty file, not an .xlsx workbook"));
  if (!head.starts_with(kOle2Magic)) return Ok();
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
  if (!data.starts_with(kOle2Magic)) return Ok();
  bool encrypted = HasEncryptionStream(data.substr(0, kHeadBytes));
  if (!encrypted) {
    encrypted = HasEncryptionStream(FirstDirectorySector(data, [&](uint64_t off, size_t n) {
      return off < data.size() ? std::string(data.substr(static_cast<size_t>(off), n))
                               : std::string();
    }));
  }
  return Fail(OleError(name, encrypted));
}

}  // namespace custos::ingest::internal
