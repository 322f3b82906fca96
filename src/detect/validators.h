// Validators and normalizers for Chinese personal-data identifiers.
// Rules and sources: ../shared/research/legal.md section 11; docs/detection.md.
//
// All functions are pure and thread-safe. Normalizers accept the forms people
// and spreadsheets really produce (surrounding spaces, full-width digits,
// lower-case x, +86 prefixes, dashes) and return the canonical form, or
// nullopt when the value cannot be that kind of identifier at all.
#ifndef CUSTOS_DETECT_VALIDATORS_H_
#define CUSTOS_DETECT_VALIDATORS_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace custos::detect {

// Full-width ASCII (U+FF01..U+FF5E) to ASCII, ideographic space to space,
// then trims ASCII whitespace at both ends. Other bytes are kept.
std::string NormalizeWidth(std::string_view s);
// The same without an allocation in the common case (no full-width forms,
// no surrounding whitespace): returns `s` itself, or a view of `buf`
// holding NormalizeWidth(s).
std::string_view NormalizeWidthInto(std::string_view s, std::string& buf);

// Sex as a 性别 column writes it (男/女, M/F, male/female, 1/2): +1 male,
// -1 female, 0 unknown.
int ParseSex(std::string_view v);

// ---- Resident identity card number (GB 11643-1999) ----

enum class IdStatus {
  kValid,             // 18 chars, known region, real past birth date, correct check char
  kLegacy15,          // 15 digits, known region, real birth date (19yy): convertible
  kBadLength,
  kBadCharacter,
  kUnknownRegion,     // first two digits are not a province-level code
  kBadBirthDate,      // not a real calendar date
  kFutureBirthDate,   // after `today`
  kBadCheckChar,
  kScientificNotation,  // e.g. "1.10105E+17": Excel destroyed the digits
};

struct IdInfo {
  IdStatus status = IdStatus::kBadLength;
  std::string normalized;  // 18 chars upper-case (or 15 digits for kLegacy15)
  Date birth{};            // set when the birth date parsed
};

// Check character for the first 17 digits (ISO 7064 MOD 11-2). REQUIRES: 17 digits.
char ResidentIdCheckChar(std::string_view first17);
IdInfo CheckResidentId(std::string_view raw, const Date& today);
// 15-digit legacy number to 18 digits ("19" century, computed check char).
// REQUIRES: CheckResidentId(...).status == kLegacy15 on the input.
std::string UpgradeLegacyId(std::string_view id15);
// True iff it looks like Excel's scientific rendering of a long number.
bool IsScientificNotation(std::string_view s);
// How many digits the number a scientific rendering stands for had before
// the decimal point ("1.10105E+17": 18, LibreOffice's "6.2E+018": 19), or 0
// when `s` is no such rendering (or the exponent is past 99).
int ScientificIntegerDigits(std::string_view s);

// Whether a spreadsheet's number conversion destroyed a long identifier. A
// number keeps at most 15 significant digits, so every digit past the 15th
// of an ID or card number stored as a number is gone (written as 0), even
// when no exponent shows and even when the damaged value happens to pass
// its checksum.
enum class DigitsLost {
  kNo,
  kScientific,     // 1.10105E+17, 6.2170E+15: shown with an exponent
  kNumberCell,     // a spreadsheet number cell (XLSX) of 16 or more digits
  kTrailingZeros,  // text of 16 or more digits, all zero past the 15th, in a
                   // column that went through a number format (a CSV saved
                   // from a spreadsheet whose column held numbers)
};
// `number_cell`: the value came from a number cell (ingest::Row::number_cells).
// `converted_column`: the column went through a number format
// (ColumnGuess::number_converted).
DigitsLost CheckDigitsLost(std::string_view value, bool number_cell, bool converted_column);

// ---- Unified Social Credit Code (GB 32100-2015) ----
// REQUIRES: 17 characters from the USCC alphabet; returns '\0' otherwise.
char UsccCheckChar(std::string_view first17);
bool IsValidUscc(std::string_view raw);

// ---- Bank cards ----
bool LuhnValid(std::string_view digits);
// The digit that makes `digits` followed by it pass the Luhn check; '\0'
// when `digits` are not all decimal digits.
char LuhnCheckDigit(std::string_view digits);

// A card number checked: 13-19 digits (spaces and dashes removed) that pass
// Luhn are valid; the issuer table (src/detect/data/card_issuers.tsv, ISO/IEC
// 7812 IIN ranges with their sources) names the scheme, and a number of no
// known range is still valid, its issuer unknown.
struct CardCheck {
  enum class Status {
    kValid,          // Luhn, and a known issuer range for its length
    kUnknownIssuer,  // Luhn, 13-19 digits, but no known range: valid, worth a note
    kLuhn,           // 13-19 digits failing Luhn
    kInvalid,        // not 13-19 digits
  };
  Status status = Status::kInvalid;
  std::string digits;       // the number, digits only (when 13-19 digits)
  std::string_view scheme;  // "visa", "unionpay", "china_domestic"... ("" if unknown)
};
CardCheck CheckBankCard(std::string_view raw);

// The digits of a card number that CheckBankCard finds kValid: a known
// issuer and Luhn. (Stricter than a column check: inside free text a
// Luhn-valid run of digits of no known issuer is an order number as often
// as a card.)
std::optional<std::string> NormalizeBankCard(std::string_view raw);

// ---- Phones ----
// 11 digits matching 1[3-9]\d{9} after removing +86 / 0086 / 86 prefixes,
// spaces, dashes and full-width digits.
std::optional<std::string> NormalizeMobile(std::string_view raw);
// Mainland landline: area code 0 + 2-3 digits, then 7-8 digits; separators
// ( ) - space allowed; optional +86. Returns "0AA-NNNNNNNN" form.
std::optional<std::string> NormalizeLandline(std::string_view raw);

// ---- E-mail ----
// Lower-cased, trimmed; a plausible addr-spec (local@domain.tld).
std::optional<std::string> NormalizeEmail(std::string_view raw);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_VALIDATORS_H_
