// custos retention rules | apply | run, destroy plan | execute, certificate,
// media register | record, deregister check.
#include <unistd.h>

#include <iostream>
#include <sstream>

#include "access/requests.h"
#include "base/time.h"
#include "cli/common.h"
#include "workflow/deregister.h"
#include "workflow/destruction.h"
#include "workflow/retention.h"

namespace custos::cli {
namespace {

Result<Date> TodayOr(const std::string& today) {
  if (today.empty()) return TodayInChina();
  return ParseIsoDate(today);
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

struct RulesCmd {
  VaultOptions o;
  std::string rules_file;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "retention rules"));
    ASSIGN_OR_RETURN(policy::Catalogue c, workflow::LoadRules(*v, rules_file));
    if (o.json) {
      PrintJson(json::parse(c.canonical_json));
      return Ok();
    }
    Out() << "Retention rules, catalogue version " << c.version << "\n"
          << c.defaults_notice << "\n\n";
    for (const auto& r : c.rules) {
      Out() << "  " << r.id << ": " << r.period_years << " years from " << r.start_event << "\n    "
            << r.title << "\n    " << r.citation << " [" << r.status << "]"
            << (r.applies_to.empty() ? "" : "; applies to " + r.applies_to) << "\n";
    }
    return Ok();
  }
};

struct ApplyCmd {
  VaultOptions o;
  std::string rule, dataset, fields, start_date, start_field, rules_file, today;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "retention apply"));
    workflow::ApplyOptions a;
    a.rule = rule;
    a.dataset = dataset;
    a.fields = SplitComma(fields);
    a.start_field = start_field;
    a.rules_file = rules_file;
    if (!start_date.empty()) {
      ASSIGN_OR_RETURN(Date d, ParseIsoDate(start_date));
      a.start_date = d;
    }
    ASSIGN_OR_RETURN(Date t, TodayOr(today));
    ASSIGN_OR_RETURN(workflow::ApplyReport r, workflow::ApplyRetention(*v, a, t));
    if (o.json) {
      PrintJson({{"binding", r.binding}, {"catalogue_version", r.catalogue_version},
                 {"people", r.people}, {"start_unknown", r.start_unknown},
                 {"earliest_expiry", r.earliest_expiry}, {"latest_expiry", r.latest_expiry}});
    } else {
      Out() << "Bound " << a.fields.size() << " field(s) of dataset '" << dataset << "' to rule '"
            << rule << "' (catalogue " << r.catalogue_version << ") for " << r.people
            << " people; retained until " << r.earliest_expiry << " .. " << r.latest_expiry << "\n";
      if (r.start_unknown > 0) {
        Out() << "  " << r.start_unknown
              << " people had no readable start date: counted from today\n";
      }
    }
    return Ok();
  }
};

void PrintBlockers(const std::vector<workflow::Blocker>& blockers, std::string_view indent) {
  for (const auto& b : blockers) {
    Out() << indent << "- " << b.what << "\n" << indent << "  -> " << b.resolve << "\n";
  }
}

json BlockersJson(const std::vector<workflow::Blocker>& blockers) {
  json out = json::array();
  for (const auto& b : blockers) {
    out.push_back({{"kind", workflow::BlockerKindName(b.kind)}, {"what", b.what}, {"resolve", b.resolve}});
  }
  return out;
}

void PrintPlan(const workflow::DestroyPlan& p) {
  const workflow::PlanSnapshot& s = p.snapshot;
  Out() << "Destruction plan for " << s.today << " (rules catalogue " << s.catalogue_version
        << ")\n  people: " << p.people_total << " in the vault, " << p.people_destroyed
        << " to destroy, " << p.people_retained << " retained (" << p.people_rewritten
        << " of them lose fields no rule retains)\n";
  for (const auto& ds : s.datasets) {
    Out() << "  dataset " << ds.dataset << ": records " << ds.records_destroyed << " destroyed, "
          << ds.records_retained << " retained\n";
    for (const auto& f : ds.fields) {
      Out() << "    " << f.field << ": " << f.destroyed_people << " destroyed, "
            << f.retained_people << " retained";
      for (const auto& r : f.retained_by) Out() << " [" << r.rule << " until " << r.until << "]";
      Out() << "\n";
    }
  }
  for (const auto& t : s.transfers) {
    Out() << "  transfer " << t.id << ": " << workflow::TransferStateName(t.state)
          << (t.receipt_sha256.empty() ? "" : ", receipt " + t.receipt_sha256) << "\n";
  }
  if (!p.blockers.empty()) {
    Out() << "  BLOCKED by:\n";
    PrintBlockers(p.blockers, "    ");
  }
}

struct PlanCmd {
  VaultOptions o;
  std::string today;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "destroy plan"));
    ASSIGN_OR_RETURN(Date t, TodayOr(today));
    ASSIGN_OR_RETURN(workflow::DestroyPlan p, workflow::PlanDestruction(*v, t));
    if (o.json) {
      PrintJson(workflow::PlanToJson(p.snapshot));
    } else {
      PrintPlan(p);
      ASSIGN_OR_RETURN(vault::Vault::BreakGlassUses uses, v->BreakGlass());
      PrintBreakGlass(uses);
    }
    return Ok();
  }
};

struct ExecuteCmd {
  VaultOptions o;
  std::string request;
  std::string approver;
  std::vector<std::string> supervisors;
  std::string today;
  uint64_t chunk = 50000;
  bool retention_run = false;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, retention_run ? "retention run" : "destroy execute"));
    workflow::ExecuteOptions e;
    e.request = request;
    e.approver = approver;
    e.supervisors = supervisors;
    ASSIGN_OR_RETURN(e.today, TodayOr(today));
    e.chunk_people = chunk;
    e.progress = ProgressSink();
    if (retention_run) {
      ASSIGN_OR_RETURN(auto batches, workflow::ListDestructions(*v));
      if (batches.empty()) {
        return Fail(FailedPrecondition(
            "no destruction has run yet: the branch's closure is destroyed first with custos destroy "
            "execute; retention run then destroys what a rule stopped retaining"));
      }
      e.trigger = workflow::DestructionTrigger::kRetentionExpired;
    }
    ASSIGN_OR_RETURN(workflow::ExecuteReport r, workflow::ExecuteDestruction(*v, e));
    if (r.requested) {
      ReportNewRequest(*r.requested, o.json,
                       std::string(retention_run ? "custos retention run" : "custos destroy execute") +
                           " --request " + r.requested->id);
      return Ok();
    }
    if (o.json) {
      PrintJson({{"destruction", r.id}, {"resumed", r.resumed}, {"already_done", r.already_done},
                 {"people_destroyed", r.people_destroyed}, {"people_rewritten", r.people_rewritten},
                 {"fields_removed", r.fields_removed}, {"chunks", r.chunks},
                 {"residue_purged", r.purge.purged}});
    } else if (r.already_done) {
      Out() << "Nothing left to destroy; the last destruction is " << r.id << "\n";
    } else {
      Out() << "Destruction " << r.id << (r.resumed ? " (resumed)" : "")
            << " done: " << r.people_destroyed << " people crypto-shredded, " << r.people_rewritten
            << " retained people rewritten without " << r.fields_removed
            << " destroyed field(s), vault purged and verified.\n"
            << "Next: custos certificate --destruction " << r.id << " --out DIR\n";
    }
    WarnIfNotPurged(r.purge);
    return Ok();
  }
};

struct CertificateCmd {
  VaultOptions o;
  std::string destruction, out, lang = "zh";
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "certificate"));
    ASSIGN_OR_RETURN(workflow::IssuedCertificate c, workflow::IssueCertificate(*v, destruction, out, lang));
    if (o.json) {
      PrintJson({{"destruction", c.destruction}, {"json", c.json_path}, {"signature", c.sig_path},
                 {"html", c.html_path}, {"sha256", c.sha256}});
    } else {
      Out() << "Destruction certificate of " << c.destruction << ":\n  " << c.json_path << "\n  "
            << c.sig_path << " (SSHSIG, namespace custos-certificate)\n  " << c.html_path
            << "\n  sha256 " << c.sha256 << "\n";
    }
    return Ok();
  }
};

struct MediaCmd {
  VaultOptions o;
  workflow::MediaRecord m;
  bool record = false;
  Status Run() {
    ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, record ? "media record" : "media register"));
    if (record) {
      RETURN_IF_ERROR(workflow::RecordMediaDestruction(*v, m));
    } else {
      RETURN_IF_ERROR(workflow::RegisterMedia(*v, m));
    }
    if (o.json) {
      PrintJson({{"medium", m.id}, {"state", record ? "destroyed" : "registered"}});
    } else {
      Out() << "Medium " << m.id
            << (record ? " recorded as destroyed (" + m.method + ")" : " registered") << "\n";
    }
    return Ok();
  }
};

struct DeregisterCmd {
  VaultOptions o;
  std::string today;
  int Run() {
    auto r = [&]() -> Result<workflow::DeregisterReport> {
      ASSIGN_OR_RETURN(VaultPtr v, OpenVault(o, "deregister check"));
      ASSIGN_OR_RETURN(Date t, TodayOr(today));
      return workflow::CheckDeregistration(*v, t);
    }();
    if (!r) return Report(r.error(), o.json);
    if (o.json) {
      PrintJson({{"ok", r->blockers.empty()},
                 {"blockers", BlockersJson(r->blockers)},
                 {"destruction", r->destruction},
                 {"certificate_sha256", r->certificate_sha256},
                 {"people_retained", r->people_retained},
                 {"break_glass", json::parse(r->break_glass.ToJson().dump())}});
    } else if (r->blockers.empty()) {
      Out() << "Nothing blocks the deregistration: every person is transferred, retained ("
            << r->people_retained << ") or destroyed; destruction " << r->destruction
            << " is certified; the audit log verifies.\n";
    } else {
      Out() << r->blockers.size() << " thing(s) block the deregistration:\n";
      PrintBlockers(r->blockers, "  ");
    }
    if (!o.json) PrintBreakGlass(r->break_glass);
    if (r->blockers.empty()) return 0;
    // The report went to stdout already (JSON included): the error line only.
    return Report(FailedPrecondition(std::to_string(r->blockers.size()) +
                                     " blocker(s) remain (listed above)"),
                  /*as_json=*/false);
  }
};

}  // namespace

void AddRetentionCommands(CLI::App& app, std::vector<Command>& commands) {
  auto* retention = app.add_subcommand(
      "retention", "Statutory retention: the rules catalogue, binding fields to rules, expiry");
  retention->require_subcommand(1);

  auto& rules = Keep<RulesCmd>();
  auto* c_rules = retention->add_subcommand("rules", "List the retention rules the vault applies");
  AddVaultOptions(c_rules, rules.o);
  c_rules->add_option("--rules", rules.rules_file, "Use (and store) this edited catalogue instead");
  commands.push_back({c_rules, Runner(rules, rules.o.json)});

  auto& apply = Keep<ApplyCmd>();
  auto* c_apply = retention->add_subcommand("apply", "Bind fields of a dataset to a retention rule");
  AddVaultOptions(c_apply, apply.o);
  c_apply->add_option("--rule", apply.rule, "Rule id (custos retention rules)")->required();
  c_apply->add_option("--dataset", apply.dataset, "Dataset name")->required();
  c_apply->add_option("--fields", apply.fields, "Comma-separated field names")->required();
  c_apply->add_option("--start-date", apply.start_date, "Start event date YYYY-MM-DD for everyone");
  c_apply->add_option("--start-field", apply.start_field, "Field holding each person's start date");
  c_apply->add_option("--rules", apply.rules_file, "Use (and store) this edited catalogue");
  c_apply->add_option("--today", apply.today, "Reference date YYYY-MM-DD (default: today, UTC+8)");
  commands.push_back({c_apply, Runner(apply, apply.o.json)});

  auto& run = Keep<ExecuteCmd>();
  run.retention_run = true;
  auto* c_run = retention->add_subcommand(
      "run", "Destroy what a retention rule stopped retaining (after the branch's destruction)");
  AddVaultOptions(c_run, run.o);
  c_run->add_option("--request", run.request,
                    "A vault with users: the approved request (without it, one is made)");
  c_run->add_option("--approver", run.approver, "A vault without users: who approves");
  c_run->add_option("--supervisor", run.supervisors,
                    "A vault without users: supervisor (监销人), twice");
  c_run->add_option("--today", run.today, "Reference date YYYY-MM-DD (default: today, UTC+8)");
  commands.push_back({c_run, Runner(run, run.o.json)});

  auto* destroy = app.add_subcommand("destroy", "Destruction at the branch's closure (PIPL Art. 47)");
  destroy->require_subcommand(1);
  auto& plan = Keep<PlanCmd>();
  auto* c_plan = destroy->add_subcommand("plan", "What will be destroyed, retained, transferred; blockers");
  AddVaultOptions(c_plan, plan.o);
  c_plan->add_option("--today", plan.today, "Reference date YYYY-MM-DD (default: today, UTC+8)");
  commands.push_back({c_plan, Runner(plan, plan.o.json)});

  auto& exec = Keep<ExecuteCmd>();
  auto* c_exec = destroy->add_subcommand(
      "execute", "Crypto-shred everything not retained, purge and verify; resumes an interrupted run");
  AddVaultOptions(c_exec, exec.o);
  c_exec->add_option("--request", exec.request,
                     "A vault with users: the approved request (without it, one is made and "
                     "printed; it runs once its approvals are signed)");
  c_exec->add_option("--approver", exec.approver, "A vault without users: unit head who approves");
  c_exec->add_option("--supervisor", exec.supervisors,
                     "A vault without users: supervisor (监销人), twice");
  c_exec->add_option("--today", exec.today, "Reference date YYYY-MM-DD (default: today, UTC+8)");
  c_exec->add_option("--chunk", exec.chunk, "People per transaction (default 50000)");
  commands.push_back({c_exec, Runner(exec, exec.o.json)});

  auto& cert = Keep<CertificateCmd>();
  auto* c_cert = app.add_subcommand("certificate", "Signed destruction record (销毁记录): JSON, SSHSIG, HTML");
  AddVaultOptions(c_cert, cert.o);
  c_cert->add_option("--destruction", cert.destruction, "Batch id (default: the latest finished)");
  c_cert->add_option("--out", cert.out, "Directory to write")->required();
  c_cert->add_option("--lang", cert.lang, "zh (default) or en")->check(CLI::IsMember({"zh", "en"}));
  commands.push_back({c_cert, Runner(cert, cert.o.json)});

  auto* media = app.add_subcommand("media", "Physical media: register, record destruction");
  media->require_subcommand(1);
  auto& reg = Keep<MediaCmd>();
  auto* c_reg = media->add_subcommand("register", "Register a medium still to be destroyed");
  AddVaultOptions(c_reg, reg.o);
  c_reg->add_option("--id", reg.m.id, "Serial number or label")->required();
  c_reg
      ->add_option("--kind", reg.m.kind,
                   "disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other")
      ->required();
  c_reg->add_option("--description", reg.m.description, "What it held (no personal data)");
  commands.push_back({c_reg, Runner(reg, reg.o.json)});

  auto& rec = Keep<MediaCmd>();
  rec.record = true;
  auto* c_rec = media->add_subcommand("record", "Record a medium's physical destruction");
  AddVaultOptions(c_rec, rec.o);
  c_rec->add_option("--id", rec.m.id, "Serial number or label")->required();
  c_rec
      ->add_option("--kind", rec.m.kind,
                   "disk, ssd, tape, paper, usb, optical, database-wal, database-backup, other")
      ->required();
  c_rec->add_option("--method", rec.m.method, "shred, degauss, incinerate, overwrite, delete")
      ->required();
  c_rec->add_option("--executor", rec.m.executor, "Who destroyed it")->required();
  c_rec->add_option("--witness", rec.m.witnesses, "Witness, twice")->required();
  c_rec->add_option("--vendor", rec.m.vendor, "Destruction vendor, if entrusted");
  c_rec->add_option("--vendor-certificate", rec.m.vendor_certificate, "The vendor's certificate reference");
  c_rec->add_option("--description", rec.m.description, "What it held (no personal data)");
  commands.push_back({c_rec, Runner(rec, rec.o.json)});

  auto* dereg = app.add_subcommand("deregister", "Deregistration readiness");
  dereg->require_subcommand(1);
  auto& check = Keep<DeregisterCmd>();
  auto* c_check = dereg->add_subcommand(
      "check", "Everything that still blocks tax clearance and the deregistration filing (exit 0: nothing)");
  AddVaultOptions(c_check, check.o);
  c_check->add_option("--today", check.today, "Reference date YYYY-MM-DD (default: today, UTC+8)");
  commands.push_back({c_check, [&check] { return check.Run(); }});
}

}  // namespace custos::cli
