// Reference tables the detectors consult, embedded from src/detect/data/
// (each file names its sources): Chinese surnames and bank card issuer
// (IIN) ranges. Parsed once, on first use; thread-safe.
#ifndef CUSTOS_DETECT_TABLES_H_
#define CUSTOS_DETECT_TABLES_H_

#include <string_view>

namespace custos::detect {

// Whether a value starts with a known surname: a single-character one, or a
// compound one (欧阳, 司马...). REQUIRES: valid UTF-8.
bool StartsWithSurname(std::string_view value);

// The card scheme ("visa", "unionpay", "china_domestic"...) whose issuer
// range holds the longest matching prefix of `digits` and allows its length,
// or "" when none does. REQUIRES: `digits` is ASCII digits only.
std::string_view CardScheme(std::string_view digits);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_TABLES_H_
