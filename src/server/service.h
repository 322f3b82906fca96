// The vault as `custos serve` holds it (docs/server.md): sealed until its
// key arrives (a key file or passphrase at start, or the shares of K
// custodians through POST /api/v1/unseal), then one Vault handle per
// worker thread, so requests on different threads never share one.
#ifndef CUSTOS_SERVER_SERVICE_H_
#define CUSTOS_SERVER_SERVICE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "access/roles.h"
#include "base/result.h"
#include "server/audit_batcher.h"
#include "vault/key_shares.h"
#include "vault/key_source.h"
#include "vault/vault.h"

namespace custos::server {

class VaultService {
 public:
  VaultService(std::string path, vault::OpenOptions options);

  // Opens the vault with `key` (a key file, a passphrase, or rebuilt
  // shares) and keeps the key for the workers' handles.
  Status Unseal(vault::KeySource key);

  // Adds one custodian's share (its plaintext). Once the split's threshold
  // is reached, rebuilds the key and unseals; a set that does not open the
  // vault is dropped (kUnauthenticated) so custodians can start again.
  struct Progress {
    bool sealed = true;
    int have = 0;  // distinct shares held
    int need = 0;  // the split's threshold (0 before the first share)
  };
  Result<Progress> AddShare(std::span<const uint8_t> share_text);
  Progress progress() const;
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }

  // The calling thread's handle, opened on first use; its principal is
  // reset to nobody for each request. kUnavailable while sealed.
  Result<vault::Vault*> Handle();

  const std::string& path() const { return path_; }

  // The principal of a session token (access::ResumeSession), reused for up
  // to kPrincipalReuse: resuming reads and parses the session, user and
  // training records, and under load the same sessions ask many times a
  // second. A suspension or reset takes effect within that time; Forget
  // (sign-out) at once.
  Result<access::Principal> Resume(vault::Vault& vault, const std::string& token);
  void Forget(const std::string& token);

  // A handle of its own (the group commit's writer), not tied to a thread.
  Result<std::unique_ptr<vault::Vault>> OpenHandle();
  // The group commit's counters (entries, commits) since unsealing.
  AuditBatcher::Stats audit_stats() const;

 private:
  std::string path_;
  vault::OpenOptions options_;
  std::atomic<bool> sealed_{true};
  mutable std::mutex mu_;
  std::vector<vault::SourcedShare> shares_;
  vault::KeySource key_;     // once unsealed
  uint64_t generation_ = 0;  // thread handles of an older key are reopened
  std::unique_ptr<AuditBatcher> batcher_;
  struct Resumed {
    access::Principal principal;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex resumed_mu_;
  std::unordered_map<std::string, Resumed> resumed_;  // by SHA-256 of the token
};

inline constexpr std::chrono::milliseconds kPrincipalReuse{1000};

}  // namespace custos::server

#endif  // CUSTOS_SERVER_SERVICE_H_
