#pragma once
// HealthProber: the load balancers' health checks of the backends this
// node hosts, as a state machine with time as an argument (no I/O, no
// DPDK), in the style of OVN's service monitor and Maglev's health
// checker.
//
// Who probes what. A backend is probed by the node that hosts its port,
// and only there: the number of probes per backend does not grow with the
// number of nodes (a remote backend's health reaches this node through
// the controller, docs/architecture.md). The targets come from the
// snapshot (LbTable::probes, built by lb_builder.cc): one per (load
// balancer, backend) whose port is bound to a vNIC of this node.
//
// A probe is a TCP connect, sent by weftd itself, never by the host's
// stack: a SYN from the backend subnet's gateway address (the distributed
// router's; no port may hold it) and the router MAC, straight onto the
// backend's vNIC, so the backend's security groups never judge it, to
// the backend's address and the health check's port (or the load
// balancer's first TCP listener's target port). Its outcome:
//
//   SYN-ACK with ack == our ISN + 1     success (the stage answers RST)
//   RST with ack == our ISN + 1         failure (refused: nothing listens)
//   no answer within `timeout`          failure
// An HTTP probe (LbProbeTarget::http_request set) goes on after the
// SYN-ACK: the stage answers it with the ACK that carries the whole GET in
// one segment, and the probe succeeds when the server's first data segment
// (acknowledging the request, ack == ISN + 1 + its length, seq == the
// server's ISN + 1) starts with a status line of the expected status;
// another status, an RST or a FIN without one, or the timeout fail it. The
// stage RSTs the server's answer.
//
//   anything else to the probe address  forged: ignored and counted (a
//     (wrong ack, a source port no        reply that matches no probe in
//     probe in flight used, a reply on    flight, or one that does not
//     another vNIC, a late answer)        acknowledge it)
//
// At most one probe per target is in flight (the validator keeps
// timeout < interval); each uses a fresh source port from
// [kProbePortLo, kProbePortHi] and a fresh random ISN, so a late answer
// to an earlier probe never counts for a later one. A backend starts up
// (a new load balancer serves at once); `unhealthy_threshold` failures in
// a row take it down, `healthy_threshold` successes in a row bring it back.
// Its first probe goes out at once, the next ones every `interval`.
//
// Main lcore only (not thread-safe). The channel to the workers
// (probe_channel.h) carries the SYNs out and the replies in.

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace weft::dp {

// One backend this node probes. Addresses in host order.
struct LbProbeTarget {
  std::string lb;        // the load balancer
  std::string port;      // the backend's policy port
  uint16_t dpdk_port;    // its vNIC
  uint32_t vni;
  uint32_t src_ip;       // the backend subnet's gateway: the probe's source
  uint64_t src_mac;      // the network's router MAC (tables' form, common/net.h)
  uint32_t dst_ip;       // the backend's address
  uint64_t dst_mac;
  uint16_t dst_port;     // TCP port probed
  uint32_t interval_ms;
  uint32_t timeout_ms;
  uint32_t unhealthy_threshold;
  uint32_t healthy_threshold;
  // HTTP: the whole GET request the probe sends once connected (empty: a
  // TCP connect only), and the status that means healthy.
  std::string http_request;
  uint16_t http_status;

  friend bool operator==(const LbProbeTarget&, const LbProbeTarget&) = default;
};

// A SYN to send now: to targets()[target], from `sport`, with ISN `seq`.
struct ProbeSyn {
  size_t target;
  uint16_t sport;
  uint32_t seq;
};

// A TCP segment to a probe source address, as the reply stage saw it.
// Addresses and ports in host order.
struct ProbeReply {
  uint16_t in_port;  // the vNIC it came from
  uint32_t src_ip, dst_ip;
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;     // TCP flags (RTE_TCP_*_FLAG)
  uint16_t http_status;  // from a status line at the start of its payload; 0: none
};

// kConnected: an HTTP probe's SYN-ACK (the GET went out); kBadStatus: its
// answer had another status than expected; kPending: an HTTP probe's
// segment that settles nothing yet (a bare ACK).
enum class ProbeVerdict : uint8_t { kSuccess, kRefused, kForged, kConnected, kBadStatus, kPending };

class HealthProber {
 public:
  static constexpr uint16_t kProbePortLo = 61000;
  static constexpr uint16_t kProbePortHi = 61999;

  struct State {
    bool up = true;
    uint32_t fails_in_row = 0;
    uint32_t oks_in_row = 0;
    uint64_t sent = 0;    // probes sent
    uint64_t failed = 0;  // probes that failed (refused or timed out)
    uint64_t forged = 0;  // replies on its vNIC that matched no probe of it
    // The probe in flight.
    bool in_flight = false;
    bool connected = false;  // an HTTP probe past its SYN-ACK
    uint16_t sport = 0;
    uint32_t isn = 0;
    uint32_t server_isn = 0;
    uint64_t deadline_ms = 0;
    uint64_t next_ms = 0;  // when the next probe is due
  };

  explicit HealthProber(uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // The targets from now on. A target already probed (same load balancer,
  // backend, vNIC, addresses and parameters) keeps its state; others start
  // up, with a probe due at once. Returns whether the set of down backends
  // changed (a removed target that was down).
  bool set_targets(std::vector<LbProbeTarget> targets);

  // Times out the probes in flight past their deadline, then returns the
  // SYNs due at `now_ms` (marked sent).
  std::vector<ProbeSyn> poll(uint64_t now_ms);

  // A reply the stage handed over: its verdict. A success or refusal
  // settles the probe in flight; a forged one changes nothing but counters.
  ProbeVerdict on_reply(const ProbeReply& r, uint64_t now_ms);

  // The backends found down, by (load balancer, port): LbHealth's form.
  std::set<std::pair<std::string, std::string>> down() const;
  // Whether down() changed since the last call.
  bool take_changed() {
    const bool c = changed_;
    changed_ = false;
    return c;
  }

  const std::vector<LbProbeTarget>& targets() const { return targets_; }
  const std::vector<State>& states() const { return states_; }
  // Replies that matched no target at all (an unknown vNIC or address).
  uint64_t unmatched() const { return unmatched_; }
  // The earliest time poll() has work to do (UINT64_MAX: none).
  uint64_t next_event_ms() const;

 private:
  void settle(size_t i, bool ok);
  ProbeVerdict http_reply(size_t i, const ProbeReply& r);

  std::vector<LbProbeTarget> targets_;
  std::vector<State> states_;
  std::mt19937_64 rng_;
  uint16_t next_sport_ = kProbePortLo;
  uint64_t unmatched_ = 0;
  bool changed_ = false;
};

}  // namespace weft::dp
