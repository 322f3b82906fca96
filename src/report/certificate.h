// The destruction record (销毁记录) as an HTML page that prints on A4.
// Input is the certificate JSON (docs/formats/certificate.md), which holds
// counts, names of the approver and supervisors, and no personal data.
#ifndef CUSTOS_REPORT_CERTIFICATE_H_
#define CUSTOS_REPORT_CERTIFICATE_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace custos::report {

// lang: "zh" (default, Chinese with English terms where useful) or "en".
// kInvalidArgument if the JSON is not a certificate or lang is unknown.
Result<std::string> RenderCertificateHtml(std::string_view certificate_json, std::string_view lang);

}  // namespace custos::report

#endif  // CUSTOS_REPORT_CERTIFICATE_H_
