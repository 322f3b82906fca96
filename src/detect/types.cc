#include "detect/types.h"

#include <array>

namespace custos::detect {

namespace {

// Indexed by the enum's value; the order must follow the enum.
constexpr std::array<std::string_view, kPiiTypeCount> kNames = {
    "person_name", "cn_resident_id", "passport", "cn_mobile", "cn_landline", "email", "bank_card",
    "address",     "uscc",           "date",     "amount",    "free_text",   "other",
};
static_assert(static_cast<int>(PiiType::kOther) + 1 == kPiiTypeCount,
              "kPiiTypeCount must match the enum");

}  // namespace

std::string_view PiiTypeName(PiiType t) {
  auto i = static_cast<size_t>(t);
  return i < kNames.size() ? kNames[i] : std::string_view("other");
}

std::optional<PiiType> PiiTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<PiiType>(i);
  }
  return std::nullopt;
}

bool IsSensitiveType(PiiType t) {
  return t == PiiType::kCnResidentId || t == PiiType::kPassport || t == PiiType::kBankCard;
}

bool IsIdentifyingType(PiiType t) {
  return t == PiiType::kCnResidentId || t == PiiType::kCnMobile || t == PiiType::kEmail;
}

}  // namespace custos::detect
