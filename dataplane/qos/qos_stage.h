#pragma once
// kQos: the tail step that holds a packet to its ports' QoS policies
// (qos_table.h), after rewrite and before encap or local tx. Only packets
// with a marking (PktMeta::qos != 0) come here; the marking says which
// class of which direction's policy they are in:
//
//   egress   (low nibble)   the policy of the port the packet came from
//                           (traffic from the VM)
//   ingress  (high nibble)  the policy of the local port it goes to
//                           (traffic to the VM)
//
// In each direction that applies, egress first:
//
//   1. the class's own meter, when the class has a rate: red drops
//      qos_policed
//   2. the port's meter for that direction, when it has a rate: red drops
//      qos_policed, except for a `priority: high` class, which passes
//      (its bytes are charged to the port's meter while it has tokens):
//      under load, high-priority traffic is what gets through, and
//      everything else shares what it leaves
//
// Each meter is DPDK's trTCM (rte_meter) with committed and peak rate the
// policy's rate and both bucket sizes its burst; only red drops. Meters
// are per worker: each worker polices at rate / workers (Config::share),
// so the node as a whole holds the rate. docs/policy.md says why limits
// are policed here and not shaped, and how accurate that is.
//
// Time is StageCtx::now_tsc, counted at Config::tsc_hz (tests use a fake
// clock). On a new snapshot the stage sets its meters from the policies:
// a meter whose rate and burst did not change keeps its tokens, a new or
// changed one starts full.
//
// Counters: WorkerStats::qos, per (port, direction, class slot): packets
// and bytes sent on, and dropped by a meter.
//
// Runs on the worker that owns it; its meters are that worker's.

#include <rte_meter.h>

#include <array>

#include "dataplane/pipeline/stage.h"
#include "dataplane/qos/qos_table.h"

namespace weft::dp {

enum class QosNext : uint8_t { kEncap, kLocal, kExternal, kCount };

class QosStage final : public StageWith<QosNext> {
 public:
  struct Config {
    uint64_t tsc_hz = 0;  // ticks of StageCtx::now_tsc per second; 0: rte_get_tsc_hz()
    uint32_t share = 1;   // workers the node's rates are split over
  };
  explicit QosStage(Config config) noexcept;

  std::string_view name() const override { return "qos"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

  // A trTCM profile of `rate_bps` and `burst_bytes` on a clock of `tsc_hz`:
  // what rte_meter_trtcm_profile_config computes, for any clock (DPDK's
  // reads the TSC's).
  static rte_meter_trtcm_profile profile(uint64_t rate_bps, uint64_t burst_bytes, uint64_t tsc_hz) noexcept;

 private:
  struct Meter {
    bool on = false;
    rte_meter_trtcm_profile profile{};
    rte_meter_trtcm state{};
  };
  struct DirMeters {
    Meter port;
    std::array<Meter, kQosSlots> cls;
  };

  void configure(const QosTable& t, uint64_t now) noexcept;
  void set_meter(Meter& m, uint64_t rate_bps, uint64_t burst_bytes, uint64_t now) noexcept;
  // Whether a packet of `len` bytes in slot `slot` of `port`'s direction
  // `d` may pass; counts it either way.
  bool admit(StageCtx& ctx, const QosTable& t, uint16_t port, QosDir d, uint8_t slot, uint32_t len,
             uint64_t now) noexcept;

  Config config_;
  uint32_t generation_ = 0;  // of the snapshot the meters were set from; 0: none yet
  std::array<std::array<DirMeters, kQosDirs>, kMaxPorts> meters_{};
};

}  // namespace weft::dp
