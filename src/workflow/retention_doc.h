// The retention workflow's documents, one typed codec each:
//
//   kind                 key               what
//   retention-catalogue  "current"         StoredCatalogue (the rules the vault applies)
//   retention-binding    <rule>@<dataset>  BindingDoc (fields bound to a rule)
//   retention            binding, pk       ExpiryDoc (a person's expiry)
//
// Documents carry "v" (absent: 1); damage is kDataLoss naming kind and key.
#ifndef CUSTOS_WORKFLOW_RETENTION_DOC_H_
#define CUSTOS_WORKFLOW_RETENTION_DOC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "policy/retention_rules.h"

namespace custos::workflow {

inline constexpr std::string_view kCatalogueKind = "retention-catalogue";
inline constexpr std::string_view kBindingKind = "retention-binding";
inline constexpr std::string_view kExpiryKind = "retention";

struct StoredCatalogue {
  std::string loaded_at;  // RFC 3339
  std::string source;     // "shipped-default" or "file"
  policy::Catalogue catalogue;
};
std::string SerializeStoredCatalogue(const StoredCatalogue& c);
Result<StoredCatalogue> ParseStoredCatalogue(std::string_view body);

struct BindingDoc {
  std::string rule;
  std::string dataset;
  std::vector<std::string> fields;
  // Where each person's retention starts: a date for everyone, or a field.
  std::optional<Date> start_date;
  std::string start_field;
  std::string citation;
  std::string catalogue_version;
  std::string applied_at;  // RFC 3339
  uint64_t people = 0;
};
std::string BindingKey(std::string_view rule, std::string_view dataset);  // "<rule>@<dataset>"
std::string SerializeBindingDoc(const BindingDoc& b);
Result<BindingDoc> ParseBindingDoc(std::string_view key, std::string_view body);

// A person's expiry under a binding: the first day the data may be destroyed.
std::string SerializeExpiry(const Date& expiry);
Result<Date> ParseExpiry(std::string_view binding, std::string_view body);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_RETENTION_DOC_H_
