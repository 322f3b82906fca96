// Initializes libsodium once for the whole crypto test binary.
#include <gtest/gtest.h>

#include "crypto/aead.h"

namespace custos::crypto {
namespace {

class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(Initialize().has_value()); }
};
[[maybe_unused]] ::testing::Environment* const kSodiumEnv =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

}  // namespace
}  // namespace custos::crypto
