// Notices (PIPL Art. 17/22/23): one per person in scope, each with the
// person's reference code, written to a CSV file for the channel's sender;
// and the packed reference codes themselves.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>

#include "base/file.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "report/notice.h"
#include "workflow/transfer.h"
#include "workflow/transfer_internal.h"

namespace custos::workflow {
namespace internal {
namespace {

constexpr char kRefAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

// Reference codes: 8 characters of kRefAlphabet, i.e. 40 bits, held packed
// (never 0: the packed form of "00000000" is reserved as "no code").
uint64_t PackRef(std::string_view ref) {
  if (ref.size() != 8) return 0;
  uint64_t x = 0;
  for (char ch : ref) {
    const char* at = std::strchr(kRefAlphabet, ch);
    if (ch == '\0' || at == nullptr) return 0;
    x = (x << 5) | static_cast<uint64_t>(at - kRefAlphabet);
  }
  return x;
}

std::string UnpackRef(uint64_t packed) {
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kRefAlphabet[packed & 31];
    packed >>= 5;
  }
  return s;
}

Result<std::vector<std::pair<int64_t, uint64_t>>> LoadRefs(vault::Vault& v,
                                                           const std::string& transfer) {
  std::vector<std::pair<int64_t, uint64_t>> refs;  // visited in pk order, so sorted
  RETURN_IF_ERROR(
      v.ForEachPersonDoc(kRefKind, transfer, [&](int64_t pk, std::string_view body) -> Status {
        auto doc = ParseRefDoc(body);
        const uint64_t ref = doc ? PackRef(doc->ref) : 0;
        if (ref != 0) refs.emplace_back(pk, ref);
        return Ok();
      }));
  return refs;
}

}  // namespace internal

namespace {

using internal::LoadedTransfer;
using internal::SchemaInfo;

// Each person's reference code: the one given before, else a new one (8
// base32 characters, kept unique among this transfer's codes). Codes are
// packed into 40 bits, so a million people cost ~50 MB in all here.
class RefCodes {
 public:
  static Result<RefCodes> Load(vault::Vault& v, const std::string& transfer) {
    RefCodes codes;
    ASSIGN_OR_RETURN(codes.given_, internal::LoadRefs(v, transfer));
    for (const auto& [pk, ref] : codes.given_) codes.used_.insert(ref);
    return codes;
  }
  // The person's code; `*is_new` says it was drawn now (and is to be stored).
  uint64_t For(int64_t pk, bool* is_new) {
    auto it = std::lower_bound(given_.begin(), given_.end(), std::make_pair(pk, uint64_t{0}));
    *is_new = it == given_.end() || it->first != pk;
    if (!*is_new) return it->second;
    uint64_t ref = 0;
    do {
      ref = NewPackedRef();
    } while (!used_.insert(ref).second);
    return ref;
  }

 private:
  static uint64_t NewPackedRef() {
    for (;;) {
      std::array<uint8_t, 5> b{};
      crypto::RandomFill(b);
      uint64_t x = 0;
      for (uint8_t c : b) x = (x << 8) | c;
      if (x != 0) return x;
    }
  }

  std::vector<std::pair<int64_t, uint64_t>> given_;  // (pk, code), by pk
  std::unordered_set<uint64_t> used_;
};

// Where a channel's notices go: the detected type of the contact columns
// (only they are decrypted), the CSV column they fill, the channel's name.
struct ChannelContact {
  std::string type;
  std::string header;
  std::string_view name;
};

ChannelContact ContactOf(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return {"cn_mobile", "mobile", "sms"};
    case Channel::kEmail:
      return {"email", "email", "email"};
    case Channel::kLetter:
      return {"address", "address", "letter"};
  }
  return {"cn_mobile", "mobile", "sms"};
}

// kFailedPrecondition naming what a notice must say that the plan lacks.
Status CheckNoticeTerms(const TransferPlan& plan) {
  std::vector<std::string> missing;
  if (plan.processor_name.empty()) missing.push_back("processor_name");
  if (plan.processor_contact.empty()) missing.push_back("processor_contact");
  if (internal::TermOf(plan, "retention").empty()) missing.push_back("retention");
  if (plan.method.empty()) missing.push_back("method");
  if (missing.empty()) return Ok();
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Fail(FailedPrecondition("notices need these terms first: " + list));
}

// What every notice of the plan says, but for the person's code.
report::NoticeContent NoticeContentFor(const TransferPlan& plan, const Recipient& r,
                                       const SchemaInfo& schemas) {
  report::NoticeContent c;
  c.mode = plan.mode == TransferMode::kHeadOffice ? report::NoticeMode::kHeadOffice
           : plan.mode == TransferMode::kArt22    ? report::NoticeMode::kArt22
                                                  : report::NoticeMode::kArt23;
  c.processor_name = plan.processor_name;
  c.processor_contact = plan.processor_contact;
  c.recipient_name = r.name;
  c.recipient_contact = r.contact;
  c.purpose = plan.purpose;
  c.method = plan.method;
  for (const auto& f : plan.fields) c.type_names.push_back(internal::ColumnIn(schemas, f).type);
  c.sensitive = internal::PlannedSensitive(plan, schemas);
  c.retention = internal::TermOf(plan, "retention");
  return c;
}

std::string CsvField(std::string_view s) {
  bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// What the transaction records of a run, kept per person in 48 bytes while
// the rows go straight to the file.
struct SentNotices {
  struct Sent {
    int64_t pk;
    uint64_t new_ref;  // packed; 0: the person had a code already
    crypto::Digest sha256;
  };
  std::vector<Sent> sent;
  std::vector<std::pair<int64_t, uint64_t>> new_refs_only;  // (pk, code): no contact, no notice
};

// Writes a row "ref,contact,message" to `file` for every person of
// `selection` with a contact of `contact_type`; counts the others as missing.
Status WriteNotices(vault::Vault& v, const vault::Selection& selection,
                    const std::string& contact_type, report::NoticeContent& content, bool english,
                    RefCodes& codes, AtomicFileWriter& file, NoticeBatch& out, SentNotices& sent) {
  crypto::Sha256Stream digest;
  std::string line;
  Status read = v.ReadSelected(selection, [&](const vault::SelectedPerson& p) -> Status {
    std::string_view contact;
    for (const auto& f : p.fields) {
      if (f.status && !f.value.empty() && f.dataset->columns[f.position].type == contact_type) {
        contact = f.value;
        break;
      }
    }
    bool is_new = false;
    const uint64_t ref = codes.For(p.pk, &is_new);
    const uint64_t new_ref = is_new ? ref : 0;
    if (contact.empty()) {
      out.missing_contact.push_back(p.id.ToString());
      if (new_ref != 0) sent.new_refs_only.emplace_back(p.pk, new_ref);
      return Ok();
    }
    content.ref = internal::UnpackRef(ref);
    const std::string message = report::RenderNotice(content, english);
    const crypto::Digest h = crypto::Sha256(AsBytes(message));
    digest.Update(h);
    line.clear();
    line += CsvField(content.ref);
    line += ',';
    line += CsvField(contact);
    line += ',';
    line += CsvField(message);
    line += "\r\n";
    RETURN_IF_ERROR(file.Append(line));
    sent.sent.push_back({p.pk, new_ref, h});
    ++out.notices;
    return Ok();
  });
  if (!line.empty()) sodium_memzero(line.data(), line.size());
  RETURN_IF_ERROR(read);
  out.digest = HexEncode(digest.Finish());
  return Ok();
}

// The run's codes, notices and the transfer's new state, with the
// transfer.notices audit entry, in one transaction.
Status RecordNotices(vault::Vault& v, const std::string& transfer, LoadedTransfer& t,
                     const ChannelContact& contact, bool english, uint64_t people,
                     const NoticeBatch& out, const SentNotices& sent) {
  const std::string now = FormatRfc3339(NowUnixSeconds());
  uint64_t new_refs = sent.new_refs_only.size();
  for (const auto& x : sent.sent) new_refs += x.new_ref != 0;
  tlog::Event e = v.MakeEvent("transfer.notices", t.doc.plan.purpose);
  e.objects = {{"transfer", transfer},          {"channel", contact.name},
               {"lang", english ? "en" : "zh"}, {"people", people},
               {"notices", out.notices},        {"missing_contact", out.missing_contact.size()},
               {"new_refs", new_refs},          {"notices_sha256", out.digest}};
  return v.Transact(e, [&](tlog::Event&) -> Status {
    RETURN_IF_ERROR(internal::ExpectUnchanged(v, kTransferKind, transfer, t.body));
    auto put_ref = [&](int64_t pk, uint64_t ref) {
      return v.PutPersonDoc(kRefKind, transfer, pk, SerializeRefDoc({internal::UnpackRef(ref)}));
    };
    for (const auto& [pk, ref] : sent.new_refs_only) RETURN_IF_ERROR(put_ref(pk, ref));
    for (const auto& x : sent.sent) {
      if (x.new_ref != 0) RETURN_IF_ERROR(put_ref(x.pk, x.new_ref));
      const NoticeDoc notice{HexEncode(x.sha256), now, std::string(contact.name)};
      RETURN_IF_ERROR(v.PutPersonDoc(kNoticeKind, transfer, x.pk, SerializeNoticeDoc(notice)));
    }
    if (t.doc.state == TransferState::kPlanned) t.doc.state = TransferState::kNoticed;
    t.doc.notices.push_back(
        {now, std::string(contact.name), out.notices, out.missing_contact.size(), out.digest});
    return v.PutDoc(kTransferKind, transfer, SerializeTransferDoc(t.doc));
  });
}

}  // namespace

Result<Channel> ParseChannel(std::string_view s) {
  if (s == "sms") return Channel::kSms;
  if (s == "letter") return Channel::kLetter;
  if (s == "email") return Channel::kEmail;
  return Fail(InvalidArgument("channel must be sms, letter or email"));
}

Result<NoticeBatch> MakeNotices(vault::Vault& v, const std::string& transfer, Channel channel,
                                bool english, const std::string& out_path) {
  RETURN_IF_ERROR(v.Authorize(access::Action::kTransferNotices));
  ASSIGN_OR_RETURN(LoadedTransfer t, internal::LoadTransfer(v, transfer));
  const TransferPlan& plan = t.doc.plan;
  if (t.doc.state == TransferState::kClosed) {
    return Fail(FailedPrecondition("transfer '" + transfer + "' is closed"));
  }
  RETURN_IF_ERROR(CheckNoticeTerms(plan));
  ASSIGN_OR_RETURN(Recipient r, GetRecipient(v, plan.recipient));
  ASSIGN_OR_RETURN(SchemaInfo schemas, internal::LoadSchemas(v, plan.dataset));
  ASSIGN_OR_RETURN(std::vector<int64_t> pks, internal::PeopleInScope(v, plan));
  report::NoticeContent content = NoticeContentFor(plan, r, schemas);
  const ChannelContact contact = ContactOf(channel);
  ASSIGN_OR_RETURN(RefCodes codes, RefCodes::Load(v, transfer));
  vault::Selection selection;
  selection.people = pks;
  ASSIGN_OR_RETURN(selection.fields, internal::ColumnsOfType(v, contact.type));

  // Rows go straight to a temporary file beside `out_path`, which replaces
  // it once the notices are logged.
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> file,
                   AtomicFileWriter::Create(out_path, 0600));
  RETURN_IF_ERROR(file->Append("ref," + contact.header + ",message\r\n"));
  NoticeBatch out;
  SentNotices sent;
  RETURN_IF_ERROR(
      WriteNotices(v, selection, contact.type, content, english, codes, *file, out, sent));
  RETURN_IF_ERROR(RecordNotices(v, transfer, t, contact, english, pks.size(), out, sent));
  // Logged and committed: now the file takes its name. Should this fail,
  // running the command again writes the same codes.
  RETURN_IF_ERROR(file->Commit());
  return out;
}

}  // namespace custos::workflow
