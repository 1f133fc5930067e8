#include "dataplane/qos/qos_shaper.h"

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include <algorithm>
#include <string>

#include "dataplane/pipeline/worker_stats.h"

namespace weft::dp {
namespace {

constexpr uint32_t kBestEffort = RTE_SCHED_TRAFFIC_CLASS_BE;  // 12
constexpr uint32_t kQueuesPerPipe = RTE_SCHED_QUEUES_PER_PIPE;  // 16
// A limit with no burst of its own (a class cap in a direction the port
// does not limit): the pipe's bucket.
constexpr uint64_t kDefaultBurst = 64 * 1024;
// Best-effort queues: 0 for the default and normal classes, 1 for low.
constexpr uint8_t kNormalQueue = kBestEffort, kLowQueue = kBestEffort + 1;
constexpr std::array<uint8_t, RTE_SCHED_BE_QUEUES_PER_PIPE> kWrrWeights = {4, 1, 1, 1};
// rte_sched.c's kTimeShift (not in its header): its time
// conversion is (cycles << 8) / cycles_per_byte.
constexpr unsigned kTimeShift = 8;

bool same(const rte_sched_pipe_params& a, const rte_sched_pipe_params& b) {
  return a.tb_rate == b.tb_rate && a.tb_size == b.tb_size &&
         std::equal(std::begin(a.tc_rate), std::end(a.tc_rate), std::begin(b.tc_rate)) &&
         a.tc_period == b.tc_period && a.tc_ov_weight == b.tc_ov_weight &&
         std::equal(std::begin(a.wrr_weights), std::end(a.wrr_weights), std::begin(b.wrr_weights));
}

// Every traffic class at `rate`: the profile of a pipe nothing limits
// below the port's rate.
rte_sched_pipe_params flat_profile(uint64_t rate, uint64_t burst, uint32_t tc_period_ms) {
  rte_sched_pipe_params p{};
  p.tb_rate = rate;
  p.tb_size = burst;
  std::fill(std::begin(p.tc_rate), std::end(p.tc_rate), rate);
  p.tc_period = tc_period_ms;
  p.tc_ov_weight = 1;
  std::copy(kWrrWeights.begin(), kWrrWeights.end(), std::begin(p.wrr_weights));
  return p;
}

}  // namespace

QosShaper::QosShaper(Config config) noexcept : config_(config) {
  if (config_.share == 0) config_.share = 1;
  // rte_sched keeps time in bytes at the port's rate, converting the TSC
  // with an integer (cycles << 8) per byte. A rate that makes that integer
  // exact keeps every pipe's rate exact (a truncated one would run all of
  // them fast by up to 1/that integer: 2.4% at 100 Gbit/s).
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t target = std::max<uint64_t>(config_.port_rate_bps / 8, 1);
  const uint64_t cycles_per_byte = std::max<uint64_t>((hz << kTimeShift) / target, 1);
  port_rate_ = (hz << kTimeShift) / cycles_per_byte;
  for (Pipe& p : pipes_) p.queue.fill(kNormalQueue);
}

QosShaper::~QosShaper() {
  for (auto& p : ports_)
    if (p && p->sched != nullptr) rte_sched_port_free(p->sched);  // frees the packets it holds
}

void QosShaper::configure(const QosTable& t) noexcept {
  for (uint16_t vnic = 0; vnic < kMaxPorts; ++vnic) {
    const QosPolicy* policy = t.of(vnic);
    for (QosDir d : {QosDir::kEgress, QosDir::kIngress}) {
      Pipe& pipe = pipes_[pipe_id(vnic, d)];
      if (policy == nullptr || !policy->active(d)) {
        // Packets it holds drain with its last settings.
        pipe.on = false;
        continue;
      }
      const QosLimit& limit = policy->limit[static_cast<size_t>(d)];
      const QosLimit& other = policy->limit[1 - static_cast<size_t>(d)];
      const auto share = [&](uint64_t bps) { return std::clamp<uint64_t>(bps / 8 / config_.share, 1, port_rate_); };
      const uint64_t rate = limit.rate_bps != 0 ? share(limit.rate_bps) : port_rate_;
      const uint64_t burst = limit.burst_bytes   ? limit.burst_bytes
                             : other.burst_bytes ? other.burst_bytes
                                                 : kDefaultBurst;
      rte_sched_pipe_params params = flat_profile(rate, burst, config_.tc_period_ms);
      std::array<uint8_t, kQosSlots> queue;
      queue.fill(kNormalQueue);
      // Strict classes first (high priority), then capped ones, in policy
      // order; the rest share the best-effort class.
      uint8_t tc = 0;
      for (bool high : {true, false}) {
        for (size_t i = 0; i < policy->classes.size() && tc < kBestEffort; ++i) {
          const QosClass& c = policy->classes[i];
          if ((c.priority == QosPriority::kHigh) != high || (!high && c.rate_bps == 0)) continue;
          if (c.rate_bps != 0) params.tc_rate[tc] = std::min(share(c.rate_bps), rate);
          queue[2 + i] = tc++;
        }
      }
      for (size_t i = 0; i < policy->classes.size(); ++i)
        if (queue[2 + i] == kNormalQueue && policy->classes[i].priority == QosPriority::kLow)
          queue[2 + i] = kLowQueue;
      const bool changed = !pipe.on || !same(pipe.params, params);
      pipe.on = true;
      pipe.params = params;
      pipe.queue = queue;
      if (!changed) continue;
      for (auto& port : ports_)
        if (port && port->sched != nullptr) apply(*port, pipe_id(vnic, d));
    }
  }
}

void QosShaper::apply(Port& p, uint32_t pipe_index) noexcept {
  const Pipe& pipe = pipes_[pipe_index];
  if (!pipe.on) return;
  int32_t profile = -1;
  for (size_t i = 0; i < p.profiles.size(); ++i)
    if (same(p.profiles[i], pipe.params)) profile = static_cast<int32_t>(i);
  if (profile < 0) {
    uint32_t id = 0;
    rte_sched_pipe_params params = pipe.params;
    if (p.profiles.size() >= kMaxProfiles || rte_sched_subport_pipe_profile_add(p.sched, 0, &params, &id) != 0) {
      ++profile_exhausted_;  // the pipe keeps its settings
      return;
    }
    p.profiles.push_back(pipe.params);
    profile = static_cast<int32_t>(id);
  }
  if (p.pipe_profile[pipe_index] == profile) return;
  // Reconfiguring a pipe resets its buckets, not its queues.
  if (rte_sched_pipe_config(p.sched, 0, pipe_index, profile) == 0) p.pipe_profile[pipe_index] = profile;
}

bool QosShaper::create(uint16_t port_id, Port& p) noexcept {
  rte_sched_subport_profile_params subport{};
  subport.tb_rate = port_rate_;
  subport.tb_size = 1 << 20;
  std::fill(std::begin(subport.tc_rate), std::end(subport.tc_rate), port_rate_);
  subport.tc_period = config_.tc_period_ms;

  rte_sched_pipe_params flat = flat_profile(port_rate_, kDefaultBurst, config_.tc_period_ms);
  rte_sched_subport_params sp{};
  sp.n_pipes_per_subport_enabled = kPipes;
  std::fill(std::begin(sp.qsize), std::end(sp.qsize), config_.queue_packets);
  sp.pipe_profiles = &flat;
  sp.n_pipe_profiles = 1;
  sp.n_max_pipe_profiles = kMaxProfiles;

  const std::string name = "weft_qos_" + std::to_string(port_id) + "_" + std::to_string(rte_lcore_id());
  rte_sched_port_params pp{};
  pp.name = name.c_str();
  pp.socket = std::max(0, static_cast<int>(rte_socket_id()));
  pp.rate = port_rate_;
  pp.mtu = config_.mtu;
  pp.frame_overhead = 0;  // rates count frames as weftd sends them (docs/policy.md)
  pp.n_subports_per_port = 1;
  pp.subport_profiles = &subport;
  pp.n_subport_profiles = 1;
  pp.n_max_subport_profiles = 1;
  pp.n_pipes_per_subport = kPipes;

  p.sched = rte_sched_port_config(&pp);
  if (p.sched == nullptr) return false;
  if (rte_sched_subport_config(p.sched, 0, &sp, 0) != 0) {
    rte_sched_port_free(p.sched);
    p.sched = nullptr;
    return false;
  }
  // Best effort is bounded by each pipe's own rate; the subport's
  // oversubscription control would tie pipes to each other.
  rte_sched_subport_tc_ov_config(p.sched, 0, false);
  p.profiles = {flat};
  p.pipe_profile.fill(-1);
  p.qlen.assign(size_t{kPipes} * kQueuesPerPipe, 0);
  for (uint32_t i = 0; i < kPipes; ++i) apply(p, i);
  return true;
}

QosShaper::Port* QosShaper::port_for(uint16_t port) noexcept {
  if (port >= kMaxPorts) return nullptr;
  if (!ports_[port]) {
    // A port whose scheduler cannot be made is told once, and kept without
    // one: its shaped packets are dropped (qos_queue_full), never sent unshaped.
    ports_[port] = std::make_unique<Port>();
    if (create(port, *ports_[port]))
      active_ports_.push_back(port);
    else
      RTE_LOG(ERR, USER1, "qos: no scheduler for port %u (memory); its shaped packets are dropped\n", port);
  }
  return ports_[port]->sched != nullptr ? ports_[port].get() : nullptr;
}

QosShaper::Mark QosShaper::mark_of(uint16_t vnic, QosDir d, uint8_t slot) const noexcept {
  const uint32_t pipe = pipe_id(vnic, d);
  const uint8_t queue = pipes_[pipe].queue[slot < kQosSlots ? slot : 1];
  return {(pipe * kQueuesPerPipe) | queue, std::min<uint8_t>(queue, kBestEffort),
          static_cast<uint8_t>(1 + static_cast<uint8_t>(d))};
}

namespace {

// The counters of the class a shaped packet is in.
QosCounters* counters_of(StageCtx& ctx, const rte_mbuf* m) {
  if (ctx.stats == nullptr) return nullptr;
  const PktMeta* md = meta(m);
  const auto d = static_cast<QosDir>(md->qos_shaped - 1);
  const uint16_t vnic = d == QosDir::kEgress ? md->in_port : md->out_port;
  const uint8_t slot = qos_slot(md->qos, d);
  if (vnic >= kMaxPorts || slot == 0 || slot >= kQosSlots) return nullptr;
  return &ctx.stats->qos[vnic][static_cast<size_t>(d)][slot - 1u];
}

// Counts packets into one pair of their classes' counters (sent, queued,
// ...), a run of packets of one class at a time: one update of each
// counter per run, not per packet.
class ClassTally {
 public:
  ClassTally(Counter QosCounters::*packets, Counter QosCounters::*bytes) : packets_(packets), bytes_(bytes) {}
  ~ClassTally() { flush(); }
  void add(QosCounters* c, uint32_t bytes) {
    if (c != at_) {
      flush();
      at_ = c;
    }
    ++n_;
    bytes_sum_ += bytes;
  }

 private:
  void flush() {
    if (at_ != nullptr && n_ != 0) {
      (at_->*packets_).add(n_);
      (at_->*bytes_).add(bytes_sum_);
    }
    n_ = bytes_sum_ = 0;
  }
  Counter QosCounters::*packets_;
  Counter QosCounters::*bytes_;
  QosCounters* at_ = nullptr;
  uint64_t n_ = 0, bytes_sum_ = 0;
};

}  // namespace

uint16_t QosShaper::enqueue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                            rte_mbuf** refused) noexcept {
  Port* p = port_for(port);
  if (p == nullptr) {
    std::copy(pkts, pkts + n, refused);
    return n;
  }
  uint16_t kept = 0, r = 0;
  const uint32_t mask = kPipes * kQueuesPerPipe - 1;
  ClassTally queued(&QosCounters::queued_packets, &QosCounters::queued_bytes);
  ClassTally full(&QosCounters::queue_full_packets, &QosCounters::queue_full_bytes);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    uint16_t& len = p->qlen[rte_mbuf_sched_queue_get(m) & mask];
    QosCounters* c = counters_of(ctx, m);
    const uint32_t bytes = rte_pktmbuf_pkt_len(m);
    if (len >= config_.queue_packets) {
      refused[r++] = m;
      full.add(c, bytes);
      continue;
    }
    ++len;
    queued.add(c, bytes);
    pkts[kept++] = m;
  }
  if (kept != 0) {
    // Never fewer than `kept`: every queue has room (checked above).
    const int in = rte_sched_port_enqueue(p->sched, pkts, kept);
    p->backlog += static_cast<uint32_t>(in);
    backlog_ += static_cast<uint32_t>(in);
  }
  return r;
}

uint16_t QosShaper::dequeue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  Port* p = port < kMaxPorts ? ports_[port].get() : nullptr;
  if (p == nullptr || p->backlog == 0) return 0;
  const int got = rte_sched_port_dequeue(p->sched, pkts, n);
  if (got <= 0) return 0;
  const uint32_t mask = kPipes * kQueuesPerPipe - 1;
  ClassTally sent(&QosCounters::sent_packets, &QosCounters::sent_bytes);
  for (int i = 0; i < got; ++i) {
    --p->qlen[rte_mbuf_sched_queue_get(pkts[i]) & mask];
    sent.add(counters_of(ctx, pkts[i]), rte_pktmbuf_pkt_len(pkts[i]));
  }
  p->backlog -= static_cast<uint32_t>(got);
  backlog_ -= static_cast<uint32_t>(got);
  return static_cast<uint16_t>(got);
}

const rte_sched_pipe_params* QosShaper::pipe_params(uint16_t vnic, QosDir d) const noexcept {
  if (vnic >= kMaxPorts) return nullptr;
  const Pipe& p = pipes_[pipe_id(vnic, d)];
  return p.on ? &p.params : nullptr;
}

std::pair<uint8_t, uint8_t> QosShaper::slot_queue(uint16_t vnic, QosDir d, uint8_t slot) const noexcept {
  const uint8_t q = pipes_[pipe_id(vnic, d)].queue[slot < kQosSlots ? slot : 1];
  return {std::min<uint8_t>(q, kBestEffort), q >= kBestEffort ? q - kBestEffort : 0};
}

}  // namespace weft::dp
