#include "workflow/transfer_payload.h"

#include <gtest/gtest.h>

#include <regex>

namespace custos::workflow::internal {
namespace {

class PayloadLinesTest : public ::testing::Test {
 protected:
  PayloadLinesTest() {
    crm_.name = "crm";
    crm_.columns = {{"姓名", "cn_name", false, 0},
                    {"手机号", "cn_mobile", false, 0},
                    {"卡号", "bank_card", false, 0}};
  }
  vault::SelectedPerson Person(int64_t pk, uint64_t record) const {
    vault::SelectedPerson p;
    p.pk = pk;
    p.id = *vault::PersonId::Parse(std::string(32, 'a'));
    for (uint32_t i = 0; i < 3; ++i) {
      vault::SelectedField f;
      f.dataset = &crm_;
      f.position = i;
      f.record = record;
      f.value = i == 0 ? "张三" : i == 1 ? "13812345678" : "6222020200112233";
      p.fields.push_back(f);
    }
    return p;
  }
  vault::DatasetColumns crm_;
};

// Two people, the second's mobile frozen and card damaged: exact lines but
// for the random person references.
TEST_F(PayloadLinesTest, LinesLeaveFrozenFieldsOutAndMarkDamagedValues) {
  std::vector<vault::SelectedPerson> people = {Person(1, 10), Person(2, 20)};
  people[1].fields[2].damaged = true;
  const std::vector<FrozenSet> frozen = {{"crm", {"手机号"}, {2}}};
  PayloadLines lines;
  ASSERT_TRUE(FormatPayloadLines(people, frozen, lines));
  const std::string text =
      std::regex_replace(lines.text, std::regex(R"("person":"[0-9a-f]{32}")"), R"("person":"P")");
  EXPECT_EQ(
      text,
      R"({"person":"P","records":[{"dataset":"crm","fields":{"姓名":"张三","手机号":"13812345678","卡号":"6222020200112233"}}]})"
      "\n"
      R"({"person":"P","records":[{"dataset":"crm","fields":{"姓名":"张三","卡号":"6222020200112233"},"damaged":["卡号"]}]})"
      "\n");
  EXPECT_EQ(lines.people, 2u);
  EXPECT_EQ(lines.records, 2u);
  EXPECT_EQ(lines.withheld_frozen, (std::map<std::string, uint64_t>{{"手机号", 1}}));
  EXPECT_EQ(lines.damaged, (std::map<std::string, uint64_t>{{"卡号", 1}}));
}

TEST_F(PayloadLinesTest, ValuesThatDoNotAuthenticateStopThePackage) {
  std::vector<vault::SelectedPerson> people = {Person(1, 10)};
  people[0].fields[1].value.clear();
  people[0].fields[1].status = Fail(DataLoss("tag mismatch"));
  PayloadLines lines;
  auto st = FormatPayloadLines(people, {}, lines);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().message().find("crm.手机号 does not authenticate"), std::string::npos)
      << st.error().message();
  // A frozen field is not even looked at.
  PayloadLines withheld;
  ASSERT_TRUE(FormatPayloadLines(people, {{"crm", {"手机号"}, {1}}}, withheld));
  EXPECT_EQ(withheld.people, 1u);
}

}  // namespace
}  // namespace custos::workflow::internal
