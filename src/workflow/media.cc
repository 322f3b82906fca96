// Physical media (docs/retention.md): registered, then their destruction
// recorded with its executor and two witnesses.
#include <set>

#include "access/training.h"
#include "tlog/audit_log.h"
#include "workflow/destruction.h"

namespace custos::workflow {
namespace {

const std::set<std::string>& MediaKinds() {
  static const std::set<std::string> k = {
      "disk", "ssd", "tape", "paper", "usb", "optical", "database-wal", "database-backup", "other"};
  return k;
}

const std::set<std::string>& MediaMethods() {
  static const std::set<std::string> m = {"shred", "degauss", "incinerate", "overwrite", "delete"};
  return m;
}

Status ValidMediaId(const MediaRecord& m) {
  if (m.id.empty() || m.id.size() > 128) {
    return Fail(InvalidArgument("--id ID is required (the medium's serial or label)"));
  }
  if (MediaKinds().count(m.kind) == 0) {
    return Fail(
        InvalidArgument("--kind must be one of disk, ssd, tape, paper, usb, optical, "
                        "database-wal, database-backup, other"));
  }
  return Ok();
}

Result<std::optional<MediaDoc>> GetMedium(vault::Vault& vault, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<std::string> body, vault.GetDoc(kMediaKind, id));
  if (!body) return std::optional<MediaDoc>();
  ASSIGN_OR_RETURN(MediaDoc m, ParseMediaDoc(id, *body));
  return std::optional<MediaDoc>(std::move(m));
}

}  // namespace

Status RegisterMedia(vault::Vault& vault, const MediaRecord& m) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kMediaRegister));
  RETURN_IF_ERROR(ValidMediaId(m));
  MediaDoc d;
  d.id = m.id;
  d.kind = m.kind;
  d.description = m.description;
  d.registered_at = FormatRfc3339(NowUnixSeconds());
  tlog::Event e = vault.MakeEvent("media.register");
  e.objects = {{"medium", m.id}, {"kind", m.kind}};
  return vault.Transact(e, [&](tlog::Event&) -> Status {
    ASSIGN_OR_RETURN(std::optional<MediaDoc> existing, GetMedium(vault, m.id));
    if (existing) return Fail(AlreadyExists("medium " + m.id + " is already registered"));
    return vault.PutDoc(kMediaKind, m.id, SerializeMediaDoc(d));
  });
}

Status RecordMediaDestruction(vault::Vault& vault, const MediaRecord& m) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kMediaRecord));
  RETURN_IF_ERROR(ValidMediaId(m));
  if (MediaMethods().count(m.method) == 0) {
    return Fail(
        InvalidArgument("--method must be one of shred, degauss, incinerate, overwrite, delete"));
  }
  if (m.executor.empty()) return Fail(InvalidArgument("--executor NAME is required"));
  if (m.witnesses.size() != 2 || m.witnesses[0].empty() || m.witnesses[1].empty() ||
      m.witnesses[0] == m.witnesses[1]) {
    return Fail(InvalidArgument("give two different witnesses: --witness NAME --witness NAME"));
  }
  if (!m.vendor_certificate.empty() && m.vendor.empty()) {
    return Fail(InvalidArgument("--vendor-certificate needs --vendor NAME"));
  }
  RETURN_IF_ERROR(access::CheckWitnesses(vault, "media.record", m.witnesses));
  tlog::Event e = vault.MakeEvent("media.record");
  e.objects = {{"medium", m.id},
               {"kind", m.kind},
               {"method", m.method},
               {"executor", m.executor},
               {"witnesses", m.witnesses},
               {"vendor", m.vendor},
               {"vendor_certificate", m.vendor_certificate}};
  return vault.Transact(e, [&](tlog::Event&) -> Status {
    ASSIGN_OR_RETURN(std::optional<MediaDoc> existing, GetMedium(vault, m.id));
    MediaDoc d;
    if (existing) {
      d = std::move(*existing);
      if (d.state == MediaState::kDestroyed) {
        return Fail(FailedPrecondition("medium " + m.id + " is already recorded as destroyed"));
      }
      if (d.kind != m.kind) {
        return Fail(InvalidArgument("medium " + m.id + " was registered as " + d.kind));
      }
    } else {
      d.id = m.id;
      d.kind = m.kind;
      d.description = m.description;
    }
    d.state = MediaState::kDestroyed;
    d.method = m.method;
    d.executor = m.executor;
    d.witnesses = m.witnesses;
    d.vendor = m.vendor;
    d.vendor_certificate = m.vendor_certificate;
    d.destroyed_at = FormatRfc3339(NowUnixSeconds());
    return vault.PutDoc(kMediaKind, m.id, SerializeMediaDoc(d));
  });
}

Result<std::vector<std::string>> RegisterDatabaseCopies(vault::Vault& vault,
                                                        const std::string& batch_id) {
  const std::string at = FormatRfc3339(NowUnixSeconds());
  const std::pair<std::string, std::string> copies[] = {
      {"database-wal",
       "WAL segments, WAL archives and replicas of the PostgreSQL cluster that holds the vault, "
       "written before " +
           at + " (destruction " + batch_id + ")"},
      {"database-backup", "backups and dumps of the database that holds the vault, taken before " +
                              at + " (destruction " + batch_id + ")"},
  };
  std::vector<std::string> ids;
  for (const auto& [kind, description] : copies) {
    const std::string id = batch_id + "-" + kind.substr(std::string("database-").size());
    ids.push_back(id);
    ASSIGN_OR_RETURN(std::optional<MediaDoc> existing, GetMedium(vault, id));
    if (existing) {
      // Registered in the purge's own transaction, so never by an earlier
      // run of it: someone registered a medium of that id by hand.
      return Fail(FailedPrecondition(
          "a medium " + id + " (" + existing->kind +
          ") is registered already, and the destruction needs that id for the database's " + kind +
          ": rename or remove that medium's record"));
    }
    MediaDoc d;
    d.id = id;
    d.kind = kind;
    d.description = description;
    d.registered_at = at;
    RETURN_IF_ERROR(vault.PutDoc(kMediaKind, id, SerializeMediaDoc(d)));
  }
  return ids;
}

Result<std::vector<MediaDoc>> ListMedia(vault::Vault& vault) {
  RETURN_IF_ERROR(vault.Authorize(access::Action::kDestroyPlan));
  ASSIGN_OR_RETURN(auto docs, vault.ListDocs(kMediaKind));
  std::vector<MediaDoc> out;
  for (const auto& [key, body] : docs) {
    ASSIGN_OR_RETURN(MediaDoc m, ParseMediaDoc(key, body));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace custos::workflow
