#include "vault/record_codec.h"

#include <gtest/gtest.h>

namespace custos::vault {
namespace {

class RecordCodecTest : public ::testing::TestWithParam<crypto::FieldSuite> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Initialize());
    if (GetParam() == crypto::FieldSuite::kAes256Gcm &&
        crypto::PreferredFieldSuite() != crypto::FieldSuite::kAes256Gcm) {
      GTEST_SKIP() << "no AES-NI";
    }
    key_ = crypto::SecretBytes::Random(32);
    auto c = crypto::FieldCipher::Create(GetParam(), key_);
    ASSERT_TRUE(c);
    cipher_.emplace(std::move(*c));
  }
  RecordContext Ctx(std::string_view dataset = "crm") {
    return {vault_id_, person_, dataset, &names_};
  }
  crypto::SecretBytes key_;
  std::optional<crypto::FieldCipher> cipher_;
  Bytes vault_id_ = Bytes(16, 1);
  Bytes person_ = Bytes(16, 2);
  std::vector<std::string> names_ = {"name", "id", "mobile"};
};

TEST_P(RecordCodecTest, RoundTripSkipsEmptyValues) {
  Bytes body = SealRecord(*cipher_, Ctx(), {"张三", "", "13812345678"});
  auto fields = OpenRecord(*cipher_, Ctx(), body);
  ASSERT_TRUE(fields) << fields.error().ToString();
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[0].position, 0u);
  EXPECT_EQ((*fields)[0].value, "张三");
  EXPECT_EQ((*fields)[1].position, 2u);
  EXPECT_EQ((*fields)[1].value, "13812345678");
}

TEST_P(RecordCodecTest, TwoSealsDifferInNonce) {
  Bytes a = SealRecord(*cipher_, Ctx(), {"x", "y", "z"});
  Bytes b = SealRecord(*cipher_, Ctx(), {"x", "y", "z"});
  EXPECT_NE(a, b);
}

TEST_P(RecordCodecTest, WrongDatasetFailsEveryField) {
  Bytes body = SealRecord(*cipher_, Ctx("crm"), {"a", "b", "c"});
  auto fields = OpenRecord(*cipher_, Ctx("other"), body);
  ASSERT_TRUE(fields);
  for (auto& f : *fields) {
    ASSERT_FALSE(f.status);
    EXPECT_EQ(f.status.error().code(), ErrorCode::kDataLoss);
  }
}

struct Damage {
  const char* name;
  void (*apply)(Bytes&);
};

const Damage kDamages[] = {
    {"Truncated", [](Bytes& b) { b.resize(b.size() - 1); }},
    {"TrailingByte", [](Bytes& b) { b.push_back(0); }},
    {"BadVersion", [](Bytes& b) { b[0] = 9; }},
    {"BadSuite", [](Bytes& b) { b[1] = 7; }},
    {"BadKeyVersion", [](Bytes& b) { b[5] = 2; }},
    {"HeaderOnly", [](Bytes& b) { b.resize(3); }},
};

TEST_P(RecordCodecTest, StructuralDamageIsDataLoss) {
  for (const auto& d : kDamages) {
    Bytes body = SealRecord(*cipher_, Ctx(), {"a", "b", "c"});
    d.apply(body);
    auto fields = OpenRecord(*cipher_, Ctx(), body);
    ASSERT_FALSE(fields) << d.name;
    EXPECT_EQ(fields.error().code(), ErrorCode::kDataLoss) << d.name;
  }
}

TEST_P(RecordCodecTest, OpenRecordFieldsOpensOnlyTheWanted) {
  Bytes body = SealRecord(*cipher_, Ctx(), {"张三", "", "13812345678"});
  std::vector<OpenedField> out;
  out.emplace_back();  // appended to, not replaced
  ASSERT_TRUE(OpenRecordFields(*cipher_, Ctx(), body, {false, true, true}, false, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].position, 2u);
  EXPECT_EQ(out[1].value, "13812345678");
  out.clear();
  ASSERT_TRUE(OpenRecordFields(*cipher_, Ctx(), body, {true}, false, out));  // shorter than the columns
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, "张三");
  // An unwanted field is not authenticated: a flipped byte in it goes unseen;
  // in a wanted one, it fails that field only.
  Bytes flipped = body;
  flipped[flipped.size() - 1] ^= 1;  // the last field's tag
  out.clear();
  ASSERT_TRUE(OpenRecordFields(*cipher_, Ctx(), flipped, {true, false, false}, false, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].status);
  out.clear();
  ASSERT_TRUE(OpenRecordFields(*cipher_, Ctx(), flipped, {true, true, true}, false, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].status);
  ASSERT_FALSE(out[1].status);
  EXPECT_EQ(out[1].status.error().code(), ErrorCode::kDataLoss);
}

TEST_P(RecordCodecTest, OpenRecordFieldsStructuralDamageIsDataLossAndAppendsNothing) {
  for (const auto& d : kDamages) {
    Bytes body = SealRecord(*cipher_, Ctx(), {"a", "b", "c"});
    d.apply(body);
    std::vector<OpenedField> out(1);
    Status st = OpenRecordFields(*cipher_, Ctx(), body, {true, false, false}, false, out);
    ASSERT_FALSE(st) << d.name;
    EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss) << d.name;
    EXPECT_EQ(out.size(), 1u) << d.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, RecordCodecTest,
                         ::testing::Values(crypto::FieldSuite::kAes256Gcm,
                                           crypto::FieldSuite::kXChaCha20Poly1305),
                         [](const auto& p) {
                           return p.param == crypto::FieldSuite::kAes256Gcm ? "Aes256Gcm"
                                                                                : "XChaCha";
                         });

}  // namespace
}  // namespace custos::vault

namespace custos::vault {
namespace {

// The record's metadata (which values were damaged before import) is sealed
// like a field at position 0xFFFF, under the record's key.
TEST(RecordMetaTest, RoundTripsSealedAndRefusesMalformedText) {
  RecordMeta m;
  m.damaged = {1, 3};
  EXPECT_EQ(EncodeRecordMeta(m), "damaged=1,3");
  auto parsed = ParseRecordMeta("damaged=1,3");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->damaged, m.damaged);
  EXPECT_TRUE(ParseRecordMeta("")->empty());
  EXPECT_TRUE(ParseRecordMeta("later=x;damaged=2")->damaged == std::vector<uint32_t>{2});
  for (const char* bad : {"damaged", "damaged=a", "damaged=3,1", "damaged=65535", "damaged=1,,2"}) {
    auto r = ParseRecordMeta(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << bad;
  }
}

TEST(RecordMetaTest, TheMetadataIsSealedLastAndOpensOnlyWhenAsked) {
  auto key = crypto::SecretBytes::Random(32);
  auto cipher = crypto::FieldCipher::Create(crypto::FieldSuite::kXChaCha20Poly1305, key);
  ASSERT_TRUE(cipher);
  const std::vector<std::string> names = {"name", "card", "mobile"};
  const Bytes vault_id(16, 1), uid(16, 2);
  RecordContext ctx{vault_id, uid, "crm", &names};
  const Bytes body = SealRecord(*cipher, ctx, {"张三", "6217007898470800", ""}, "damaged=1");
  auto all = OpenRecord(*cipher, ctx, body);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->back().position, kRecordMetaPosition);
  EXPECT_EQ(all->back().value, "damaged=1");
  std::vector<OpenedField> some;
  ASSERT_TRUE(OpenRecordFields(*cipher, ctx, body, {true, true}, /*with_meta=*/false, some));
  EXPECT_EQ(some.size(), 2u);
  some.clear();
  ASSERT_TRUE(OpenRecordFields(*cipher, ctx, body, {false, true}, /*with_meta=*/true, some));
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[1].position, kRecordMetaPosition);
  // Dropping a field keeps the metadata.
  uint32_t dropped = 0;
  auto without = DropRecordFields(body, {true}, &dropped);
  ASSERT_TRUE(without);
  EXPECT_EQ(dropped, 1u);
  auto rest = OpenRecord(*cipher, ctx, *without);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->back().value, "damaged=1");
}

}  // namespace
}  // namespace custos::vault
