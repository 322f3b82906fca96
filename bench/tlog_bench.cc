// The audit log on the real SQLite store (docs/BENCHMARKS.md, "Audit log"):
//   BM_AppendBatched   entries/s appending 10,000 entries per transaction and
//                      signing one checkpoint per batch (target >= 100 k/s)
//   BM_VerifyLog       a full `audit verify` of a 1,000,000-entry log (target
//                      <= 3 s); the log is built once in a temporary file
//   BM_ProveInclusion  store node reads per inclusion proof, at 1 k and 1 M
//                      entries: grows like log2(n)
// Run: build-release/bench/tlog_bench (or make bench).
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/signer.h"
#include "store/store.h"
#include "tlog/audit_log.h"

namespace custos {
namespace {

constexpr uint64_t kBatch = 10'000;

// A temporary vault file, removed with its WAL when the process ends.
class TempStore {
 public:
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "custos-tlog-bench-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) std::abort();
    ::close(fd);
    std::filesystem::remove(tmpl);
    path_ = tmpl + ".vault";
    auto s = store::CreateSqliteStore(path_);
    if (!s) std::abort();
    store_ = std::move(*s);
  }
  ~TempStore() {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path_ + suffix).c_str());
  }
  store::Store& store() { return *store_; }

 private:
  std::string path_;
  std::unique_ptr<store::Store> store_;
};

const crypto::Signer& BenchSigner() {
  static const crypto::Signer signer =
      *crypto::Signer::FromSeed(crypto::SecretBytes::CopyOf(Bytes(32, 42)));
  return signer;
}

// A typical entry: a clear-text read with its purpose (about 260 bytes).
tlog::Event ReadEvent(uint64_t i) {
  tlog::Event e;
  e.actor = "officer.wang";
  e.action = "person.read_clear";
  e.purpose = "verify identity for the head-office handover";
  char person[33];
  std::snprintf(person, sizeof person, "%032llx", static_cast<unsigned long long>(i * 2654435761u));
  e.objects = {{"person", person}, {"fields", {"crm.姓名", "crm.手机号"}}};
  return e;
}

// Appends `n` entries in batches of kBatch, one checkpoint per batch. The
// events are made beforehand: building them is the caller's cost, not the log's.
void AppendEntries(store::Store& store, tlog::AuditLog& log, uint64_t n) {
  static const std::vector<tlog::Event> events = [] {
    std::vector<tlog::Event> v;
    for (uint64_t i = 0; i < kBatch; ++i) v.push_back(ReadEvent(i));
    return v;
  }();
  for (uint64_t done = 0; done < n;) {
    if (!store.Begin()) std::abort();
    uint64_t batch = std::min(kBatch, n - done);
    for (uint64_t i = 0; i < batch; ++i) {
      if (!log.Append(events[i])) std::abort();
    }
    if (!log.SignCheckpoint() || !store.Commit()) std::abort();
    done += batch;
  }
}

void BM_AppendBatched(benchmark::State& state) {
  TempStore t;
  auto log = std::move(*tlog::AuditLog::Open(t.store(), "custos.vault/bench", BenchSigner()));
  for (auto _ : state) AppendEntries(t.store(), *log, kBatch);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["log_size"] = static_cast<double>(log->size());
}
BENCHMARK(BM_AppendBatched)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

// The kernels under append and verify: encoding and strictly parsing one entry.
void BM_EncodeEntry(benchmark::State& state) {
  tlog::Event e = ReadEvent(7);
  uint64_t seq = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tlog::EncodeEntry(seq++, 1795765720, e));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeEntry);

void BM_ParseEntry(benchmark::State& state) {
  std::string data = tlog::EncodeEntry(123456, 1795765720, ReadEvent(7));
  for (auto _ : state) benchmark::DoNotOptimize(tlog::ParseEntry(data));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(data.size()) + " bytes");
}
BENCHMARK(BM_ParseEntry);

// One log of each size, built on first use and kept for the process.
struct BuiltLog {
  TempStore t;
  std::unique_ptr<tlog::AuditLog> log;
};
BuiltLog& LogOfSize(uint64_t n) {
  static std::map<uint64_t, std::unique_ptr<BuiltLog>> logs;
  auto& slot = logs[n];
  if (!slot) {
    slot = std::make_unique<BuiltLog>();
    slot->log = std::move(*tlog::AuditLog::Open(slot->t.store(), "custos.vault/bench", BenchSigner()));
    AppendEntries(slot->t.store(), *slot->log, n);
  }
  return *slot;
}

void BM_VerifyLog(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  BuiltLog& b = LogOfSize(n);
  for (auto _ : state) {
    auto r = tlog::VerifyLog(b.t.store(), b.log->verifier_key());
    if (!r || r->entries != n) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_VerifyLog)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// Store reads are counted at the SQLite boundary: the link wraps
// sqlite3_step (bench/CMakeLists.txt, -Wl,--wrap=sqlite3_step), and each
// Store::GetAuditNode is one step. Counting there rather than in a Store
// decorator keeps this file independent of the rest of the Store interface.
uint64_t g_sqlite_steps = 0;

void BM_ProveInclusion(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  BuiltLog& b = LogOfSize(n);
  auto log = std::move(*tlog::AuditLog::Open(b.t.store(), "custos.vault/bench", BenchSigner()));
  g_sqlite_steps = 0;
  uint64_t index = 12345 % n, proofs = 0;
  for (auto _ : state) {
    index = (index * 6364136223846793005u + 1442695040888963407u) % n;  // spread over the log
    auto p = log->ProveInclusion(index, n);
    if (!p || !tlog::VerifyInclusion(p->index, p->size, p->leaf_hash, p->path, p->root)) {
      state.SkipWithError("proof failed");
    }
    ++proofs;
  }
  state.counters["store_reads_per_proof"] =
      static_cast<double>(g_sqlite_steps) / static_cast<double>(proofs);
  state.counters["log2_n"] = std::log2(static_cast<double>(n));
  state.SetItemsProcessed(static_cast<int64_t>(proofs));
}
BENCHMARK(BM_ProveInclusion)->Arg(1'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos

extern "C" {
int __real_sqlite3_step(sqlite3_stmt* stmt);
int __wrap_sqlite3_step(sqlite3_stmt* stmt) {
  ++custos::g_sqlite_steps;
  return __real_sqlite3_step(stmt);
}
}

BENCHMARK_MAIN();
