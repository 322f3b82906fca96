// The package structure of an .xlsx workbook (internal to src/ingest):
// small parts parsed whole with pugixml, the relationships that lead from
// one part to the next (Open Packaging Conventions, ECMA-376 Part 2), and
// helpers for pugixml nodes whose names may carry a namespace prefix.
//
//   _rels/.rels                  -> the main part (xl/workbook.xml)
//   xl/_rels/workbook.xml.rels   r:id -> worksheets/sheetN.xml, styles, ...
#ifndef CUSTOS_INGEST_XLSX_PACKAGE_H_
#define CUSTOS_INGEST_XLSX_PACKAGE_H_

#include <map>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ingest/zip_archive.h"

namespace custos::ingest::internal {

// How every part's XML, whole or streamed, is parsed.
inline constexpr unsigned kXmlParseFlags = pugi::parse_default | pugi::parse_ws_pcdata_single;

// Whether `node` is an element named `local`, whatever its prefix.
bool IsLocal(const pugi::xml_node& node, std::string_view local);

// The first child element of `node` named `local`, or an empty node.
pugi::xml_node Child(const pugi::xml_node& node, std::string_view local);

// An attribute by local name ("r:id" matches "id" only if `prefixed`).
pugi::xml_attribute Attr(const pugi::xml_node& node, std::string_view local, bool prefixed = false);

// Appends the character data directly inside `node`.
void AppendText(const pugi::xml_node& node, std::string& out);
std::string TextOf(const pugi::xml_node& node);

// A part parsed whole: at most 64 MiB, whose root element is `root`.
// Errors: kInvalidArgument "FILE: PART:LINE:COL: malformed XML (what)", a
// NUL byte or a reference to one, another root element; as
// ZipArchive::ReadWhole.
Result<pugi::xml_document> LoadXmlPart(const ZipArchive& zip, const std::string& part,
                                       const char* root);

struct Relationship {
  std::string type;    // the URI's last segment: "worksheet", "styles", ...
  std::string target;  // resolved part name
  bool external = false;
};

// The relationships of `source_part` ("" for the package's own), by id;
// none if it has no relationships part. Errors as LoadXmlPart.
Result<std::map<std::string, Relationship>> LoadRelationships(const ZipArchive& zip,
                                                              const std::string& source_part);

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_XLSX_PACKAGE_H_
