// `custos serve` and `custos unseal` (docs/server.md).
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "server/api.h"
#include "server/client.h"
#include "server/http_server.h"
#include "server/service.h"
#include "store/store.h"

namespace custos::cli {
namespace {

struct ServeCmd {
  VaultOptions o;
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert, tls_key;
  std::string unseal;  // key-file, passphrase, shares; default: the key given, else shares
  std::string state_dir;  // default: beside a vault file
  int threads = 0;

  // The server's own directory (spool, job records), held with a lock for
  // as long as it runs: two servers must not share one, as each clears
  // the spool it finds at start.
  Result<std::string> ClaimStateDir() {
    if (state_dir.empty()) {
      if (store::IsPostgresUri(o.vault)) {
        return Fail(InvalidArgument(
            "--state-dir DIR is required for a vault in PostgreSQL: a directory of this server's "
            "own for downloads and job records (one per server)"));
      }
      state_dir = o.vault + ".serve";
    }
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    ::chmod(state_dir.c_str(), 0700);
    const std::string lock = state_dir + "/lock";
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(
          Unavailable("cannot use the state directory " + state_dir + ": " + std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Fail(Unavailable("another custos serve is using the state directory " + state_dir +
                              ": give each server its own --state-dir"));
    }
    return state_dir;  // the descriptor stays open (and locked) until the process ends
  }

  Status Run() {
    RETURN_IF_ERROR(RequireVault(o));
    ASSIGN_OR_RETURN(const std::string dir, ClaimStateDir());
    const bool key_given = !o.key_file.empty() || !o.passphrase_env.empty() || !o.shares.empty() ||
                           std::getenv("CUSTOS_KEY_FILE") || std::getenv("CUSTOS_PASSPHRASE");
    server::VaultService service(o.vault, OpenOptionsFrom(o));
    if (unseal == "shares" && (!o.key_file.empty() || !o.passphrase_env.empty())) {
      return Fail(
          InvalidArgument("--unseal shares starts sealed: give no --key-file or "
                          "--passphrase-env"));
    }
    // Sealed at start only for shares that are still to come.
    const bool unseal_now = unseal == "shares" ? !o.shares.empty()
                            : unseal.empty()   ? key_given
                                               : true;
    if (unseal_now) {
      ASSIGN_OR_RETURN(vault::KeySource key, KeySourceFrom(o));
      using Kind = vault::KeySource::Kind;
      if ((unseal == "key-file" && key.kind != Kind::kKeyFile) ||
          (unseal == "passphrase" && key.kind != Kind::kPassphrase)) {
        return Fail(
            InvalidArgument("--unseal " + unseal + " needs " +
                            (unseal == "key-file" ? "--key-file FILE" : "--passphrase-env VAR")));
      }
      if (key.kind == Kind::kKeyFile) {
        Err() << "custos serve: warning: the key file sits on this server (the weaker option: "
                 "custodians' shares keep the key off its disk; see custos keys split)\n";
      }
      RETURN_IF_ERROR(service.Unseal(std::move(key)));
    }
    server::Api api(service);
    // The CLI's commands, run inside the server as the session's user.
    api.ServeCommands(
        [](server::CommandRun& run) {
          Embedded e;
          e.vault = run.vault;
          e.secrets = std::move(run.secrets);
          e.done = run.done;
          e.total = run.total;
          (void)RunEmbedded(run.args, e);
          for (auto& [k, v] : e.secrets) std::fill(v.begin(), v.end(), '\0');
          return server::CommandOutcome{e.out.str(), e.err.str(), e.error};
        },
        dir);
    server::HttpOptions h;
    h.listen = listen;
    h.tls_cert = tls_cert;
    h.tls_key = tls_key;
    h.threads = threads;
    h.on_listening = [&](const std::string& url) {
      if (o.json) {
        Out() << json{{"listening", url}, {"sealed", service.sealed()}}.dump() << std::endl;
      } else {
        Out() << "custos serve: listening on " << url << " for " << o.vault
              << (service.sealed() ? " (sealed: custodians unseal it with custos unseal)" : "")
              << std::endl;
      }
    };
    RETURN_IF_ERROR(server::ServeHttp(api, h));
    if (!o.json) Out() << "custos serve: stopped" << std::endl;
    return Ok();
  }
};

struct UnsealCmd {
  std::string server;
  std::string share;
  std::string identity;
  std::string ca_cert;
  bool json_out = false;

  Status Run() {
    if (server.empty()) {
      if (const char* s = std::getenv("CUSTOS_SERVER"); s && *s) server = s;
    }
    if (server.empty()) return Fail(InvalidArgument("give --server URL (or set CUSTOS_SERVER)"));
    ASSIGN_OR_RETURN(crypto::SecretBytes text, OpenShareFile(share, identity));
    std::string body = json{{"share", std::string(AsChars(text.RevealSecret()))}}.dump();
    server::ClientRequest req;
    req.method = "POST";
    req.url = server + "/api/v1/unseal";
    req.body = body;
    req.ca_cert = ca_cert;
    auto answer = server::HttpCall(req);
    sodium_memzero(body.data(), body.size());
    sodium_memzero(req.body.data(), req.body.size());
    if (!answer) return Fail(answer.error());
    if (answer->status != 200) return Fail(server::ErrorFromResponse(*answer));
    const json j = json::parse(answer->body, nullptr, false);
    if (!j.is_object()) return Fail(Internal("the server's answer is not JSON"));
    if (json_out) {
      PrintJson(j);
    } else if (!j.value("sealed", true)) {
      Out() << "The server is unsealed.\n";
    } else {
      Out() << "Share accepted: " << j.value("have", 0) << " of " << j.value("need", 0)
            << "; the server stays sealed until the rest arrive.\n";
    }
    return Ok();
  }
};

}  // namespace

void AddServeCommands(CLI::App& app, std::vector<Command>& commands) {
  auto& serve = Keep<ServeCmd>();
  auto* c_serve = app.add_subcommand("serve", "Serve the vault to signed-in users (JSON API)");
  AddVaultOptions(c_serve, serve.o, false);
  c_serve->add_option("--listen", serve.listen,
                      "HOST:PORT to listen on (default 127.0.0.1:8443; port 0 picks one)");
  c_serve->add_option("--tls-cert", serve.tls_cert, "TLS certificate chain (PEM)");
  c_serve->add_option("--tls-key", serve.tls_key, "TLS private key (PEM)");
  c_serve
      ->add_option("--unseal", serve.unseal,
                   "How the key arrives: key-file, passphrase, or shares (custodians send them "
                   "with custos unseal; the default without a key)")
      ->check(CLI::IsMember({"key-file", "passphrase", "shares"}));
  c_serve->add_option("--state-dir", serve.state_dir,
                      "This server's directory for downloads and job records (default: "
                      "VAULT.serve beside a vault file; required for a PostgreSQL vault, one per "
                      "server)");
  c_serve
      ->add_option(
          "--threads", serve.threads,
          "Worker threads (default 32: audited requests wait for their entry's group commit)")
      ->check(CLI::Range(1, 256));
  c_serve->footer(
      "Plain HTTP only on a loopback address (behind a reverse proxy); any other address needs\n"
      "--tls-cert and --tls-key. SIGTERM or SIGINT stops it: requests in flight finish first.\n"
      "One JSON line per request on stderr (method, route, status, ms, user; never a value).\n"
      "The API: docs/server.md.");
  commands.push_back({c_serve, Runner(serve, serve.o.json)});

  auto& unseal = Keep<UnsealCmd>();
  auto* c_unseal = app.add_subcommand("unseal", "Send a custodian's key share to a sealed server");
  c_unseal->add_option("--server", unseal.server, "The server's URL (or CUSTOS_SERVER)");
  c_unseal->add_option("--share", unseal.share, "Your share file (custos keys split)")->required();
  c_unseal->add_option("--share-identity", unseal.identity,
                       "Your age identity, when the share file is still encrypted");
  c_unseal->add_option("--ca-cert", unseal.ca_cert,
                       "Trust this CA certificate (PEM) for the server");
  c_unseal->add_flag("--json", unseal.json_out, "Print machine-readable JSON");
  commands.push_back({c_unseal, Runner(unseal, unseal.json_out)});
}

}  // namespace custos::cli
