// custos inventory FILE: the data map (数据清单). Reads only; needs no vault.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/file.h"
#include "base/time.h"
#include "cli/common.h"
#include "report/data_map.h"
#include "workflow/inventory.h"

namespace custos::cli {
namespace {

struct InventoryCmd {
  std::string file;
  std::string encoding;
  std::string sheet;
  std::string format = "text";
  std::string out;
  std::string lang = "zh";
  std::string today;
  bool no_progress = false;
  bool json_errors = false;
  VaultOptions remote;  // --server: run by the server (docs/server.md)

  Status Run() {
    json_errors = format == "json";
    ASSIGN_OR_RETURN(report::Lang l, report::ParseLang(lang));
    workflow::InventoryOptions io;
    io.read.encoding = encoding;
    io.read.sheet = sheet;
    if (!today.empty()) {
      ASSIGN_OR_RETURN(io.today, ParseIsoDate(today));
    }
    io.progress = ProgressSink(!no_progress);
    ASSIGN_OR_RETURN(report::InventoryReport r, workflow::RunInventory(file, io));
    std::string rendered;
    if (format == "json") {
      rendered = report::RenderDataMapJson(r);
    } else if (format == "html") {
      rendered = report::RenderDataMapHtml(r, l);
    } else {
      rendered = report::RenderDataMapText(r, l);
    }
    if (!rendered.empty() && rendered.back() != '\n') rendered.push_back('\n');
    if (out.empty() || out == "-") {
      Out() << rendered;
      return Ok();
    }
    RETURN_IF_ERROR(WriteFileAtomic(out, rendered));
    Err() << "Wrote the data map of " << file << " to " << out << "\n";
    return Ok();
  }
};

}  // namespace

void AddInventoryCommands(CLI::App& app, std::vector<Command>& commands) {
  auto& inv = Keep<InventoryCmd>();
  auto* c = app.add_subcommand(
      "inventory",
      "Data map (数据清单) of an export: what every column holds, sensitive data, minors, "
      "people, data-quality findings. Reads only; no vault needed.");
  c->add_option("FILE", inv.file, "CSV (UTF-8/GBK/GB18030), XLSX or JSON Lines file")->required();
  c->add_option("--encoding", inv.encoding, "Force utf-8, gbk or gb18030 (default: detect)");
  c->add_option("--sheet", inv.sheet, "XLSX sheet name (default: the first sheet)");
  c->add_option("--format", inv.format, "text (default), json or html")
      ->check(CLI::IsMember({"text", "json", "html"}));
  c->add_option("--out", inv.out, "Write to this file instead of standard output");
  c->add_option("--lang", inv.lang, "zh (default) or en, for text and html");
  c->add_option("--today", inv.today, "Reference date YYYY-MM-DD for ages (default: today, UTC+8)");
  c->add_flag("--no-progress", inv.no_progress, "No progress bar");
  AddServerOptions(c, inv.remote, /*session=*/true);
  c->footer(
      "The JSON object has rows, people, minors, encoding, columns[] (name, type, sensitive,\n"
      "confidence, non_empty, valid, invalid, contains) and findings[] (kind, column, count,\n"
      "rows); see docs/inventory.md. Nothing in the output is a clear personal value.");
  commands.push_back({c, Runner(inv, inv.json_errors)});
}

}  // namespace custos::cli
