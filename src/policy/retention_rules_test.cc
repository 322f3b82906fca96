#include "policy/retention_rules.h"

#include <gtest/gtest.h>

namespace custos::policy {
namespace {

TEST(RetentionRules, DefaultCatalogueHasTheStatutoryClasses) {
  const Catalogue& c = DefaultCatalogue();
  EXPECT_FALSE(c.version.empty());
  struct Want {
    const char* id;
    int years;
  };
  for (Want w : {Want{"tax-records", 10}, Want{"accounting-vouchers-books", 30},
                 Want{"accounting-reports", 10}, Want{"aml-customer-transaction", 10},
                 Want{"ecommerce-transactions", 3}, Want{"labour-contracts", 2},
                 Want{"pia-processing-records", 3}}) {
    const Rule* r = c.Find(w.id);
    ASSERT_NE(r, nullptr) << w.id;
    EXPECT_EQ(r->period_years, w.years) << w.id;
    EXPECT_FALSE(r->citation.empty());
  }
}

TEST(RetentionRules, AccountingYearRulesCountFromTheNextFirstOfJanuary) {
  const Rule* r = DefaultCatalogue().Find("accounting-vouchers-books");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ExpiryOf(*r, Date{2025, 3, 15}), (Date{2056, 1, 1}));
  const Rule* e = DefaultCatalogue().Find("ecommerce-transactions");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(ExpiryOf(*e, Date{2024, 2, 29}), (Date{2027, 2, 28}));
  EXPECT_EQ(ExpiryOf(*e, Date{2025, 6, 1}), (Date{2028, 6, 1}));
}

struct BadCase {
  const char* name;
  const char* json;
};

class BadCatalogue : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCatalogue, IsInvalidArgument) {
  auto c = ParseCatalogue(GetParam().json);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument) << c.error().message();
}

#define RULE(extra)                                                                        \
  R"({"format":"custos-retention-rules","version":"1","rules":[{"id":"a","title":"t",)" \
  R"("citation":"c","status":"V","start_event":"e",)" extra "}]}"

INSTANTIATE_TEST_SUITE_P(
    All, BadCatalogue,
    ::testing::Values(BadCase{"not_json", "{"},
                      BadCase{"wrong_format", R"({"format":"x","version":"1","rules":[]})"},
                      BadCase{"no_version", R"({"format":"custos-retention-rules","rules":[]})"},
                      BadCase{"no_rules", R"({"format":"custos-retention-rules","version":"1","rules":[]})"},
                      BadCase{"zero_period", RULE(R"("period_years":0)")},
                      BadCase{"huge_period", RULE(R"("period_years":101)")},
                      BadCase{"text_period", RULE(R"("period_years":"10")")},
                      BadCase{"bad_status",
                              R"({"format":"custos-retention-rules","version":"1","rules":[{"id":"a","title":"t","citation":"c","status":"U","start_event":"e","period_years":1}]})"},
                      BadCase{"bad_id",
                              R"({"format":"custos-retention-rules","version":"1","rules":[{"id":"A b","title":"t","citation":"c","status":"V","start_event":"e","period_years":1}]})"},
                      BadCase{"duplicate",
                              R"({"format":"custos-retention-rules","version":"1","rules":[{"id":"a","title":"t","citation":"c","status":"V","start_event":"e","period_years":1},{"id":"a","title":"t","citation":"c","status":"V","start_event":"e","period_years":1}]})"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace custos::policy
