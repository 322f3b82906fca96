// A synthetic branch CRM export, for demos, tests and benchmarks.
//
// Every value is made up, but shaped like the real thing so that detection,
// import and packaging meet what a branch actually hands over: valid resident
// ID numbers (real GB/T 2260 county codes, real birth dates, correct check
// character), mobiles, landlines, e-mails, Luhn-valid UnionPay cards, Chinese
// names and addresses, free-text notes that sometimes carry an identifier,
// a few minors (under 14 on `today`), and a few people with two accounts.
//
// The pseudo-random generator is for reproducibility only, never for secrets.
#ifndef CUSTOS_WORKFLOW_SAMPLE_H_
#define CUSTOS_WORKFLOW_SAMPLE_H_

#include <cstdint>
#include <ostream>
#include <span>
#include <string_view>

#include "base/result.h"
#include "base/time.h"

namespace custos::workflow {

struct SampleOptions {
  uint64_t rows = 0;  // data rows, header excluded; at most kMaxSampleRows
  uint64_t seed = 0;
  Date today;  // the day ages are computed on; no date in the file is later
};

inline constexpr uint64_t kMaxSampleRows = 100'000'000;

// The 15 column names of the header, in order:
// 客户编号 姓名 性别 身份证号 手机号 固定电话 电子邮箱 银行卡号 开户行 联系地址
// 开户日期 账户余额 客户经理 风险等级 备注
std::span<const std::string_view> SampleColumns();

// Writes `rows` data rows after a header, as Excel saves "CSV UTF-8": a UTF-8
// byte order mark, comma separators, CRLF line ends, and RFC 4180 quoting of
// fields that hold a comma, a double quote or a line break (a note may hold
// an LF inside quotes).
//
// Guarantees, for any options:
//  - The same options give the same bytes (across runs and compilers).
//  - Memory use does not depend on `rows`: rows are written as they are made.
//  - Each person has a distinct resident ID, mobile and e-mail; about 2% of
//    people appear on two rows (same name, sex, ID, mobile, e-mail, landline
//    and address; different customer code, card, bank, dates, amount), the
//    second within a few rows of the first. So rows > people.
//  - About 3% of people are under 14 on `today`; nobody is 90 or older.
//  - 性别 matches the parity of the ID's sequence digits (odd is 男).
//  - Every ID passes CheckResidentId as kValid on `today`, every mobile
//    NormalizeMobile, every card NormalizeBankCard, every non-empty landline
//    NormalizeLandline and every non-empty e-mail NormalizeEmail.
//  - About 10% of notes contain an identifier of the row's person (mobile,
//    e-mail, landline or ID number) inside other text.
//
// Errors: kInvalidArgument if `today` is not a valid date in 2000-9999 or
// rows > kMaxSampleRows; kUnavailable if writing to `out` fails (what was
// written before stays in `out`).
Status WriteSampleCsv(const SampleOptions& options, std::ostream& out);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_SAMPLE_H_
