// How the table readers end (internal to src/ingest). RowReader::Next is
// sticky: after a failure every later call returns the same error, and
// after the end of input every later call returns false, so a caller that
// goes on reading can neither skip a bad row nor read past the end.
#ifndef CUSTOS_INGEST_STICKY_END_H_
#define CUSTOS_INGEST_STICKY_END_H_

#include <optional>

#include "base/result.h"

namespace custos::ingest::internal {

// Passes on `read`, the outcome of reading the next row, and keeps how
// reading ended: a failure in *error, the end of input in *done.
inline Result<bool> KeepEnd(Result<bool> read, std::optional<Error>* error, bool* done) {
  if (!read) {
    *error = read.error();
    return Fail(**error);
  }
  if (!*read) *done = true;
  return read;
}

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_STICKY_END_H_
