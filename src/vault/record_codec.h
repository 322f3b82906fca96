// Encrypted record bodies (docs/formats/field-ciphertext.md).
#ifndef CUSTOS_VAULT_RECORD_CODEC_H_
#define CUSTOS_VAULT_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/aead.h"

namespace custos::vault {

inline constexpr uint8_t kRecordFormatVersion = 1;
inline constexpr uint32_t kDataKeyVersion = 1;

// What a field ciphertext is bound to (everything in its associated data but
// the field name, which comes from `field_names`).
struct RecordContext {
  ByteSpan vault_id;
  ByteSpan person_uid;
  std::string_view dataset;
  const std::vector<std::string>* field_names = nullptr;  // the dataset's columns
};

// Field position 0xFFFF holds no column's value but the record's metadata
// (RecordMeta), sealed like a field under the name kRecordMetaName. Columns
// stop at 65534, so the position is free; it sorts last.
inline constexpr uint32_t kRecordMetaPosition = 0xFFFF;
inline constexpr std::string_view kRecordMetaName = "custos:record-meta";

// What the vault knows about a record's values besides the values.
struct RecordMeta {
  // Positions of values damaged before import: long numbers a spreadsheet
  // stored as numbers (detect::CheckDigitsLost). Ascending.
  std::vector<uint32_t> damaged;
  bool empty() const { return damaged.empty(); }
};
// "damaged=3,7" (empty string for empty metadata).
std::string EncodeRecordMeta(const RecordMeta& meta);
// kDataLoss when malformed.
Result<RecordMeta> ParseRecordMeta(std::string_view text);

// Encrypts the non-empty values of one row (the first as many as there are
// field names), and `meta` unless empty. REQUIRES: fewer than 65535 fields.
Bytes SealRecord(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                 const std::vector<std::string>& values, std::string_view meta = {});
// The same, appending to `out` (reuse one buffer across rows).
void SealRecordInto(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                    const std::vector<std::string>& values, Bytes& out,
                    std::string_view meta = {});

struct OpenedField {
  uint32_t position = 0;  // kRecordMetaPosition: the record's metadata (EncodeRecordMeta)
  std::string value;     // empty when !status
  Status status;         // kDataLoss when this field's tag failed
  bool damaged = false;  // listed in the record's metadata (set by the vault)
};

// Parses and decrypts a body. Structural damage fails the whole record
// (kDataLoss); a bad tag fails only that field (reported in OpenedField).
Result<std::vector<OpenedField>> OpenRecord(const crypto::FieldCipher& cipher,
                                            const RecordContext& ctx, ByteSpan body);

// The same, but decrypts only the fields whose position has wanted[position]
// set (positions at or past wanted.size() are not wanted), and the metadata
// when `with_meta`, appending them to `out` in position order. Each field is
// its own AEAD, so the others are skipped unopened: neither decrypted nor
// authenticated. The whole body is still parsed, with the same structural
// checks as OpenRecord (kDataLoss, and then nothing is appended).
Status OpenRecordFields(const crypto::FieldCipher& cipher, const RecordContext& ctx,
                        ByteSpan body, const std::vector<bool>& wanted, bool with_meta,
                        std::vector<OpenedField>& out);

// Removes the fields whose position has drop[position] set, without any
// key: each field is sealed on its own (nonce = prefix || position, AD names
// the field), so the fields kept still open under the same data key and
// nothing is re-encrypted. `dropped` receives how many were removed. Used to
// rewrite a retained person's record without their destroyed fields.
// kDataLoss on structural damage (as OpenRecord).
Result<Bytes> DropRecordFields(ByteSpan body, const std::vector<bool>& drop, uint32_t* dropped);

// How many column values a body holds (its metadata not counted), without
// any key. kDataLoss on structural damage.
Result<uint32_t> CountRecordValues(ByteSpan body);

// Takes the record's metadata off the end of `fields` (its last entry, at
// kRecordMetaPosition, as OpenRecordFields leaves it with_meta) and marks
// the fields it lists as damaged. kDataLoss when the metadata failed its
// tag or does not parse.
Status ApplyRecordMeta(std::vector<OpenedField>& fields);

// The suite recorded in a body's header (to build the right FieldCipher).
Result<crypto::FieldSuite> RecordSuite(ByteSpan body);

}  // namespace custos::vault

#endif  // CUSTOS_VAULT_RECORD_CODEC_H_
