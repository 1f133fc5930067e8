// Micro-benchmark of the connection table: what a flow-cache hit costs in
// lookups, for our ConnTable against DPDK's rte_hash with the connection
// entries in an array beside it (the layout rte_hash would force: its data
// pointer leads to the entry, a third cache line per lookup).
//
//   conntable/<N>   ConnTable::lookup_bulk over bursts of 32, then the
//                   state byte of each entry found (as the stage reads it)
//   rte_hash/<N>    rte_hash_lookup_bulk_data, then the same byte of the
//                   entry its data names
//
// N established connections, looked up in a random order that visits each
// once per pass, so beyond the caches every lookup misses them. Reports
// ns and TSC cycles per lookup (median and spread of 5 repetitions) and
// the table's bytes per entry. Runs on ordinary memory (no hugepages).
//
//   build/perf/conntrack_bench [--benchmark_filter=1048576]

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dataplane/conntrack/conn_table.h"
#include "tests/packet/eal_env.h"

namespace {

using weft::dp::ConnEntry;
using weft::dp::ConnKey;
using weft::dp::ConnTable;

constexpr uint32_t kBurst = 32;

// Connection n: 10.x.y.z:(1024 + n % 60000) -> 10.255.0.1:443, in VNI 5001.
ConnKey key(uint32_t n) {
  uint8_t side;
  return weft::dp::make_conn_key(5001, IPPROTO_TCP, htonl(0x0a000000u + n / 60000),
                                 htons(static_cast<uint16_t>(1024 + n % 60000)), htonl(0x0aff0001u),
                                 htons(443), side);
}

// Every key once, in a random order, padded to whole bursts.
std::vector<ConnKey> shuffled_keys(uint32_t n) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  std::vector<ConnKey> keys;
  keys.reserve(n + kBurst);
  for (uint32_t i : order) keys.push_back(key(i));
  while (keys.size() % kBurst != 0) keys.push_back(keys[keys.size() % n]);
  return keys;
}

void report(benchmark::State& state, uint64_t lookups, uint64_t tsc_cycles) {
  using benchmark::Counter;
  state.counters["ns_per_lookup"] =
      Counter(static_cast<double>(lookups) * 1e-9, Counter::kIsRate | Counter::kInvert);
  state.counters["cycles_per_lookup"] =
      Counter(static_cast<double>(tsc_cycles) / static_cast<double>(lookups));
  state.SetItemsProcessed(static_cast<int64_t>(lookups));
}

void conntable(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  weft::dp::ConnTableConfig cfg;
  cfg.max_entries = n;
  cfg.tsc_hz = rte_get_tsc_hz();
  cfg.memory = weft::dp::TableMemory::kHeap;
  std::string error;
  auto table = ConnTable::create(cfg, error);
  if (!table) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t idx = table->insert(key(i), weft::dp::ConnState::kTcpEstablished, 0, 0);
    if (idx == ConnTable::kNone) {
      state.SkipWithError("insert failed");
      return;
    }
  }
  const std::vector<ConnKey> keys = shuffled_keys(n);
  size_t pos = 0;
  uint64_t lookups = 0, found = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    uint32_t idx[kBurst];
    table->lookup_bulk(&keys[pos], kBurst, 1, idx);
    for (uint32_t i = 0; i < kBurst; ++i) found += static_cast<uint8_t>(table->entry(idx[i]).state);
    pos = pos + kBurst >= keys.size() ? 0 : pos + kBurst;
    lookups += kBurst;
  }
  report(state, lookups, rte_rdtsc() - start);
  benchmark::DoNotOptimize(found);
  state.counters["bytes_per_entry"] = static_cast<double>(ConnTable::bytes_per_entry(n));
}

struct HashFree {
  void operator()(rte_hash* h) const { rte_hash_free(h); }
};

void rte_hash_then_entry(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  static uint32_t serial = 0;
  const std::string name = "bench_ct_" + std::to_string(serial++);
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = n * 2;  // the same half-full buckets as ConnTable
  p.key_len = sizeof(ConnKey);
  p.hash_func = rte_hash_crc;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  std::unique_ptr<rte_hash, HashFree> h(rte_hash_create(&p));
  if (!h) {
    state.SkipWithError((std::string("rte_hash_create: ") + rte_strerror(rte_errno)).c_str());
    return;
  }
  std::vector<ConnEntry> entries(n);
  for (uint32_t i = 0; i < n; ++i) {
    const ConnKey k = key(i);
    entries[i].key = k;
    entries[i].state = weft::dp::ConnState::kTcpEstablished;
    if (rte_hash_add_key_data(h.get(), &k, reinterpret_cast<void*>(uintptr_t{i})) < 0) {
      state.SkipWithError("rte_hash_add_key_data failed");
      return;
    }
  }
  const std::vector<ConnKey> keys = shuffled_keys(n);
  size_t pos = 0;
  uint64_t lookups = 0, found = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    const void* ptrs[kBurst];
    void* data[kBurst];
    uint64_t hits = 0;
    for (uint32_t i = 0; i < kBurst; ++i) ptrs[i] = &keys[pos + i];
    rte_hash_lookup_bulk_data(h.get(), ptrs, kBurst, &hits, data);
    for (uint32_t i = 0; i < kBurst; ++i)
      rte_prefetch0(&entries[reinterpret_cast<uintptr_t>(data[i])]);
    for (uint32_t i = 0; i < kBurst; ++i)
      found += static_cast<uint8_t>(entries[reinterpret_cast<uintptr_t>(data[i])].state);
    pos = pos + kBurst >= keys.size() ? 0 : pos + kBurst;
    lookups += kBurst;
  }
  report(state, lookups, rte_rdtsc() - start);
  benchmark::DoNotOptimize(found);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1024, 10 * 1024, 100 * 1024, 1024 * 1024}) b->Arg(n);
  b->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.3);
}

BENCHMARK(conntable)->Apply(sizes);
BENCHMARK(rte_hash_then_entry)->Apply(sizes);

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  if (!weft::test::start_test_eal("conntrack_bench", &error)) {
    std::fprintf(stderr, "conntrack_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  weft::test::stop_test_eal();
  return 0;
}
