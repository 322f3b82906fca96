#include "server/audit_batcher.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "base/test_util.h"

namespace custos::server {
namespace {

TEST(AuditBatcher, ConcurrentEntriesShareCommitsAndAllVerify) {
  custos::testing::TempDir dir;
  vault::KeySource key;
  key.key_file = dir.File("k.key");
  const std::string path = dir.File("v.vault");
  ASSERT_TRUE(vault::Vault::Create(path, key, "creator"));
  auto open = [&]() { return vault::Vault::Open(path, key, "writer"); };
  constexpr int kThreads = 8, kEach = 40;
  {
    AuditBatcher batcher(open);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto v = vault::Vault::Open(path, key, "reader-" + std::to_string(t));
        ASSERT_TRUE(v);
        (*v)->set_audit_sink(&batcher);
        for (int i = 0; i < kEach; ++i) {
          tlog::Event e = (*v)->MakeEvent("person.find");
          e.objects = {{"thread", t}, {"i", i}};
          ASSERT_TRUE((*v)->Record(e));
        }
      });
    }
    for (auto& t : threads) t.join();
    const auto stats = batcher.stats();
    EXPECT_EQ(stats.entries, static_cast<uint64_t>(kThreads * kEach));
    EXPECT_LE(stats.commits, stats.entries);
  }
  auto v = vault::Vault::Open(path, key, "auditor");
  ASSERT_TRUE(v);
  auto report = (*v)->VerifyAudit();
  ASSERT_TRUE(report) << report.error().ToString();
  // The vault's creation entry, then every one of the readers' entries.
  EXPECT_EQ(report->entries, static_cast<uint64_t>(kThreads * kEach) + 1);
  std::vector<int> seen(kThreads * kEach, 0);
  ASSERT_TRUE((*v)->ForEachAuditEntry(1, [&](uint64_t, ByteSpan data) -> Status {
    const auto j = nlohmann::json::parse(AsChars(data));
    const auto& o = j["objects"];
    if (o.contains("thread")) ++seen[o["thread"].get<int>() * kEach + o["i"].get<int>()];
    EXPECT_EQ(j["actor"].get<std::string>().rfind("reader-", 0), 0u);
    return Ok();
  }));
  for (int n : seen) EXPECT_EQ(n, 1);  // each exactly once
}

TEST(AuditBatcher, AFailedOpenFailsTheWaitingEntries) {
  AuditBatcher batcher(
      []() -> Result<std::unique_ptr<vault::Vault>> { return Fail(Unavailable("no vault")); });
  tlog::Event e;
  e.action = "person.find";
  Status st = batcher.Append(e);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace custos::server
