// The words of the inventory's reports in both languages: per finding
// kind its name, severity, title, meaning and advice; per type and
// severity a label. Internal to src/report.
#ifndef CUSTOS_REPORT_FINDING_TEXTS_H_
#define CUSTOS_REPORT_FINDING_TEXTS_H_

#include <span>

#include "detect/types.h"
#include "report/data_map.h"

namespace custos::report::internal {

struct Text {
  const char* zh;
  const char* en;
  const char* Get(Lang lang) const { return lang == Lang::kZh ? zh : en; }
};

struct KindInfo {
  FindingKind kind;
  const char* name;
  Severity severity;
  Text title;
  Text what;  // what it means
  Text todo;  // what to do about it
};

// The entry of a kind, and every entry in FindingKind order.
const KindInfo& Info(FindingKind kind);
std::span<const KindInfo> AllKinds();
const char* TypeLabel(detect::PiiType t, Lang lang);
const char* SeverityLabel(Severity s, Lang lang);

}  // namespace custos::report::internal

#endif  // CUSTOS_REPORT_FINDING_TEXTS_H_
