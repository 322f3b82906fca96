#include "vault/key_source.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "base/file.h"

namespace custos::vault {

Result<crypto::SecretBytes> ReadKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail(NotFound("no key file at " + path));
  if (!S_ISREG(st.st_mode)) return Fail(InvalidArgument("key file " + path + " is not a file"));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(PermissionDenied("key file " + path + " has mode " + mode +
                                 ": group or others can access it. Run: chmod 600 " + path));
  }
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  crypto::SecretBytes key;
  std::string_view text(data);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (data.size() == 32) {
    key = crypto::SecretBytes::CopyOf(AsBytes(data));
  } else if (text.size() == 64) {
    auto decoded = HexDecode(text);
    if (!decoded) {
      std::fill(data.begin(), data.end(), '\0');
      return Fail(InvalidArgument("key file " + path + " is neither 32 raw bytes nor 64 hex digits"));
    }
    key = crypto::SecretBytes::CopyOf(*decoded);
    std::fill(decoded->begin(), decoded->end(), 0);
  } else {
    std::fill(data.begin(), data.end(), '\0');
    return Fail(InvalidArgument("key file " + path + " holds " + std::to_string(data.size()) +
                                " bytes; expected 32 raw bytes or 64 hex digits"));
  }
  std::fill(data.begin(), data.end(), '\0');
  return key;
}

Result<crypto::SecretBytes> CreateKeyFile(const std::string& path) {
  auto key = crypto::SecretBytes::Random(32);
  RETURN_IF_ERROR(WriteFileExclusive(path, key.RevealSecret(), 0600));
  return key;
}

Result<crypto::SecretBytes> ReadPassphrase(const std::string& env_var) {
  const char* v = std::getenv(env_var.c_str());
  if (v == nullptr || *v == '\0') {
    return Fail(InvalidArgument("environment variable " + env_var + " is not set or empty"));
  }
  size_t n = std::strlen(v);
  if (n < 8) {
    return Fail(InvalidArgument("the passphrase in " + env_var +
                                " is shorter than 8 characters"));
  }
  return crypto::SecretBytes::CopyOf({reinterpret_cast<const uint8_t*>(v), n});
}

}  // namespace custos::vault
