// For tests: rewrites people's data keys in the vault file to key-wrap
// format 1 (XChaCha20-Poly1305 under the KEK), as vaults written before
// format 2 hold them, straight through SQLite. The vault must be closed.
#ifndef CUSTOS_VAULT_TEST_V1_KEYS_H_
#define CUSTOS_VAULT_TEST_V1_KEYS_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/test_util.h"
#include "crypto/aead.h"
#include "vault/vault.h"

namespace custos::vault::testing {

inline Bytes SqlBlob(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  Bytes out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
    out.assign(p, p + sqlite3_column_bytes(st, 0));
  }
  sqlite3_finalize(st);
  return out;
}

// `people`: (pk, id) of each person to rewrap. `key_file`: the KEK file.
inline void RewrapKeysToV1(const std::string& vault_path, const std::string& key_file,
                           const std::vector<std::pair<int64_t, PersonId>>& people) {
  const std::string kek_text = custos::testing::Slurp(key_file);
  ASSERT_EQ(kek_text.size(), 32u);
  const auto kek = crypto::SecretBytes::CopyOf(AsBytes(kek_text));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(vault_path.c_str(), &db), SQLITE_OK);
  const Bytes vault_id = SqlBlob(db, "SELECT value FROM meta WHERE key='vault_id'");
  ASSERT_EQ(vault_id.size(), 16u);
  auto wrap = crypto::KeyWrap::Create(kek, crypto::FieldSuite::kAes256Gcm, vault_id);
  ASSERT_TRUE(wrap);
  for (const auto& [pk, id] : people) {
    const std::string where = " WHERE pk=" + std::to_string(pk);
    const Bytes v2 = SqlBlob(db, "SELECT wrapped_key FROM person" + where);
    ASSERT_EQ(v2.size(), crypto::KeyWrap::kV2Size);
    const std::string_view label = "custos/data-key/v1";
    Bytes ad(label.begin(), label.end());
    AppendLengthPrefixed(ad, vault_id);
    AppendLengthPrefixed(ad, id.bytes());
    AppendU32BE(ad, 1);
    auto key = wrap->Unwrap(v2, ad);
    ASSERT_TRUE(key) << key.error().ToString();
    const Bytes v1 = crypto::Seal(kek, key->RevealSecret(), ad);
    ASSERT_EQ(v1.size(), crypto::KeyWrap::kV1Size);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, ("UPDATE person SET wrapped_key=?" + where).c_str(), -1, &st,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(st, 1, v1.data(), static_cast<int>(v1.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
}

}  // namespace custos::vault::testing

#endif  // CUSTOS_VAULT_TEST_V1_KEYS_H_
