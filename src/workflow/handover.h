// The recipient's side of a handover package (docs/formats/package.md):
// verify, import into the recipient's own vault, sign a receipt.
#ifndef CUSTOS_WORKFLOW_HANDOVER_H_
#define CUSTOS_WORKFLOW_HANDOVER_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "package/byte_stream.h"
#include "vault/vault.h"

namespace custos::workflow {

inline constexpr std::string_view kPackageNamespace = "custos-package";
inline constexpr std::string_view kReceiptNamespace = "custos-receipt";

// Where a package archive is read from: a file, or bytes in memory that
// outlive the input. It can be read more than once (an import reads it to
// verify, then to decrypt). Reading streams: memory does not grow with the
// payload.
class PackageInput {
 public:
  static PackageInput File(std::string path) { return PackageInput(std::move(path), {}); }
  static PackageInput Memory(ByteSpan archive) { return PackageInput("", archive); }
  // A fresh source at the archive's start. kNotFound for a missing file.
  Result<std::unique_ptr<package::ByteSource>> Open() const;

 private:
  PackageInput(std::string path, ByteSpan memory) : path_(std::move(path)), memory_(memory) {}
  std::string path_;
  ByteSpan memory_;
};

struct OpenedPackage {
  std::string manifest_text;
  nlohmann::ordered_json manifest;
  std::string manifest_sha256;
};

// Checks the archive (canonical ustar, exactly the three files), the
// manifest signature against `sender_ssh_key` and the payload's size and
// hash, in one pass over the archive. Error codes: docs/formats/package.md.
Result<OpenedPackage> VerifyPackage(const PackageInput& archive, std::string_view sender_ssh_key);

struct ImportedPackage {
  std::string transfer;
  std::string dataset;
  std::string manifest_sha256;
  uint64_t people = 0;
  uint64_t records = 0;
};
// Verifies, decrypts with the identity file's text and imports every person
// as a new person of a new dataset (default "transfer-<id>"), all or
// nothing, with a package.import audit entry. kAlreadyExists for a package
// already imported; kPermissionDenied for a package to another recipient.
// Reads the archive twice (VerifyPackage, then decrypting as it streams
// into the import), checking the second reading against the first.
Result<ImportedPackage> ImportPackage(vault::Vault& v, const PackageInput& archive,
                                      std::string_view sender_ssh_key,
                                      std::string_view identity_file_text,
                                      const std::string& dataset);

// Signs a receipt for a package imported into `v` with the recipient's
// OpenSSH private key file text; logs package.receipt. kFailedPrecondition
// if the package was not imported here.
Result<std::string> MakeReceipt(vault::Vault& v, const PackageInput& archive,
                                std::string_view private_key_text);

struct Receipt {
  std::string json_text;
  nlohmann::ordered_json json;
  std::string signature;
};
// Splits a receipt file (JSON line, LF, armored signature). kInvalidArgument
// if malformed.
Result<Receipt> ParseReceipt(std::string_view text);

}  // namespace custos::workflow

#endif  // CUSTOS_WORKFLOW_HANDOVER_H_
