// Transfer notices (告知书) to individuals: the texts PIPL Art. 17, 22, 23
// and 30 require for each transfer mode, in Chinese (default) or English.
// A notice holds no personal data besides what the caller passes (it names
// no customer; the reference code is random).
#ifndef CUSTOS_REPORT_NOTICE_H_
#define CUSTOS_REPORT_NOTICE_H_

#include <string>
#include <string_view>
#include <vector>

namespace custos::report {

enum class NoticeMode { kHeadOffice, kArt22, kArt23 };

struct NoticeContent {
  NoticeMode mode = NoticeMode::kHeadOffice;
  std::string processor_name;
  std::string processor_contact;
  std::string recipient_name;
  std::string recipient_contact;
  std::string purpose;
  std::string method;
  std::vector<std::string> type_names;  // detected type names of the planned fields
  bool sensitive = false;               // a planned field is sensitive (Art. 28)
  std::string retention;
  std::string ref;
};

// The notice text. `english` selects English; otherwise Chinese.
std::string RenderNotice(const NoticeContent& c, bool english);

// A detected type name ("cn_mobile") in words ("手机号码" / "mobile number").
std::string TypeInWords(std::string_view type_name, bool english);

}  // namespace custos::report

#endif  // CUSTOS_REPORT_NOTICE_H_
