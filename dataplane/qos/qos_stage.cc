#include "dataplane/qos/qos_stage.h"

#include <rte_cycles.h>

#include <cmath>
#include <cstring>

#include "dataplane/pipeline/tail.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// A class with a cap of its own in a direction the port does not limit
// gets this burst (the policy gives classes a rate only).
constexpr uint64_t kDefaultClassBurst = 64 * 1024;

// DPDK's bucket granularity (RTE_METER_TB_PERIOD_MIN in rte_meter.c): a
// period of at least this many ticks, adding one byte or more.
constexpr double kMinPeriod = 100;

void bucket(uint64_t hz, uint64_t bytes_per_sec, uint64_t& period, uint64_t& bytes_per_period) {
  const double ticks_per_byte = static_cast<double>(hz) / static_cast<double>(bytes_per_sec);
  if (ticks_per_byte >= kMinPeriod) {
    bytes_per_period = 1;
    period = static_cast<uint64_t>(ticks_per_byte);
  } else {
    bytes_per_period = static_cast<uint64_t>(std::ceil(kMinPeriod / ticks_per_byte));
    period = hz * bytes_per_period / bytes_per_sec;
  }
}

}  // namespace

QosStage::QosStage(Config config) noexcept : StageWith({"encap", "local", "external"}), config_(config) {
  if (config_.tsc_hz == 0) config_.tsc_hz = rte_get_tsc_hz();
  if (config_.share == 0) config_.share = 1;
  if (config_.shape) {
    QosShaper::Config sc;
    sc.share = config_.share;
    shaper_ = std::make_unique<QosShaper>(sc);
  }
}

rte_meter_trtcm_profile QosStage::profile(uint64_t rate_bps, uint64_t burst_bytes, uint64_t tsc_hz) noexcept {
  rte_meter_trtcm_profile p{};
  const uint64_t bytes_per_sec = std::max<uint64_t>(rate_bps / 8, 1);
  p.cbs = p.pbs = std::max<uint64_t>(burst_bytes, 1);
  bucket(tsc_hz, bytes_per_sec, p.cir_period, p.cir_bytes_per_period);
  p.pir_period = p.cir_period;
  p.pir_bytes_per_period = p.cir_bytes_per_period;
  return p;
}

void QosStage::set_meter(Meter& m, uint64_t rate_bps, uint64_t burst_bytes, uint64_t now) noexcept {
  if (rate_bps == 0) {
    m.on = false;
    return;
  }
  const rte_meter_trtcm_profile p = profile(rate_bps / config_.share, burst_bytes, config_.tsc_hz);
  // An unchanged meter keeps its tokens across a policy change.
  if (m.on && std::memcmp(&p, &m.profile, sizeof p) == 0) return;
  m.on = true;
  m.profile = p;
  m.state.tc = p.cbs;
  m.state.tp = p.pbs;
  m.state.time_tc = m.state.time_tp = now;
  m.refilled = now;
}

QosStage::Meter& QosStage::refill(Meter& m, uint64_t now) noexcept {
  if (m.refilled != now) {
    rte_meter_trtcm_color_blind_check(&m.state, &m.profile, now, 0);  // the refill alone
    m.refilled = now;
  }
  return m;
}

bool QosStage::red(Meter& m, uint64_t now, uint32_t len) noexcept {
  refill(m, now);
  // rte_meter_trtcm_color_blind_check's colour logic; only red matters here.
  rte_meter_trtcm& s = m.state;
  if (s.tp < len) return true;
  s.tp -= len;
  s.tc = s.tc < len ? s.tc : s.tc - len;
  return false;
}

void QosStage::configure(const QosTable& t, uint64_t now) noexcept {
  for (uint16_t port = 0; port < kMaxPorts; ++port) {
    const QosPolicy* policy = t.of(port);
    for (size_t d = 0; d < kQosDirs; ++d) {
      DirMeters& dm = meters_[port][d];
      dm.active = policy != nullptr && policy->active(static_cast<QosDir>(d));
      dm.high_slots = 0;
      dm.slots = 0;
      if (policy == nullptr) {
        dm.port.on = false;
        for (Meter& m : dm.cls) m.on = false;
        continue;
      }
      dm.slots = static_cast<uint8_t>(2 + policy->classes.size());
      for (size_t i = 0; i < policy->classes.size(); ++i)
        if (policy->classes[i].priority == QosPriority::kHigh) dm.high_slots |= static_cast<uint16_t>(1u << (2 + i));
      const QosLimit& limit = policy->limit[d];
      const QosLimit& other = policy->limit[1 - d];
      set_meter(dm.port, limit.rate_bps, limit.burst_bytes, now);
      const uint64_t class_burst = limit.burst_bytes   ? limit.burst_bytes
                                   : other.burst_bytes ? other.burst_bytes
                                                       : kDefaultClassBurst;
      dm.cls[0].on = false;  // the default class has no cap of its own
      for (size_t slot = 1; slot < kQosSlots; ++slot) {
        const size_t i = slot - 1;
        const uint64_t rate = i < policy->classes.size() ? policy->classes[i].rate_bps : 0;
        set_meter(dm.cls[slot], rate, class_burst, now);
      }
    }
  }
}

bool QosStage::admit(StageCtx& ctx, uint16_t port, QosDir d, uint8_t slot, uint32_t len, uint64_t now) noexcept {
  if (port >= kMaxPorts) return true;
  DirMeters& dm = meters_[port][static_cast<size_t>(d)];
  if (!dm.active || slot == 0 || slot >= dm.slots) return true;  // a stale marking
  // Slot 1 is the default class; slot s >= 2 the policy's class s - 2,
  // kept in meters_ and counters at index s - 1.
  const size_t idx = slot - 1u;
  const bool high = (dm.high_slots >> slot) & 1u;
  Meter& cm = dm.cls[idx];
  bool pass = !(cm.on && red(cm, now, len));
  if (pass && dm.port.on && red(dm.port, now, len) && !high) pass = false;
  if (ctx.stats != nullptr) {
    QosCounters& c = ctx.stats->qos[port][static_cast<size_t>(d)][idx];
    if (pass) {
      c.sent_packets.inc();
      c.sent_bytes.add(len);
    } else {
      c.policed_packets.inc();
      c.policed_bytes.add(len);
    }
  }
  return pass;
}

bool QosStage::admit_run(StageCtx& ctx, uint16_t port, QosDir d, uint8_t slot, rte_mbuf* const* pkts,
                         uint16_t n, uint64_t bytes, uint64_t now) noexcept {
  if (port >= kMaxPorts) return true;
  DirMeters& dm = meters_[port][static_cast<size_t>(d)];
  if (!dm.active || slot == 0 || slot >= dm.slots) return true;  // a stale marking
  const size_t idx = slot - 1u;
  Meter& cm = dm.cls[idx];
  // Red for none of the run: each meter's peak bucket holds all of it.
  // (A `priority: high` class passes a red port meter, but is then not
  // charged: packet by packet too.)
  if (cm.on && refill(cm, now).state.tp < bytes) return false;
  if (dm.port.on && refill(dm.port, now).state.tp < bytes) return false;
  if (cm.on) charge(cm, pkts, n, bytes);
  if (dm.port.on) charge(dm.port, pkts, n, bytes);
  if (ctx.stats != nullptr) {
    QosCounters& c = ctx.stats->qos[port][static_cast<size_t>(d)][idx];
    c.sent_packets.add(n);
    c.sent_bytes.add(bytes);
  }
  return true;
}

void QosStage::charge(Meter& m, rte_mbuf* const* pkts, uint16_t n, uint64_t bytes) noexcept {
  rte_meter_trtcm& s = m.state;
  s.tp -= bytes;
  if (s.tc >= bytes) {
    s.tc -= bytes;
    return;
  }
  // The committed bucket runs dry inside the run: a packet it cannot
  // hold is yellow and leaves it as it is, as red() does.
  for (uint16_t i = 0; i < n; ++i) {
    const uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
    if (s.tc >= len) s.tc -= len;
  }
}

void QosStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const uint64_t now = ctx.now_tsc;
  if (snap.generation != generation_) {
    configure(snap.qos, now);
    if (shaper_) shaper_->configure(snap.qos);
    generation_ = snap.generation;
  }
  // A burst is mostly runs of one sender, receiver and marking (a VM's
  // flows in one class): a run whose meters hold all of it is metered,
  // counted and marked at once, with the colours packet by packet would
  // give; otherwise packet by packet.
  for (uint16_t i = 0; i < n;) {
    const PktMeta& first = *meta(pkts[i]);
    uint64_t bytes = rte_pktmbuf_pkt_len(pkts[i]);
    uint16_t end = i + 1;
    for (; end < n; ++end) {
      const PktMeta& md = *meta(pkts[end]);
      if (md.qos != first.qos || md.in_port != first.in_port || md.out_port != first.out_port) break;
      bytes += rte_pktmbuf_pkt_len(pkts[end]);
    }
    process_run(ctx, pkts + i, static_cast<uint16_t>(end - i), bytes, now);
    i = end;
  }
}

void QosStage::process_run(StageCtx& ctx, rte_mbuf** pkts, uint16_t n, uint64_t bytes, uint64_t now) noexcept {
  const Snapshot& snap = *ctx.snap;
  const PktMeta& first = *meta(pkts[0]);
  const uint16_t in_port = first.in_port, out_port = first.out_port;
  const uint8_t egress = qos_slot(first.qos, QosDir::kEgress);
  const uint8_t ingress = qos_slot(first.qos, QosDir::kIngress);
  // The shaped limit: the receiver's ingress, else the sender's egress.
  const bool shape_ingress = shaper_ && ingress != 0;
  const bool shape_egress = shaper_ && !shape_ingress && egress != 0;
  const uint8_t police_egress = shape_egress ? 0 : egress;
  const uint8_t police_ingress = shape_ingress ? 0 : ingress;
  const QosNext next = out_edge<QosNext>(first, snap.underlay_port, snap.external_port);
  QosShaper::Mark mark{};
  if (shape_ingress)
    mark = shaper_->mark_of(out_port, QosDir::kIngress, ingress);
  else if (shape_egress)
    mark = shaper_->mark_of(in_port, QosDir::kEgress, egress);

  // Egress first, then ingress, each for the whole run if it can; a
  // direction that cannot goes packet by packet from there on.
  uint8_t each_egress = 0, each_ingress = 0;
  if (police_egress != 0 && !admit_run(ctx, in_port, QosDir::kEgress, police_egress, pkts, n, bytes, now)) {
    each_egress = police_egress;
    each_ingress = police_ingress;
  } else if (police_ingress != 0 &&
             !admit_run(ctx, out_port, QosDir::kIngress, police_ingress, pkts, n, bytes, now)) {
    each_ingress = police_ingress;
  }
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (each_egress != 0 || each_ingress != 0) {
      const uint32_t len = rte_pktmbuf_pkt_len(m);
      if ((each_egress != 0 && !admit(ctx, in_port, QosDir::kEgress, each_egress, len, now)) ||
          (each_ingress != 0 && !admit(ctx, out_port, QosDir::kIngress, each_ingress, len, now))) {
        drop(m, DropReason::qos_policed);
        continue;
      }
    }
    if (mark.shaped != 0) shaper_->stamp(m, mark);
    send(m, next);
  }
}

}  // namespace weft::dp
