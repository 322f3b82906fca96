#include "report/notice.h"

#include <gtest/gtest.h>

namespace custos::report {
namespace {

NoticeContent Content(NoticeMode mode) {
  NoticeContent c;
  c.mode = mode;
  c.processor_name = "某公司北京分公司";
  c.processor_contact = "010-88888888";
  c.recipient_name = "买方公司";
  c.recipient_contact = "021-1234";
  c.purpose = "继续提供账户服务";
  c.method = "电子化存储";
  c.type_names = {"person_name", "cn_mobile", "cn_mobile", "cn_resident_id"};
  c.sensitive = true;
  c.retention = "五年";
  c.ref = "7K2M9QXA";
  return c;
}

struct Case {
  NoticeMode mode;
  bool english;
  std::vector<std::string> must;
  std::vector<std::string> must_not;
};

TEST(Notice, HoldsWhatTheLawRequiresPerMode) {
  const std::vector<Case> cases = {
      {NoticeMode::kHeadOffice,
       false,
       {"总公司", "买方公司", "021-1234", "反对 7K2M9QXA"},
       {"单独同意。"}},
      {NoticeMode::kArt22,
       false,
       {"第二十二条", "不得变更原处理目的", "反对 7K2M9QXA"},
       {"同意 7K2M9QXA"}},
      {NoticeMode::kArt23,
       false,
       {"第二十三条", "单独同意", "同意 7K2M9QXA", "监护人", "敏感个人信息"},
       {}},
      {NoticeMode::kArt23,
       true,
       {"Art. 23", "separate consent", "CONSENT 7K2M9QXA", "guardian"},
       {"第"}},
      {NoticeMode::kArt22, true, {"Art. 22", "OBJECT 7K2M9QXA"}, {"CONSENT"}},
  };
  for (const Case& c : cases) {
    const std::string text = RenderNotice(Content(c.mode), c.english);
    std::vector<std::string> always =
        c.english ? std::vector<std::string>{"010-88888888", "mobile number, resident ID number",
                                             "Retention: 五年", "Reference: 7K2M9QXA"}
                  : std::vector<std::string>{
                        "某公司北京分公司",   "010-88888888",          "姓名、手机号码、身份证号码",
                        "保存期限：五年",     "继续提供账户服务",      "电子化存储",
                        "参考编号：7K2M9QXA", "查阅、复制、更正、删除"};
    for (const auto& s : always) EXPECT_NE(text.find(s), std::string::npos) << s << " in " << text;
    for (const auto& s : c.must) EXPECT_NE(text.find(s), std::string::npos) << s << " in " << text;
    for (const auto& s : c.must_not)
      EXPECT_EQ(text.find(s), std::string::npos) << s << " in " << text;
  }
}

TEST(Notice, TypesInWords) {
  EXPECT_EQ(TypeInWords("bank_card", false), "银行卡号");
  EXPECT_EQ(TypeInWords("email", true), "e-mail address");
  EXPECT_EQ(TypeInWords("no_such_type", true), "other account information");
}

}  // namespace
}  // namespace custos::report
