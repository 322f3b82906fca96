// A fresh vault for workflow tests (tests only).
#ifndef CUSTOS_WORKFLOW_TEST_VAULT_H_
#define CUSTOS_WORKFLOW_TEST_VAULT_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/test_util.h"
#include "store/pg_test_cluster.h"
#include "vault/vault.h"

namespace custos::workflow::testing {

// Creates the vault `dir`/VAULT (or, in the suite's PostgreSQL run, a
// database standing for it) with a new key file `dir`/KEY; a test failure
// (and nullptr) if it cannot.
inline std::unique_ptr<vault::Vault> NewVault(custos::testing::TempDir& dir,
                                              const std::string& vault = "v.vault",
                                              const std::string& key = "k.key") {
  vault::KeySource k;
  k.key_file = dir.File(key);
  auto v = vault::Vault::Create(custos::testing::TestVaultLocation(dir.File(vault)), k);
  EXPECT_TRUE(v) << v.error().ToString();
  return v ? std::move(*v) : nullptr;
}

}  // namespace custos::workflow::testing

#endif  // CUSTOS_WORKFLOW_TEST_VAULT_H_
