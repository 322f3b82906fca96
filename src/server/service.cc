#include "server/service.h"

#include "access/roles.h"
#include "access/sessions.h"
#include "access/users.h"
#include "crypto/kdf.h"

namespace custos::server {
namespace {

struct ThreadHandle {
  const VaultService* owner = nullptr;
  uint64_t generation = 0;
  std::unique_ptr<vault::Vault> vault;
};
thread_local ThreadHandle t_handle;

}  // namespace

VaultService::VaultService(std::string path, vault::OpenOptions options)
    : path_(std::move(path)), options_(options) {
  // No mmap: every commit of the audit writer makes each reader drop its
  // cache at its next read; a mapped file is then unmapped and mapped again
  // (TLB shootdowns), which cost more than reading the pages again
  // (docs/BENCHMARKS.md, "Server under load").
}

Status VaultService::Unseal(vault::KeySource key) {
  ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v,
                   vault::Vault::Open(path_, key, "custos-serve", options_));
  ASSIGN_OR_RETURN(bool has_users, access::HasUsers(*v));
  if (!has_users) {
    return Fail(FailedPrecondition(
        path_ +
        " has no users: the server signs people in, so add them first (custos user add, "
        "custos user enrol)"));
  }
  std::lock_guard lock(mu_);
  key_ = std::move(key);
  ++generation_;
  shares_.clear();
  batcher_ = std::make_unique<AuditBatcher>([this] { return OpenHandle(); });
  sealed_.store(false, std::memory_order_release);
  return Ok();
}

Result<std::unique_ptr<vault::Vault>> VaultService::OpenHandle() {
  vault::KeySource key;
  {
    std::lock_guard lock(mu_);
    key = key_;
  }
  return vault::Vault::Open(path_, key, "custos-serve", options_);
}

AuditBatcher::Stats VaultService::audit_stats() const {
  std::lock_guard lock(mu_);
  return batcher_ ? batcher_->stats() : AuditBatcher::Stats{};
}

VaultService::Progress VaultService::progress() const {
  std::lock_guard lock(mu_);
  Progress p;
  p.sealed = sealed();
  p.have = static_cast<int>(shares_.size());
  p.need = shares_.empty() ? 0 : shares_[0].share.threshold;
  return p;
}

Result<VaultService::Progress> VaultService::AddShare(std::span<const uint8_t> share_text) {
  if (!sealed()) return Fail(FailedPrecondition("the server is already unsealed"));
  ASSIGN_OR_RETURN(vault::KeyShare share, vault::ParseKeyShare(share_text, "the share"));
  std::unique_lock lock(mu_);
  const std::string source = "share " + std::to_string(share.share.x);
  std::vector<vault::SourcedShare> next = shares_;
  next.push_back({std::move(share), source});
  auto combined = vault::CombineKeyShares(next);
  if (!combined && combined.error().code() != ErrorCode::kFailedPrecondition) {
    return Fail(combined.error());
  }
  if (!combined) {  // below the threshold: keep it
    shares_ = std::move(next);
    Progress p{true, static_cast<int>(shares_.size()), shares_[0].share.threshold};
    return p;
  }
  shares_.clear();
  lock.unlock();
  Status opened = Unseal(std::move(*combined));
  if (!opened) {
    return Fail(
        opened.error().WithContext("the shares were dropped; custodians, send yours again"));
  }
  return progress();
}

Result<access::Principal> VaultService::Resume(vault::Vault& vault, const std::string& token) {
  const std::string key = crypto::Sha256Hex(AsBytes(token));
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(resumed_mu_);
    auto it = resumed_.find(key);
    if (it != resumed_.end() && it->second.until > now) return it->second.principal;
  }
  ASSIGN_OR_RETURN(access::Principal p, access::ResumeSession(vault, token));
  std::lock_guard lock(resumed_mu_);
  if (resumed_.size() > 10000)
    std::erase_if(resumed_, [&](const auto& e) { return e.second.until <= now; });
  resumed_[key] = {p, now + kPrincipalReuse};
  return p;
}

void VaultService::Forget(const std::string& token) {
  std::lock_guard lock(resumed_mu_);
  resumed_.erase(crypto::Sha256Hex(AsBytes(token)));
}

Result<vault::Vault*> VaultService::Handle() {
  if (sealed()) return Fail(Unavailable("the server is sealed: custodians must unseal it first"));
  uint64_t generation;
  vault::KeySource key;
  AuditBatcher* batcher;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    batcher = batcher_.get();
    if (t_handle.owner != this || t_handle.generation != generation || !t_handle.vault) {
      key = key_;
    }
  }
  if (t_handle.owner != this || t_handle.generation != generation || !t_handle.vault) {
    t_handle.vault.reset();
    ASSIGN_OR_RETURN(t_handle.vault, vault::Vault::Open(path_, key, "custos-serve", options_));
    t_handle.vault->set_audit_sink(batcher);
    t_handle.owner = this;
    t_handle.generation = generation;
  }
  t_handle.vault->set_principal(access::NoOne("anonymous"));
  return t_handle.vault.get();
}

}  // namespace custos::server
