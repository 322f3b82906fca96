// Whether a table's first row is a header or a customer's data.
//
// Column names are stored in clear (the dataset's schema), printed, and
// written into audit entries and documents. A file exported without a header
// row makes its first customer's values the "column names": that must never
// reach any of those places. So a header row is judged as a whole, and each
// of its cells on its own, before any name is used.
#ifndef CUSTOS_DETECT_HEADER_H_
#define CUSTOS_DETECT_HEADER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace custos::detect {

struct HeaderVerdict {
  // The row reads as a customer's data: a cell is an identifier (a valid
  // resident ID, mobile, landline, e-mail, bank card, USCC or passport
  // number) or an address, or holds a run of 6 or more digits; or cells of
  // two different kinds look like values (a name, a number, a date, a
  // gender). Import refuses such a file; the inventory names every column by
  // its position.
  bool row_is_data = false;
  // The first column (0-based) that made the row data, for messages.
  std::optional<size_t> data_column;
  // Per cell: whether it may be used as a column name. A cell fails on its
  // own when it is a value (see above) and not a known header word (姓名,
  // 金额, 客户编号...: a HeaderHint or a usual header ending such as 号, 码,
  // 额, 期). When the row is data, no cell passes.
  std::vector<bool> passes;
};

// A header naming the holder's sex (性别, sex, gender...), full-width or not.
bool IsSexHeader(std::string_view header);

HeaderVerdict JudgeHeaderRow(const std::vector<std::string>& cells, const Date& today);

// The name to show and store for column `index` (0-based): the cell itself
// when it passes, else "column_N" (N 1-based).
std::string ColumnNameFor(const HeaderVerdict& verdict, const std::vector<std::string>& cells,
                          size_t index);

// kInvalidArgument when two columns have the same name (after trimming),
// naming both positions (1-based) and, when it passes as a header, the name;
// `what` (the file) leads the message.
Status CheckDistinctColumnNames(const std::vector<std::string>& names,
                                const HeaderVerdict& verdict, std::string_view what);

}  // namespace custos::detect

#endif  // CUSTOS_DETECT_HEADER_H_
