// The package structure of an .xlsx workbook: parts parsed whole, and
// relationships. See xlsx_package.h.
#include "ingest/xlsx_package.h"

#include <utility>
#include <vector>

#include "ingest/xlsx_text.h"
#include "ingest/xml_stream.h"

namespace custos::ingest::internal {
namespace {

// Parts parsed whole (workbook, relationships, styles).
constexpr uint64_t kMaxWholePartBytes = 64 << 20;

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

}  // namespace

bool IsLocal(const pugi::xml_node& node, std::string_view local) {
  return node.type() == pugi::node_element && LocalName(node.name()) == local;
}

pugi::xml_node Child(const pugi::xml_node& node, std::string_view local) {
  for (pugi::xml_node c : node.children()) {
    if (IsLocal(c, local)) return c;
  }
  return {};
}

pugi::xml_attribute Attr(const pugi::xml_node& node, std::string_view local, bool prefixed) {
  for (pugi::xml_attribute a : node.attributes()) {
    const std::string_view name = a.name();
    if (prefixed ? (name.find(':') != std::string_view::npos && LocalName(name) == local)
                 : name == local) {
      return a;
    }
  }
  return {};
}

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

Result<pugi::xml_document> LoadXmlPart(const ZipArchive& zip, const std::string& part,
                                       const char* root) {
  ASSIGN_OR_RETURN(std::string text, zip.ReadWhole(part, kMaxWholePartBytes));
  const std::string where = zip.name() + ": " + ForMessage(part, 128);
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    return Fail(InvalidArgument(where + ":" + LineColOf(text, nul) + ": NUL byte: not XML text"));
  }
  if (HasNulCharRef(text)) {
    return Fail(InvalidArgument(where + ": malformed XML: a character reference to NUL"));
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result r =
      doc.load_buffer(text.data(), text.size(), kXmlParseFlags, pugi::encoding_utf8);
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

Result<std::map<std::string, Relationship>> LoadRelationships(const ZipArchive& zip,
                                                              const std::string& source_part) {
  std::map<std::string, Relationship> rels;
  const std::string part = RelsPartOf(source_part);
  if (!zip.Has(part)) return rels;
  ASSIGN_OR_RETURN(pugi::xml_document doc, LoadXmlPart(zip, part, "Relationships"));
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

}  // namespace custos::ingest::internal
