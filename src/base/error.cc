#include "base/error.h"

namespace custos {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kDataLoss: return "data_loss";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

int ExitStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 0;
    case ErrorCode::kInvalidArgument: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kAlreadyExists: return 4;
    case ErrorCode::kPermissionDenied: return 5;
    case ErrorCode::kFailedPrecondition: return 6;
    case ErrorCode::kDataLoss: return 7;
    case ErrorCode::kUnauthenticated: return 8;
    case ErrorCode::kUnavailable: return 9;
    case ErrorCode::kInternal: return 10;
  }
  return 10;
}

std::string Error::ToString() const {
  std::string s(ErrorCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Error Error::WithContext(std::string_view context) const {
  std::string m(context);
  m += ": ";
  m += message_;
  return Error(code_, std::move(m));
}

}  // namespace custos
