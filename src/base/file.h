// Small file-system helpers. Every write that replaces a file is atomic:
// written to a temporary sibling, fsynced, then renamed over the target.
#ifndef CUSTOS_BASE_FILE_H_
#define CUSTOS_BASE_FILE_H_

#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace custos {

// Reads a whole file. kNotFound if it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Atomically replaces `path` with `data`, created with `mode` (e.g. 0600).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);

// Creates `path` exclusively with `mode`; kAlreadyExists if it exists.
Status WriteFileExclusive(const std::string& path, ByteSpan data, unsigned mode);

bool FileExists(const std::string& path);

}  // namespace custos

#endif  // CUSTOS_BASE_FILE_H_
