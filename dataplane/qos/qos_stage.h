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
// With Config::shape, one limit of each packet is shaped instead, where the
// packet leaves (qos_shaper.h): the receiver's ingress limit when it has
// one, else the sender's egress limit; the stage marks the packet for that
// limit's pipe and class, and the limit's meters are not used. A packet
// under both limits (VM to VM on this node) has its sender's egress limit
// policed as above.
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
#include <memory>

#include "dataplane/pipeline/stage.h"
#include "dataplane/qos/qos_shaper.h"
#include "dataplane/qos/qos_table.h"

namespace weft::dp {

enum class QosNext : uint8_t { kEncap, kLocal, kExternal, kCount };

class QosStage final : public StageWith<QosNext> {
 public:
  struct Config {
    uint64_t tsc_hz = 0;  // ticks of StageCtx::now_tsc per second; 0: rte_get_tsc_hz()
    uint32_t share = 1;   // workers the node's rates are split over
    // Shape the limits a shaper can hold (qos_shaper.h) instead of
    // policing them: one limit of each packet, where it leaves.
    bool shape = false;
  };
  explicit QosStage(Config config) noexcept;

  std::string_view name() const override { return "qos"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

  // A trTCM profile of `rate_bps` and `burst_bytes` on a clock of `tsc_hz`:
  // what rte_meter_trtcm_profile_config computes, for any clock (DPDK's
  // reads the TSC's).
  static rte_meter_trtcm_profile profile(uint64_t rate_bps, uint64_t burst_bytes, uint64_t tsc_hz) noexcept;

  // The worker's shaper (Config::shape), for its Pipeline; null: none.
  QosShaper* shaper() noexcept { return shaper_.get(); }

 private:
  struct Meter {
    bool on = false;
    uint64_t refilled = UINT64_MAX;  // the `now` its buckets were last brought up to
    rte_meter_trtcm_profile profile{};
    rte_meter_trtcm state{};
  };
  struct DirMeters {
    bool active = false;       // the port's policy limits this direction
    uint16_t high_slots = 0;   // bit s: slot s is a `priority: high` class
    uint8_t slots = 0;         // valid slots: 1 .. slots - 1
    Meter port;
    std::array<Meter, kQosSlots> cls;
  };
  // DPDK's trTCM colour-blind check, its refill (two divisions) made once
  // per meter and burst: every packet of a burst has the same `now`, and a
  // refill at an unchanged time adds nothing, so the colours are DPDK's.
  static bool red(Meter& m, uint64_t now, uint32_t len) noexcept;
  // Brings `m`'s buckets up to `now` (once per `now`).
  static Meter& refill(Meter& m, uint64_t now) noexcept;
  // Takes `bytes`, the length of `pkts`, from a refilled meter whose peak
  // bucket holds them: what red() of each packet in turn would leave.
  static void charge(Meter& m, rte_mbuf* const* pkts, uint16_t n, uint64_t bytes) noexcept;

  void configure(const QosTable& t, uint64_t now) noexcept;
  void set_meter(Meter& m, uint64_t rate_bps, uint64_t burst_bytes, uint64_t now) noexcept;
  // Whether a packet of `len` bytes in slot `slot` of `port`'s direction
  // `d` may pass; counts it either way.
  bool admit(StageCtx& ctx, uint16_t port, QosDir d, uint8_t slot, uint32_t len, uint64_t now) noexcept;
  // admit() for every packet of `pkts` (`bytes` long in all) at once, when
  // none of them would be red: then charges and counts them all and
  // returns true. Otherwise changes nothing (but the refill) and returns
  // false, and the packets go through admit() one by one.
  bool admit_run(StageCtx& ctx, uint16_t port, QosDir d, uint8_t slot, rte_mbuf* const* pkts, uint16_t n,
                 uint64_t bytes, uint64_t now) noexcept;
  // A run of packets with the same in_port, out_port and marking.
  void process_run(StageCtx& ctx, rte_mbuf** pkts, uint16_t n, uint64_t bytes, uint64_t now) noexcept;

  Config config_;
  std::unique_ptr<QosShaper> shaper_;
  uint32_t generation_ = 0;  // of the snapshot the meters were set from; 0: none yet
  std::array<std::array<DirMeters, kQosDirs>, kMaxPorts> meters_{};
};

}  // namespace weft::dp
