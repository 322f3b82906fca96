// Result<T>: a value or an Error. Mirrors C++23 std::expected via tl::expected.
//
//   Result<int> Parse(std::string_view s);
//   ASSIGN_OR_RETURN(int n, Parse(text));
//   RETURN_IF_ERROR(store.Commit());
#ifndef CUSTOS_BASE_RESULT_H_
#define CUSTOS_BASE_RESULT_H_

#include <tl/expected.hpp>

#include "base/error.h"

namespace custos {

// [[nodiscard]]: an ignored Result is a compile error under -Werror.
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(tl::expected<T, Error> e) : tl::expected<T, Error>(std::move(e)) {}  // NOLINT
};

using Status = Result<void>;

inline tl::unexpected<Error> Fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

inline Status Ok() { return {}; }

}  // namespace custos

#define CUSTOS_CONCAT_INNER_(a, b) a##b
#define CUSTOS_CONCAT_(a, b) CUSTOS_CONCAT_INNER_(a, b)

// Evaluates expr (a Result); on error returns that error from the caller.
#define RETURN_IF_ERROR(expr)                                        \
  do {                                                               \
    auto&& custos_status_ = (expr);                                  \
    if (!custos_status_) return ::custos::Fail(custos_status_.error()); \
  } while (0)

// Evaluates expr (a Result<T>); on error returns it, else moves the value into lhs.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CUSTOS_CONCAT_(custos_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)          \
  auto tmp = (expr);                                    \
  if (!tmp) return ::custos::Fail(std::move(tmp).error()); \
  lhs = std::move(tmp).value()

#endif  // CUSTOS_BASE_RESULT_H_
