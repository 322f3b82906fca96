// The closed vocabulary of detected types (architecture.md), used in every
// JSON output, and which of them are sensitive under PIPL Art. 28.
#ifndef CUSTOS_DETECT_TYPES_H_
#define CUSTOS_DETECT_TYPES_H_

#include <optional>
#include <string_view>

namespace custos::detect {

enum class PiiType : unsigned char {
  kPersonName,
  kCnResidentId,
  kPassport,
  kCnMobile,
  kCnLandline,
  kEmail,
  kBankCard,
  kAddress,
  kUscc,
  kDate,
  kAmount,
  kFreeText,
  kOther,
};
inline constexpr int kPiiTypeCount = 13;

// "person_name", "cn_resident_id", ... exactly as architecture.md spells them.
std::string_view PiiTypeName(PiiType t);
std::optional<PiiType> PiiTypeFromName(std::string_view name);

// PIPL Art. 28 by type: cn_resident_id, passport, bank_card. (Every field of a
// person under 14 is sensitive too; that depends on the person, not the type.)
bool IsSensitiveType(PiiType t);

// Types that identify a person and get a blind index: resident id, mobile, e-mail.
bool IsIdentifyingType(PiiType t);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_TYPES_H_
