#include "report/certificate.h"

#include <nlohmann/json.hpp>

namespace custos::report {
namespace {

using json = nlohmann::ordered_json;

std::string Esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

struct Labels {
  const char* title;
  const char* batch;
  const char* vault;
  const char* basis;
  const char* confirmation;
  const char* data;
  const char* dataset;
  const char* field;
  const char* people;
  const char* records;
  const char* retained;
  const char* rule;
  const char* until;
  const char* method;
  const char* media;
  const char* signatures;
  const char* approver;
  const char* supervisor;
  const char* executor;
  const char* times;
  const char* audit;
  const char* before;
  const char* after;
  const char* verify;
  const char* none;
};

const Labels kZh = {"个人信息销毁记录", "销毁批次", "数据库（保管库）", "销毁依据",
                    "不适用保存期限的确认", "销毁的数据（仅计数）", "数据集", "字段", "人数",
                    "记录数", "依法保存（冻结）的数据", "保存规则", "保存至", "销毁方式",
                    "物理介质销毁", "签字", "批准人（单位负责人）", "监销人", "执行人", "时间",
                    "审计日志检查点", "销毁前", "销毁后",
                    "验证：ssh-keygen -Y verify -f allowed_signers -I custos -n custos-certificate "
                    "-s certificate.json.sig &lt; certificate.json",
                    "无"};
const Labels kEn = {"Record of destruction of personal information", "Batch", "Vault",
                    "Legal basis", "Confirmation that no retention rule applies",
                    "Data destroyed (counts only)", "Dataset", "Field", "People", "Records",
                    "Retained (frozen) by law", "Rule", "Until", "Method",
                    "Physical media destroyed", "Signatures", "Approver (unit head)",
                    "Supervisor", "Executor", "Times", "Audit log checkpoints", "Before",
                    "After",
                    "Verify: ssh-keygen -Y verify -f allowed_signers -I custos -n "
                    "custos-certificate -s certificate.json.sig &lt; certificate.json",
                    "none"};

}  // namespace

Result<std::string> RenderCertificateHtml(std::string_view text, std::string_view lang) {
  if (lang != "zh" && lang != "en") return Fail(InvalidArgument("certificate language is zh or en"));
  auto c = json::parse(text, nullptr, false);
  if (c.is_discarded() || !c.is_object() || c.value("format", "") != "custos-destruction-certificate") {
    return Fail(InvalidArgument("not a Custos destruction certificate"));
  }
  const Labels& L = lang == "zh" ? kZh : kEn;
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"" + std::string(lang == "zh" ? "zh-CN" : "en") +
       "\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + std::string(L.title) + " " +
       Esc(Str(c["destruction"])) + "</title>\n<style>\n"
       "@page { size: A4; margin: 18mm 16mm; }\n"
       "body { font-family: 'Noto Serif CJK SC', 'Source Han Serif SC', SimSun, serif; font-size: 10.5pt; color: #000; }\n"
       "h1 { font-size: 16pt; text-align: center; margin: 0 0 6mm; }\n"
       "h2 { font-size: 11.5pt; border-bottom: 1px solid #000; margin: 5mm 0 2mm; }\n"
       "table { border-collapse: collapse; width: 100%; page-break-inside: auto; }\n"
       "tr { page-break-inside: avoid; }\n"
       "th, td { border: 1px solid #444; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }\n"
       "td.n { text-align: right; }\n"
       "pre { font-size: 7.5pt; white-space: pre-wrap; word-break: break-all; }\n"
       ".sig td { height: 14mm; }\n"
       "</style>\n</head>\n<body>\n";
  h += "<h1>" + std::string(L.title) + "</h1>\n<table>\n";
  h += "<tr><th>" + std::string(L.batch) + "</th><td>" + Esc(Str(c["destruction"])) + "</td></tr>\n";
  h += "<tr><th>" + std::string(L.vault) + "</th><td>" + Esc(Str(c["vault"])) + "</td></tr>\n";
  h += "<tr><th>" + std::string(L.basis) + "</th><td>" + Esc(Str(c["legal_basis"])) + "</td></tr>\n";
  h += "<tr><th>" + std::string(L.confirmation) + "</th><td>" + Esc(Str(c["no_retention_confirmation"])) +
       "</td></tr>\n</table>\n";
  h += "<h2>" + std::string(L.data) + "</h2>\n<table>\n<tr><th>" + L.dataset + "</th><th>" + L.field +
       "</th><th>" + L.people + "</th></tr>\n";
  for (const auto& d : c["data"]) {
    h += "<tr><td>" + Esc(Str(d["dataset"])) + "</td><td>(" + L.records + ": " + Esc(Str(d["records"])) +
         ")</td><td class=\"n\">" + Esc(Str(d["people"])) + "</td></tr>\n";
    for (const auto& f : d["fields"]) {
      h += "<tr><td></td><td>" + Esc(Str(f["field"])) + "</td><td class=\"n\">" + Esc(Str(f["people"])) +
           "</td></tr>\n";
    }
  }
  h += "</table>\n<h2>" + std::string(L.retained) + "</h2>\n";
  if (c["retained"].empty()) {
    h += "<p>" + std::string(L.none) + "</p>\n";
  } else {
    h += "<table>\n<tr><th>" + std::string(L.dataset) + "</th><th>" + L.field + "</th><th>" + L.people +
         "</th><th>" + L.rule + "</th><th>" + L.until + "</th></tr>\n";
    for (const auto& r : c["retained"]) {
      h += "<tr><td>" + Esc(Str(r["dataset"])) + "</td><td>" + Esc(Str(r["field"])) + "</td><td class=\"n\">" +
           Esc(Str(r["people"])) + "</td><td>" + Esc(Str(r["rule"])) + "<br>" + Esc(Str(r["citation"])) +
           "</td><td>" + Esc(Str(r["until"])) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<h2>" + std::string(L.method) + "</h2>\n<table>\n";
  for (const auto& [k, v] : c["method"].items()) {
    h += "<tr><th>" + Esc(k) + "</th><td>" + Esc(Str(v)) + "</td></tr>\n";
  }
  h += "</table>\n<h2>" + std::string(L.media) + "</h2>\n";
  if (c["media"].empty()) {
    h += "<p>" + std::string(L.none) + "</p>\n";
  } else {
    h += "<table>\n";
    for (const auto& m : c["media"]) {
      h += "<tr><td>" + Esc(Str(m["id"])) + "</td><td>" + Esc(Str(m["kind"])) + "</td><td>" +
           Esc(Str(m["method"])) + "</td><td>" + Esc(Str(m["executor"])) + " / " + Esc(Str(m["witnesses"])) +
           "</td><td>" + Esc(Str(m["vendor"])) + " " + Esc(Str(m["vendor_certificate"])) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<h2>" + std::string(L.times) + "</h2>\n<table>\n";
  for (const auto& [k, v] : c["times"].items()) {
    h += "<tr><th>" + Esc(k) + "</th><td>" + Esc(Str(v)) + "</td></tr>\n";
  }
  h += "</table>\n<h2>" + std::string(L.audit) + "</h2>\n<p>" + L.before + "</p><pre>" +
       Esc(Str(c["audit"]["checkpoint_before"]["note"])) + "</pre>\n<p>" + L.after + "</p><pre>" +
       Esc(Str(c["audit"]["checkpoint_after"]["note"])) + "</pre>\n";
  h += "<h2>" + std::string(L.signatures) + "</h2>\n<table class=\"sig\">\n";
  h += "<tr><th>" + std::string(L.approver) + "</th><td>" + Esc(Str(c["approver"])) + "</td><td></td></tr>\n";
  for (const auto& s : c["supervisors"]) {
    h += "<tr><th>" + std::string(L.supervisor) + "</th><td>" + Esc(Str(s)) + "</td><td></td></tr>\n";
  }
  h += "<tr><th>" + std::string(L.executor) + "</th><td>" + Esc(Str(c["executor"])) + "</td><td></td></tr>\n";
  h += "</table>\n<p><small>" + std::string(L.verify) + "<br>" + Esc(Str(c["signing_key"])) +
       "</small></p>\n</body>\n</html>\n";
  return h;
}

}  // namespace custos::report
