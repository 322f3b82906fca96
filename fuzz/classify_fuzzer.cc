// libFuzzer target for the detect layer: the validators, normalizers,
// value and header classification and masking, over arbitrary bytes (cells
// of real exports hold anything, including invalid UTF-8).
//
// Checked properties: normalizers return canonical forms that they map to
// themselves (idempotence) and that satisfy their own rules (a valid
// resident ID has its check character and a past birth date; a legacy
// 15-digit one upgrades to a valid 18-digit one; a mobile is 11 digits
// starting with 1; a bank card passes Luhn); masking keeps valid UTF-8 valid
// and never shows an identifying value whole; classification sets only
// known type bits and its guesses are one per column with a confidence in
// [0, 1].
//
// The input is also split into lines and the lines at ',' into a small
// table (first line the header) for ColumnClassifier.
//
// Build (clang): -fsanitize=fuzzer,address,undefined, linked with
// custos_detect (and custos_ingest for its UTF-8 check). Seed corpus:
// testdata/fuzz/classify/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "detect/classify.h"
#include "detect/mask.h"
#include "detect/types.h"
#include "detect/validators.h"
#include "ingest/encoding.h"

namespace {

namespace detect = custos::detect;
using custos::Date;
using custos::ingest::IsValidUtf8;

constexpr Date kToday{2026, 11, 27};
constexpr size_t kMaxColumns = 16;
constexpr size_t kMaxRows = 64;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep, size_t max) {
  std::vector<std::string_view> out;
  while (out.size() < max) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

void CheckValue(std::string_view v) {
  const std::string width = detect::NormalizeWidth(v);
  Check(detect::NormalizeWidth(width) == width);

  const detect::IdInfo id = detect::CheckResidentId(v, kToday);
  Check((id.status == detect::IdStatus::kScientificNotation) == detect::IsScientificNotation(v));
  if (id.status == detect::IdStatus::kValid) {
    Check(id.normalized.size() == 18);
    Check(AllDigits(std::string_view(id.normalized).substr(0, 17)));
    Check(detect::ResidentIdCheckChar(std::string_view(id.normalized).substr(0, 17)) ==
          id.normalized[17]);
    Check(custos::IsValidDate(id.birth.year, id.birth.month, id.birth.day));
    Check(id.birth <= kToday);
    const detect::IdInfo again = detect::CheckResidentId(id.normalized, kToday);
    Check(again.status == detect::IdStatus::kValid && again.normalized == id.normalized);
    Check(detect::MaskValue(detect::PiiType::kCnResidentId, id.normalized) != id.normalized);
  } else if (id.status == detect::IdStatus::kLegacy15) {
    Check(id.normalized.size() == 15 && AllDigits(id.normalized));
    const std::string upgraded = detect::UpgradeLegacyId(id.normalized);
    const detect::IdInfo up = detect::CheckResidentId(upgraded, kToday);
    Check(up.status == detect::IdStatus::kValid && up.normalized == upgraded);
  }

  if (const auto mobile = detect::NormalizeMobile(v)) {
    Check(mobile->size() == 11 && AllDigits(*mobile) && (*mobile)[0] == '1');
    Check(detect::NormalizeMobile(*mobile) == mobile);
    Check(detect::MaskValue(detect::PiiType::kCnMobile, *mobile) != *mobile);
  }
  if (const auto landline = detect::NormalizeLandline(v)) {
    Check(detect::NormalizeLandline(*landline) == landline);
  }
  if (const auto email = detect::NormalizeEmail(v)) {
    Check(detect::NormalizeEmail(*email) == email);
    Check(detect::MaskValue(detect::PiiType::kEmail, *email) != *email);
  }
  if (const auto card = detect::NormalizeBankCard(v)) {
    Check(AllDigits(*card) && card->size() >= 13 && card->size() <= 19);
    Check(detect::LuhnValid(*card));
    Check(detect::NormalizeBankCard(*card) == card);
    Check(detect::MaskValue(detect::PiiType::kBankCard, *card) != *card);
  }
  (void)detect::IsValidUscc(v);

  const detect::ValueTypes types = detect::ClassifyValue(v, kToday);
  constexpr uint32_t kAll = (1u << detect::kPiiTypeCount) - 1;
  Check((types.valid & ~kAll) == 0 && (types.shaped & ~kAll) == 0);
  (void)detect::HeaderHint(v);

  const bool utf8 = IsValidUtf8(v);
  for (int t = 0; t < detect::kPiiTypeCount; ++t) {
    const std::string masked = detect::MaskValue(static_cast<detect::PiiType>(t), v);
    if (utf8) Check(IsValidUtf8(masked));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckValue(input);

  const std::vector<std::string_view> lines = Split(input, '\n', kMaxRows + 1);
  std::vector<std::string> header;
  for (std::string_view cell : Split(lines[0], ',', kMaxColumns)) header.emplace_back(cell);
  detect::ColumnClassifier classifier(header, kToday);
  std::vector<std::string> row;
  for (size_t i = 1; i < lines.size(); ++i) {
    row.assign(header.size(), "");
    const std::vector<std::string_view> cells = Split(lines[i], ',', header.size());
    for (size_t c = 0; c < cells.size(); ++c) {
      row[c] = std::string(cells[c]);
      if (size < 4096) CheckValue(cells[c]);
    }
    classifier.Observe(row);
  }
  const std::vector<detect::ColumnGuess> guesses = classifier.Guess();
  Check(guesses.size() == header.size());
  for (size_t c = 0; c < guesses.size(); ++c) {
    Check(guesses[c].confidence >= 0 && guesses[c].confidence <= 1);
    Check(guesses[c].sensitive == detect::IsSensitiveType(guesses[c].type));
  }
  return 0;
}
