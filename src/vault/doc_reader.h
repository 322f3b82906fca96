// Reading the vault's documents' JSON strictly, for their typed codecs
// (workflow/transfer_doc.h, workflow/destruction_doc.h, access/users.h, ...):
// a member of the wrong type, or a required one missing, is kDataLoss naming
// the document's kind, key and member; a schema version past what this build
// reads is kFailedPrecondition.
#ifndef CUSTOS_VAULT_DOC_READER_H_
#define CUSTOS_VAULT_DOC_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custos::vault {

class DocReader {
 public:
  // Parses `body` as one JSON object. "v" (absent: 1) must not be past
  // `max_version`.
  static Result<DocReader> Open(std::string_view kind, std::string_view key, std::string_view body,
                                int max_version);

  // Members. A missing required member, or one of another type, records the
  // first error (see status()) and returns an empty value.
  std::string Str(const char* name, bool required = true);
  uint64_t U64(const char* name, bool required = true);
  bool Bool(const char* name, bool required = true);
  // Optional: an array of strings, an object of strings, an object of counts.
  std::vector<std::string> Strings(const char* name);
  std::map<std::string, std::string> StringMap(const char* name);
  std::map<std::string, uint64_t> Counts(const char* name);
  // A nested object, as JSON text (for a member another codec parses).
  std::string Json(const char* name, bool required = true);
  bool Has(const char* name) const;
  // A nested object (its errors are this reader's), or an array of them.
  DocReader Object(const char* name, bool required = true);
  std::vector<DocReader> Objects(const char* name);

  // The document's schema version ("v", absent: 1).
  int version() const { return shared_->version; }

  // The first error met, if any.
  Status status() const;
  // A kDataLoss error naming the document: "<kind> '<key>' is damaged (what)".
  Error Damaged(const std::string& what) const;

 private:
  struct Shared {
    std::string kind, key;
    int version = 1;
    std::optional<Error> error;
  };
  DocReader(std::shared_ptr<Shared> shared, nlohmann::json j)
      : shared_(std::move(shared)), j_(std::move(j)) {}
  const nlohmann::json* Member(const char* name, bool required, const char* type);
  void Note(const std::string& what);

  std::shared_ptr<Shared> shared_;
  nlohmann::json j_;
};

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_DOC_READER_H_
