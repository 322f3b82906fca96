#include "vault/doc_reader.h"

namespace custos::vault {

Result<DocReader> DocReader::Open(std::string_view kind, std::string_view key,
                                  std::string_view body, int max_version) {
  auto shared = std::make_shared<Shared>();
  shared->kind = std::string(kind);
  shared->key = std::string(key);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  DocReader r(shared, nlohmann::json::object());
  if (j.is_discarded() || !j.is_object()) return Fail(r.Damaged("not a JSON object"));
  int version = 1;
  if (j.contains("v")) {
    if (!j["v"].is_number_unsigned()) return Fail(r.Damaged("its version is not a number"));
    version = j["v"].get<int>();
  }
  if (version > max_version) {
    return Fail(FailedPrecondition(r.shared_->kind + " '" + r.shared_->key +
                                   "' is of a newer version (" + std::to_string(version) +
                                   ") than this build of Custos reads: upgrade Custos"));
  }
  r.shared_->version = version;
  r.j_ = std::move(j);
  return r;
}

void DocReader::Note(const std::string& what) {
  if (!shared_->error) shared_->error = Damaged(what);
}

Error DocReader::Damaged(const std::string& what) const {
  std::string where = shared_->kind;
  if (!shared_->key.empty()) where += " '" + shared_->key + "'";
  return DataLoss(where + " is damaged (" + what + ")");
}

Status DocReader::status() const {
  if (shared_->error) return Fail(*shared_->error);
  return Ok();
}

bool DocReader::Has(const char* name) const { return j_.contains(name) && !j_[name].is_null(); }

const nlohmann::json* DocReader::Member(const char* name, bool required, const char* type) {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) {
    if (required) Note(std::string("no ") + name);
    return nullptr;
  }
  const bool ok = std::string_view(type) == "string"    ? it->is_string()
                  : std::string_view(type) == "count"   ? it->is_number_unsigned()
                  : std::string_view(type) == "boolean" ? it->is_boolean()
                  : std::string_view(type) == "array"   ? it->is_array()
                                                        : it->is_object();
  if (!ok) {
    Note(std::string(name) + " is not a " + type);
    return nullptr;
  }
  return &*it;
}

std::string DocReader::Str(const char* name, bool required) {
  const nlohmann::json* m = Member(name, required, "string");
  return m ? m->get<std::string>() : std::string();
}

std::string DocReader::Json(const char* name, bool required) {
  const nlohmann::json* m = Member(name, required, "object");
  return m ? m->dump() : std::string();
}

uint64_t DocReader::U64(const char* name, bool required) {
  const nlohmann::json* m = Member(name, required, "count");
  return m ? m->get<uint64_t>() : 0;
}

bool DocReader::Bool(const char* name, bool required) {
  const nlohmann::json* m = Member(name, required, "boolean");
  return m ? m->get<bool>() : false;
}

std::vector<std::string> DocReader::Strings(const char* name) {
  std::vector<std::string> out;
  const nlohmann::json* m = Member(name, false, "array");
  if (!m) return out;
  for (const auto& v : *m) {
    if (!v.is_string()) {
      Note(std::string(name) + " holds a non-string");
      return {};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> DocReader::StringMap(const char* name) {
  std::map<std::string, std::string> out;
  const nlohmann::json* m = Member(name, false, "object");
  if (!m) return out;
  for (const auto& [k, v] : m->items()) {
    if (!v.is_string()) {
      Note(std::string(name) + "." + k + " is not a string");
      return {};
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

std::map<std::string, uint64_t> DocReader::Counts(const char* name) {
  std::map<std::string, uint64_t> out;
  const nlohmann::json* m = Member(name, false, "object");
  if (!m) return out;
  for (const auto& [k, v] : m->items()) {
    if (!v.is_number_unsigned()) {
      Note(std::string(name) + "." + k + " is not a count");
      return {};
    }
    out[k] = v.get<uint64_t>();
  }
  return out;
}

DocReader DocReader::Object(const char* name, bool required) {
  const nlohmann::json* m = Member(name, required, "object");
  return DocReader(shared_, m ? *m : nlohmann::json::object());
}

std::vector<DocReader> DocReader::Objects(const char* name) {
  std::vector<DocReader> out;
  const nlohmann::json* m = Member(name, false, "array");
  if (!m) return out;
  for (const auto& v : *m) {
    if (!v.is_object()) {
      Note(std::string(name) + " holds a non-object");
      return {};
    }
    out.push_back(DocReader(shared_, v));
  }
  return out;
}

}  // namespace custos::vault
