// Kernels of the vault: field encryption and data-key wrapping.
// Run: make bench (or build-release/bench/crypto_bench).
#include <benchmark/benchmark.h>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "vault/record_codec.h"

namespace custos {
namespace {

// One 15-field record like a CRM row (about 200 bytes of UTF-8).
const std::vector<std::string> kRow = {
    "KH00012345", "张三明", "男", "11010519491231002X", "13812345678", "010-62345678",
    "zhangsanming@qq.com", "6222021234567890123", "中国工商银行北京分行",
    "北京市朝阳区建国路88号3单元502室", "2019-03-04", "12345.67", "王经理", "R3",
    "老客户，偏好理财产品"};
const std::vector<std::string> kNames = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8",
                                         "c9", "c10", "c11", "c12", "c13", "c14", "c15"};

void BM_FieldSeal(benchmark::State& state) {
  (void)crypto::Initialize();
  auto suite = static_cast<crypto::FieldSuite>(state.range(0));
  auto key = crypto::SecretBytes::Random(32);
  auto cipher = crypto::FieldCipher::Create(suite, key);
  if (!cipher) {
    state.SkipWithError("suite unavailable");
    return;
  }
  auto prefix = cipher->NewRecordPrefix();
  std::string value = "13812345678";
  Bytes ad(80, 7), out;
  uint32_t i = 0;
  for (auto _ : state) {
    out.clear();
    cipher->SealField(prefix, i++, AsBytes(value), ad, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(crypto::FieldSuiteName(suite)));
}
BENCHMARK(BM_FieldSeal)->Arg(1)->Arg(2);

void BM_FieldOpen(benchmark::State& state) {
  (void)crypto::Initialize();
  auto suite = static_cast<crypto::FieldSuite>(state.range(0));
  auto key = crypto::SecretBytes::Random(32);
  auto cipher = crypto::FieldCipher::Create(suite, key);
  if (!cipher) {
    state.SkipWithError("suite unavailable");
    return;
  }
  auto prefix = cipher->NewRecordPrefix();
  std::string value = "13812345678", plain;
  Bytes ad(80, 7), ct;
  cipher->SealField(prefix, 3, AsBytes(value), ad, ct);
  for (auto _ : state) {
    auto st = cipher->OpenField(prefix, 3, ct, ad, plain);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(crypto::FieldSuiteName(suite)));
}
BENCHMARK(BM_FieldOpen)->Arg(1)->Arg(2);

// A whole 15-field record, including a key schedule per record (a new person).
void BM_SealRecordNewPerson(benchmark::State& state) {
  (void)crypto::Initialize();
  auto suite = crypto::PreferredFieldSuite();
  Bytes vault_id(16, 1), person(16, 2);
  vault::RecordContext ctx{vault_id, person, "crm", &kNames};
  auto key = crypto::SecretBytes::Random(32);
  for (auto _ : state) {
    auto cipher = crypto::FieldCipher::Create(suite, key);
    Bytes body = vault::SealRecord(*cipher, ctx, kRow);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SealRecordNewPerson);

void BM_OpenRecord(benchmark::State& state) {
  (void)crypto::Initialize();
  auto suite = crypto::PreferredFieldSuite();
  Bytes vault_id(16, 1), person(16, 2);
  vault::RecordContext ctx{vault_id, person, "crm", &kNames};
  auto key = crypto::SecretBytes::Random(32);
  auto cipher = crypto::FieldCipher::Create(suite, key);
  Bytes body = vault::SealRecord(*cipher, ctx, kRow);
  for (auto _ : state) {
    auto fields = vault::OpenRecord(*cipher, ctx, body);
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenRecord);

// Data keys under the KEK (crypto::KeyWrap): Arg 2 is the v2 format
// (AES-256-GCM, precomputed subkey state), Arg 1 v1 (XChaCha20-Poly1305).
crypto::KeyWrap WrapperFor(int version) {
  (void)crypto::Initialize();
  auto w = crypto::KeyWrap::Create(crypto::SecretBytes::Random(32),
                                   version == 2 ? crypto::FieldSuite::kAes256Gcm
                                                : crypto::FieldSuite::kXChaCha20Poly1305,
                                   Bytes(16, 1));
  if (!w) std::abort();
  return std::move(*w);
}

void BM_WrapDataKey(benchmark::State& state) {
  const crypto::KeyWrap wrap = WrapperFor(static_cast<int>(state.range(0)));
  auto dk = crypto::SecretBytes::Random(32);
  Bytes ad(60, 3);
  for (auto _ : state) {
    Bytes w = wrap.Wrap(dk, ad);
    benchmark::DoNotOptimize(w.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WrapDataKey)->Arg(1)->Arg(2);

void BM_UnwrapDataKey(benchmark::State& state) {
  const crypto::KeyWrap wrap = WrapperFor(static_cast<int>(state.range(0)));
  auto dk = crypto::SecretBytes::Random(32);
  Bytes ad(60, 3);
  Bytes w = wrap.Wrap(dk, ad);
  for (auto _ : state) {
    auto k = wrap.Unwrap(w, ad);
    benchmark::DoNotOptimize(k);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnwrapDataKey)->Arg(1)->Arg(2);

void BM_BlindIndexMac(benchmark::State& state) {
  (void)crypto::Initialize();
  auto key = crypto::SecretBytes::Random(32);
  crypto::HmacSha256 mac(key);
  std::string v = "\x01" "11010519491231002X";
  for (auto _ : state) {
    auto d = mac.Mac(AsBytes(v));
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BlindIndexMac);

}  // namespace
}  // namespace custos

BENCHMARK_MAIN();
