#pragma once
// LbHealthMonitor: runs the load balancers' health checks of this node's
// backends (lb/health_prober.h) on the main lcore, and turns a change of
// health into new tables.
//
// Every tick (kTick while there is something to probe, kIdleTick when
// not) it
//   - takes the probe targets of the snapshot in force when its generation
//     changed (a policy change: targets that stayed keep their state);
//   - hands the replies the workers read (ProbeChannel inbox) to the prober;
//   - builds the SYNs the prober says are due (lb/probe_frame.h) into
//     mbufs for the workers to transmit (ProbeChannel outbox);
//   - when the set of down backends changed: gives it to the Dataplane
//     (set_lb_down: every later snapshot is built with it) and rebuilds the
//     snapshot in force from its own compiled tables with it, published as
//     everything else is (RCU). The load balancer then leaves the backend
//     out of its Maglev table, and the stale connections bound to it are
//     cut (lb_stage.h: lb_backend_gone).
// With the controller (controller_mode.cc), the monitor reports the
// health of the backends it probes whenever it changes (`on_report`), and
// takes the backends found down anywhere from the controller
// (`set_remote_down`); the tables use the union, except that for the
// backends this node probes its own finding wins.
//
// So a backend whose server dies is out of the selection within
// interval * unhealthy_threshold + timeout + a tick, well inside the
// policy's interval * unhealthy_threshold + 1 s.
//
// Main lcore only (the io_context's thread). Time: steady_clock ms.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/lb/health_prober.h"
#include "dataplane/lb/lb_table.h"

namespace weft::dp {

class Dataplane;
struct Snapshot;
class ProbeChannel;

class LbHealthMonitor {
 public:
  static constexpr std::chrono::milliseconds kTick{10};
  static constexpr std::chrono::milliseconds kIdleTick{250};

  // `channel` and `dp` outlive the monitor.
  LbHealthMonitor(boost::asio::io_context& io, Dataplane& dp, ProbeChannel& channel);
  void start() { arm(kTick); }
  void stop() { timer_.cancel(); }

  // One tick at `now_ms`.
  void tick(uint64_t now_ms);

  // Every backend of `snap`'s load balancers: whether it is in the
  // selection, and, when this node probes it, its probe counters (sent,
  // failed, forged replies); and the channel's losses. For node stats.
  nlohmann::json report(const Snapshot& snap) const;
  const HealthProber& prober() const { return prober_; }

  // What the node probes, by (load balancer, port), and whether each is up.
  struct BackendHealth {
    std::string lb, port;
    bool up;
  };
  using Report = std::function<void(const std::vector<BackendHealth>&)>;
  // Called with the whole list after a tick that changed it (a backend's
  // health, or the set of probed backends after a policy change).
  void on_report(Report r) { report_ = std::move(r); }
  // The backends found down on any node (the controller's HealthState).
  void set_remote_down(LbHealth down);

 private:
  void arm(std::chrono::milliseconds after);
  void send_probes(uint64_t now_ms);
  void republish();
  // Gives the Dataplane the down set (local findings and the remote ones)
  // and republishes when it changed.
  void update();
  std::vector<BackendHealth> local() const;

  boost::asio::steady_timer timer_;
  Dataplane& dp_;
  ProbeChannel& channel_;
  HealthProber prober_;
  uint32_t seen_generation_ = 0;
  uint64_t republished_ = 0;
  LbHealth remote_down_;
  LbHealth applied_;  // what the Dataplane builds with
  Report report_;
  std::vector<std::pair<std::string, std::string>> reported_;  // probed backends at the last report
};

}  // namespace weft::dp
