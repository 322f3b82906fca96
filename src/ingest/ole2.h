// OLE2 compound files where an .xlsx was expected (internal to src/ingest).
//
// Excel saves a password-protected workbook not as a ZIP but as an OLE2
// compound file holding the encrypted package (MS-OFFCRYPTO), and an Excel
// 97-2003 workbook (.xls) is one too. Both would otherwise fail as "not a
// ZIP archive"; these checks say which it is and what to do instead.
#ifndef CUSTOS_INGEST_OLE2_H_
#define CUSTOS_INGEST_OLE2_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace custos::ingest::internal {

// The first eight bytes of every OLE2 compound file.
inline constexpr std::string_view kOle2Magic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

// Ok unless the file at `path` is empty or an OLE2 compound file. Errors:
// kInvalidArgument "PATH: empty file, ...", or "PATH: password-protected
// workbooks are not supported; ..." when it holds an encrypted package,
// else "PATH: an OLE2 compound file, not an .xlsx: ..."; as OpenFileSource
// if the file cannot be read.
Status CheckNotOle(const std::string& path);

// The same over `data` held in memory; `name` stands in for the path.
Status CheckNotOle(std::string_view data, const std::string& name);

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_OLE2_H_
