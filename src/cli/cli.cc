#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/people_api.h"
#include "base/file.h"
#include "base/time.h"
#include "cli/common.h"
#include "detect/types.h"
#include "package/age.h"
#include "package/ssh_key.h"
#include "store/store.h"
#include "tlog/note.h"
#include "vault/vault.h"
#include "workflow/import.h"
#include "workflow/people.h"
#include "workflow/retention.h"
#include "workflow/sample.h"

namespace custos::cli {
namespace {

// ---------------------------------------------------------------- commands

struct InitCmd {
  VaultOptions o;
  Status Run() {
    RETURN_IF_ERROR(RequireVault(o));
    ASSIGN_OR_RETURN(vault::KeySource k, KeySourceFrom(o));
    bool key_existed =
        k.kind == vault::KeySource::Kind::kKeyFile && ::access(k.key_file.c_str(), F_OK) == 0;
    ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v, vault::Vault::Create(o.vault, k, Actor(o)));
    std::string ssh =
        package::SshEd25519PublicKeyLine(v->signer().public_key(), "custos-vault-" + v->IdHex());
    if (o.json) {
      PrintJson({{"vault", o.vault},
                 {"vault_id", v->IdHex()},
                 {"key_source", v->kek_source()},
                 {"key_file_created", k.kind == vault::KeySource::Kind::kKeyFile && !key_existed},
                 {"field_cipher", crypto::FieldSuiteName(v->field_suite())},
                 {"signing_key", ssh}});
      return Ok();
    }
    Out() << "Created vault " << o.vault << "\n  vault id:     " << v->IdHex()
          << "\n  protected by: " << v->kek_source();
    if (k.kind == vault::KeySource::Kind::kKeyFile) {
      Out() << " " << k.key_file << (key_existed ? " (existing)" : " (new, mode 0600)");
    }
    Out() << "\n  field cipher: " << crypto::FieldSuiteName(v->field_suite())
          << "\n  signing key:  " << ssh << "\n";
    if (k.kind == vault::KeySource::Kind::kKeyFile && !key_existed) {
      Out() << "Keep the key file safe and separate from the vault: without it the vault "
               "cannot be opened.\n";
    }
    return Ok();
  }
};

struct ImportCmd {
  VaultOptions o;
  std::string file;
  std::string dataset;
  std::string encoding;
  bool no_progress = false;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "import"));
    workflow::ImportOptions io;
    io.dataset = dataset;
    io.read.encoding = encoding;
    io.progress = ProgressSink(!no_progress);
    ASSIGN_OR_RETURN(workflow::ImportReport r, workflow::ImportFile(*v, file, io));
    if (r.already_imported) {
      if (o.json) {
        PrintJson({{"dataset", r.dataset},
                   {"file_sha256", r.sha256},
                   {"format", r.format},
                   {"rows", r.rows},
                   {"people", r.people},
                   {"already_imported", true}});
      } else {
        Out() << "Dataset '" << r.dataset << "' already holds this file (sha256 " << r.sha256
              << "): " << r.rows << " rows of " << r.people << " people. Nothing to do.\n";
      }
      return Ok();
    }
    json cols = json::array();
    for (const auto& c : r.columns) {
      cols.push_back({{"name", c.name},
                      {"type", detect::PiiTypeName(c.type)},
                      {"sensitive", c.sensitive},
                      {"confidence", std::round(c.confidence * 100) / 100}});
    }
    json damaged = json::object();
    for (size_t c = 0; c < r.damaged.size() && c < r.columns.size(); ++c) {
      if (r.damaged[c] > 0) damaged[r.columns[c].name] = r.damaged[c];
    }
    if (o.json) {
      PrintJson({{"dataset", r.dataset},
                 {"file_sha256", r.sha256},
                 {"format", r.format},
                 {"encoding", r.encoding},
                 {"rows", r.rows},
                 {"people", r.people},
                 {"new_people", r.new_people},
                 {"columns", cols},
                 {"damaged_values", damaged},
                 {"already_imported", false}});
      return Ok();
    }
    for (auto& [column, n] : damaged.items()) {
      Err() << "custos: warning: " << n.get<uint64_t>() << " value(s) of column " << column
            << " were damaged before import (a spreadsheet stored long numbers as numbers: "
               "their digits past the 15th are lost); imported as they are and marked "
               "damaged. Export the column again as text (custos inventory explains how).\n";
    }
    Out() << "Imported " << r.rows << " rows of " << r.people << " people (" << r.new_people
          << " new) into dataset '" << r.dataset << "'\n  file: " << file << " (" << r.format
          << ", " << r.encoding << ", sha256 " << r.sha256 << ")\n  columns:\n";
    for (const auto& c : r.columns) {
      Out() << "    " << c.name << ": " << detect::PiiTypeName(c.type)
            << (c.sensitive ? " (sensitive)" : "") << "\n";
    }
    return Ok();
  }
};

struct SelectorOptions {
  workflow::PersonSelector sel;
  void Add(CLI::App* cmd, bool positional) {
    if (positional) {
      cmd->add_option("PERSON", sel.person_id, "Person id as `custos find` prints it");
    }
    cmd->add_option("--id", sel.id_number, "Resident ID number (18 or legacy 15 digits)");
    cmd->add_option("--mobile", sel.mobile, "Mobile number");
    cmd->add_option("--email", sel.email, "E-mail address");
  }
};

struct FindCmd {
  VaultOptions o;
  SelectorOptions s;
  Status Run() {
    if (!o.server.empty()) {
      if (!s.sel.person_id.empty())
        return Fail(InvalidArgument("find takes --id, --mobile or --email"));
      json body = json::object();
      if (!s.sel.id_number.empty()) body["id_number"] = s.sel.id_number;
      if (!s.sel.mobile.empty()) body["mobile"] = s.sel.mobile;
      if (!s.sel.email.empty()) body["email"] = s.sel.email;
      ASSIGN_OR_RETURN(json found, ServerCall(o, "POST", "/api/v1/persons/search", body));
      return Print(found, o.json);
    }
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "find"));
    ASSIGN_OR_RETURN(json found, api::FindPeopleJson(*v, s.sel));
    return Print(found, o.json);
  }
  static Status Print(const json& found, bool as_json) {
    const json& people = found["people"];
    if (as_json) {
      PrintJson(found);
    } else if (people.empty()) {
      Out() << "No match.\n";
    } else {
      for (const auto& p : people) {
        Out() << p["person"].get<std::string>() << "  " << p["name"].get<std::string>()
              << "  (records: " << p["records"].get<size_t>() << ")\n";
      }
    }
    if (people.empty()) return Fail(NotFound("nobody in this vault matches"));
    return Ok();
  }
};

struct ShowCmd {
  VaultOptions o;
  SelectorOptions s;
  bool clear = false;
  std::string purpose;
  std::string legal_ground;
  Status Run() {
    if (!o.server.empty()) return RunOnServer();
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "show"));
    ASSIGN_OR_RETURN(json shown, api::ShowPersonJson(*v, s.sel, {clear, purpose, legal_ground}));
    return Print(shown, o.json);
  }
  Status RunOnServer() {
    std::string person = s.sel.person_id;
    if (person.empty()) {  // resolve the identifier first, as locally
      json body = json::object();
      if (!s.sel.id_number.empty()) body["id_number"] = s.sel.id_number;
      if (!s.sel.mobile.empty()) body["mobile"] = s.sel.mobile;
      if (!s.sel.email.empty()) body["email"] = s.sel.email;
      ASSIGN_OR_RETURN(json found, ServerCall(o, "POST", "/api/v1/persons/search", body));
      const json& people = found["people"];
      if (people.empty()) return Fail(NotFound("nobody in this vault matches"));
      if (people.size() > 1) {
        std::string ids;
        for (const auto& p : people) ids += " " + p["person"].get<std::string>();
        return Fail(FailedPrecondition("several people match; name one by id:" + ids));
      }
      person = people[0]["person"].get<std::string>();
    }
    if (!clear) {
      if (!legal_ground.empty()) return Fail(InvalidArgument("--legal-ground goes with --clear"));
      ASSIGN_OR_RETURN(json shown, ServerCall(o, "GET", "/api/v1/persons/" + person, nullptr));
      return Print(shown, o.json);
    }
    // A clear read needs a step-up: the session's (custos step-up) if it
    // holds and no secret was named, else a password and fresh code now.
    json body = {{"purpose", purpose}};
    if (!legal_ground.empty()) body["legal_ground"] = legal_ground;
    bool stepped_up = false;
    if (o.password_env.empty() && o.totp_env.empty()) {
      ASSIGN_OR_RETURN(json me, ServerCall(o, "GET", "/api/v1/me", nullptr));
      stepped_up = me.value("stepped_up_until", json()).is_string();
    }
    if (!stepped_up) {
      ASSIGN_OR_RETURN(std::string password, ReadSecret(o.password_env, "Password"));
      ASSIGN_OR_RETURN(std::string code, ReadSecret(o.totp_env, "One-time code"));
      body["password"] = std::move(password);
      body["totp"] = std::move(code);
    }
    auto shown = ServerCall(o, "POST", "/api/v1/persons/" + person + "/clear-reads", body);
    if (!shown) return Fail(shown.error());
    return Print(*shown, o.json);
  }

  static Status Print(const json& shown, bool as_json) {
    const std::set<std::string> damaged(shown["damaged"].begin(), shown["damaged"].end());
    if (as_json) {
      PrintJson(shown);
    } else {
      Out() << "Person " << shown["person"].get<std::string>()
            << (shown["masked"].get<bool>() ? " (masked)" : " (clear text)") << "\n";
      for (const auto& ds : shown["datasets"]) {
        for (const auto& rec : ds["records"]) {
          Out() << "  " << ds["dataset"].get<std::string>() << " record "
                << rec["record"].get<uint64_t>() << ":\n";
          for (auto& [k, val] : rec["fields"].items()) {
            const bool bad = damaged.count(ds["dataset"].get<std::string>() + "." + k) > 0;
            Out() << "    " << k << ": "
                  << (val.is_null() ? std::string("<integrity check failed>")
                                    : val.get<std::string>())
                  << (bad ? "  [damaged before import: a spreadsheet stored this number as "
                            "a number and its digits past the 15th are lost]"
                          : "")
                  << "\n";
          }
        }
      }
    }
    const json& errors = shown["errors"];
    if (!errors.empty()) {
      std::string msg = std::to_string(errors.size()) + " value(s) failed their integrity check:";
      for (const auto& e : errors) msg += "\n  " + e.get<std::string>();
      return Fail(DataLoss(msg));
    }
    return Ok();
  }
};

struct ForgetCmd {
  VaultOptions o;
  SelectorOptions s;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "forget"));
    ASSIGN_OR_RETURN(vault::PersonId id, workflow::ResolvePerson(*v, s.sel));
    ASSIGN_OR_RETURN(vault::Vault::ForgetResult r, v->Forget(id));
    if (o.json) {
      PrintJson({{"forgotten", id.ToString()},
                 {"records", r.records},
                 {"method", "crypto-shred"},
                 {"residue_purged", r.purge.purged}});
    } else {
      Out() << "Forgot person " << id.ToString()
            << ": data key destroyed, records and index entries deleted"
            << (r.purge.purged ? ", vault files purged.\n" : ".\n");
    }
    WarnIfNotPurged(r.purge);
    return Ok();
  }
};

struct RotateCmd {
  VaultOptions o;
  std::string new_key_file;
  std::string new_passphrase_env;
  Status Run() {
    if (new_key_file.empty() == new_passphrase_env.empty()) {
      return Fail(InvalidArgument("give exactly one of --new-key-file or --new-passphrase-env"));
    }
    vault::KeySource nk;
    if (!new_key_file.empty()) {
      nk.kind = vault::KeySource::Kind::kKeyFile;
      nk.key_file = new_key_file;
    } else {
      nk.kind = vault::KeySource::Kind::kPassphrase;
      nk.passphrase_env = new_passphrase_env;
    }
    ASSIGN_OR_RETURN(vault::KeySource old_key, KeySourceFrom(o));
    auto opened = OpenVaultWith(o, old_key);
    if (!opened && opened.error().code() == ErrorCode::kUnauthenticated) {
      // Run again after a rotation that committed (the command was killed
      // before it could say so, say): the new key opens the vault already.
      auto rotated = OpenVaultWith(o, nk);
      if (rotated) return FinishRotation(**rotated, /*already=*/true, 0, std::nullopt);
      (void)vault::NoteRefusedAttempt(o.vault, Actor(o), "keys rotate", "wrong key or passphrase");
    }
    if (!opened) return Fail(opened.error());
    VaultPtr v = std::move(*opened);
    RETURN_IF_ERROR(EstablishPrincipal(o, *v));
    ASSIGN_OR_RETURN(vault::Vault::RotateResult r, v->RotateKek(nk));
    return FinishRotation(*v, /*already=*/false, r.rewrapped, r.purge);
  }

  Status FinishRotation(vault::Vault& v, bool already, uint64_t rewrapped,
                        std::optional<vault::PurgeResult> purge) {
    if (!purge) {
      ASSIGN_OR_RETURN(purge, v.PurgeResidue(/*vacuum=*/false));
    }
    if (o.json) {
      PrintJson({{"rewrapped_data_keys", rewrapped},
                 {"already_rotated", already},
                 {"key_version", v.kek_version()},
                 {"key_source", v.kek_source()},
                 {"residue_purged", purge->purged}});
    } else if (already) {
      Out() << "The vault is already under the new key (key version " << v.kek_version()
            << "): an earlier run rotated it. The old key no longer opens this vault.\n";
    } else {
      Out() << "Re-wrapped " << rewrapped << " data keys under the new key (key version "
            << v.kek_version() << "). The old key no longer opens this vault.\n";
    }
    WarnIfNotPurged(*purge);
    return Ok();
  }
};

struct PurgeCmd {
  VaultOptions o;
  bool vacuum = false;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "vault purge"));
    ASSIGN_OR_RETURN(vault::PurgeResult r, v->Purge(vacuum));
    const bool database = v->StoreKind() == "postgresql";
    if (!r.purged) {
      return Fail(Unavailable(
          database ? "another session of the database holds a snapshot, so VACUUM could not "
                     "remove what it may still see; run this again when the vault is idle"
                   : "another process is using the vault, so its write-ahead log could "
                     "not be emptied; run this again when the vault is idle"));
    }
    if (o.json) {
      PrintJson({{"purged", true}, {"vacuum", vacuum}, {"store", v->StoreKind()}});
    } else if (database) {
      Out() << "Purged " << o.vault << ": " << (vacuum ? "VACUUM FULL rewrote" : "VACUUM swept")
            << " the vault's tables; the cluster's WAL, archives and backups are its "
               "administrator's to expire (docs/postgresql.md).\n";
    } else {
      Out() << "Purged " << o.vault << ": the write-ahead log is empty"
            << (vacuum ? " and the file was rebuilt (VACUUM)" : "")
            << "; freed pages were zeroed as they were freed (secure_delete).\n";
    }
    return Ok();
  }
};

struct CopyCmd {
  VaultOptions o;
  std::string to;
  bool no_progress = false;
  Status Run() {
    if (!o.server.empty())
      return Fail(InvalidArgument("vault copy runs on the vault, not --server"));
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "vault copy"));
    ASSIGN_OR_RETURN(vault::KeySource key, KeySourceFrom(o));
    ASSIGN_OR_RETURN(uint64_t total, v->CountPeople());
    auto bar = ProgressSink(!no_progress);
    ASSIGN_OR_RETURN(vault::Vault::CopyReport r, v->CopyTo(to, key, [&](uint64_t persons) {
      if (bar) bar(persons, total);
    }));
    const store::CopyCounts& n = r.counts;
    if (o.json) {
      PrintJson({{"from", o.vault},
                 {"to", to},
                 {"persons", n.persons},
                 {"records", n.records},
                 {"datasets", n.datasets},
                 {"index_entries", n.index_entries},
                 {"documents", n.docs + n.person_docs},
                 {"audit_entries_verified_before", r.source_audit_size},
                 {"audit_root_before", r.source_root_sha256},
                 {"audit_entries_verified_after", r.destination_audit_size},
                 {"checkpoints", n.checkpoints}});
    } else {
      Out() << "Copied " << o.vault << " to " << to << ": " << n.persons << " people, " << n.records
            << " records, " << n.datasets << " datasets, " << n.docs + n.person_docs
            << " documents, " << n.checkpoints << " checkpoints.\n"
            << "  audit log verified before: " << r.source_audit_size << " entries, root "
            << r.source_root_sha256 << "\n"
            << "  audit log verified in the copy: " << r.destination_audit_size
            << " entries (vault.copy, vault.copied recorded)\n"
            << o.vault << " is now read-only: work on " << to
            << "; remove the old one once you no longer need it for the record.\n";
    }
    return Ok();
  }
};

// Brings the vault's schema to this build's version. Needs no key: the
// migrations change tables, never what is in them.
struct MigrateCmd {
  std::string vault;
  double wait_seconds = 30;
  bool json = false;
  Status Run() {
    if (vault.empty()) return Fail(InvalidArgument("--vault is required (or set CUSTOS_VAULT)"));
    ASSIGN_OR_RETURN(
        auto store,
        store::OpenStore(vault,
                         {std::chrono::milliseconds(static_cast<int64_t>(wait_seconds * 1000))}));
    const store::Store::SchemaVersions v = store->schema_versions();
    if (json) {
      PrintJson({{"vault", vault},
                 {"schema_version_found", v.found},
                 {"schema_version", v.now},
                 {"migrated", v.found != v.now}});
    } else if (v.found != v.now) {
      Out() << "Migrated " << vault << " from schema version " << v.found << " to " << v.now
            << ".\n";
    } else {
      Out() << vault << " is at schema version " << v.now << ", this build's: nothing to do.\n";
    }
    return Ok();
  }
};

struct KeysSplitCmd {
  VaultOptions o;
  int threshold = 0;
  std::vector<std::string> to;
  std::string out;
  Status Run() {
    if (to.size() < 2) {
      return Fail(InvalidArgument("--to needs two or more custodians' age recipients (age1...)"));
    }
    std::vector<package::AgeRecipient> recipients;
    for (size_t i = 0; i < to.size(); ++i) {
      auto r = package::AgeRecipient::Parse(to[i]);
      if (!r) return Fail(r.error().WithContext("--to, recipient " + std::to_string(i + 1)));
      for (size_t j = 0; j < i; ++j) {
        if (to[j] == to[i]) {
          return Fail(InvalidArgument("--to, recipient " + std::to_string(i + 1) +
                                      " is recipient " + std::to_string(j + 1) +
                                      " again: each custodian holds one share"));
        }
      }
      recipients.push_back(*r);
    }
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "keys split"));
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return Fail(InvalidArgument("--out " + out + ": " + ec.message()));
    std::vector<std::string> written;
    auto deliver = [&](const std::vector<vault::KeyShare>& shares) -> Status {
      for (size_t i = 0; i < shares.size(); ++i) {
        crypto::SecretBytes plain = vault::FormatKeyShare(shares[i]);
        auto sealed = package::AgeEncryptBytes({&recipients[i], 1}, plain.RevealSecret());
        const std::string path = out + "/share-" + std::to_string(i + 1) + ".age";
        Status wrote = sealed ? WriteFileExclusive(path, *sealed, 0600) : Fail(sealed.error());
        if (!wrote) return Fail(wrote.error().WithContext(path));
        written.push_back(path);
      }
      return Ok();
    };
    auto split = v->SplitKek(threshold, to, deliver);
    if (!split) {
      for (const std::string& f : written) std::remove(f.c_str());
      return Fail(split.error());
    }
    if (o.json) {
      json shares = json::array();
      for (size_t i = 0; i < written.size(); ++i) {
        shares.push_back({{"index", i + 1}, {"recipient", to[i]}, {"file", written[i]}});
      }
      PrintJson({{"vault", v->IdHex()},
                 {"split", *split},
                 {"key_version", v->kek_version()},
                 {"threshold", threshold},
                 {"shares", shares}});
      return Ok();
    }
    Out() << "Split the key of vault " << v->IdHex() << " (key version " << v->kek_version()
          << ") into " << written.size() << " shares; any " << threshold << " of them open it:\n";
    for (size_t i = 0; i < written.size(); ++i) {
      Out() << "  " << written[i] << "  for " << to[i] << "\n";
    }
    Out() << "Give each custodian their file; `age -d -i KEY FILE` opens it. The split is in "
             "the audit log (split "
          << *split << ").\n";
    return Ok();
  }
};

struct PublicKeyCmd {
  VaultOptions o;
  std::string format = "ssh";
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "keys public"));
    const auto& pk = v->signer().public_key();
    if (format == "ssh") {
      Out() << package::SshEd25519PublicKeyLine(pk, "custos-vault-" + v->IdHex()) << "\n";
    } else {
      Out() << tlog::NoteVerifierKey(tlog::VaultKeyName(v->IdHex()), pk) << "\n";
    }
    return Ok();
  }
};

struct SampleCmd {
  uint64_t rows = 1000;
  uint64_t seed = 1;
  std::string out;
  std::string today;
  Status Run() {
    workflow::SampleOptions so;
    so.rows = rows;
    so.seed = seed;
    so.today = TodayInChina();
    if (!today.empty()) {
      ASSIGN_OR_RETURN(so.today, ParseIsoDate(today));
    }
    if (out.empty() || out == "-") return workflow::WriteSampleCsv(so, Out());
    std::string tmp = out + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) return Fail(Unavailable("cannot create " + tmp));
      RETURN_IF_ERROR(workflow::WriteSampleCsv(so, f));
      f.flush();
      if (!f) return Fail(Unavailable("cannot write " + tmp));
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
      return Fail(Unavailable("cannot rename " + tmp + " to " + out));
    }
    Err() << "Wrote " << rows << " synthetic rows to " << out << " (seed " << seed << ")\n";
    return Ok();
  }
};

constexpr bool kNoJson = false;

}  // namespace

// vault purge, sample (apart, to keep Run readable).
void AddMaintenanceCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* c_vault = app.add_subcommand("vault", "The vault itself: purge, copy");
  c_vault->require_subcommand(1);
  auto& purge = Keep<PurgeCmd>();
  auto* c_purge = c_vault->add_subcommand(
      "purge",
      "Empty the write-ahead log so nothing deleted lingers in the vault's files (a PostgreSQL "
      "vault: VACUUM its tables)");
  AddVaultOptions(c_purge, purge.o);
  c_purge->add_flag("--vacuum", purge.vacuum,
                    "Also rebuild the vault file (VACUUM; PostgreSQL: VACUUM FULL)");
  c_purge->footer(
      "forget, keys rotate and destroy purge by themselves; when another process was using the\n"
      "vault at that moment they warn, and this finishes the job once the vault is idle.");

  auto& copy = Keep<CopyCmd>();
  auto* c_copy = c_vault->add_subcommand(
      "copy", "Move the vault to another file or PostgreSQL database, verified on both ends");
  AddVaultOptions(c_copy, copy.o);
  c_copy->add_option("--from", copy.o.vault, "The vault to copy (the same as --vault)");
  c_copy
      ->add_option("--to", copy.to, "The new vault: a file or a postgresql:// URI (must not exist)")
      ->required();
  c_copy->add_flag("--no-progress", copy.no_progress, "No progress bar");
  c_copy->footer(
      "Both ways between SQLite and PostgreSQL (or file to file, database to database). The\n"
      "vault's log is verified, the move recorded (vault.copy), everything copied as it is, the\n"
      "copy opened with the same key, its log verified and the move recorded there\n"
      "(vault.copied). The old vault then takes no more changes. Stop servers first: writers\n"
      "wait while it runs. Example:\n"
      "  custos vault copy --from branch.vault --key-file branch.key \\\n"
      "      --to 'postgresql://custos@db.internal/custos?sslmode=verify-full'");

  auto& migrate = Keep<MigrateCmd>();
  auto* c_migrate = app.add_subcommand(
      "migrate", "Bring the vault's schema to this build's version (no key needed)");
  c_migrate->add_option("--vault", migrate.vault, "Vault: a file or a postgresql:// URI")
      ->envname("CUSTOS_VAULT");
  c_migrate->add_option("--wait", migrate.wait_seconds,
                        "Seconds to wait for another process writing to the vault");
  c_migrate->add_flag("--json", migrate.json, "Print machine-readable JSON");
  c_migrate->footer(
      "Every command migrates a vault it opens, so this is only needed to upgrade at a time of\n"
      "your choosing, e.g. before starting several servers of a new build on one database.\n"
      "Migrations only go forward; take a backup first (docs/postgresql.md).");

  auto& sample = Keep<SampleCmd>();
  auto* c_sample = app.add_subcommand("sample", "Write a synthetic branch CRM export (CSV)");
  c_sample->add_option("--rows", sample.rows, "Number of rows");
  c_sample->add_option("--seed", sample.seed, "Seed: the same seed gives the same file");
  c_sample->add_option("--out", sample.out, "Output file (default: standard output)");
  c_sample->add_option("--today", sample.today, "Reference date YYYY-MM-DD for ages");

  commands.push_back({c_purge, Runner(purge, purge.o.json)});
  commands.push_back({c_sample, Runner(sample, kNoJson)});
  commands.push_back({c_migrate, Runner(migrate, migrate.json)});
  commands.push_back({c_copy, Runner(copy, copy.o.json)});
}

// keys split (apart, to keep Run readable).
void AddKeysSplitCommand(CLI::App* keys, std::vector<Command>& commands) {
  auto& split = Keep<KeysSplitCmd>();
  auto* c_split = keys->add_subcommand(
      "split", "Split the vault's key into custodians' shares, any K of which open it");
  AddVaultOptions(c_split, split.o);
  c_split->add_option("--threshold", split.threshold, "K: how many shares open the vault")
      ->required()
      ->check(CLI::Range(2, 255));
  c_split
      ->add_option("--to", split.to,
                   "The custodians' age recipients (age1...), one share each, comma-separated "
                   "or repeated")
      ->required()
      ->delimiter(',');
  c_split->add_option("--out", split.out, "Directory for the share files (share-N.age)")
      ->required();
  c_split->footer(
      "Each share is encrypted to one custodian with age. A server started with --unseal shares,\n"
      "or any command given --share FILE K times, rebuilds the key from K shares; fewer say\n"
      "nothing about it. Rotating the key (keys rotate) makes old shares useless: split again.\n"
      "Format: docs/formats/key-share.md.");
  commands.push_back({c_split, Runner(split, split.o.json)});
}

namespace {

// Every command, registered on `app`.
void AddCommands(CLI::App& app, std::vector<Command>& commands) {
  app.description(
      "Custos keeps a closing branch's customer personal information in custody: an encrypted\n"
      "vault (one key per person), inventory, lawful transfer, retention, destruction and a\n"
      "tamper-evident record of every step.\n\n"
      "Start with:  custos init --vault branch.vault --key-file branch.key\n"
      "             custos import export.csv --vault branch.vault --key-file branch.key --dataset "
      "crm");
  app.require_subcommand(1);
  app.set_version_flag("--version", "custos 0.1.0");

  auto& init = Keep<InitCmd>();
  auto* c_init = app.add_subcommand("init", "Create a vault and its key");
  AddVaultOptions(c_init, init.o);
  c_init->footer(
      "With --key-file FILE, FILE is created (32 random bytes, mode 0600) if it does not exist.\n"
      "With --passphrase-env VAR, the key is derived from the passphrase in $VAR with Argon2id.");

  auto& imp = Keep<ImportCmd>();
  auto* c_imp = app.add_subcommand("import", "Import a CSV/JSONL export into the vault, encrypted");
  AddVaultOptions(c_imp, imp.o);
  c_imp->add_option("FILE", imp.file, "The export to import")->required();
  c_imp->add_option("--dataset", imp.dataset, "Name for this dataset, e.g. crm-2024")->required();
  c_imp->add_option("--encoding", imp.encoding, "Force utf-8, gbk or gb18030 (default: detect)");
  c_imp->add_flag("--no-progress", imp.no_progress, "No progress bar");

  auto& find = Keep<FindCmd>();
  auto* c_find = app.add_subcommand("find", "Find people by ID number, mobile or e-mail");
  AddVaultOptions(c_find, find.o);
  find.s.Add(c_find, false);

  auto& show = Keep<ShowCmd>();
  auto* c_show = app.add_subcommand("show", "Show what the vault holds about a person (masked)");
  AddVaultOptions(c_show, show.o);
  show.s.Add(c_show, true);
  c_show->add_flag("--clear", show.clear,
                   "Show clear text (needs --purpose; the read is recorded)");
  c_show->add_option("--purpose", show.purpose, "Why the clear text is needed");
  c_show->add_option(
      "--legal-ground", show.legal_ground,
      "Legal ground for reading data frozen under a retention rule (e.g. a tax audit)");

  auto& forget = Keep<ForgetCmd>();
  auto* c_forget = app.add_subcommand("forget", "Crypto-shred a person: destroy key and data");
  AddVaultOptions(c_forget, forget.o);
  forget.s.Add(c_forget, true);

  auto* c_keys = app.add_subcommand("keys", "Key management");
  c_keys->require_subcommand(1);
  auto& rotate = Keep<RotateCmd>();
  auto* c_rotate = c_keys->add_subcommand("rotate", "Re-wrap every data key under a new key");
  AddVaultOptions(c_rotate, rotate.o);
  c_rotate->add_option("--new-key-file", rotate.new_key_file, "New key file (created if missing)");
  c_rotate->add_option("--new-passphrase-env", rotate.new_passphrase_env,
                       "Environment variable holding the new passphrase");
  auto& pub = Keep<PublicKeyCmd>();
  auto* c_pub = c_keys->add_subcommand("public", "Print the vault's signing public key");
  AddVaultOptions(c_pub, pub.o);
  c_pub->add_option("--format", pub.format, "ssh (OpenSSH line) or note (C2SP verifier key)")
      ->check(CLI::IsMember({"ssh", "note"}));

  commands.insert(commands.end(), {
                                      {c_init, Runner(init, init.o.json)},
                                      {c_imp, Runner(imp, imp.o.json)},
                                      {c_find, Runner(find, find.o.json)},
                                      {c_show, Runner(show, show.o.json)},
                                      {c_forget, Runner(forget, forget.o.json)},
                                      {c_rotate, Runner(rotate, rotate.o.json)},
                                      {c_pub, Runner(pub, pub.o.json)},
                                  });
  AddInventoryCommands(app, commands);
  AddRetentionCommands(app, commands);
  AddTransferCommands(app, commands);
  AddAuditCommands(app, commands);
  AddPeopleCommands(app, commands);
  AddRequestCommands(app, commands);
  AddServeCommands(app, commands);
  AddKeysSplitCommand(c_keys, commands);
  AddMaintenanceCommands(app, commands);
}

}  // namespace

int RunEmbedded(std::vector<std::string> args, Embedded& e) {
  // The thread's own command objects (`custos serve` itself, on the thread
  // that runs it) stay alive and untouched: this run gets an arena of its own.
  struct Scope {
    Embedded* saved;
    std::vector<std::shared_ptr<void>> saved_arena;
    explicit Scope(Embedded* now) : saved(CurrentEmbedded()) {
      SetCurrentEmbeddedForRun(now);
      saved_arena.swap(CommandArena());
    }
    ~Scope() {
      SetCurrentEmbeddedForRun(saved);
      CommandArena().clear();
      CommandArena().swap(saved_arena);
    }
  } scope(&e);
  CLI::App app;
  std::vector<Command> commands;
  AddCommands(app, commands);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& pe) {
    e.error = InvalidArgument(pe.what());
    return ExitStatusFor(ErrorCode::kInvalidArgument);
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  e.error = InvalidArgument("no command given");
  return ExitStatusFor(ErrorCode::kInvalidArgument);
}

int Run(int argc, char** argv) {
  CommandArena().clear();
  CLI::App app;
  std::vector<Command> commands;
  AddCommands(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ExitStatusFor(ErrorCode::kInvalidArgument);
  }
  for (auto& c : commands) {
    if (!c.app->parsed()) continue;
    if (std::optional<int> rc = RunOnServerIfAsked(c.app)) return *rc;
    return c.run();
  }
  return ExitStatusFor(ErrorCode::kInvalidArgument);
}

}  // namespace custos::cli
