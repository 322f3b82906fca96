#include "policy/retention_rules.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <set>

#include "policy/default_rules.h"

namespace custos::policy {
namespace {

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Result<std::string> RequireString(const nlohmann::json& j, const char* member,
                                  const std::string& where) {
  auto it = j.find(member);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Fail(InvalidArgument(where + ": \"" + member + "\" must be a non-empty string"));
  }
  return it->get<std::string>();
}

}  // namespace

const Rule* Catalogue::Find(std::string_view id) const {
  for (const auto& r : rules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

Result<Catalogue> ParseCatalogue(std::string_view json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(InvalidArgument("retention rules: not a JSON object"));
  }
  if (j.value("format", "") != "custos-retention-rules") {
    return Fail(InvalidArgument(
        "retention rules: \"format\" must be \"custos-retention-rules\""));
  }
  Catalogue c;
  ASSIGN_OR_RETURN(c.version, RequireString(j, "version", "retention rules"));
  c.defaults_notice = j.value("defaults_notice", "");
  auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array() || rules->empty()) {
    return Fail(InvalidArgument("retention rules: \"rules\" must be a non-empty array"));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < rules->size(); ++i) {
    const auto& r = (*rules)[i];
    std::string where = "retention rules: rule " + std::to_string(i);
    if (!r.is_object()) return Fail(InvalidArgument(where + " is not an object"));
    Rule rule;
    ASSIGN_OR_RETURN(rule.id, RequireString(r, "id", where));
    if (!ValidId(rule.id)) {
      return Fail(InvalidArgument(where + ": id must be lower-case letters, digits and '-'"));
    }
    where = "retention rules: rule '" + rule.id + "'";
    if (!seen.insert(rule.id).second) return Fail(InvalidArgument(where + " is defined twice"));
    ASSIGN_OR_RETURN(rule.title, RequireString(r, "title", where));
    ASSIGN_OR_RETURN(rule.citation, RequireString(r, "citation", where));
    auto zh = r.find("citation_zh");
    if (zh != r.end()) {
      if (!zh->is_string() || zh->get<std::string>().empty()) {
        return Fail(InvalidArgument(where + ": \"citation_zh\" must be a non-empty string"));
      }
      rule.citation_zh = zh->get<std::string>();
    }
    ASSIGN_OR_RETURN(rule.status, RequireString(r, "status", where));
    if (rule.status != "V" && rule.status != "S") {
      return Fail(InvalidArgument(where + ": \"status\" must be \"V\" (verified) or \"S\" (secondary)"));
    }
    ASSIGN_OR_RETURN(rule.start_event, RequireString(r, "start_event", where));
    auto p = r.find("period_years");
    if (p == r.end() || !p->is_number_integer() || p->get<int64_t>() < 1 || p->get<int64_t>() > 100) {
      return Fail(InvalidArgument(where + ": \"period_years\" must be a whole number from 1 to 100"));
    }
    rule.period_years = static_cast<int>(p->get<int64_t>());
    rule.applies_to = r.value("applies_to", "");
    c.rules.push_back(std::move(rule));
  }
  c.canonical_json = j.dump();
  return c;
}

std::string CitationZh(const Rule& rule) {
  if (!rule.citation_zh.empty()) return rule.citation_zh;
  const Rule* shipped = DefaultCatalogue().Find(rule.id);
  if (shipped != nullptr && shipped->citation == rule.citation) return shipped->citation_zh;
  return rule.citation;
}

const Catalogue& DefaultCatalogue() {
  static const Catalogue* c = [] {
    auto parsed = ParseCatalogue(internal::kDefaultRulesJson);
    // The shipped file is validated by the build's tests: a broken one is a bug.
    if (!parsed) std::abort();
    return new Catalogue(std::move(*parsed));
  }();
  return *c;
}

Date ExpiryOf(const Rule& rule, const Date& start) {
  Date from = start;
  if (rule.start_event == kStartEndOfAccountingYear) from = Date{start.year + 1, 1, 1};
  Date out{from.year + rule.period_years, from.month, from.day};
  if (!IsValidDate(out.year, out.month, out.day)) out.day = 28;  // 29 Feb in a common year
  return out;
}

}  // namespace custos::policy
