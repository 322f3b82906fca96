#include "report/notice.h"

#include <set>

namespace custos::report {

std::string TypeInWords(std::string_view t, bool en) {
  struct W {
    std::string_view type, zh, en;
  };
  static constexpr W kWords[] = {
      {"person_name", "姓名", "name"},
      {"cn_resident_id", "身份证号码", "resident ID number"},
      {"passport", "护照号码", "passport number"},
      {"cn_mobile", "手机号码", "mobile number"},
      {"cn_landline", "固定电话", "landline number"},
      {"email", "电子邮箱", "e-mail address"},
      {"bank_card", "银行卡号", "bank card number"},
      {"address", "联系地址", "postal address"},
      {"uscc", "统一社会信用代码", "unified social credit code"},
      {"date", "日期信息", "dates"},
      {"amount", "金额信息", "amounts"},
      {"free_text", "备注信息", "notes"},
  };
  for (const W& w : kWords) {
    if (w.type == t) return std::string(en ? w.en : w.zh);
  }
  return en ? "other account information" : "其他账户信息";
}

namespace {

std::string Categories(const NoticeContent& c, bool en) {
  std::set<std::string> seen;
  std::string out;
  for (const auto& t : c.type_names) {
    std::string w = TypeInWords(t, en);
    if (!seen.insert(w).second) continue;
    if (!out.empty()) out += en ? ", " : "、";
    out += w;
  }
  return out;
}

std::string Zh(const NoticeContent& c) {
  std::string s = "【个人信息转移告知书】尊敬的客户：" + c.processor_name + "（联系方式：" +
                  c.processor_contact + "）因分公司资产转让注销，";
  switch (c.mode) {
    case NoticeMode::kHeadOffice:
      s += "您的个人信息将由总公司继续处理，新的联系人为" + c.recipient_name + "（联系方式：" +
           c.recipient_contact + "），处理目的和方式不变。";
      break;
    case NoticeMode::kArt22:
      s += "依据《个人信息保护法》第二十二条，您的个人信息将转移至" + c.recipient_name +
           "（联系方式：" + c.recipient_contact +
           "）。接收方将继续履行个人信息处理者的义务，不得变更原处理目的和处理方式；如需变更，将重"
           "新取得您的同意。";
      break;
    case NoticeMode::kArt23:
      s += "依据《个人信息保护法》第二十三条，拟向" + c.recipient_name + "（联系方式：" +
           c.recipient_contact + "）提供您的个人信息，需取得您的单独同意。";
      break;
  }
  s += "处理目的：" + c.purpose + "；处理方式：" + c.method + "；个人信息种类：" +
       Categories(c, false) + "；保存期限：" + c.retention + "。";
  if (c.sensitive) {
    s += "其中包含敏感个人信息，提供系为" + c.purpose +
         "所必需，可能对您的权益产生影响，我们将采取加密等严格保护措施";
    s += c.mode == NoticeMode::kArt23 ? "；对此需要您单独同意。" : "。";
  }
  s += "您可以向上述联系方式查阅、复制、更正、删除您的个人信息或撤回同意。";
  if (c.mode == NoticeMode::kArt23) {
    s += "如同意提供，请回复“同意 " + c.ref + "”；不同意请回复“反对 " + c.ref +
         "”，未同意的将不予提供。不满十四周岁的未成年人须由监护人同意。";
  } else {
    s += "如有异议，请回复“反对 " + c.ref + "”，我们将记录并尊重您的意见。";
  }
  s += "参考编号：" + c.ref + "。";
  return s;
}

std::string En(const NoticeContent& c) {
  std::string s =
      "[Notice of transfer of personal information] Dear customer: " + c.processor_name +
      " (contact: " + c.processor_contact + ") is winding down its branch office. ";
  switch (c.mode) {
    case NoticeMode::kHeadOffice:
      s += "The head office continues to process your personal information; your new contact "
           "point is " +
           c.recipient_name + " (contact: " + c.recipient_contact +
           "). Purposes and methods do not change. ";
      break;
    case NoticeMode::kArt22:
      s += "Under PIPL Art. 22 your personal information will be transferred to " +
           c.recipient_name + " (contact: " + c.recipient_contact +
           "), which takes over the processor's duties and may not change the original purposes "
           "or methods without your new consent. ";
      break;
    case NoticeMode::kArt23:
      s += "Under PIPL Art. 23 we propose to provide your personal information to " +
           c.recipient_name + " (contact: " + c.recipient_contact +
           "); this needs your separate consent. ";
      break;
  }
  s += "Purpose: " + c.purpose + ". Method: " + c.method + ". Categories: " + Categories(c, true) +
       ". Retention: " + c.retention + ". ";
  if (c.sensitive) {
    s += "This includes sensitive personal information; providing it is necessary for " +
         c.purpose + ", may affect your rights and interests, and is protected by encryption";
    s += c.mode == NoticeMode::kArt23 ? "; it needs your separate consent. " : ". ";
  }
  s += "You may access, copy, correct or delete your information or withdraw consent through the "
       "contact above. ";
  if (c.mode == NoticeMode::kArt23) {
    s += "To consent reply \"CONSENT " + c.ref + "\"; to refuse reply \"OBJECT " + c.ref +
         "\". Without consent nothing is provided. For children under 14 a guardian must "
         "consent. ";
  } else {
    s += "To object reply \"OBJECT " + c.ref + "\"; your objection is recorded and honoured. ";
  }
  s += "Reference: " + c.ref + ".";
  return s;
}

}  // namespace

std::string RenderNotice(const NoticeContent& c, bool english) { return english ? En(c) : Zh(c); }

}  // namespace custos::report
