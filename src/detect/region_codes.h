// Administrative division codes (GB/T 2260) as they appear in resident ID
// numbers and Unified Social Credit Codes.
//
// Only what Custos needs: the province-level table that CheckResidentId uses,
// and a fixed list of real county-level divisions, with names, for the sample
// generator. This is not a gazetteer: codes retired or renamed over the years
// (which still appear in older ID numbers) are accepted at province level only.
//
// All data is static and immutable; every function is thread-safe.
#ifndef CUSTOS_DETECT_REGION_CODES_H_
#define CUSTOS_DETECT_REGION_CODES_H_

#include <optional>
#include <span>
#include <string_view>

namespace custos::detect {

// True iff `code` is a province-level code: 11-15, 21-23, 31-37, 41-46,
// 50-54, 61-65, 71 (Taiwan), 81 (Hong Kong), 82 (Macao).
bool IsProvinceCode(int code);

// Province-level name for a code ("广东省"), or nullopt if it is not one.
std::optional<std::string_view> ProvinceName(int code);

// A real county-level division: code "440305", province "广东省", city
// "深圳市" (empty for the four municipalities, whose districts sit directly
// under them), district "南山区".
struct County {
  std::string_view code;
  std::string_view province;
  std::string_view city;
  std::string_view district;
};

// About 150 county-level divisions, mostly urban districts of provincial
// capitals and large cities, covering every mainland province-level code.
// Never empty; order is fixed (the sample generator relies on it).
std::span<const County> Counties();

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_REGION_CODES_H_
