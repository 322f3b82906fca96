#include "report/certificate.h"

#include <map>
#include <nlohmann/json.hpp>

namespace custos::report {
namespace {

using json = nlohmann::ordered_json;

std::string Esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

// One text in both languages.
struct Text {
  const char* zh;
  const char* en;
};

// Every label and sentence of the record, so that the zh page holds no
// English sentence and no member name of the JSON.
struct Words {
  bool zh;
  std::string operator()(const Text& t) const { return zh ? t.zh : t.en; }
};

constexpr Text kTitle{"个人信息销毁记录", "Record of destruction of personal information"};
constexpr Text kBatch{"销毁批次", "Batch"};
constexpr Text kVault{"保管库标识", "Vault"};
constexpr Text kTrigger{"销毁情形", "Occasion"};
constexpr Text kBasis{"销毁依据", "Legal basis"};
constexpr Text kConfirmation{"不适用保存期限的确认", "Confirmation that no retention rule applies"};
constexpr Text kData{"销毁的数据（仅计数）", "Data destroyed (counts only)"};
constexpr Text kDataset{"数据集", "Dataset"};
constexpr Text kField{"字段", "Field"};
constexpr Text kPeople{"人数", "People"};
constexpr Text kRecords{"记录数", "Records"};
constexpr Text kRetained{"依法保存（冻结）的数据", "Retained (frozen) by law"};
constexpr Text kRule{"保存规则", "Rule"};
constexpr Text kUntil{"保存至", "Until"};
constexpr Text kSummary{"人员汇总", "People in summary"};
constexpr Text kMethod{"销毁方式与核验结果", "Method and what was checked"};
constexpr Text kTransfers{"个人信息转移", "Transfers"};
constexpr Text kTransfer{"转移编号", "Transfer"};
constexpr Text kState{"状态", "State"};
constexpr Text kReceipt{"回执 SHA-256", "Receipt SHA-256"};
constexpr Text kMedia{"物理介质销毁", "Physical media destroyed"};
constexpr Text kMedium{"介质编号", "Medium"};
constexpr Text kKind{"类型", "Kind"};
constexpr Text kMediaMethod{"方式", "Method"};
constexpr Text kWitnesses{"执行人 / 见证人", "Executor / witnesses"};
constexpr Text kVendor{"服务商及其证明", "Vendor and its certificate"};
constexpr Text kSignatures{"签字", "Signatures"};
constexpr Text kApprover{"批准人（单位负责人）", "Approver (unit head)"};
constexpr Text kSupervisor{"监销人", "Supervisor"};
constexpr Text kExecutor{"执行人", "Executor"};
constexpr Text kTimes{"时间（UTC）", "Times (UTC)"};
constexpr Text kAudit{"审计日志检查点", "Audit log checkpoints"};
constexpr Text kBefore{"销毁前", "Before"};
constexpr Text kAfter{"销毁后", "After"};
constexpr Text kVerify{"验签方法", "How to verify"};
constexpr Text kNone{"无", "none"};
constexpr Text kNotRecorded{"未记录（早期版本的批次）",
                            "not recorded (a batch of an earlier version)"};

const std::map<std::string, Text>& TriggerWords() {
  static const std::map<std::string, Text> m = {
      {"branch-closure",
       {"分公司关闭，停止提供产品或者服务",
        "the branch closes and stops providing its products or services"}},
      {"retention-expired", {"保存期限已届满", "the retention period has expired"}}};
  return m;
}

const std::map<std::string, Text>& StateWords() {
  static const std::map<std::string, Text> m = {
      {"planned", {"已计划", "planned"}},
      {"noticed", {"已告知", "noticed"}},
      {"packaged", {"已打包", "packaged"}},
      {"closed", {"已关闭（收到回执）", "closed (receipt recorded)"}}};
  return m;
}

const std::map<std::string, Text>& MediaWords() {
  static const std::map<std::string, Text> m = {
      {"disk", {"硬盘", "hard disk"}},
      {"ssd", {"固态硬盘", "solid-state drive"}},
      {"tape", {"磁带", "tape"}},
      {"paper", {"纸质文件", "paper"}},
      {"usb", {"U 盘", "USB drive"}},
      {"optical", {"光盘", "optical disc"}},
      {"other", {"其他", "other"}},
      {"shred", {"粉碎", "shredded"}},
      {"degauss", {"消磁", "degaussed"}},
      {"incinerate", {"焚烧", "incinerated"}},
      {"overwrite", {"覆写", "overwritten"}},
      {"database-wal", {"数据库预写日志及归档", "database WAL and archives"}},
      {"database-backup", {"数据库备份", "database backups"}},
      {"delete", {"由所有者删除", "deleted by the owner"}}};
  return m;
}

const std::map<std::string, Text>& JournalWords() {
  static const std::map<std::string, Text> m = {
      {"wal", {"预写日志（<code>WAL</code>）", "write-ahead log (<code>WAL</code>)"}},
      {"delete", {"回滚日志（提交后删除）", "rollback journal (deleted on commit)"}},
      {"truncate", {"回滚日志（提交后截断）", "rollback journal (truncated on commit)"}},
      {"persist", {"回滚日志（保留）", "rollback journal (kept)"}},
      {"memory", {"内存日志", "in memory"}},
      {"off", {"无日志", "none"}}};
  return m;
}

std::string Word(const Words& w, const std::map<std::string, Text>& m, const json& key) {
  auto it = m.find(Str(key));
  return it == m.end() ? Esc(Str(key)) : w(it->second);
}

std::string Row(const std::string& th, const std::string& td) {
  return "<tr><th>" + th + "</th><td>" + td + "</td></tr>\n";
}

// PIPL Art. 47 ¶1 (2), as the law's own words name it.
std::string LegalBasis(const Words& w, const json& c) {
  const json& b = c["legal_basis"];
  if (b.value("law", "") != "PIPL" || b.value("article", 0) != 47) return Esc(Str(b));
  const std::string trigger = Word(w, TriggerWords(), c["trigger"]);
  if (w.zh) {
    return "《中华人民共和国个人信息保护法》第四十七条第一款第（二）项：个人信息处理者停止提供产品"
           "或者"
           "服务，或者保存期限已届满（本次：" +
           trigger + "）";
  }
  return "PIPL (Personal Information Protection Law of the PRC) Art. 47 ¶1 (2): the processor "
         "stops providing the product or service, or the retention period has expired (here: " +
         trigger + ")";
}

std::string Confirmation(const Words& w, const json& c) {
  const json& r = c["retention_check"];
  const std::string version = Esc(Str(r["catalogue_version"]));
  const std::string date = Esc(Str(r["effective_date"]));
  if (w.zh) {
    return "依据保存规则目录（版本 " + version + "），于 " + date +
           " 判定：所销毁的数据均不受任何未届满的法定保存期限约束；受未届满规则约束的每个字段均已保"
           "留"
           "（冻结），列于下文“依法保存（冻结）的数据”。";
  }
  return "No retention rule of catalogue version " + version + " applied, on " + date +
         ", to any of the data destroyed: every field bound to an unexpired rule was kept (frozen) "
         "and is listed under \"Retained (frozen) by law\".";
}

std::string DataSection(const Words& w, const json& c) {
  std::string h = "<h2>" + w(kData) + "</h2>\n<table>\n<tr><th>" + w(kDataset) + "</th><th>" +
                  w(kField) + "</th><th>" + w(kPeople) + "</th></tr>\n";
  for (const auto& d : c["data"]) {
    h += "<tr><td>" + Esc(Str(d["dataset"])) + "</td><td>（" + w(kRecords) + " " +
         Esc(Str(d["records"])) + "）</td><td class=\"n\">" + Esc(Str(d["people"])) +
         "</td></tr>\n";
    for (const auto& f : d["fields"]) {
      h += "<tr><td></td><td>" + Esc(Str(f["field"])) + "</td><td class=\"n\">" +
           Esc(Str(f["people"])) + "</td></tr>\n";
    }
  }
  h += "</table>\n<h2>" + w(kRetained) + "</h2>\n";
  if (c["retained"].empty()) return h + "<p>" + w(kNone) + "</p>\n";
  h += "<table>\n<tr><th>" + w(kDataset) + "</th><th>" + w(kField) + "</th><th>" + w(kPeople) +
       "</th><th>" + w(kRule) + "</th><th>" + w(kUntil) + "</th></tr>\n";
  for (const auto& r : c["retained"]) {
    const std::string zh = Str(r.value("citation_zh", json("")));
    const std::string citation = w.zh && !zh.empty() ? zh : Str(r["citation"]);
    h += "<tr><td>" + Esc(Str(r["dataset"])) + "</td><td>" + Esc(Str(r["field"])) +
         "</td><td class=\"n\">" + Esc(Str(r["people"])) + "</td><td>" + Esc(Str(r["rule"])) +
         "<br>" + Esc(citation) + "</td><td>" + Esc(Str(r["until"])) + "</td></tr>\n";
  }
  return h + "</table>\n";
}

std::string PeopleSection(const Words& w, const json& c) {
  const json& p = c["people"];
  const std::string destroyed = Esc(Str(p["destroyed"]));
  const std::string retained = Esc(Str(p["retained"]));
  const std::string rewritten = Esc(Str(p["retained_rewritten"]));
  const std::string removed = Esc(Str(p["fields_removed_from_retained"]));
  std::string h = "<h2>" + w(kSummary) + "</h2>\n<p>";
  if (w.zh) {
    h += "整体销毁 " + destroyed + " 人；依法保存 " + retained + " 人，其中 " + rewritten +
         " 人的记录已重写，删除了不受保存规则约束的 " + removed + " 个字段值。";
  } else {
    h += destroyed + " people destroyed whole; " + retained + " people retained by law, " +
         rewritten + " of whom had their records rewritten without " + removed +
         " field values no rule retains.";
  }
  return h + "</p>\n";
}

std::string KeysDestroyed(const Words& w, const json& keys) {
  if (!keys.is_object() || keys.empty()) return w(kNotRecorded);
  std::string out;
  for (const auto& [algorithm, n] : keys.items()) {
    if (!out.empty()) out += w.zh ? "；" : "; ";
    out += Esc(algorithm) + (w.zh ? " 封装：" + Esc(Str(n)) + " 个" : " wrapped: " + Esc(Str(n)));
  }
  return out;
}

std::string OnOff(const Words& w, bool on) {
  return w.zh ? (on ? "开启" : "关闭") : (on ? "on" : "off");
}

std::string ResidueScan(const Words& w, const json& scan) {
  std::string files;
  for (const auto& f : scan["files"]) {
    if (!files.empty()) files += w.zh ? "、" : ", ";
    files += Esc(Str(f["file"])) + (w.zh ? "（" + Esc(Str(f["bytes"])) + " 字节）"
                                         : " (" + Esc(Str(f["bytes"])) + " bytes)");
  }
  const std::string looked = Esc(Str(scan["keys_looked_for"]));
  const std::string of = Esc(Str(scan["keys_destroyed"]));
  const std::string found = Esc(Str(scan["keys_found"]));
  if (w.zh) {
    return "在保管库的全部文件（" + files + "）中逐字节查找已销毁的封装数据密钥 " + looked +
           " 个（共销毁 " + of + " 个），找到 " + found + " 个";
  }
  return "looked byte for byte for " + looked + " of the " + of +
         " wrapped data keys destroyed in every file of the vault (" + files + "): found " + found;
}

// A PostgreSQL vault: what was checked in the database, and what only the
// database's owner can delete (the cluster's WAL and backups).
std::string DatabaseRows(const Words& w, const json& c) {
  const json& v = c["verification"];
  std::string h;
  h += Row(w({"存储", "Store"}), w({"PostgreSQL 数据库（模式 <code>custos</code>）",
                                    "PostgreSQL database (schema <code>custos</code>)"}));
  h += Row(w({"表重建（<code>VACUUM FULL</code>）", "Tables rewritten (<code>VACUUM FULL</code>)"}),
           v.value("vacuumed", false) ? w({"已完成", "completed"}) : w({"未执行", "not run"}));
  h += Row(w({"尚待销毁的人员 / 待重写的记录", "People left to destroy / records left to rewrite"}),
           Esc(Str(v["people_left"])) + " / " + Esc(Str(v["rewrites_left"])));
  h += Row(w({"残留扫描", "Residue scan"}),
           w({"未执行：数据库的文件属于数据库服务器，Custos 无法读取",
              "not run: the database's files belong to its server, which Custos cannot read"}));
  std::string copies;
  for (const auto& m : c.value("outside_custos", json::array())) {
    copies += "<br>" + Esc(Str(m["id"])) + " (" + Word(w, MediaWords(), m["kind"]) + "): " +
              (Str(m["state"]) == "destroyed"
                   ? w({"已记录删除，", "deletion recorded "}) + Esc(Str(m["destroyed_at"]))
                   : w({"尚未记录", "not yet recorded"}));
  }
  h +=
      Row(w({"Custos 之外的副本", "Copies outside Custos"}),
          w({"数据库集群的预写日志（WAL）及其归档和副本、数据库的备份和导出，仍可能保存已销毁的数据"
             "（以保管库密钥封装）。它们不在 Custos 掌控之内：须由其所有者删除，并以 "
             "<code>custos media record</code> 记录：",
             "the cluster's write-ahead log (WAL) with its archives and replicas, and the "
             "database's backups and dumps, may still hold the destroyed data (under the vault "
             "key). They are outside Custos: their owner must delete them and record it with "
             "<code>custos media record</code>:"}) +
              copies);
  h += Row(w({"审计日志验证", "Audit log verified"}),
           Esc(Str(v["audit_entries_verified"])) + w({" 条记录验证通过", " entries"}));
  return h;
}

std::string MethodSection(const Words& w, const json& c) {
  const json& m = c["method"];
  const json& v = c["verification"];
  std::string h = "<h2>" + w(kMethod) + "</h2>\n<table>\n";
  h += Row(w({"销毁方式", "Method"}),
           w({"密码学擦除（加密粉碎）：删除每人的数据密钥（以保管库密钥封装），连同其加密记录和盲索"
              "引条目；"
              "依法保存人员的记录经重写，去除被销毁字段的密文；随后清除保管库文件中的残留",
              "cryptographic erasure (crypto-shredding): each person's data key, wrapped under the "
              "vault key, was deleted with their encrypted records and blind-index entries; "
              "retained people's records were rewritten without the destroyed fields' "
              "ciphertexts; the vault's files were then purged"}));
  h += Row(w({"字段加密算法", "Field encryption"}),
           Str(m["field_encryption"]).empty() ? w(kNotRecorded) : Esc(Str(m["field_encryption"])));
  h += Row(w({"销毁的数据密钥（按封装算法）", "Data keys destroyed (by wrapping)"}),
           KeysDestroyed(w, m["keys_destroyed"]));
  if (!v.is_object()) return h + "</table>\n";
  h += Row(w({"核验时间", "Checked at"}), Esc(Str(v["checked_at"])));
  if (v.value("store", "sqlite") == "postgresql") return h + DatabaseRows(w, c) + "</table>\n";
  h += Row(w({"安全删除（<code>PRAGMA secure_delete</code>，回读）",
              "Secure delete (<code>PRAGMA secure_delete</code>, read back)"}),
           OnOff(w, v.value("secure_delete", false)));
  h += Row(w({"日志模式（回读）", "Journal mode (read back)"}),
           Word(w, JournalWords(), v["journal_mode"]));
  h += Row(w({"数据库重建（<code>VACUUM</code>）", "Rebuilt (<code>VACUUM</code>)"}),
           v.value("vacuumed", false) ? w({"已完成", "completed"}) : w({"未执行", "not run"}));
  h += Row(w({"截断后预写日志文件大小", "Write-ahead log after truncation"}),
           Esc(Str(v["wal_bytes_after"])) + w({" 字节", " bytes"}));
  h += Row(w({"尚待销毁的人员 / 待重写的记录", "People left to destroy / records left to rewrite"}),
           Esc(Str(v["people_left"])) + " / " + Esc(Str(v["rewrites_left"])));
  if (v.contains("residue_scan")) {
    h += Row(w({"残留扫描", "Residue scan"}), ResidueScan(w, v["residue_scan"]));
  }
  h += Row(w({"审计日志验证", "Audit log verified"}),
           Esc(Str(v["audit_entries_verified"])) + w({" 条记录验证通过", " entries"}));
  return h + "</table>\n";
}

std::string TransfersAndMedia(const Words& w, const json& c) {
  std::string h = "<h2>" + w(kTransfers) + "</h2>\n";
  if (c["transfers"].empty()) {
    h += "<p>" + w(kNone) + "</p>\n";
  } else {
    h += "<table>\n<tr><th>" + w(kTransfer) + "</th><th>" + w(kState) + "</th><th>" + w(kReceipt) +
         "</th></tr>\n";
    for (const auto& t : c["transfers"]) {
      h += "<tr><td>" + Esc(Str(t["id"])) + "</td><td>" + Word(w, StateWords(), t["state"]) +
           "</td><td><code>" + Esc(Str(t["receipt_sha256"])) + "</code></td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<h2>" + w(kMedia) + "</h2>\n";
  if (c["media"].empty()) return h + "<p>" + w(kNone) + "</p>\n";
  h += "<table>\n<tr><th>" + w(kMedium) + "</th><th>" + w(kKind) + "</th><th>" + w(kMediaMethod) +
       "</th><th>" + w(kWitnesses) + "</th><th>" + w(kVendor) + "</th></tr>\n";
  for (const auto& m : c["media"]) {
    std::string witnesses;
    for (const auto& x : m["witnesses"])
      witnesses += (witnesses.empty() ? "" : w.zh ? "、" : ", ") + Esc(Str(x));
    h += "<tr><td>" + Esc(Str(m["id"])) + "</td><td>" + Word(w, MediaWords(), m["kind"]) +
         "</td><td>" + Word(w, MediaWords(), m["method"]) + "</td><td>" + Esc(Str(m["executor"])) +
         " / " + witnesses + "</td><td>" + Esc(Str(m["vendor"])) + " " +
         Esc(Str(m["vendor_certificate"])) + "</td></tr>\n";
  }
  return h + "</table>\n";
}

std::string TimesAndAudit(const Words& w, const json& c) {
  const json& t = c["times"];
  std::string h = "<h2>" + w(kTimes) + "</h2>\n<table>\n";
  h += Row(w({"计划", "Planned"}), Esc(Str(t["planned_at"])));
  h += Row(w({"开始", "Started"}), Esc(Str(t["started_at"])));
  h += Row(w({"清除残留", "Purged"}), Esc(Str(t["purged_at"])));
  h += Row(w({"完成", "Finished"}), Esc(Str(t["finished_at"])));
  h += Row(w({"出具", "Issued"}), Esc(Str(c["issued_at"])));
  h += "</table>\n<h2>" + w(kAudit) + "</h2>\n<p>" + w(kBefore) + "</p><pre>" +
       Esc(Str(c["audit"]["checkpoint_before"]["note"])) + "</pre>\n<p>" + w(kAfter) + "</p><pre>" +
       Esc(Str(c["audit"]["checkpoint_after"]["note"])) + "</pre>\n";
  return h;
}

// Whether the key was used without a user (break-glass) on a vault with
// users: said either way, with the audit entries to look at.
std::string BreakGlassParagraph(const Words& w, const json& c) {
  if (!c.contains("break_glass") || !c["break_glass"].is_object()) return "";
  const json& b = c["break_glass"];
  const uint64_t uses = b.value("uses", uint64_t{0});
  if (uses == 0) {
    return "<p>" +
           w({"应急通道（仅凭保管库密钥、无用户身份）未曾使用。",
              "The break-glass path (the vault's key without a user) was never used."}) +
           "</p>\n";
  }
  return "<p class=\"warn\"><strong>" + w({"应急通道已使用 ", "The break-glass path was used "}) +
         std::to_string(uses) + w({" 次", " times"}) + "</strong>" +
         w({"（仅凭保管库密钥、无用户身份）：审计日志第 ",
            " (the vault's key without a user): audit entries "}) +
         std::to_string(b.value("first_seq", uint64_t{0})) + "–" +
         std::to_string(b.value("last_seq", uint64_t{0})) + w({" 条，", ", "}) +
         Esc(b.value("first_at", std::string())) + " – " + Esc(b.value("last_at", std::string())) +
         w({"。", "."}) + "</p>\n";
}

// The signed reviews that authorised the destruction, or the plain
// statement that none were signed by distinct people.
std::string ApprovalSection(const Words& w, const json& c) {
  std::string h = "<h2>" + w({"审批", "Approvals"}) + "</h2>\n" + BreakGlassParagraph(w, c);
  const json& a = c.contains("authorisation") ? c["authorisation"] : json(nullptr);
  if (!a.is_object()) {
    return h + "<p>" +
           w({"本保管库当时没有用户账户：上述批准人与监销人的姓名系录入，审批未由不同人员以各自密钥签名。",
              "The vault had no users: the approver's and supervisors' names above were typed; "
              "no approval was signed by distinct people with keys of their own."}) +
           "</p>\n";
  }
  const std::string sep = w({"，", ", "});
  h += "<p>" + w({"申请", "Request"}) + " " + Esc(Str(a["request"])) + sep +
       w({"申请人", "requested by"}) + " " + Esc(Str(a["requester"])) + sep +
       w({"操作摘要", "operation SHA-256"}) + " <code>" + Esc(Str(a["operation_sha256"])) +
       "</code></p>\n<table>\n";
  for (const auto& r : a["reviews"]) {
    h += "<tr><td>" + Esc(Str(r["reviewer"])) + " " + Esc(Str(r["name"])) + "</td><td>" +
         Esc(Str(r["decision"]) == "approve" ? w({"批准", "approved"}) : w({"拒绝", "denied"})) +
         "</td><td>" + Esc(Str(r["time"])) + "</td><td><code>" + Esc(Str(r["public_key"])) +
         "</code></td></tr>\n";
  }
  h += "</table>\n<p>" +
       w({"每项审批均为审批人以本人审批密钥对审批声明所作的 SSHSIG 签名（命名空间 custos-approval），"
          "可用 ssh-keygen -Y verify 对照审计日志中登记的公钥核验。",
          "Each approval is an SSHSIG signature (namespace custos-approval) by the reviewer's own "
          "approval key over the approval statement; verify it with ssh-keygen -Y verify against "
          "the key the audit log recorded for the reviewer."}) +
       "</p>\n";
  return h;
}

std::string SignatureSection(const Words& w, const json& c) {
  std::string h = "<h2>" + w(kSignatures) + "</h2>\n<table class=\"sig\">\n";
  h += "<tr><th>" + w(kApprover) + "</th><td>" + Esc(Str(c["approver"])) + "</td><td></td></tr>\n";
  for (const auto& s : c["supervisors"]) {
    h += "<tr><th>" + w(kSupervisor) + "</th><td>" + Esc(Str(s)) + "</td><td></td></tr>\n";
  }
  h += "<tr><th>" + w(kExecutor) + "</th><td>" + Esc(Str(c["executor"])) + "</td><td></td></tr>\n";
  h += "</table>\n" + ApprovalSection(w, c);
  h += "<h2>" + w(kVerify) + "</h2>\n<p>" +
       w({"本记录的电子文件 certificate.json 由保管库密钥签名（SSHSIG），可用 OpenSSH 验证：",
          "The electronic record certificate.json is signed with the vault's key (SSHSIG); "
          "verify it with OpenSSH:"}) +
       "</p>\n<pre><code>ssh-keygen -Y verify -f allowed_signers -I custos -n custos-certificate "
       "-s certificate.json.sig &lt; certificate.json</code></pre>\n<p>" +
       w({"签名公钥：", "Signing key:"}) + "</p><pre><code>" + Esc(Str(c["signing_key"])) +
       "</code></pre>\n";
  return h;
}

constexpr const char* kStyle =
    "@page { size: A4; margin: 18mm 16mm; }\n"
    "body { font-family: 'Noto Serif CJK SC', 'Source Han Serif SC', SimSun, serif; font-size: "
    "10.5pt; color: #000; }\n"
    "h1 { font-size: 16pt; text-align: center; margin: 0 0 6mm; }\n"
    "h2 { font-size: 11.5pt; border-bottom: 1px solid #000; margin: 5mm 0 2mm; }\n"
    "table { border-collapse: collapse; width: 100%; page-break-inside: auto; }\n"
    "tr { page-break-inside: avoid; }\n"
    "th, td { border: 1px solid #444; padding: 1.2mm 2mm; text-align: left; vertical-align: top; "
    "}\n"
    "td.n { text-align: right; }\n"
    "pre { font-size: 7.5pt; white-space: pre-wrap; word-break: break-all; }\n"
    ".sig td { height: 14mm; }\n";

}  // namespace

Result<std::string> RenderCertificateHtml(std::string_view text, std::string_view lang) {
  if (lang != "zh" && lang != "en")
    return Fail(InvalidArgument("certificate language is zh or en"));
  auto c = json::parse(text, nullptr, false);
  if (c.is_discarded() || !c.is_object() ||
      c.value("format", "") != "custos-destruction-certificate") {
    return Fail(InvalidArgument("not a Custos destruction certificate"));
  }
  if (c.value("version", 0) != 2) {
    return Fail(
        InvalidArgument("a destruction certificate of version " + Str(c["version"]) +
                        ": this build renders version 2 (issue it again with custos certificate)"));
  }
  const Words w{lang == "zh"};
  std::string h = "<!DOCTYPE html>\n<html lang=\"" + std::string(w.zh ? "zh-CN" : "en") +
                  "\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + w(kTitle) + " " +
                  Esc(Str(c["destruction"])) + "</title>\n<style>\n" + kStyle +
                  "</style>\n</head>\n<body>\n";
  h += "<h1>" + w(kTitle) + "</h1>\n<table>\n";
  h += Row(w(kBatch), Esc(Str(c["destruction"])));
  h += Row(w(kVault), "<code>" + Esc(Str(c["vault"])) + "</code>");
  h += Row(w(kTrigger), Word(w, TriggerWords(), c["trigger"]));
  h += Row(w(kBasis), LegalBasis(w, c));
  h += Row(w(kConfirmation), Confirmation(w, c));
  h += "</table>\n";
  h += PeopleSection(w, c);
  h += DataSection(w, c);
  h += MethodSection(w, c);
  h += TransfersAndMedia(w, c);
  h += TimesAndAudit(w, c);
  h += SignatureSection(w, c);
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace custos::report
