// Micro-benchmark of the parse stage: what parsing costs per packet, apart
// from rx, tx and everything else perf/run measures end to end.
//
//   parse/<kind>   parse_packet over one frame kind, hot in L1 and with its
//                  branches learnt: the parser's floor.
//   parse/mix      a shuffled stream of every kind (tests/packet/frame_kinds.h):
//                  the branch predictor cannot learn it.
//   stage/<kind>   ParseStage::process over bursts of 32 mbufs cycling through
//                  4096 of them (more than L2 holds), metadata writes and
//                  prefetch included.
//
// Each reports the median and spread of 5 repetitions; time_per_pkt is CPU
// time per packet, cycles_per_pkt TSC (wall-clock) cycles per packet, which
// a busy machine inflates. Runs on ordinary memory (no hugepages).
//
//   build/perf/parse_bench [--benchmark_filter=stage]

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "dataplane/pipeline/parse.h"
#include "tests/packet/eal_env.h"
#include "tests/packet/frame_kinds.h"

namespace {

using weft::test::Bytes;

constexpr uint16_t kBurst = 32;
constexpr size_t kStagePackets = 4096;
const char* const kKinds[] = {"ipv4_tcp",           "vlan_ipv4_udp",   "qinq_ipv4_tcp",
                              "ipv6_tcp",           "ipv6_ext_chain_udp", "vxlan4_ipv4_tcp",
                              "vxlan6_vlan_ipv6_udp", "arp_request"};

// Per-packet figures as counters: an inverted rate is seconds per packet.
void report(benchmark::State& state, uint64_t packets, uint64_t tsc_cycles) {
  using benchmark::Counter;
  state.counters["time_per_pkt"] =
      Counter(static_cast<double>(packets), Counter::kIsRate | Counter::kInvert);
  state.counters["cycles_per_pkt"] =
      Counter(static_cast<double>(tsc_cycles) / static_cast<double>(packets));
  state.SetItemsProcessed(static_cast<int64_t>(packets));
}

void parse_frames(benchmark::State& state, const std::vector<Bytes>& frames) {
  weft::dp::PktMeta md{};
  size_t i = 0;
  uint64_t packets = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    const Bytes& f = frames[i];
    i = i + 1 == frames.size() ? 0 : i + 1;
    benchmark::DoNotOptimize(
        weft::dp::parse_packet(f.data(), static_cast<uint32_t>(f.size()), md, true));
    benchmark::DoNotOptimize(md);
    ++packets;
  }
  report(state, packets, rte_rdtsc() - start);
}

void run_stage(benchmark::State& state, const Bytes& frame) {
  std::vector<rte_mbuf*> pkts(kStagePackets);
  for (rte_mbuf*& m : pkts) {
    m = weft::test::to_mbuf(weft::test::packet_pool(), frame);
    if (m == nullptr) {
      state.SkipWithError("mbuf pool too small");
      return;
    }
    weft::dp::meta(m)->in_port = 0;
  }
  weft::dp::ParseStage stage;
  weft::dp::StageCtx ctx;
  size_t at = 0;
  uint64_t packets = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    stage.process(ctx, &pkts[at], kBurst);
    at = (at + kBurst) % kStagePackets;
    packets += kBurst;
  }
  report(state, packets, rte_rdtsc() - start);
  for (rte_mbuf* m : pkts) rte_pktmbuf_free(m);
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  if (!weft::test::start_test_eal("weft-parse-bench", &error)) {
    std::fprintf(stderr, "parse_bench: %s\n", error.c_str());
    return 1;
  }
  const std::vector<weft::test::FrameKind> kinds = weft::test::frame_kinds();
  const auto frame_of = [&](const std::string& name) {
    for (const auto& k : kinds)
      if (k.name == name) return k.frame.bytes();
    std::fprintf(stderr, "parse_bench: no frame kind %s\n", name.c_str());
    std::exit(1);
  };

  // Median and spread over 5 short repetitions.
  const auto configure = [](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kNanosecond)->MinTime(0.1)->Repetitions(5)->ReportAggregatesOnly(true);
  };
  // (RegisterBenchmark keeps copies of the frames.)
  for (const char* kind : kKinds) {
    configure(benchmark::RegisterBenchmark((std::string("parse/") + kind).c_str(), parse_frames,
                                          std::vector<Bytes>{frame_of(kind)}));
  }
  std::vector<Bytes> mix;
  std::mt19937 rng(7);
  for (int i = 0; i < 1024; ++i) mix.push_back(kinds[rng() % kinds.size()].frame.bytes());
  configure(benchmark::RegisterBenchmark("parse/mix", parse_frames, mix));
  for (const char* kind : kKinds) {
    configure(benchmark::RegisterBenchmark((std::string("stage/") + kind).c_str(), run_stage,
                                           frame_of(kind)));
  }

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  weft::test::stop_test_eal();
  return 0;
}
