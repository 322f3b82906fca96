// custos audit verify | export | prove | consistency | log
#include <sys/stat.h>

#include <iostream>

#include "base/file.h"
#include "base/time.h"
#include "cli/common.h"
#include "tlog/audit_log.h"

namespace custos::cli {
namespace {

std::string HashHex(const tlog::Hash& h) { return HexEncode(h); }

struct VerifyCmd {
  VaultOptions o;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit verify"));
    RETURN_IF_ERROR(v->Authorize(access::Action::kAuditRead));
    auto r = v->VerifyAudit();
    if (!r) {
      return Fail(r.error().WithContext("audit log of " + o.vault + " FAILED verification"));
    }
    if (o.json) {
      PrintJson({{"ok", true},
                 {"entries", r->entries},
                 {"checkpoints", r->checkpoints},
                 {"root", HashHex(r->root)},
                 {"repairs", r->repairs},
                 {"break_glass", r->break_glass}});
    } else {
      Out() << "Audit log verified: " << r->entries << " entries, " << r->checkpoints
            << " signed checkpoints, all consistent.\n  root: " << HashHex(r->root) << "\n";
      if (!r->repairs.empty()) {
        Out() << "  repaired " << r->repairs.size() << " time(s), recorded in entr"
              << (r->repairs.size() == 1 ? "y" : "ies");
        for (uint64_t seq : r->repairs) Out() << " " << seq;
        Out() << " (custos audit log --action audit.repair): checkpoints signed before a "
                 "repair may no longer verify against this log.\n";
      }
      if (!r->break_glass.empty()) {
        Out() << "  break-glass (the vault's key without a user): " << r->break_glass.size()
              << " entr" << (r->break_glass.size() == 1 ? "y" : "ies") << ", first "
              << r->break_glass.front() << ", last " << r->break_glass.back()
              << " (custos audit log --via break-glass)\n";
      }
    }
    return Ok();
  }
};

struct RepairCmd {
  VaultOptions o;
  bool dry_run = false;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit repair"));
    ASSIGN_OR_RETURN(tlog::AuditLog::RepairReport r, v->RepairAudit(dry_run));
    json retired = json::array();
    for (const auto& c : r.retired) {
      retired.push_back({{"size", c.size}, {"root", c.root}, {"reason", c.reason}});
    }
    if (o.json) {
      PrintJson({{"dry_run", dry_run},
                 {"repaired", r.changed() && !dry_run},
                 {"entries", r.entries},
                 {"nodes_rewritten", r.nodes_rewritten},
                 {"entries_changed_after_logging", r.entries_changed},
                 {"entries_changed_count", r.entries_changed_count},
                 {"retired_checkpoints", retired},
                 {"repair_entry", r.repair_entry ? json(*r.repair_entry) : json(nullptr)}});
      return Ok();
    }
    if (!r.changed()) {
      Out() << "The audit log's " << r.entries
            << " entries, its stored tree and its signed checkpoints agree: nothing to "
               "repair.\n";
      return Ok();
    }
    Out() << (dry_run ? "Would repair" : "Repaired") << " the audit log of " << r.entries
          << " entries:\n  tree nodes re-derived from the entries: " << r.nodes_rewritten << "\n";
    if (r.entries_changed_count > 0) {
      Out() << "  entries whose content changed after they were logged: " << r.entries_changed_count
            << " (";
      for (size_t i = 0; i < r.entries_changed.size(); ++i) {
        Out() << (i ? ", " : "") << r.entries_changed[i];
      }
      Out() << (r.entries_changed_count > r.entries_changed.size() ? ", ..." : "") << ")\n";
    }
    for (const auto& c : r.retired) {
      Out() << "  signed checkpoint at size " << c.size << " retired: " << c.reason << "\n";
    }
    if (dry_run) {
      Out() << "Nothing was written (--dry-run).\n";
    } else {
      Out() << "Recorded as audit entry " << *r.repair_entry
            << " with a new signed checkpoint; the retired checkpoints are kept in the vault. "
               "Anyone holding one of them will see the break (custos audit consistency "
               "--old): tell them why.\n";
    }
    return Ok();
  }
};

struct ExportCmd {
  VaultOptions o;
  std::string out;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit export"));
    RETURN_IF_ERROR(v->Authorize(access::Action::kAuditRead));
    auto& log = v->audit();
    RETURN_IF_ERROR(v->Transact(v->MakeEvent("audit.export"), [&](tlog::Event& e) -> Status {
      e.objects = {{"size", log.size() + 1}};  // the export includes its own entry
      return Ok();
    }));
    ASSIGN_OR_RETURN(vault::Vault::ReadView view, v->BeginReadView());
    ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> cp, log.LatestCheckpoint());
    if (!cp) return Fail(FailedPrecondition("the audit log has no checkpoint yet"));
    if (::mkdir(out.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail(Unavailable("cannot create directory " + out));
    }
    std::string entries;
    RETURN_IF_ERROR(v->ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) -> Status {
      if (seq >= cp->size) return Ok();
      entries.append(AsChars(data));
      entries.push_back('\n');
      return Ok();
    }));
    auto vkey = tlog::NoteVerifierKey(log.origin(), v->signer().public_key());
    RETURN_IF_ERROR(WriteFileAtomic(out + "/entries.jsonl", entries));
    RETURN_IF_ERROR(WriteFileAtomic(out + "/checkpoint", cp->note));
    RETURN_IF_ERROR(WriteFileAtomic(out + "/vkey", vkey + "\n"));
    if (o.json) {
      PrintJson({{"dir", out}, {"size", cp->size}, {"vkey", vkey}});
    } else {
      Out() << "Exported " << cp->size << " audit entries to " << out
            << "/entries.jsonl with the signed checkpoint (" << out << "/checkpoint) and the "
            << "verifier key (" << out << "/vkey).\n";
    }
    return Ok();
  }
};

struct ProveCmd {
  VaultOptions o;
  uint64_t index = 0;
  uint64_t size = 0;
  std::string format = "json";
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit prove"));
    RETURN_IF_ERROR(v->Authorize(access::Action::kAuditRead));
    ASSIGN_OR_RETURN(vault::Vault::ReadView view, v->BeginReadView());
    auto& log = v->audit();
    uint64_t n = size;
    if (n == 0) {
      ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> cp, log.LatestCheckpoint());
      n = cp ? cp->size : log.size();
    }
    if (index >= n) {
      return Fail(InvalidArgument("--index " + std::to_string(index) + " is not below the tree size " +
                                  std::to_string(n)));
    }
    // A proof is only worth something against a signed root: find the
    // checkpoint of this size.
    std::optional<store::CheckpointRow> signed_cp;
    ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> latest, log.LatestCheckpoint());
    if (latest && latest->size == n) {
      signed_cp = std::move(latest);
    } else {
      ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> all, v->Checkpoints());
      for (auto& c : all) {
        if (c.size == n) signed_cp = std::move(c);
      }
    }
    if (!signed_cp) {
      return Fail(InvalidArgument("there is no signed checkpoint of size " + std::to_string(n) +
                                  " to prove against; omit --size to use the latest"));
    }
    std::string where = "the signed checkpoint at size " + std::to_string(n);
    auto body = tlog::VerifyNote(signed_cp->note, log.verifier_key());
    if (!body) return Fail(body.error().WithContext(where));
    auto signed_root = tlog::ParseCheckpoint(*body);
    if (!signed_root) return Fail(DataLoss(where + ": " + signed_root.error().message()));
    if (n > log.size()) {
      return Fail(DataLoss("the audit log has " + std::to_string(log.size()) + " entries but " +
                           where + " covers " + std::to_string(n) +
                           ": entries were removed from the end (run custos audit verify)"));
    }
    ASSIGN_OR_RETURN(tlog::InclusionProof p, log.ProveInclusion(index, n));
    // Never hand out a proof that does not verify against the signed root.
    if (p.root != signed_root->root) {
      return Fail(DataLoss("the stored audit tree does not match " + where +
                           " (run custos audit verify)"));
    }
    RETURN_IF_ERROR(tlog::VerifyInclusion(p.index, p.size, p.leaf_hash, p.path, p.root));
    json path = json::array();
    for (const auto& h : p.path) path.push_back(HashHex(h));
    json j = {{"index", p.index},
              {"size", p.size},
              {"leaf_hash", HashHex(p.leaf_hash)},
              {"path", path},
              {"root", HashHex(p.root)}};
    if (format == "json") {
      PrintJson(j);
    } else {
      Out() << "Entry " << p.index << " is in the tree of size " << p.size
            << "\n  leaf hash: " << HashHex(p.leaf_hash) << "\n  root:      " << HashHex(p.root)
            << "\n  path (" << p.path.size() << " hashes):\n";
      for (const auto& h : p.path) Out() << "    " << HashHex(h) << "\n";
    }
    return Ok();
  }
};

struct ConsistencyCmd {
  VaultOptions o;
  std::string old_file;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit consistency"));
    RETURN_IF_ERROR(v->Authorize(access::Action::kAuditRead));
    ASSIGN_OR_RETURN(vault::Vault::ReadView view, v->BeginReadView());
    auto& log = v->audit();
    ASSIGN_OR_RETURN(std::string old_note, ReadFile(old_file));
    auto body = tlog::VerifyNote(old_note, log.verifier_key());
    if (!body) return Fail(body.error().WithContext(old_file));
    auto old = tlog::ParseCheckpoint(*body);
    if (!old) return Fail(old.error().WithContext(old_file));
    ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> cp, log.LatestCheckpoint());
    if (!cp) return Fail(FailedPrecondition("the audit log has no checkpoint yet"));
    ASSIGN_OR_RETURN(std::string new_body, tlog::VerifyNote(cp->note, log.verifier_key()));
    ASSIGN_OR_RETURN(tlog::Checkpoint now, tlog::ParseCheckpoint(new_body));
    auto fail = [&](const std::string& why) {
      return Fail(DataLoss("the current audit log does NOT extend the checkpoint in " + old_file +
                           " (size " + std::to_string(old->size) + "): " + why));
    };
    if (old->size > now.size) {
      return fail("the log is now shorter (" + std::to_string(now.size) + " entries)");
    }
    if (now.size > log.size()) {
      return fail("its latest signed checkpoint covers " + std::to_string(now.size) +
                  " entries but only " + std::to_string(log.size()) +
                  " remain: entries were removed from the end");
    }
    ASSIGN_OR_RETURN(tlog::Hash stored_root, log.RootAt(now.size));
    if (stored_root != now.root) return fail("the stored tree does not match its own latest checkpoint");
    auto proof = log.ProveConsistency(old->size, now.size);
    if (!proof) return fail(proof.error().message());
    Status st = tlog::VerifyConsistency(old->size, now.size, old->root, now.root, *proof);
    if (!st) return fail(st.error().message());
    json path = json::array();
    for (const auto& h : *proof) path.push_back(HashHex(h));
    if (o.json) {
      PrintJson({{"consistent", true},
                 {"old_size", old->size},
                 {"old_root", HashHex(old->root)},
                 {"new_size", now.size},
                 {"new_root", HashHex(now.root)},
                 {"path", path}});
    } else {
      Out() << "Consistent: the log of " << now.size << " entries extends the checkpoint of "
            << old->size << " entries in " << old_file << " (proof of " << proof->size()
            << " hashes verified).\n";
    }
    return Ok();
  }
};

struct LogCmd {
  VaultOptions o;
  std::string since;
  std::string action;
  std::string via, actor;
  Status Run() {
    std::string since_key = since;
    if (!since.empty() && since.size() == 10) {
      ASSIGN_OR_RETURN(Date d, ParseIsoDate(since));
      since_key = FormatIsoDate(d) + "T00:00:00Z";
    }
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "audit log"));
    RETURN_IF_ERROR(v->Authorize(access::Action::kAuditRead));
    json list = json::array();
    RETURN_IF_ERROR(v->ForEachAuditEntry(0, [&](uint64_t, ByteSpan data) -> Status {
      ASSIGN_OR_RETURN(tlog::Entry e, tlog::ParseEntry(AsChars(data)));
      if (!since_key.empty() && e.time < since_key) return Ok();
      if (!action.empty() && e.event.action != action &&
          e.event.action.rfind(action + ".", 0) != 0) {
        return Ok();
      }
      if ((!via.empty() && e.event.via != via) || (!actor.empty() && e.event.actor != actor)) {
        return Ok();
      }
      if (o.json) {
        list.push_back(json::parse(AsChars(data)));
      } else {
        Out() << e.seq << "  " << e.time << "  " << e.event.actor
              << (e.event.via == "key" ? "" : " (" + e.event.via + ")") << "  " << e.event.action
              << (e.event.result == "ok" ? "" : "  [" + e.event.result + "]");
        if (!e.event.purpose.empty()) Out() << "  purpose: " << e.event.purpose;
        Out() << "\n    " << e.event.objects.dump() << "\n";
      }
      return Ok();
    }));
    if (o.json) PrintJson(list);
    return Ok();
  }
};

}  // namespace

void AddAuditCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log: verify, export, prove");
  audit->require_subcommand(1);

  auto& verify = Keep<VerifyCmd>();
  auto* c_verify = audit->add_subcommand(
      "verify", "Recompute the Merkle tree and check every signed checkpoint");
  AddVaultOptions(c_verify, verify.o);
  commands.push_back({c_verify, Runner(verify, verify.o.json)});

  auto& repair = Keep<RepairCmd>();
  auto* c_repair = audit->add_subcommand(
      "repair", "Re-derive a damaged log's tree and retire checkpoints it no longer matches");
  AddVaultOptions(c_repair, repair.o);
  c_repair->add_flag("--dry-run", repair.dry_run, "Report what would be repaired; write nothing");
  c_repair->footer(
      "For a log that an older Custos broke (two processes on one vault could overwrite each\n"
      "other's entries). Entries are never changed. The tree is recomputed from them; signed\n"
      "checkpoints that no longer match are retired (kept in the vault) and an audit.repair\n"
      "entry lists them and every entry that changed after it was logged. A missing or\n"
      "malformed entry cannot be re-derived: the command refuses (data_loss) and changes nothing.");
  commands.push_back({c_repair, Runner(repair, repair.o.json)});

  auto& exp = Keep<ExportCmd>();
  auto* c_export = audit->add_subcommand(
      "export", "Write DIR/checkpoint, DIR/entries.jsonl and DIR/vkey for an outside auditor");
  AddVaultOptions(c_export, exp.o);
  c_export->add_option("--out", exp.out, "Directory to write (created if missing)")->required();
  commands.push_back({c_export, Runner(exp, exp.o.json)});

  auto& prove = Keep<ProveCmd>();
  auto* c_prove = audit->add_subcommand("prove", "RFC 9162 inclusion proof of one entry");
  AddVaultOptions(c_prove, prove.o);
  c_prove->add_option("--index", prove.index, "Entry (0-based seq)")->required();
  c_prove->add_option("--size", prove.size, "Tree size (default: the latest checkpoint)");
  c_prove->add_option("--format", prove.format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));
  commands.push_back({c_prove, Runner(prove, prove.o.json)});

  auto& cons = Keep<ConsistencyCmd>();
  auto* c_cons = audit->add_subcommand(
      "consistency", "Prove that the log extends an older checkpoint (fails loudly if not)");
  AddVaultOptions(c_cons, cons.o);
  c_cons->add_option("--old", cons.old_file, "An older checkpoint file")->required();
  commands.push_back({c_cons, Runner(cons, cons.o.json)});

  auto& log = Keep<LogCmd>();
  auto* c_log = audit->add_subcommand("log", "List audit entries for people to read");
  AddVaultOptions(c_log, log.o);
  c_log->add_option("--since", log.since, "Only entries at or after this time (YYYY-MM-DD or RFC 3339)");
  c_log->add_option("--action", log.action, "Only this action (or family, e.g. person)");
  c_log->add_option("--via", log.via,
                    "Only entries authenticated so: key, password+totp, ssh-key, break-glass, "
                    "none, enrolment-secret");
  c_log->add_option("--by", log.actor, "Only entries by this actor (a user id)");
  commands.push_back({c_log, Runner(log, log.o.json)});
}

}  // namespace custos::cli
