// Masked display of values (docs/masking.md). Masking happens in Custos,
// before anything reaches a screen or a file; clear text needs --clear and a
// purpose.
#ifndef CUSTOS_DETECT_MASK_H_
#define CUSTOS_DETECT_MASK_H_

#include <string>
#include <string_view>

#include "detect/types.h"

namespace custos::detect {

// Rules (characters are UTF-8 code points, not bytes):
//   cn_resident_id  first 6 + '*' for the middle + last 4   110105********002X
//   cn_mobile       first 3 + **** + last 4                 138****5678
//   bank_card       first 6 + '*'... + last 4               622202*********1234
//   person_name     1 char: *; 2 chars: 张*; 3+: first + *s + last   张*明
//   email           first char of local part + *** + @domain    z***@qq.com
//   cn_landline     area code + **** + last 2
//   passport        first 1 + * + last 3
//   address         first 6 characters + ****
//   uscc            first 4 + * + last 4
//   free_text       [free text, N chars]
//   date, amount, other: shown as is (not personal on their own)
std::string MaskValue(PiiType type, std::string_view value);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_MASK_H_
