// Error values: a canonical code and a message a user can act on.
//
// Errors are values (no exception crosses a module boundary). Messages must
// never contain secrets or personal data: name files, lines, columns, fields
// and opaque ids, not values.
#ifndef CUSTOS_BASE_ERROR_H_
#define CUSTOS_BASE_ERROR_H_

#include <string>
#include <string_view>

namespace custos {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (bad flag, malformed file)
  kNotFound,            // a named object does not exist
  kAlreadyExists,       // creating something that is already there
  kPermissionDenied,    // the caller may not do this (e.g. a world-readable key file)
  kFailedPrecondition,  // the system is not in a state that allows this
  kDataLoss,            // an integrity check failed: tampering or corruption
  kUnauthenticated,     // wrong key or passphrase
  kUnavailable,         // a transient environment failure (busy, locked)
  kInternal,            // a bug or an unexpected library failure
};

// Stable lower_snake name of a code, as printed in --json output.
std::string_view ErrorCodeName(ErrorCode code);

// Process exit status for a code: 0 only for kOk. Documented in docs/cli.md.
int ExitStatusFor(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "code_name: message".
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Error WithContext(std::string_view context) const;

 private:
  ErrorCode code_;
  std::string message_;
};

inline Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
inline Error PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
inline Error FailedPrecondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Error DataLoss(std::string m) { return {ErrorCode::kDataLoss, std::move(m)}; }
inline Error Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
inline Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

}  // namespace custos

#endif  // CUSTOS_BASE_ERROR_H_
