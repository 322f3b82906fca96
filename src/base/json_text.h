// JSON text written by hand where building a json object per value would
// cost more than the value (package payloads, nested JSON Lines values).
#ifndef CUSTOS_BASE_JSON_TEXT_H_
#define CUSTOS_BASE_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace custos {

// Appends `s` as a JSON string, escaped exactly as nlohmann's dump() does:
// '"', '\\', \b \f \n \r \t, other control characters as \u00xx (lower-case
// hex); UTF-8 passes through. false if `s` is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF included); `out` then
// holds part of the literal.
bool AppendJsonString(std::string& out, std::string_view s);

}  // namespace custos

#endif  // CUSTOS_BASE_JSON_TEXT_H_
