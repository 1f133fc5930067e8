// Micro-benchmark of security-group classification: what deciding a new
// connection costs, rte_acl (SecurityGroupTable) against the simplest
// alternative, a linear scan of the class's rules.
//
//   rte_acl/<R>   SecurityGroupTable::classify over bursts of 32 keys
//   linear/<R>    each key against its class's rules in order, first match
//
// 16 classes (sets of groups) of R rules each, R in 50..400: TCP and UDP
// port ranges, ICMP types, `any`; every fourth rule's remote is a group of
// 24 members (24 /32 prefixes), the others a CIDR. Half the keys match a
// random rule, half match none (the worst case for a scan). Reports ns and
// TSC cycles per packet (median and spread of 5 repetitions).
//
//   build/perf/sg_classify_bench

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <rte_cycles.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dataplane/acl/security_group_table.h"
#include "tests/packet/eal_env.h"

namespace {

using weft::dp::SecurityGroupTable;
using weft::dp::SgDirection;
using weft::dp::SgKey;
using weft::dp::SgRule;

constexpr uint32_t kBurst = 32;
constexpr uint16_t kClasses = 16;
constexpr uint32_t kGroupMembers = 24;
constexpr size_t kKeys = 4096;

struct RuleSet {
  std::vector<SgRule> rules;  // in id order, per class contiguous
  std::vector<std::vector<const SgRule*>> by_class;
};

RuleSet make_rules(uint32_t per_class) {
  std::mt19937 rng(1);
  RuleSet s;
  s.by_class.resize(kClasses + 1);
  uint32_t id = 0;
  for (uint16_t cls = 1; cls <= kClasses; ++cls) {
    for (uint32_t r = 0; r < per_class; ++r) {
      ++id;
      SgRule base;
      base.cls = cls;
      base.direction = SgDirection::kIngress;
      base.id = id;
      switch (r % 4) {
        case 0:
        case 1: {
          base.proto = r % 4 == 0 ? IPPROTO_TCP : IPPROTO_UDP;
          const auto lo = static_cast<uint16_t>(1000 + (rng() % 60000));
          base.l4_lo = lo;
          base.l4_hi = static_cast<uint16_t>(lo + rng() % 16);
          break;
        }
        case 2:
          base.proto = IPPROTO_ICMP;
          base.l4_lo = static_cast<uint16_t>((rng() % 20) << 8);
          base.l4_hi = static_cast<uint16_t>(base.l4_lo | 0xff);
          break;
        case 3:
          base.any_proto = true;
          break;
      }
      if (r % 4 == 3) {  // a remote group: its members' /32s
        for (uint32_t m = 0; m < kGroupMembers; ++m) {
          SgRule one = base;
          one.remote = 0x0a000000u | (rng() & 0xffffff);
          one.remote_len = 32;
          s.rules.push_back(one);
        }
      } else {
        base.remote = (0x0a000000u | (rng() & 0xffff00)) & 0xffffff00u;
        base.remote_len = 24;
        s.rules.push_back(base);
      }
    }
  }
  for (const SgRule& r : s.rules) s.by_class[r.cls].push_back(&r);
  return s;
}

uint16_t l4_of(const SgRule& r) {
  return static_cast<uint16_t>(r.l4_lo + (r.l4_hi - r.l4_lo) / 2);
}

std::vector<SgKey> make_keys(const RuleSet& s) {
  std::mt19937 rng(2);
  std::vector<SgKey> keys;
  for (size_t i = 0; i < kKeys; ++i) {
    if (i % 2 == 0) {  // matches a random rule
      const SgRule& r = s.rules[rng() % s.rules.size()];
      const uint32_t host = r.remote_len == 32 ? 0 : rng() & 0xff;
      keys.push_back(weft::dp::make_sg_key(r.any_proto ? uint8_t{IPPROTO_GRE} : r.proto,
                                           htonl(r.remote | host), r.cls,
                                           htons(r.any_proto ? 0 : l4_of(r))));
    } else {  // from an address no rule names
      keys.push_back(weft::dp::make_sg_key(IPPROTO_TCP, htonl(0xc0a80000u | (rng() & 0xffff)),
                                           static_cast<uint16_t>(1 + rng() % kClasses), htons(80)));
    }
  }
  return keys;
}

uint32_t linear_match(const std::vector<const SgRule*>& rules, const SgKey& k) {
  const uint32_t remote = ntohl(k.remote);
  const uint16_t l4 = ntohs(k.l4);
  for (const SgRule* r : rules) {
    const uint32_t mask = r->remote_len == 0 ? 0 : ~uint32_t{0} << (32 - r->remote_len);
    if ((r->any_proto || r->proto == k.proto) && (remote & mask) == r->remote && l4 >= r->l4_lo &&
        l4 <= r->l4_hi)
      return r->id;
  }
  return SecurityGroupTable::kDenied;
}

void report(benchmark::State& state, uint64_t packets, uint64_t tsc, uint64_t allowed) {
  using benchmark::Counter;
  state.counters["ns_per_pkt"] =
      Counter(static_cast<double>(packets) * 1e-9, Counter::kIsRate | Counter::kInvert);
  state.counters["cycles_per_pkt"] =
      Counter(static_cast<double>(tsc) / static_cast<double>(packets));
  state.counters["allowed"] = Counter(static_cast<double>(allowed) / static_cast<double>(packets));
}

void rte_acl(benchmark::State& state) {
  const RuleSet s = make_rules(static_cast<uint32_t>(state.range(0)));
  SecurityGroupTable sg;
  for (const SgRule& r : s.rules) sg.add(r);
  std::string error;
  if (!sg.build(error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  state.counters["acl_rules"] = static_cast<double>(sg.acl_rules(SgDirection::kIngress));
  const std::vector<SgKey> keys = make_keys(s);
  size_t pos = 0;
  uint64_t packets = 0, allowed = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    uint32_t results[kBurst];
    sg.classify(SgDirection::kIngress, &keys[pos], results, kBurst);
    for (uint32_t r : results) allowed += r != SecurityGroupTable::kDenied;
    pos = pos + kBurst >= keys.size() ? 0 : pos + kBurst;
    packets += kBurst;
  }
  report(state, packets, rte_rdtsc() - start, allowed);
}

void linear(benchmark::State& state) {
  const RuleSet s = make_rules(static_cast<uint32_t>(state.range(0)));
  const std::vector<SgKey> keys = make_keys(s);
  size_t pos = 0;
  uint64_t packets = 0, allowed = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    for (uint32_t i = 0; i < kBurst; ++i) {
      const SgKey& k = keys[pos + i];
      allowed += linear_match(s.by_class[ntohs(k.cls)], k) != SecurityGroupTable::kDenied;
    }
    pos = pos + kBurst >= keys.size() ? 0 : pos + kBurst;
    packets += kBurst;
  }
  report(state, packets, rte_rdtsc() - start, allowed);
}

void rule_counts(benchmark::internal::Benchmark* b) {
  for (int64_t r : {50, 100, 400}) b->Arg(r);
  b->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.2);
}

BENCHMARK(rte_acl)->Apply(rule_counts);
BENCHMARK(linear)->Apply(rule_counts);

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  if (!weft::test::start_test_eal("sg_classify_bench", &error)) {
    std::fprintf(stderr, "sg_classify_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  weft::test::stop_test_eal();
  return 0;
}
