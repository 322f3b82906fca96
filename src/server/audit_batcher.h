// Group commit for the server's audit entries (people-and-server.md,
// Concurrency): reads that must be audited hand their entry here from any
// worker thread; one writer thread appends whatever has queued up in one
// transaction with one signed checkpoint, then wakes each request, which
// answers only once its entry is committed. Under load a commit carries
// many entries, so the fsync and the signature are shared.
#ifndef CUSTOS_SERVER_AUDIT_BATCHER_H_
#define CUSTOS_SERVER_AUDIT_BATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "base/result.h"
#include "vault/vault.h"

namespace custos::server {

class AuditBatcher : public vault::Vault::AuditSink {
 public:
  // `open` gives the writer its own vault handle (opened on its thread).
  explicit AuditBatcher(std::function<Result<std::unique_ptr<vault::Vault>>()> open);
  ~AuditBatcher() override;  // commits what is queued, then stops

  Status Append(const tlog::Event& event) override;

  struct Stats {
    uint64_t entries = 0;
    uint64_t commits = 0;
  };
  Stats stats() const;

 private:
  struct Pending {
    tlog::Event event;
    bool done = false;
    Status status = Ok();
  };
  void Run();

  std::function<Result<std::unique_ptr<vault::Vault>>()> open_;
  mutable std::mutex mu_;
  std::condition_variable queued_;     // the writer waits for entries
  std::condition_variable committed_;  // requests wait for their commit
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread writer_;
};

}  // namespace custos::server

#endif  // CUSTOS_SERVER_AUDIT_BATCHER_H_
