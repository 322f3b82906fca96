// Building XLSX packages in memory, for tests and fuzzers only: a ZIP
// written with libzip from (part name, content) pairs, and the smallest
// workbook around a sheet's <sheetData>.
#ifndef CUSTOS_INGEST_XLSX_TEST_UTIL_H_
#define CUSTOS_INGEST_XLSX_TEST_UTIL_H_

#include <zip.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace custos::ingest::testing {

using Parts = std::vector<std::pair<std::string, std::string>>;

// A ZIP archive of `parts`, deflated if `deflate`, else stored (so that the
// XML stays visible in the bytes). A part libzip refuses (an empty name) is
// left out; a repeated name replaces the earlier part. No parts: "".
inline std::string MakeZip(const Parts& parts, bool deflate = true) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (out == nullptr) std::abort();
  zip_source_keep(out);
  zip_t* zip = zip_open_from_source(out, ZIP_TRUNCATE, &error);
  if (zip == nullptr) std::abort();
  for (const auto& [name, content] : parts) {
    zip_source_t* s = zip_source_buffer(zip, content.data(), content.size(), 0);
    if (s == nullptr) std::abort();
    const zip_int64_t index =
        zip_file_add(zip, name.c_str(), s, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (index < 0) {
      zip_source_free(s);
      continue;
    }
    (void)zip_set_file_compression(zip, static_cast<zip_uint64_t>(index),
                                   deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(zip) != 0) std::abort();
  std::string bytes;
  if (zip_source_open(out) != 0) {  // no parts: libzip removes the archive, writing nothing
    zip_source_free(out);
    zip_error_fini(&error);
    return bytes;
  }
  char buf[65536];
  for (;;) {
    const zip_int64_t n = zip_source_read(out, buf, sizeof buf);
    if (n < 0) std::abort();
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&error);
  return bytes;
}

inline constexpr char kXmlDecl[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
inline constexpr char kMainNs[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
inline constexpr char kRelNs[] =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

// The parts of a workbook with one sheet "Sheet1" whose <sheetData> holds
// `sheet_data`; shared strings and styles only if given (their inner XML).
inline Parts WorkbookParts(const std::string& sheet_data, const std::string& shared_strings = "",
                           const std::string& cell_xfs = "", const std::string& num_fmts = "",
                           const std::string& workbook_pr = "") {
  const std::string ns = std::string("xmlns=\"") + kMainNs + "\"";
  const std::string rel = std::string(kRelNs);
  Parts parts;
  std::string rels =
      std::string(kXmlDecl) +
      "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" Type=\"" +
      rel + "/worksheet\" Target=\"worksheets/sheet1.xml\"/>";
  if (!shared_strings.empty()) {
    rels += "<Relationship Id=\"rId2\" Type=\"" + rel +
            "/sharedStrings\" Target=\"sharedStrings.xml\"/>";
    parts.emplace_back("xl/sharedStrings.xml",
                       std::string(kXmlDecl) + "<sst " + ns + ">" + shared_strings + "</sst>");
  }
  if (!cell_xfs.empty()) {
    rels += "<Relationship Id=\"rId3\" Type=\"" + rel + "/styles\" Target=\"styles.xml\"/>";
    parts.emplace_back("xl/styles.xml",
                       std::string(kXmlDecl) + "<styleSheet " + ns + ">" +
                           (num_fmts.empty() ? "" : "<numFmts>" + num_fmts + "</numFmts>") +
                           "<cellXfs>" + cell_xfs + "</cellXfs></styleSheet>");
  }
  rels += "</Relationships>";
  parts.emplace_back("xl/_rels/workbook.xml.rels", rels);
  parts.emplace_back("xl/workbook.xml", std::string(kXmlDecl) + "<workbook " + ns + " xmlns:r=\"" +
                                            rel + "\">" + workbook_pr +
                                            "<sheets><sheet name=\"Sheet1\" sheetId=\"1\" "
                                            "r:id=\"rId1\"/></sheets></workbook>");
  parts.emplace_back("xl/worksheets/sheet1.xml", std::string(kXmlDecl) + "<worksheet " + ns +
                                                     "><sheetData>" + sheet_data +
                                                     "</sheetData></worksheet>");
  return parts;
}

}  // namespace custos::ingest::testing

#endif  // CUSTOS_INGEST_XLSX_TEST_UTIL_H_
