#include "workflow/transfer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/test_util.h"
#include "crypto/random.h"
#include "detect/validators.h"
#include "package/age.h"
#include "package/ssh_key.h"
#include "package/ssh_private_key.h"
#include "package/tar.h"
#include "package/test_support.h"
#include "workflow/handover.h"
#include "workflow/import.h"
#include "workflow/retention.h"
#include "workflow/sample.h"
#include "workflow/test_vault.h"

namespace custos::workflow {
namespace {

using custos::testing::Slurp;
using custos::testing::TempDir;
using custos::testing::WriteText;
using package::testing::HaveTool;
using package::testing::RunShell;
using package::testing::ShellQuote;
using json = nlohmann::json;

std::string Uscc(std::string_view first17) {
  return std::string(first17) + detect::UsccCheckChar(first17);
}

std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s;
}

// A recipient's keys, as `custos keys new-recipient` makes them.
struct RecipientKeys {
  std::string age_identity_file;
  std::string age_recipient;
  std::string ssh_private;
  std::string ssh_public;
  static RecipientKeys Make() {
    RecipientKeys k;
    package::AgeIdentity id = package::AgeIdentity::Generate();
    crypto::SecretBytes f = package::FormatAgeIdentityFile(id, 0);
    k.age_identity_file.assign(AsChars(f.RevealSecret()));
    k.age_recipient = id.recipient().ToString();
    crypto::SecretBytes seed = crypto::SecretBytes::Random(32);
    auto priv = package::FormatOpenSshPrivateKey(seed, "test");
    k.ssh_private.assign(AsChars(priv->RevealSecret()));
    auto signer = crypto::Signer::FromSeed(seed);
    k.ssh_public = TrimLine(package::SshEd25519PublicKeyLine(signer->public_key(), ""));
    return k;
  }
};

struct Person {
  std::string mobile;
  std::string id_number;
  std::string card;
  std::string email;
  bool minor = false;
};

class TransferTest : public ::testing::Test {
 protected:
  // Writes `rows` sample rows to `file` and imports them into the sender.
  void ImportSample(const std::string& file, const std::string& dataset, size_t rows,
                    uint64_t seed) {
    SampleOptions so;
    so.rows = rows;
    so.seed = seed;
    so.today = TodayInChina();
    std::ofstream out(dir_.File(file), std::ios::binary);
    ASSERT_TRUE(WriteSampleCsv(so, out));
    out.close();
    ImportOptions io;
    io.dataset = dataset;
    auto rep = ImportFile(*sender_, dir_.File(file), io);
    ASSERT_TRUE(rep) << rep.error().ToString();
  }

  void SetUp() override {
    sender_ = testing::NewVault(dir_, "s.vault", "s.key");
    ASSERT_NE(sender_, nullptr);
    receiver_ = testing::NewVault(dir_, "r.vault", "r.key");
    ASSERT_NE(receiver_, nullptr);

    ImportSample("crm.csv", "crm", 60, 11);

    // What the test knows about every person, from the vault itself.
    ASSERT_TRUE(sender_->store_for_testing().ForEachPerson([&](const store::PersonRow& row) -> Status {
      auto d = sender_->Read(sender_->IdOf(row.pk));
      if (!d) return Fail(d.error());
      Person p;
      for (const auto& f : d->fields) {
        if (f.field == "手机号") p.mobile = f.value;
        if (f.field == "身份证号") p.id_number = f.value;
        if (f.field == "银行卡号") p.card = f.value;
        if (f.field == "电子邮箱") p.email = f.value;
      }
      auto info = detect::CheckResidentId(p.id_number, TodayInChina());
      p.minor = info.status == detect::IdStatus::kValid && AgeOn(info.birth, TodayInChina()) < 14;
      people_[p.mobile] = p;
      return Ok();
    }));

    keys_ = RecipientKeys::Make();
    ASSERT_TRUE(AddRecipient(
        *sender_, {"ho", "总公司", Uscc("91110000600037341"), "北京市朝阳区 010-12345678",
                   keys_.age_recipient, keys_.ssh_public}));
    other_ = RecipientKeys::Make();
    ASSERT_TRUE(AddRecipient(*sender_, {"buyer", "买方公司", Uscc("91310000MA1FL0000"),
                                        "上海 021-1234", other_.age_recipient, other_.ssh_public}));
    sender_key_ = TrimLine(package::SshEd25519PublicKeyLine(sender_->signer().public_key(), ""));
  }

  TransferPlan Plan(const std::string& id, const std::string& recipient, TransferMode mode,
                    std::vector<std::string> fields) {
    TransferPlan p;
    p.id = id;
    p.recipient = recipient;
    p.mode = mode;
    p.purpose = "继续提供账户服务";
    p.method = "电子化存储与客户服务";
    p.fields = std::move(fields);
    p.approved_by = "合规负责人";
    p.processor_name = "某某公司北京分公司";
    p.processor_contact = "010-88888888";
    for (const auto& t : RequiredContractTerms()) p.contract[t] = "agreed: " + t;
    return p;
  }

  // Plans, sends notices (returns the CSV's ref -> mobile).
  std::map<std::string, std::string> PlanAndNotify(const TransferPlan& p) {
    std::map<std::string, std::string> refs;
    auto st = PlanTransfer(*sender_, p);
    EXPECT_TRUE(st) << st.error().ToString();
    const std::string path = dir_.File(p.id + "-sms.csv");
    auto n = MakeNotices(*sender_, p.id, Channel::kSms, false, path);
    EXPECT_TRUE(n) << n.error().ToString();
    if (!n) return refs;
    std::istringstream in(Slurp(path));
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "ref,mobile,message\r");
    while (std::getline(in, line)) {
      size_t c1 = line.find(',');
      size_t c2 = line.find(',', c1 + 1);
      refs[line.substr(0, c1)] = line.substr(c1 + 1, c2 - c1 - 1);
    }
    EXPECT_EQ(refs.size(), people_.size());
    EXPECT_EQ(n->notices, people_.size());
    return refs;
  }

  std::string Package(const std::string& id) {
    const std::string out = dir_.File(id + ".tar");
    auto r = BuildPackage(*sender_, id, out);
    EXPECT_TRUE(r) << r.error().ToString();
    return Slurp(out);
  }

  TempDir dir_;
  std::unique_ptr<vault::Vault> sender_;
  std::unique_ptr<vault::Vault> receiver_;
  std::map<std::string, Person> people_;  // by mobile
  RecipientKeys keys_, other_;
  std::string sender_key_;
};

// i % 5: 0 object, 1 withdraw, 2 consent (sensitive yes), 3 consent (sensitive
// and guardian yes), 4 consent (no flags).
std::string Responses(const std::map<std::string, std::string>& refs) {
  std::string csv = "ref,response,time,evidence,sensitive_consent,guardian_consent\n";
  size_t i = 0;
  for (const auto& [ref, mobile] : refs) {
    static const char* kRows[] = {"反对,2026-11-20T10:00:00+08:00,sms reply,,", "withdraw,2026-11-20T10:00:00+08:00,,no,no",
                                  "consent,2026-11-20T10:00:00+08:00,sms,yes,no", "同意,2026-11-20T10:00:00+08:00,letter,yes,yes",
                                  "consent,2026-11-20T10:00:00+08:00,sms,no,no"};
    csv += ref + "," + kRows[i % 5] + "\n";
    ++i;
  }
  return csv;
}

struct ModeCase {
  const char* name;
  TransferMode mode;
  std::vector<std::string> fields;
  bool sensitive;  // the fields include 身份证号
};

class TransferModeTest : public TransferTest, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(TransferModeTest, PackageHoldsExactlyTheAllowedPeopleAndFields) {
  const ModeCase& mc = GetParam();
  TransferPlan p = Plan("T1", "ho", mc.mode, mc.fields);
  auto refs = PlanAndNotify(p);
  ASSERT_FALSE(refs.empty());
  auto rr = RecordResponses(*sender_, "T1", Responses(refs));
  ASSERT_TRUE(rr) << rr.error().ToString();
  EXPECT_EQ(rr->recorded, refs.size());

  // Who may leave.
  std::set<std::string> expected;
  size_t i = 0;
  for (const auto& [ref, mobile] : refs) {
    const size_t k = i++ % 5;
    const Person& person = people_.at(mobile);
    bool in = false;
    if (mc.mode != TransferMode::kArt23) {
      in = k >= 2;
    } else if (k == 3) {
      in = true;
    } else if (k == 2) {
      in = !person.minor;
    } else if (k == 4) {
      in = !mc.sensitive && !person.minor;
    }
    if (in) expected.insert(mobile);
  }

  auto status = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->included, expected.size());
  const std::string archive = Package("T1");
  ASSERT_FALSE(archive.empty());

  auto files = package::ReadTarArchive(AsBytes(archive));
  ASSERT_TRUE(files) << files.error().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].entry.name, "manifest.json");
  const std::string manifest(AsChars((*files)[0].content));
  json m = json::parse(manifest);
  EXPECT_EQ(m["mode"], std::string(TransferModeName(mc.mode)));
  EXPECT_EQ(m["counts"]["people"], expected.size());

  TempDir x;
  WriteText(x.File("manifest.json"), manifest);
  WriteText(x.File("manifest.json.sig"), std::string(AsChars((*files)[1].content)));
  WriteText(x.File("payload.jsonl.age"), std::string(AsChars((*files)[2].content)));
  WriteText(x.File("allowed_signers"), "branch " + sender_key_ + "\n");
  WriteText(x.File("age.key"), keys_.age_identity_file);
  if (HaveTool("ssh-keygen")) {
    auto r = RunShell(x.path(),
                      "ssh-keygen -Y verify -f allowed_signers -I branch -n custos-package -s "
                      "manifest.json.sig < manifest.json");
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    auto bad = RunShell(x.path(),
                        "ssh-keygen -Y verify -f allowed_signers -I branch -n custos-receipt -s "
                        "manifest.json.sig < manifest.json");
    EXPECT_NE(bad.exit_code, 0);
  }
  std::string payload;
  if (HaveTool("age")) {
    auto r = RunShell(x.path(), "age -d -i age.key payload.jsonl.age");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    payload = r.out;
  } else {
    auto ids = package::ParseAgeIdentityFile(keys_.age_identity_file);
    auto plain = package::AgeDecryptBytes(*ids, (*files)[2].content);
    ASSERT_TRUE(plain);
    payload.assign(AsChars(*plain));
  }

  // Exactly the allowed people, only planned fields.
  std::set<std::string> got;
  std::istringstream in(payload);
  std::string line;
  const std::set<std::string> planned(mc.fields.begin(), mc.fields.end());
  while (std::getline(in, line)) {
    json j = json::parse(line);
    EXPECT_EQ(j["person"].get<std::string>().size(), 32u);
    for (const auto& rec : j["records"]) {
      for (const auto& [k, val] : rec["fields"].items()) {
        EXPECT_TRUE(planned.count(k)) << "unplanned field " << k;
        if (k == "手机号") got.insert(val.get<std::string>());
      }
    }
  }
  EXPECT_EQ(got, expected);
  // No unplanned value anywhere: bank cards, e-mails; ID numbers unless planned.
  for (const auto& [mobile, person] : people_) {
    for (const std::string& s : {archive, payload}) {
      if (!person.card.empty()) {
        EXPECT_EQ(s.find(person.card), std::string::npos);
      }
      if (!person.email.empty()) {
        EXPECT_EQ(s.find(person.email), std::string::npos);
      }
      if (!mc.sensitive || !expected.count(mobile)) {
        EXPECT_EQ(s.find(person.id_number), std::string::npos);
      }
      if (!expected.count(mobile)) {
        EXPECT_EQ(s.find(mobile), std::string::npos);
      }
    }
    EXPECT_EQ(manifest.find(mobile), std::string::npos);
  }
  // No internal vault id in the package.
  for (const auto& ps : status->persons) {
    EXPECT_EQ(payload.find(sender_->IdOf(ps.pk).ToString()), std::string::npos);
  }

  // The recipient imports, signs a receipt; the sender closes.
  auto imp = ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive)), sender_key_, keys_.age_identity_file, "");
  ASSERT_TRUE(imp) << imp.error().ToString();
  EXPECT_EQ(imp->people, expected.size());
  EXPECT_EQ(*receiver_->CountPeople(), expected.size());
  auto again =
      ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive)), sender_key_, keys_.age_identity_file, "x");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  auto receipt = MakeReceipt(*receiver_, PackageInput::Memory(AsBytes(archive)), keys_.ssh_private);
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  // A receipt signed by another key is refused.
  auto forged = MakeReceipt(*receiver_, PackageInput::Memory(AsBytes(archive)), other_.ssh_private);
  ASSERT_TRUE(forged);
  auto c1 = CloseTransfer(*sender_, "T1", *forged);
  ASSERT_FALSE(c1);
  EXPECT_EQ(c1.error().code(), ErrorCode::kUnauthenticated);
  auto closed = CloseTransfer(*sender_, "T1", *receipt);
  ASSERT_TRUE(closed) << closed.error().ToString();
  EXPECT_EQ(closed->people, expected.size());
  auto after = GetTransferStatus(*sender_, "T1");
  EXPECT_EQ(after->state, TransferState::kClosed);
  EXPECT_EQ(after->included, expected.size());

  // The audit logs of both sides verify.
  EXPECT_TRUE(tlog::VerifyLog(sender_->store_for_testing(), sender_->audit().verifier_key()));
  EXPECT_TRUE(tlog::VerifyLog(receiver_->store_for_testing(), receiver_->audit().verifier_key()));
}

INSTANTIATE_TEST_SUITE_P(
    Modes, TransferModeTest,
    ::testing::Values(
        ModeCase{"HeadOffice", TransferMode::kHeadOffice, {"姓名", "手机号"}, false},
        ModeCase{"Art22", TransferMode::kArt22, {"姓名", "手机号", "联系地址"}, false},
        ModeCase{"Art23", TransferMode::kArt23, {"姓名", "手机号"}, false},
        ModeCase{"Art23Sensitive", TransferMode::kArt23, {"姓名", "手机号", "身份证号"}, true}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(TransferTest, UnknownFieldsAreNamed) {
  TransferPlan p = Plan("T1", "ho", TransferMode::kArt22, {"姓名", "微信号", "QQ"});
  auto st = PlanTransfer(*sender_, p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("微信号, QQ"), std::string::npos) << st.error().message();
  p = Plan("T1", "nobody", TransferMode::kArt22, {"姓名"});
  EXPECT_EQ(PlanTransfer(*sender_, p).error().code(), ErrorCode::kNotFound);
}

TEST_F(TransferTest, MissingTermsBlockPackaging) {
  TransferPlan p = Plan("T1", "ho", TransferMode::kArt22, {"姓名"});
  p.contract.erase("audit_right");
  p.contract.erase("breach_notice");
  p.approved_by.clear();
  PlanAndNotify(p);
  auto r = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message().find("audit_right, breach_notice, approved_by"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(FileExists(dir_.File("T1.tar")));
  ASSERT_TRUE(
      SetTransferTerms(*sender_, "T1", {{"audit_right", "yes"}, {"breach_notice", "24h"}}, "CPO"));
  EXPECT_TRUE(BuildPackage(*sender_, "T1", dir_.File("T1.tar")));
}

TEST_F(TransferTest, NoPackageBeforeNotices) {
  ASSERT_TRUE(PlanTransfer(*sender_, Plan("T1", "ho", TransferMode::kArt22, {"姓名"})));
  auto r = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
}

// Notices are one per person with a contact, each with its own code; a
// second run (another channel) gives everyone the code they had; people
// without a contact for the channel are listed, and still get a code.
TEST_F(TransferTest, NoticesKeepEachPersonsCodeAcrossRuns) {
  const TransferPlan p = Plan("T1", "ho", TransferMode::kArt22, {"姓名"});
  const auto sms = PlanAndNotify(p);
  std::set<std::string> codes;
  for (const auto& [ref, mobile] : sms) {
    EXPECT_EQ(ref.size(), 8u);
    codes.insert(ref);
    EXPECT_TRUE(people_.count(mobile)) << "a notice for someone unknown";
  }
  EXPECT_EQ(codes.size(), people_.size());

  const std::string mail = dir_.File("mail.csv");
  auto n = MakeNotices(*sender_, "T1", Channel::kEmail, true, mail);
  ASSERT_TRUE(n) << n.error().ToString();
  size_t with_email = 0;
  for (const auto& [mobile, person] : people_) with_email += !person.email.empty();
  EXPECT_EQ(n->notices, with_email);
  EXPECT_EQ(n->missing_contact.size(), people_.size() - with_email);
  std::istringstream in(Slurp(mail));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "ref,email,message\r");
  size_t rows = 0;
  while (std::getline(in, line)) {
    if (line.size() < 9 || line[8] != ',') continue;  // continuation lines of a quoted message
    EXPECT_TRUE(codes.count(line.substr(0, 8))) << "a new code on the second run";
    ++rows;
  }
  EXPECT_EQ(rows, with_email);
}

// A notices file that cannot be written leaves the vault as it was: no
// codes, no log entry, the transfer still only planned.
TEST_F(TransferTest, AnUnwritableNoticesFileChangesNothing) {
  const TransferPlan p = Plan("T1", "ho", TransferMode::kArt22, {"姓名"});
  ASSERT_TRUE(PlanTransfer(*sender_, p));
  const uint64_t entries = *sender_->store_for_testing().CountAuditEntries();
  auto n = MakeNotices(*sender_, "T1", Channel::kSms, false, dir_.File("missing/sms.csv"));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(*sender_->store_for_testing().CountAuditEntries(), entries);
  auto status = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TransferState::kPlanned);
}

// A response's time must be RFC 3339 (a date alone, a spreadsheet's local
// format, or anything else is refused, line by line, without repeating it).
TEST_F(TransferTest, ResponseTimesMustBeRfc3339) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt23, {"姓名"}));
  const std::string good = refs.begin()->first;
  const std::string csv = "ref,response,time\n" + good + ",consent,2026-11-20\n" + good +
                          ",consent,2026/11/20 10:00\n" + good + ",consent,11010519491231002X\n" +
                          good + ",consent,2026-11-20T10:00:00+08:00\n";
  auto r = RecordResponses(*sender_, "T1", csv);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("3 bad line(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 2: time: not an RFC 3339 time"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4: time:"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("line 5:"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("11010519491231002X"), std::string::npos) << msg;
}

// Evidence may quote a person (an ID number in a reply): it is sealed under
// that person's key, so no vault file holds it in clear, and it is shredded
// with them.
TEST_F(TransferTest, ResponseEvidenceIsSealedUnderThePersonsKey) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt23, {"姓名"}));
  const std::string canary = "EVIDENCE-CANARY-11010519491231002X";
  std::string csv = "ref,response,time,evidence\n";
  for (const auto& [ref, mobile] : refs) {
    csv += ref + ",consent,2026-11-20T10:00:00+08:00," + canary + "\n";
  }
  auto r = RecordResponses(*sender_, "T1", csv);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->recorded, refs.size());
  // Sealed, and opens again under the person's key.
  int64_t pk = 0;
  std::string body;
  ASSERT_TRUE(sender_->store_for_testing().ForEachPersonDoc(
      "transfer.response", "T1", [&](int64_t p, std::string_view b) -> Status {
        if (pk == 0) pk = p, body = std::string(b);
        return Ok();
      }));
  ASSERT_NE(pk, 0);
  auto j = nlohmann::json::parse(body);
  EXPECT_FALSE(j.contains("evidence"));
  EXPECT_EQ(j["time"], "2026-11-20T02:00:00Z");
  auto sealed = Base64Decode(j["evidence_sealed"].get<std::string>());
  ASSERT_TRUE(sealed);
  auto opened = sender_->OpenForPerson(pk, "transfer.response.evidence", *sealed);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(*opened, canary);
  // Bound to the person: under another person's key it does not open.
  auto other = sender_->OpenForPerson(pk + 1, "transfer.response.evidence", *sealed);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kDataLoss);
  sender_.reset();
  receiver_.reset();
  EXPECT_EQ(custos::testing::SlurpTree(dir_.path()).find("EVIDENCE-CANARY"), std::string::npos);
}

// Values damaged before import (a card column that went through a
// spreadsheet's number format) are refused by the package unless allowed;
// allowed, they travel marked, are counted, and stay marked at the recipient.
TEST_F(TransferTest, DamagedValuesAreRefusedUnlessAllowedAndStayMarked) {
  std::string csv = "姓名,手机号,卡号\n";
  for (int i = 0; i < 12; ++i) {
    char mobile[16];
    std::snprintf(mobile, sizeof mobile, "139%08d", 1000 + i);
    csv += "刘洋," + std::string(mobile) + ",62220200000" + std::to_string(1000 + i) + "0\n";
  }
  std::ofstream(dir_.File("cards.csv"), std::ios::binary) << csv;
  ImportOptions io;
  io.dataset = "cards";
  auto imported = ImportFile(*sender_, dir_.File("cards.csv"), io);
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->damaged.size(), 3u);
  EXPECT_EQ(imported->damaged[2], 12u);

  TransferPlan plan = Plan("T1", "ho", TransferMode::kHeadOffice, {"姓名", "卡号"});
  plan.dataset = "cards";
  auto damaged = DamagedPlannedFields(*sender_, plan);
  ASSERT_TRUE(PlanTransfer(*sender_, plan));
  ASSERT_TRUE(MakeNotices(*sender_, "T1", Channel::kSms, false, dir_.File("n.csv")));
  ASSERT_TRUE(damaged);
  EXPECT_EQ(*damaged, (std::map<std::string, uint64_t>{{"卡号", 12}}));

  auto refused = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("卡号: 12"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("--allow-damaged"), std::string::npos);
  EXPECT_FALSE(FileExists(dir_.File("T1.tar")));

  auto built = BuildPackage(*sender_, "T1", dir_.File("T1.tar"), TodayInChina(), /*allow_damaged=*/true);
  ASSERT_TRUE(built) << built.error().ToString();
  EXPECT_EQ(built->damaged, (std::map<std::string, uint64_t>{{"卡号", 12}}));
  const std::string archive = Slurp(dir_.File("T1.tar"));
  auto files = package::ReadTarArchive(AsBytes(archive));
  ASSERT_TRUE(files);
  const json manifest = json::parse(AsChars((*files)[0].content));
  EXPECT_EQ(manifest["counts"]["damaged"]["卡号"], 12);
  auto ids = package::ParseAgeIdentityFile(keys_.age_identity_file);
  auto plain = package::AgeDecryptBytes(*ids, (*files)[2].content);
  ASSERT_TRUE(plain);
  std::istringstream in{std::string(AsChars(*plain))};
  std::string line;
  size_t marked = 0;
  while (std::getline(in, line)) {
    const json person = json::parse(line);
    for (const auto& rec : person["records"]) {
      if (rec.contains("damaged")) {
        EXPECT_EQ(rec["damaged"], json::array({"卡号"}));
        ++marked;
      }
    }
  }
  EXPECT_EQ(marked, 12u);

  // The audit entry says it was allowed, with the count.
  std::string log;
  ASSERT_TRUE(sender_->store_for_testing().ForEachAuditEntry(0, [&](uint64_t, ByteSpan e) -> Status {
    log += std::string(AsChars(e)) + "\n";
    return Ok();
  }));
  EXPECT_NE(log.find("\"allow_damaged\":true,\"damaged_values\":{\"卡号\":12}"), std::string::npos);

  // The recipient keeps the marks.
  auto imp = ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive)), sender_key_,
                           keys_.age_identity_file, "");
  ASSERT_TRUE(imp) << imp.error().ToString();
  size_t seen = 0;
  ASSERT_TRUE(receiver_->store_for_testing().ForEachPerson([&](const store::PersonRow& row) -> Status {
    auto d = receiver_->Read(receiver_->IdOf(row.pk));
    if (!d) return Fail(d.error());
    for (const auto& f : d->fields) {
      if (f.field == "卡号") {
        EXPECT_TRUE(f.damaged);
        ++seen;
      } else {
        EXPECT_FALSE(f.damaged);
      }
    }
    return Ok();
  }));
  EXPECT_EQ(seen, 12u);
}

TEST_F(TransferTest, BadResponsesAreReportedByLineAndNothingIsRecorded) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt23, {"姓名"}));
  const std::string good = refs.begin()->first;
  std::string csv = "ref,response,time\n" + good +
                    ",consent,2026-11-20T10:00:00+08:00\nZZZZZZZZ,consent,2026-11-20T10:00:00+08:00\n" + good +
                    ",maybe,2026-11-20T10:00:00+08:00\n" + good + ",\"consent,2026\n";
  auto r = RecordResponses(*sender_, "T1", csv);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("3 bad line(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3: unknown ref ZZZZZZZZ"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4:"), std::string::npos) << msg;
  // The unclosed quote, as the CSV reader reports it: file, line, column.
  EXPECT_NE(msg.find("responses:5:2: quoted field"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("line 2:"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("consent,2026"), std::string::npos) << msg;
  auto st = GetTransferStatus(*sender_, "T1");
  EXPECT_EQ(st->included, 0u);
  EXPECT_EQ(st->pending, people_.size());
}

// The responses file is read by the CSV reader imports use: quoted cells
// (with commas, quotes, line breaks), CRLF, a BOM, and GBK as Excel on
// Chinese Windows saves it. A line's number is its physical line.
TEST_F(TransferTest, ResponsesAreReadAsImportsReadCsv) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt23, {"姓名"}));
  ASSERT_GE(refs.size(), 3u);
  auto ref = refs.begin();
  const std::string a = ref->first, b = (++ref)->first, c = (++ref)->first;
  const std::string utf8 =
      "\xEF\xBB\xBFref,response,time,evidence\r\n" + a +
      ",consent,2026-11-20T10:00:00+08:00,\"sms, \"\"yes\"\"\nsent twice\"\r\n" + b +
      ",\"反对\",2026-11-20T10:00:00+08:00,\r\n";
  auto r = RecordResponses(*sender_, "T1", utf8);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->recorded, 2u);
  EXPECT_EQ(r->by_response, (std::map<std::string, uint64_t>{{"consent", 1}, {"object", 1}}));

  // GBK: "同意" (consent), then a bad line after a quoted line break, named
  // by its physical line (5).
  const std::string gbk = "ref,response,time,evidence\n" + c +
                          ",\xCD\xAC\xD2\xE2,2026-11-20T10:00:00+08:00,\"two\nlines\"\n\n" + c +
                          ",maybe,2026-11-20T10:00:00+08:00,\n";
  auto bad = RecordResponses(*sender_, "T1", gbk);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "1 bad line(s), nothing recorded: line 5: response must be consent, object or "
            "withdraw (同意, 反对, 撤回)");
  auto good = RecordResponses(*sender_, "T1", gbk.substr(0, gbk.rfind("\n\n") + 2));
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(good->by_response, (std::map<std::string, uint64_t>{{"consent", 1}}));

  // A ragged line stops the reading as the reader says, never quoting it.
  auto ragged = RecordResponses(
      *sender_, "T1", "ref,response,time\n" + a + ",consent,2026-11-20T10:00:00Z,13812345678\n");
  ASSERT_FALSE(ragged);
  EXPECT_EQ(ragged.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(ragged.error().message().find("responses:2:"), std::string::npos)
      << ragged.error().message();
  EXPECT_EQ(ragged.error().message().find("13812345678"), std::string::npos)
      << ragged.error().message();
  // And a file without the columns says which.
  auto headless = RecordResponses(*sender_, "T1", "ref,answer\n" + a + ",consent\n");
  ASSERT_FALSE(headless);
  EXPECT_NE(headless.error().message().find("the header has no 'response' column"),
            std::string::npos)
      << headless.error().message();
}

class TamperTest : public TransferTest {
 protected:
  void SetUp() override {
    TransferTest::SetUp();
    if (HasFatalFailure()) return;
    PlanAndNotify(Plan("T1", "ho", TransferMode::kArt22, {"姓名", "手机号"}));
    archive_ = Package("T1");
  }
  void ExpectRefused(std::string_view archive, ErrorCode code, const std::string& what) {
    auto r = ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive)), sender_key_, keys_.age_identity_file, "");
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code(), code) << what << ": " << r.error().ToString();
    EXPECT_EQ(*receiver_->CountPeople(), 0u) << what;
  }
  std::string archive_;
};

TEST_F(TamperTest, FlippedByteAnywhereIsDataLoss) {
  ASSERT_GT(archive_.size(), 2048u);
  for (size_t off = 0; off < archive_.size(); off += (off < 2048 ? 1 : 37)) {
    std::string bad = archive_;
    bad[off] = static_cast<char>(bad[off] ^ 0x01);
    auto r = VerifyPackage(PackageInput::Memory(AsBytes(bad)), sender_key_);
    ASSERT_FALSE(r) << "offset " << off;
    ASSERT_EQ(r.error().code(), ErrorCode::kDataLoss)
        << "offset " << off << ": " << r.error().ToString();
  }
  for (size_t off : {size_t{10}, size_t{600}, archive_.size() / 2, archive_.size() - 1100}) {
    std::string bad = archive_;
    bad[off] = static_cast<char>(bad[off] ^ 0x80);
    ExpectRefused(bad, ErrorCode::kDataLoss, "flip at " + std::to_string(off));
  }
}

TEST_F(TamperTest, TruncationIsDataLoss) {
  for (size_t keep :
       {size_t{0}, size_t{511}, archive_.size() / 2, archive_.size() - 1024, archive_.size() - 1}) {
    ExpectRefused(archive_.substr(0, keep), ErrorCode::kDataLoss,
                  "truncated to " + std::to_string(keep));
  }
  // A well-formed archive whose payload was cut short.
  auto files = package::ReadTarArchive(AsBytes(archive_));
  ASSERT_TRUE(files);
  Bytes out;
  package::BytesSink sink(out);
  package::TarWriter w(sink);
  for (auto& f : *files) {
    if (f.entry.name == "payload.jsonl.age") f.content.resize(f.content.size() - 17);
    ASSERT_TRUE(w.AddFile(f.entry.name, f.content, f.entry.mtime));
  }
  ASSERT_TRUE(w.Finish());
  ExpectRefused(AsChars(out), ErrorCode::kDataLoss, "truncated payload");
}

TEST_F(TamperTest, OtherRecipientWrongSenderAndReplay) {
  // A package for another recipient.
  PlanAndNotify(Plan("T2", "buyer", TransferMode::kArt22, {"姓名"}));
  const std::string for_buyer = Package("T2");
  ExpectRefused(for_buyer, ErrorCode::kPermissionDenied, "package for another recipient");
  // Signed by another vault.
  auto wrong = VerifyPackage(PackageInput::Memory(AsBytes(archive_)), other_.ssh_public);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  // Replayed.
  ASSERT_TRUE(
      ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive_)), sender_key_, keys_.age_identity_file, ""));
  const uint64_t n = *receiver_->CountPeople();
  auto r =
      ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive_)), sender_key_, keys_.age_identity_file, "again");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*receiver_->CountPeople(), n);
}

TEST_F(TamperTest, ReceiptForAnotherPackageOrModifiedIsRefused) {
  PlanAndNotify(Plan("T3", "ho", TransferMode::kHeadOffice, {"姓名"}));
  const std::string second = Package("T3");
  ASSERT_TRUE(
      ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive_)), sender_key_, keys_.age_identity_file, ""));
  ASSERT_TRUE(ImportPackage(*receiver_, PackageInput::Memory(AsBytes(second)), sender_key_, keys_.age_identity_file, ""));
  auto r3 = MakeReceipt(*receiver_, PackageInput::Memory(AsBytes(second)), keys_.ssh_private);
  ASSERT_TRUE(r3);
  auto c = CloseTransfer(*sender_, "T1", *r3);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kFailedPrecondition);
  auto r1 = MakeReceipt(*receiver_, PackageInput::Memory(AsBytes(archive_)), keys_.ssh_private);
  ASSERT_TRUE(r1);
  std::string bad = *r1;
  bad[bad.find("\"people\":") + 9] ^= 0x01;
  auto c2 = CloseTransfer(*sender_, "T1", bad);
  ASSERT_FALSE(c2);
  EXPECT_EQ(c2.error().code(), ErrorCode::kDataLoss);
  ASSERT_TRUE(CloseTransfer(*sender_, "T1", *r1));
  auto c3 = CloseTransfer(*sender_, "T1", *r1);
  ASSERT_FALSE(c3);
  EXPECT_EQ(c3.error().code(), ErrorCode::kFailedPrecondition);
  // A receipt before import is refused on the recipient side.
  TempDir d;
  vault::KeySource k;
  k.key_file = d.File("k");
  auto fresh = vault::Vault::Create(custos::testing::TestVaultLocation(d.File("v")), k);
  ASSERT_TRUE(fresh);
  auto nr = MakeReceipt(**fresh, PackageInput::Memory(AsBytes(archive_)), keys_.ssh_private);
  ASSERT_FALSE(nr);
  EXPECT_EQ(nr.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(TransferTest, ObjectionsAreVisibleToOtherWorkflows) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt22, {"姓名"}));
  ASSERT_TRUE(RecordResponses(*sender_, "T1", Responses(refs)));
  auto st = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(st);
  ASSERT_TRUE(BuildPackage(*sender_, "T1", dir_.File("T1.tar")));
  auto all = ListTransfers(*sender_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, TransferState::kPackaged);
  for (const auto& ps : st->persons) {
    EXPECT_EQ(*PersonTransferred(*sender_, ps.pk), ps.included);
    EXPECT_EQ(*PersonObjected(*sender_, ps.pk), ps.reason == "objected" || ps.reason == "withdrew");
  }
}

// A response that no longer reads is data_loss, not "no answer": read as
// none, an objection in it would be lost and the person packaged.
TEST_F(TransferTest, ADamagedResponseIsDataLossNotNoAnswer) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt22, {"姓名"}));
  ASSERT_TRUE(RecordResponses(*sender_, "T1", Responses(refs)));
  auto st = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(st);
  int64_t pk = 0;
  for (const auto& ps : st->persons) {
    if (ps.reason == "objected") pk = ps.pk;
  }
  ASSERT_NE(pk, 0);
  ASSERT_TRUE(sender_->Transact(sender_->MakeEvent("test.damage"), [&](tlog::Event&) {
    return sender_->store_for_testing().PutPersonDoc("transfer.response", "T1", pk,
                                                     R"({"response":"obj)");
  }));
  auto damaged = GetTransferStatus(*sender_, "T1");
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(damaged.error().message().find("transfer 'T1'"), std::string::npos)
      << damaged.error().message();
  auto objected = PersonObjected(*sender_, pk);
  ASSERT_FALSE(objected);
  EXPECT_EQ(objected.error().code(), ErrorCode::kDataLoss);
  auto package = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_FALSE(package);
  EXPECT_EQ(package.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(FileExists(dir_.File("T1.tar")));
}

// Who left is one doc per package; packages made before that recorded a
// person doc per person, and those are still read the same.
TEST_F(TransferTest, PackagesRecordedPerPersonStillRead) {
  auto refs = PlanAndNotify(Plan("T1", "ho", TransferMode::kArt22, {"姓名"}));
  ASSERT_TRUE(RecordResponses(*sender_, "T1", Responses(refs)));
  auto report = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_TRUE(report);
  auto before = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(before);
  ASSERT_GT(before->included, 0u);
  ASSERT_GT(before->excluded.size(), 0u);  // objections leave gaps between runs
  EXPECT_EQ(before->included, report->people);
  auto check = [&](const TransferStatus& st) {
    EXPECT_EQ(st.included, before->included);
    EXPECT_EQ(st.excluded, before->excluded);
    ASSERT_EQ(st.persons.size(), before->persons.size());
    for (size_t i = 0; i < st.persons.size(); ++i) {
      EXPECT_EQ(st.persons[i].included, before->persons[i].included);
      EXPECT_EQ(*PersonTransferred(*sender_, st.persons[i].pk), st.persons[i].included);
    }
  };
  check(*before);
  ASSERT_TRUE(sender_->Transact(sender_->MakeEvent("test.legacy"), [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(sender_->store_for_testing().DeleteDoc("transfer.included", "T1"));
    const std::string body = R"({"manifest_sha256":")" + report->manifest_sha256 + R"("})";
    for (const auto& ps : before->persons) {
      if (ps.included) RETURN_IF_ERROR(sender_->store_for_testing().PutPersonDoc("transfer.included", "T1", ps.pk, body));
    }
    return Ok();
  }));
  auto legacy = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(legacy) << legacy.error().ToString();
  check(*legacy);

  // A damaged list is data_loss, not "nobody left".
  for (const char* body : {R"({"manifest_sha256":"x","people":1,"runs":"AQ=="})",
                           R"({"manifest_sha256":"x","people":2,"runs":"AQE="})",
                           R"({"manifest_sha256":"x","people":1,"runs":"AQA="})",
                           R"({"manifest_sha256":"x","runs":"AQE="})", "[]"}) {
    ASSERT_TRUE(sender_->Transact(sender_->MakeEvent("test.damage"), [&](tlog::Event&) {
      return sender_->store_for_testing().PutDoc("transfer.included", "T1", body);
    }));
    auto damaged = GetTransferStatus(*sender_, "T1");
    ASSERT_FALSE(damaged) << body;
    EXPECT_EQ(damaged.error().code(), ErrorCode::kDataLoss) << body;
    auto who = PersonTransferred(*sender_, before->persons[0].pk);
    ASSERT_FALSE(who) << body;
    EXPECT_EQ(who.error().code(), ErrorCode::kDataLoss) << body;
  }
}

// A value that does not authenticate stops a package it would be in, and
// only such a package: fields that do not leave are not even opened.
TEST_F(TransferTest, DamagedValueStopsThePackageOnlyWhenPlanned) {
  int64_t pk = 0;
  ASSERT_TRUE(sender_->store_for_testing().ForEachPerson([&](const store::PersonRow& row) -> Status {
    if (pk == 0) pk = row.pk;
    return Ok();
  }));
  auto recs = sender_->store_for_testing().RecordsOf(pk);
  ASSERT_TRUE(recs && !recs->empty());
  store::RecordRow rec = (*recs)[0];
  rec.body.back() ^= 1;  // the tag of the record's last field
  ASSERT_TRUE(sender_->Transact(sender_->MakeEvent("test.damage"), [&](tlog::Event&) {
    return sender_->store_for_testing().UpdateRecord(rec.id, rec.body);
  }));
  auto d = sender_->Read(sender_->IdOf(pk));
  ASSERT_TRUE(d);
  std::string damaged, intact;
  for (const auto& f : d->fields) {
    if (!f.status) {
      damaged = f.field;
    } else if (f.field != damaged) {
      intact = f.field;
    }
  }
  ASSERT_FALSE(damaged.empty());
  ASSERT_FALSE(intact.empty());
  ASSERT_NE(damaged, intact);
  PlanAndNotify(Plan("T1", "ho", TransferMode::kHeadOffice, {damaged}));
  auto bad = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(FileExists(dir_.File("T1.tar")));
  // Nor the archive it was being written into.
  auto ls = RunShell(dir_.path(), "ls -a");
  EXPECT_EQ(ls.out.find(".tmp-"), std::string::npos) << ls.out;
  PlanAndNotify(Plan("T2", "ho", TransferMode::kHeadOffice, {intact}));
  auto good = BuildPackage(*sender_, "T2", dir_.File("T2.tar"));
  EXPECT_TRUE(good) << good.error().ToString();
}

// Art. 31: under art23 a consenting person under 14 leaves only with their
// guardian's consent. Enough people for several batches of the bulk read
// that finds the minors; the expected count comes from reading each person.
TEST_F(TransferTest, Art23ConsentersUnder14NeedTheirGuardian) {
  ImportSample("more.csv", "crm2", 2600, 12);
  uint64_t people = 0, minors = 0;
  ASSERT_TRUE(sender_->store_for_testing().ForEachPerson([&](const store::PersonRow& row) -> Status {
    auto d = sender_->Read(sender_->IdOf(row.pk));
    if (!d) return Fail(d.error());
    ++people;
    for (const auto& f : d->fields) {
      if (f.type != "cn_resident_id") continue;
      auto info = detect::CheckResidentId(f.value, TodayInChina());
      if (info.status == detect::IdStatus::kValid && AgeOn(info.birth, TodayInChina()) < 14) {
        ++minors;
        break;
      }
    }
    return Ok();
  }));
  ASSERT_GT(minors, 10u);
  for (const char* guardian : {"no", "yes"}) {
    const std::string id = std::string("T-") + guardian;
    const TransferPlan p = Plan(id, "buyer", TransferMode::kArt23, {"姓名"});
    ASSERT_TRUE(PlanTransfer(*sender_, p));
    const std::string sms = dir_.File(id + ".csv");
    ASSERT_TRUE(MakeNotices(*sender_, id, Channel::kSms, false, sms));
    std::istringstream in(Slurp(sms));
    std::string line, csv = "ref,response,time,evidence,sensitive_consent,guardian_consent\n";
    std::getline(in, line);
    while (std::getline(in, line)) {
      csv += line.substr(0, 8) + ",consent,2026-11-20T10:00:00+08:00,sms,no," + guardian + "\n";
    }
    ASSERT_TRUE(RecordResponses(*sender_, id, csv));
    auto status = GetTransferStatus(*sender_, id);
    ASSERT_TRUE(status) << status.error().ToString();
    EXPECT_EQ(status->people, people);
    if (std::string(guardian) == "no") {
      EXPECT_EQ(status->excluded["minor_without_guardian_consent"], minors);
      EXPECT_EQ(status->included, people - minors);
    } else {
      EXPECT_EQ(status->excluded.count("minor_without_guardian_consent"), 0u);
      EXPECT_EQ(status->included, people);
    }
  }
}

// Enough people for several batches of the bulk read, formatted on its
// worker threads: every included person once, in pk order, and the counts
// of every batch added up.
TEST_F(TransferTest, ManyPeopleArePackagedInOrderAcrossBatches) {
  ImportSample("more.csv", "crm2", 2600, 12);  // the plan takes every dataset's
  const TransferPlan p = Plan("T1", "ho", TransferMode::kHeadOffice, {"手机号"});
  ASSERT_TRUE(PlanTransfer(*sender_, p));
  ASSERT_TRUE(MakeNotices(*sender_, p.id, Channel::kSms, false, dir_.File("sms.csv")));
  auto status = GetTransferStatus(*sender_, "T1");
  ASSERT_TRUE(status) << status.error().ToString();
  ASSERT_GT(status->included, 2500u);

  // Each included person's mobiles, record by record, in pk order.
  std::vector<std::string> want;
  uint64_t want_records = 0;
  for (const auto& ps : status->persons) {
    if (!ps.included) continue;
    auto d = sender_->Read(sender_->IdOf(ps.pk));
    ASSERT_TRUE(d);
    std::string mobiles;
    std::set<uint64_t> records;
    for (const auto& f : d->fields) {
      if (f.field != "手机号" || f.value.empty()) continue;
      mobiles += f.value + ";";
      records.insert(f.record);
    }
    want.push_back(mobiles);
    want_records += records.size();
  }

  auto rep = BuildPackage(*sender_, "T1", dir_.File("T1.tar"));
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->people, status->included);
  EXPECT_EQ(rep->records, want_records);
  auto files = package::ReadTarArchive(AsBytes(Slurp(dir_.File("T1.tar"))));
  ASSERT_TRUE(files) << files.error().ToString();
  json m = json::parse(AsChars((*files)[0].content));
  EXPECT_EQ(m["counts"]["people"], status->included);
  EXPECT_EQ(m["counts"]["records"], want_records);
  EXPECT_EQ(m["files"][0]["size"], (*files)[2].content.size());
  auto ids = package::ParseAgeIdentityFile(keys_.age_identity_file);
  ASSERT_TRUE(ids);
  auto plain = package::AgeDecryptBytes(*ids, (*files)[2].content);
  ASSERT_TRUE(plain) << plain.error().ToString();
  std::istringstream in{std::string(AsChars(*plain))};
  std::vector<std::string> got;
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    std::string mobiles;
    for (const auto& rec : j["records"]) mobiles += rec["fields"].value("手机号", "") + ";";
    got.push_back(mobiles);
  }
  EXPECT_TRUE(got == want) << got.size() << " lines, want " << want.size();

  // The recipient reads the file as it streams (payload lines cut across
  // the 64 KiB pieces of the archive and of age's chunks): everyone lands.
  auto imp = ImportPackage(*receiver_, PackageInput::File(dir_.File("T1.tar")), sender_key_,
                           keys_.age_identity_file, "");
  ASSERT_TRUE(imp) << imp.error().ToString();
  EXPECT_EQ(imp->people, status->included);
  EXPECT_EQ(imp->records, want_records);
  EXPECT_EQ(*receiver_->CountPeople(), status->included);
  EXPECT_GT((*files)[2].content.size(), size_t{4} * 65536);
  auto receipt = MakeReceipt(*receiver_, PackageInput::File(dir_.File("T1.tar")), keys_.ssh_private);
  EXPECT_TRUE(receipt) << receipt.error().ToString();
  auto missing = VerifyPackage(PackageInput::File(dir_.File("none.tar")), sender_key_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

// PIPL Art. 47 ¶2 (legal.md R7): a field frozen under a retention rule is
// only stored and protected, never provided. Addresses and bank cards are
// bound to a 30-year rule counted from each person's account-opening date;
// on a day between the earliest and the latest expiry, some people's
// addresses are frozen and the others' are not.
TEST_F(TransferTest, FrozenFieldsStayOutOfThePayloadAndAreCounted) {
  ApplyOptions a;
  a.rule = "accounting-vouchers-books";
  a.dataset = "crm";
  a.fields = {"联系地址", "银行卡号"};
  a.start_field = "开户日期";
  auto applied = ApplyRetention(*sender_, a);
  ASSERT_TRUE(applied) << applied.error().ToString();
  auto lo = ParseIsoDate(applied->earliest_expiry);
  auto hi = ParseIsoDate(applied->latest_expiry);
  ASSERT_TRUE(lo && hi);
  const Date today{(lo->year + hi->year) / 2, 6, 15};

  // Who has the address frozen that day, and their address (by mobile).
  std::map<std::string, std::string> address;
  std::set<std::string> frozen;
  ASSERT_TRUE(sender_->store_for_testing().ForEachPerson([&](const store::PersonRow& row) -> Status {
    auto d = sender_->Read(sender_->IdOf(row.pk));
    if (!d) return Fail(d.error());
    std::string mobile, addr;
    for (const auto& f : d->fields) {
      if (f.field == "手机号") mobile = f.value;
      if (f.field == "联系地址") addr = f.value;
    }
    address[mobile] = addr;
    auto is = IsFrozen(*sender_, row.pk, "crm", "联系地址", today);
    if (!is) return Fail(is.error());
    if (*is) frozen.insert(mobile);
    return Ok();
  }));
  ASSERT_FALSE(frozen.empty());
  ASSERT_LT(frozen.size(), address.size());
  const uint64_t n_frozen = frozen.size();

  TransferPlan p = Plan("T1", "ho", TransferMode::kHeadOffice, {"姓名", "手机号", "联系地址"});
  PlanAndNotify(p);
  // Planning warns (the bank card is frozen too, but not planned).
  auto warned = FrozenPlannedFields(*sender_, p, today);
  ASSERT_TRUE(warned) << warned.error().ToString();
  EXPECT_EQ(*warned, (std::map<std::string, uint64_t>{{"联系地址", n_frozen}}));
  auto before = GetTransferStatus(*sender_, "T1", today);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->included, address.size());
  EXPECT_EQ(before->withheld_frozen, (std::map<std::string, uint64_t>{{"联系地址", n_frozen}}));

  auto rep = BuildPackage(*sender_, "T1", dir_.File("T1.tar"), today);
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->people, address.size());
  EXPECT_EQ(rep->withheld_frozen, (std::map<std::string, uint64_t>{{"联系地址", n_frozen}}));
  const std::string archive = Slurp(dir_.File("T1.tar"));
  auto files = package::ReadTarArchive(AsBytes(archive));
  ASSERT_TRUE(files) << files.error().ToString();
  json m = json::parse(AsChars((*files)[0].content));
  EXPECT_EQ(m["counts"]["withheld_frozen"], json({{"联系地址", n_frozen}}));
  EXPECT_EQ(m["counts"]["people"], address.size());

  auto ids = package::ParseAgeIdentityFile(keys_.age_identity_file);
  ASSERT_TRUE(ids);
  auto plain = package::AgeDecryptBytes(*ids, (*files)[2].content);
  ASSERT_TRUE(plain) << plain.error().ToString();
  const std::string payload(AsChars(*plain));
  std::istringstream in(payload);
  std::string line;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    for (const auto& rec : j["records"]) {
      const json& f = rec["fields"];
      const std::string mobile = f.value("手机号", "");
      ASSERT_TRUE(address.count(mobile)) << "unknown person in the payload";
      seen.insert(mobile);
      EXPECT_TRUE(f.contains("姓名"));
      if (frozen.count(mobile)) {
        EXPECT_FALSE(f.contains("联系地址")) << "a frozen address left";
      } else if (!address[mobile].empty()) {
        EXPECT_EQ(f.value("联系地址", ""), address[mobile]);
      }
    }
  }
  EXPECT_EQ(seen.size(), address.size());
  // No frozen address anywhere in the archive or the payload (unless another,
  // unfrozen person shares it).
  std::set<std::string> thawed;
  for (const auto& [mobile, addr] : address) {
    if (!frozen.count(mobile)) thawed.insert(addr);
  }
  for (const auto& mobile : frozen) {
    const std::string& addr = address[mobile];
    if (addr.empty() || thawed.count(addr)) continue;
    EXPECT_EQ(payload.find(addr), std::string::npos);
    EXPECT_EQ(archive.find(addr), std::string::npos);
  }

  auto after = GetTransferStatus(*sender_, "T1", today);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->withheld_frozen, (std::map<std::string, uint64_t>{{"联系地址", n_frozen}}));
  // The recipient's import accepts the package with its holes.
  auto imp = ImportPackage(*receiver_, PackageInput::Memory(AsBytes(archive)), sender_key_, keys_.age_identity_file, "");
  ASSERT_TRUE(imp) << imp.error().ToString();
  EXPECT_EQ(imp->people, address.size());
}

// Nothing frozen: the manifest still says so, with an empty object.
TEST_F(TransferTest, NothingFrozenIsAnEmptyCount) {
  PlanAndNotify(Plan("T1", "ho", TransferMode::kHeadOffice, {"姓名", "联系地址"}));
  auto warned = FrozenPlannedFields(*sender_, *GetTransferPlan(*sender_, "T1"));
  ASSERT_TRUE(warned);
  EXPECT_TRUE(warned->empty());
  ASSERT_TRUE(BuildPackage(*sender_, "T1", dir_.File("T1.tar")));
  auto files = package::ReadTarArchive(AsBytes(Slurp(dir_.File("T1.tar"))));
  ASSERT_TRUE(files);
  json m = json::parse(AsChars((*files)[0].content));
  EXPECT_EQ(m["counts"]["withheld_frozen"], json::object());
}

// The package appears whole or not at all: an existing output is refused
// and left alone, and no temporary file stays beside it.
TEST_F(TransferTest, PackageOutputIsExclusiveAndLeavesNoTemporaryFiles) {
  PlanAndNotify(Plan("T1", "ho", TransferMode::kHeadOffice, {"姓名"}));
  const std::string out = dir_.File("T1.tar");
  WriteText(out, "not mine");
  auto taken = BuildPackage(*sender_, "T1", out);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Slurp(out), "not mine");
  std::remove(out.c_str());
  ASSERT_TRUE(BuildPackage(*sender_, "T1", out));
  auto r = RunShell(dir_.path(), "ls -a");
  EXPECT_EQ(r.out.find(".tmp-"), std::string::npos) << r.out;
}

TEST(OpenSshPrivateKeyWriter, RoundTripsAndSshKeygenReadsIt) {
  crypto::SecretBytes seed = crypto::SecretBytes::Random(32);
  auto text = package::FormatOpenSshPrivateKey(seed, "me@example");
  ASSERT_TRUE(text);
  auto parsed = package::ParseOpenSshPrivateKey(AsChars(text->RevealSecret()));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  auto signer = crypto::Signer::FromSeed(seed);
  EXPECT_EQ(parsed->signer.public_key(), signer->public_key());
  EXPECT_EQ(parsed->comment, "me@example");
  if (!HaveTool("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  TempDir d;
  ASSERT_TRUE(WriteFileExclusive(d.File("id"), text->RevealSecret(), 0600));
  auto r = RunShell(d.path(), "ssh-keygen -y -f id");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(TrimLine(r.out).substr(0, 80),
            TrimLine(package::SshEd25519PublicKeyLine(signer->public_key(), "")).substr(0, 80));
}

}  // namespace
}  // namespace custos::workflow
