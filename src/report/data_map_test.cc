#include "report/data_map.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace custos::report {
namespace {

using detect::PiiType;

InventoryReport SampleReport() {
  InventoryReport r;
  r.file = "/data/branch<crm>.csv";
  r.format = "csv";
  r.encoding = "gbk";
  r.sha256 = std::string(64, 'a');
  r.bytes = 123456;
  r.generated_at = 1795849340;  // 2026-11-28T07:02:20Z
  r.today = {2026, 11, 27};
  r.sample_rows = 2000;
  r.rows = 5000;
  r.people = 4900;
  r.minors = 150;
  r.people_with_sensitive = 4900;
  r.people_on_several_rows = 100;
  r.id_column = 1;
  r.name_column = 0;

  ColumnInventory name;
  name.name = "姓名";
  name.type = PiiType::kPersonName;
  name.confidence = 0.97;
  name.non_empty = name.valid = 5000;
  ColumnInventory id;
  id.name = "身份证号";
  id.type = PiiType::kCnResidentId;
  id.sensitive = true;
  id.confidence = 1;
  id.non_empty = 5000;
  id.valid = 4990;
  id.invalid = 10;
  ColumnInventory notes;
  notes.name = "备注<script>alert(1)</script>\x1b[2J";
  notes.type = PiiType::kFreeText;
  notes.confidence = 0.9;
  notes.non_empty = notes.valid = 2000;
  notes.scanned = true;
  notes.values_with_pii = 300;
  notes.values_with_sensitive_pii = 40;
  notes.contains[static_cast<size_t>(PiiType::kCnMobile)] = 260;
  notes.contains[static_cast<size_t>(PiiType::kCnResidentId)] = 40;
  r.columns = {name, id, notes};

  r.findings.push_back({FindingKind::kMinorUnder14, std::nullopt, 150, {3, 9, 27}});
  r.findings.push_back({FindingKind::kSensitiveColumnInFreeText, 2, 40, {5}});
  r.findings.push_back({FindingKind::kIdBadCheckChar, 1, 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
  return r;
}

TEST(FindingKindTest, NamesRoundTripAndAreSnakeCase) {
  std::set<std::string_view> seen;
  for (int i = 0; i < kFindingKindCount; ++i) {
    const auto kind = static_cast<FindingKind>(i);
    const std::string_view name = FindingKindName(kind);
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(FindingKindFromName(name), kind);
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  EXPECT_EQ(FindingKindFromName("no_such_kind"), std::nullopt);
  EXPECT_EQ(FindingKindName(FindingKind::kIdLegacy15), "id_legacy_15");
  EXPECT_EQ(FindingKindName(FindingKind::kMinorUnder14), "minor_under_14");
}

TEST(ParseLangTest, AcceptsZhAndEnOnly) {
  EXPECT_EQ(ParseLang("zh").value(), Lang::kZh);
  EXPECT_EQ(ParseLang("en").value(), Lang::kEn);
  auto bad = ParseLang("fr");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST(DataMapJsonTest, HasThePublicKeys) {
  const auto j = nlohmann::json::parse(RenderDataMapJson(SampleReport()));
  for (const char* key : {"file", "format", "encoding", "sha256", "generated_at", "rows", "people",
                          "minors", "people_with_sensitive", "sensitive_columns", "columns",
                          "findings"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["rows"], 5000);
  EXPECT_EQ(j["minors"], 150);
  EXPECT_EQ(j["generated_at"], "2026-11-28T07:02:20Z");
  EXPECT_EQ(j["sensitive_columns"], nlohmann::json::array({"身份证号"}));
  EXPECT_EQ(j["person_key_columns"]["id"], "身份证号");
  EXPECT_TRUE(j["person_key_columns"]["mobile"].is_null());
  ASSERT_EQ(j["columns"].size(), 3u);
  for (const auto& c : j["columns"]) {
    for (const char* key : {"name", "type", "sensitive", "confidence", "non_empty", "valid",
                            "invalid"}) {
      EXPECT_TRUE(c.contains(key)) << key;
    }
  }
  EXPECT_EQ(j["columns"][1]["type"], "cn_resident_id");
  EXPECT_EQ(j["columns"][1]["sensitive"], true);
  EXPECT_EQ(j["columns"][1]["invalid"], 10);
  EXPECT_FALSE(j["columns"][0].contains("contains"));
  EXPECT_EQ(j["columns"][2]["contains"], nlohmann::json::array({"cn_resident_id", "cn_mobile"}));
  EXPECT_EQ(j["columns"][2]["values_with_pii"], 300);
  ASSERT_EQ(j["findings"].size(), 3u);
  EXPECT_EQ(j["findings"][0]["kind"], "minor_under_14");
  EXPECT_TRUE(j["findings"][0]["column"].is_null());
  EXPECT_EQ(j["findings"][0]["rows"], nlohmann::json::array({3, 9, 27}));
  EXPECT_EQ(j["findings"][1]["kind"], "sensitive_column_in_free_text");
  EXPECT_EQ(j["findings"][1]["column_index"], 3);
  EXPECT_EQ(j["findings"][2]["severity"], "warning");
  EXPECT_EQ(j["findings"][2]["count"], 10);
}

TEST(DataMapJsonTest, InvalidUtf8InAHeaderDoesNotThrow) {
  InventoryReport r = SampleReport();
  r.columns[0].name = "bad\xff\xfe";
  const std::string json = RenderDataMapJson(r);
  EXPECT_TRUE(nlohmann::json::accept(json));
}

TEST(DataMapHtmlTest, ChineseByDefaultEnglishOnRequest) {
  const std::string zh = RenderDataMapHtml(SampleReport(), Lang::kZh);
  EXPECT_NE(zh.find("<html lang=\"zh-CN\">"), std::string::npos);
  for (const char* heading : {"个人信息数据清单", "摘要", "发现的问题与处理建议", "法律依据",
                              "第28条", "第31条", "第8条", "不满十四周岁"}) {
    EXPECT_NE(zh.find(heading), std::string::npos) << heading;
  }
  const std::string en = RenderDataMapHtml(SampleReport(), Lang::kEn);
  EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
  for (const char* heading : {"Personal data inventory", "Summary", "Findings and what to do",
                              "Legal notes", "PIPL Art. 28", "PIPL Art. 31", "PIPL Art. 8"}) {
    EXPECT_NE(en.find(heading), std::string::npos) << heading;
  }
  EXPECT_EQ(en.find("摘要"), std::string::npos);
}

TEST(DataMapHtmlTest, SelfContainedPrintableAndEscaped) {
  const std::string html = RenderDataMapHtml(SampleReport(), Lang::kZh);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("size:A4"), std::string::npos);
  for (const char* external : {"http://", "https://", "<script", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_NE(html.find("备注&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_NE(html.find("/data/branch&lt;crm&gt;.csv"), std::string::npos);
  // Every finding kind listed has its explanation.
  EXPECT_NE(html.find("minor_under_14"), std::string::npos);
  EXPECT_NE(html.find("监护人"), std::string::npos);
}

TEST(DataMapTextTest, SummarisesWithoutControlCharacters) {
  const std::string zh = RenderDataMapText(SampleReport(), Lang::kZh);
  EXPECT_NE(zh.find("行数 5,000"), std::string::npos);
  EXPECT_NE(zh.find("不满14周岁 150"), std::string::npos);
  EXPECT_NE(zh.find("身份证号"), std::string::npos);
  EXPECT_NE(zh.find("id_bad_check_char"), std::string::npos);
  EXPECT_NE(zh.find("1, 2, 3, 4, 5, 6, 7, 8, 9, 10"), std::string::npos);
  EXPECT_EQ(zh.find('\x1b'), std::string::npos);
  const std::string en = RenderDataMapText(SampleReport(), Lang::kEn);
  EXPECT_NE(en.find("rows 5,000"), std::string::npos);
  EXPECT_NE(en.find("minors (<14) 150"), std::string::npos);
  EXPECT_NE(en.find("cn_resident_id, cn_mobile"), std::string::npos);
}

}  // namespace
}  // namespace custos::report
