#include "server/audit_batcher.h"

#include <vector>

namespace custos::server {
namespace {
constexpr size_t kMaxBatch = 4096;
}  // namespace

AuditBatcher::AuditBatcher(std::function<Result<std::unique_ptr<vault::Vault>>()> open)
    : open_(std::move(open)), writer_([this] { Run(); }) {}

AuditBatcher::~AuditBatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  writer_.join();
}

Status AuditBatcher::Append(const tlog::Event& event) {
  Pending p{event};
  std::unique_lock lock(mu_);
  if (stopping_) return Fail(Unavailable("the server is stopping"));
  queue_.push_back(&p);
  queued_.notify_one();
  committed_.wait(lock, [&] { return p.done; });
  return p.status;
}

AuditBatcher::Stats AuditBatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AuditBatcher::Run() {
  std::unique_ptr<vault::Vault> vault;
  std::vector<Pending*> batch;
  std::vector<tlog::Event> events;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    events.clear();
    for (Pending* p : batch) events.push_back(p->event);
    Status st = Ok();
    if (!vault) {
      auto opened = open_();
      if (opened) {
        vault = std::move(*opened);
      } else {
        st = Fail(opened.error());
      }
    }
    if (st) st = vault->RecordBatch(events);
    {
      std::lock_guard lock(mu_);
      for (Pending* p : batch) {
        p->status = st;
        p->done = true;
      }
      if (st) {
        stats_.entries += batch.size();
        ++stats_.commits;
      }
    }
    committed_.notify_all();
    batch.clear();
  }
}

}  // namespace custos::server
