#pragma once
// The running dataplane of one weftd: its ports, mbuf pool, worker lcores
// with their pipelines, and the SnapshotPublisher through which new tables
// reach the workers. This is the object the node agent (controller
// connection) and the standalone --policy mode drive:
//
//   auto snap = dp.make_snapshot();   // this node's port map, no tables
//   snap->policy_version = v;         // ... plus the tables built from NodeTables
//   dp.publish(std::move(snap));      // workers switch on their next burst
//
// Lifecycle, main lcore only, after rte_eal_init:
//   create() opens every port and builds one pipeline per worker, and
//   publishes the first, policy-less snapshot (everything drops as
//   no_policy); start() launches the workers; stop() joins them; the
//   destructor closes the ports and frees the pool and the snapshots.
// Retired snapshots are freed from a timer on the given io_context.

#include <rte_mempool.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/config/node_config.h"
#include "dataplane/tables/publisher.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/weftd/graph.h"
#include "dataplane/worker/worker.h"
#include "vnic/vnic.h"

namespace weft::dp {

class UplinkSteering;
class ProbeChannel;
class LbHealthMonitor;

struct DataplanePort {
  OpenedPort dev;
  PortRole role = PortRole::kUnused;
  VnicKind kind = VnicKind::kDpdk;
  std::string name;  // policy port name, "underlay" or "external"
};

class Dataplane {
 public:
  static std::unique_ptr<Dataplane> create(const NodeConfig& cfg, ForwardingMode mode,
                                           boost::asio::io_context& io, std::string& error);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Launches one worker on each configured worker lcore.
  bool start(std::string& error);
  // Asks the workers to stop and waits for them. Idempotent.
  void stop();

  // A new snapshot holding this node's port map and no tables.
  std::unique_ptr<Snapshot> make_snapshot() const;
  // Makes `snap` current; returns its generation. The old snapshot is freed
  // once every worker has moved past it.
  uint32_t publish(std::unique_ptr<Snapshot> snap);
  // Blocks until every worker has moved past the snapshots published before
  // and frees them: afterwards no packet sees older tables.
  void synchronize() { publisher_.synchronize(); }
  const Snapshot& snapshot() const { return *publisher_.current(); }

  const NodeConfig& config() const { return cfg_; }
  ForwardingMode mode() const { return mode_; }
  std::span<const DataplanePort> ports() const { return ports_; }
  std::span<const std::unique_ptr<Worker>> workers() const { return workers_; }
  // By worker index, as workers().
  std::span<const std::unique_ptr<WorkerGraph>> graphs() const { return graphs_; }
  rte_mempool* pool() const { return pool_; }

  // The load balancers' backends found down (lb/health_prober.h): every
  // snapshot make_snapshot() starts from is built with them. Set by the
  // health monitor; the caller republishes.
  void set_lb_down(LbHealth down) { lb_down_ = std::move(down); }
  // The health checks of this node's backends (policy mode; else null).
  const LbHealthMonitor* lb_health() const { return lb_health_.get(); }
  LbHealthMonitor* lb_health() { return lb_health_.get(); }

 private:
  Dataplane(const NodeConfig& cfg, ForwardingMode mode, boost::asio::io_context& io);
  bool open_ports(std::string& error);
  void schedule_reclaim();

  NodeConfig cfg_;
  ForwardingMode mode_;
  SnapshotPublisher publisher_;
  boost::asio::steady_timer reclaim_timer_;
  bool reclaim_armed_ = false;
  rte_mempool* pool_ = nullptr;
  std::vector<DataplanePort> ports_;
  // An af_xdp uplink's XDP steering (underlay/xdp_steering.h); null for any
  // other underlay. Detaches the program after the ports closed.
  std::unique_ptr<UplinkSteering> uplink_steering_;
  // The node's ICMP error limit: every graph borrows it, so it outlives them.
  std::unique_ptr<TokenBucket> icmp_limit_;
  std::vector<std::unique_ptr<WorkerGraph>> graphs_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // Several workers in policy mode: the rings that hand each packet to its
  // connection's owner (handoff/handoff_mesh.h); null otherwise.
  std::unique_ptr<HandoffMesh> handoff_;
  // The underlay ARP cache every snapshot shares (neighbor_table.h).
  std::shared_ptr<NeighborTable> neighbors_;
  // The gateway's external next hop's ARP cache, the same way.
  std::shared_ptr<NeighborTable> external_neighbors_;
  bool running_ = false;
  // The health checks (policy mode): the channel the workers carry probes
  // and replies through, the monitor that runs them, and what it found.
  std::unique_ptr<ProbeChannel> probe_channel_;
  std::unique_ptr<LbHealthMonitor> lb_health_;
  LbHealth lb_down_;
};

}  // namespace weft::dp
