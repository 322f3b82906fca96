// Statutory retention rules: a catalogue that is data, not code.
//
// The catalogue (docs/retention.md) lists retention classes, each with its
// legal citation, verification status ([V] statute text verified, [S]
// secondary sources), start event and period. Custos ships defaults in
// data/retention-rules.json (embedded in the binary); the operator confirms
// them or passes an edited copy. Each catalogue carries a "version" so the
// vault can record which one it applied.
//
// Thread safety: plain values and pure functions.
#ifndef CUSTOS_POLICY_RETENTION_RULES_H_
#define CUSTOS_POLICY_RETENTION_RULES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace custos::policy {

// When a rule's period starts counting.
//   end_of_accounting_year: from the day after the end of the accounting
//     (calendar) year of the start date (会计档案管理办法 Art. 14-15, as
//     legal.md section 8 reads it; tax records follow the same counting).
//   any other event: from the start date itself.
inline constexpr std::string_view kStartEndOfAccountingYear = "end_of_accounting_year";

struct Rule {
  std::string id;           // [a-z0-9-]+, unique in a catalogue
  std::string title;
  std::string citation;     // exactly as the legal research cites it
  std::string citation_zh;  // the same in Chinese, as a Chinese document cites it ("" if not given)
  std::string status;       // "V" or "S"
  std::string start_event;
  int period_years = 0;     // 1..100
  std::string applies_to;   // "" when the rule applies to everyone
};

// The citation for a Chinese document: the rule's own citation_zh, else
// the shipped default's for the same rule and citation (catalogues stored
// before citation_zh existed), else the citation as given.
std::string CitationZh(const Rule& rule);

struct Catalogue {
  std::string version;
  std::string defaults_notice;
  std::vector<Rule> rules;
  std::string canonical_json;  // the catalogue as stored in the vault

  const Rule* Find(std::string_view id) const;
};

// Parses and validates a catalogue. kInvalidArgument naming the rule and
// member on any problem: not JSON, wrong format tag, missing or empty
// version, duplicate or malformed id, empty citation, status not V/S,
// period outside 1..100 years.
Result<Catalogue> ParseCatalogue(std::string_view json_text);

// The catalogue shipped with this build (data/retention-rules.json).
const Catalogue& DefaultCatalogue();

// The first day the data may be destroyed: start + period, counted from the
// day after the end of the start's calendar year for accounting-year rules.
// 29 February plus whole years lands on 28 February in common years.
Date ExpiryOf(const Rule& rule, const Date& start);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_RETENTION_RULES_H_
