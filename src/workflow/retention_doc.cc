#include "workflow/retention_doc.h"

#include <nlohmann/json.hpp>

#include "vault/doc_reader.h"

namespace custos::workflow {
namespace {

using json = nlohmann::ordered_json;
using vault::DocReader;

}  // namespace

std::string SerializeStoredCatalogue(const StoredCatalogue& c) {
  return json{{"v", 1},
              {"version", c.catalogue.version},
              {"loaded_at", c.loaded_at},
              {"source", c.source},
              {"catalogue", json::parse(c.catalogue.canonical_json)}}
      .dump();
}

Result<StoredCatalogue> ParseStoredCatalogue(std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kCatalogueKind, "current", body, 1));
  StoredCatalogue c;
  c.loaded_at = d.Str("loaded_at", false);
  c.source = d.Str("source", false);
  const std::string catalogue = d.Json("catalogue");
  RETURN_IF_ERROR(d.status());
  auto parsed = policy::ParseCatalogue(catalogue);
  if (!parsed) return Fail(d.Damaged(parsed.error().message()));
  c.catalogue = std::move(*parsed);
  return c;
}

std::string BindingKey(std::string_view rule, std::string_view dataset) {
  return std::string(rule) + "@" + std::string(dataset);
}

std::string SerializeBindingDoc(const BindingDoc& b) {
  json start =
      b.start_date ? json{{"date", FormatIsoDate(*b.start_date)}} : json{{"field", b.start_field}};
  return json{{"v", 1},
              {"rule", b.rule},
              {"dataset", b.dataset},
              {"fields", b.fields},
              {"start", start},
              {"citation", b.citation},
              {"catalogue_version", b.catalogue_version},
              {"applied_at", b.applied_at},
              {"people", b.people}}
      .dump();
}

Result<BindingDoc> ParseBindingDoc(std::string_view key, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kBindingKind, key, body, 1));
  BindingDoc b;
  b.rule = d.Str("rule");
  b.dataset = d.Str("dataset");
  b.fields = d.Strings("fields");
  DocReader start = d.Object("start");
  const std::string date = start.Str("date", false);
  b.start_field = start.Str("field", false);
  b.citation = d.Str("citation", false);
  b.catalogue_version = d.Str("catalogue_version", false);
  b.applied_at = d.Str("applied_at", false);
  b.people = d.U64("people", false);
  RETURN_IF_ERROR(d.status());
  if (b.fields.empty()) return Fail(d.Damaged("no fields"));
  if (!date.empty()) {
    auto parsed = ParseIsoDate(date);
    if (!parsed) return Fail(d.Damaged("start.date is not a date"));
    b.start_date = *parsed;
  }
  return b;
}

std::string SerializeExpiry(const Date& expiry) {
  return json{{"expiry", FormatIsoDate(expiry)}}.dump();
}

Result<Date> ParseExpiry(std::string_view binding, std::string_view body) {
  ASSIGN_OR_RETURN(DocReader d, DocReader::Open(kExpiryKind, binding, body, 1));
  const std::string expiry = d.Str("expiry");
  RETURN_IF_ERROR(d.status());
  auto date = ParseIsoDate(expiry);
  if (!date) return Fail(d.Damaged("a person's expiry is not a date"));
  return *date;
}

}  // namespace custos::workflow
