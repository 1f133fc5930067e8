#include "dataplane/weftd/dataplane.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_errno.h>

#include <chrono>

#include "dataplane/l3/icmp_error_stage.h"
#include "dataplane/lb/probe_channel.h"
#include "dataplane/pipeline/mbuf_pool.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/underlay/xdp_steering.h"
#include "dataplane/weftd/eal_args.h"
#include "dataplane/weftd/lb_health_monitor.h"

namespace weft::dp {
namespace {

// How often retired snapshots are checked for freeing: a grace period is one
// worker loop iteration (or ~1 ms of sleep), so a few ms is plenty.
constexpr std::chrono::milliseconds kReclaimInterval{5};

}  // namespace

Dataplane::Dataplane(const NodeConfig& cfg, ForwardingMode mode, boost::asio::io_context& io)
    : cfg_(cfg),
      mode_(mode),
      publisher_(cfg.workers()),
      reclaim_timer_(io),
      neighbors_(NeighborTable::with_tsc_hz(rte_get_tsc_hz())),
      external_neighbors_(NeighborTable::with_tsc_hz(rte_get_tsc_hz())) {}

std::unique_ptr<Dataplane> Dataplane::create(const NodeConfig& cfg, ForwardingMode mode,
                                             boost::asio::io_context& io, std::string& error) {
  std::unique_ptr<Dataplane> dp(new Dataplane(cfg, mode, io));

  MbufPoolConfig pool_cfg;
  pool_cfg.mbufs = mbuf_count(cfg);
  dp->pool_ = create_mbuf_pool(pool_cfg);
  if (dp->pool_ == nullptr) {
    error = "cannot create a pool of " + std::to_string(pool_cfg.mbufs) + " mbufs: " +
            rte_strerror(rte_errno) + " (dpdk.memory_mb or hugepages too small?)";
    return nullptr;
  }
  if (!dp->open_ports(error)) return nullptr;

  std::vector<uint16_t> port_ids;
  for (const DataplanePort& p : dp->ports_) port_ids.push_back(p.dev.id);
  const uint16_t underlay = dp->ports_.front().dev.id;
  GraphOptions options;
  options.conntrack.max_entries = cfg.conntrack.max_connections;
  options.broadcast_limit.rate = cfg.port_security.broadcast_rate;
  options.broadcast_limit.burst = cfg.port_security.broadcast_burst;
  // One limit on ICMP errors for the node, whichever worker sends them.
  TokenBucket::Config limit = IcmpErrorStage::kDefaultLimit;
  limit.tsc_hz = rte_get_tsc_hz();
  dp->icmp_limit_ = std::make_unique<TokenBucket>(limit);
  options.icmp_limit = dp->icmp_limit_.get();
  // Each worker polices its share of a port's rates (qos/qos_stage.h).
  options.qos.share = cfg.workers();
  options.qos.shape = cfg.qos.shape;
  // Connection tables are per worker: with several, each packet goes to
  // its connection's owner, whichever queue it came in on.
  if (mode == ForwardingMode::kPolicy && cfg.workers() > 1) {
    dp->handoff_ = HandoffMesh::create(cfg.workers(), HandoffMesh::kDefaultRingSize, error);
    if (!dp->handoff_) return nullptr;
  }
  if (mode == ForwardingMode::kPolicy) {
    dp->probe_channel_ = ProbeChannel::create(error);
    if (!dp->probe_channel_) return nullptr;
    options.probes = dp->probe_channel_.get();
    dp->lb_health_ = std::make_unique<LbHealthMonitor>(io, *dp, *dp->probe_channel_);
  }
  for (unsigned w = 0; w < cfg.workers(); ++w) {
    HandoffEndpoint* handoff = dp->handoff_ ? &dp->handoff_->endpoint(w) : nullptr;
    options.handoff = handoff;
    auto built = build_worker_graph(mode, underlay, port_ids, options, &error);
    if (!built) {
      error = "worker " + std::to_string(w) + ": " + error + " (conntrack.max_connections, dpdk.memory_mb)";
      return nullptr;
    }
    auto& graph = dp->graphs_.emplace_back(std::move(built));
    dp->workers_.push_back(std::make_unique<Worker>(w, port_ids, graph->pipeline, graph->entry,
                                                    dp->publisher_, dp->pool_, IdlePolicy{}, handoff));
    dp->workers_.back()->set_probe_outbox(dp->probe_channel_.get());
  }
  dp->publish(dp->make_snapshot());
  return dp;
}

bool Dataplane::open_ports(std::string& error) {
  auto open = [&](const std::string& name, PortRole role, const VnicBinding& binding) {
    PortOptions opt;
    opt.instance = static_cast<unsigned>(ports_.size());
    opt.queues = static_cast<uint16_t>(cfg_.workers());
    opt.promiscuous = role == PortRole::kVnic;
    std::string why;
    auto dev = open_port(binding, opt, pool_, why);
    if (!dev) {
      error = (role == PortRole::kVnic ? "port " + name : name) + ": " + why;
      return false;
    }
    ports_.push_back({*dev, role, binding.kind, name});
    return true;
  };
  VnicBinding underlay;
  underlay.kind = VnicKind::kDpdk;
  underlay.devargs = cfg_.underlay.device;
  std::string why;
  uplink_steering_ = UplinkSteering::prepare(cfg_.underlay, underlay.devargs, why);
  if (!why.empty()) {
    error = "underlay: " + why;
    return false;
  }
  if (!open("underlay", PortRole::kUnderlay, underlay)) return false;
  if (uplink_steering_ && !uplink_steering_->fill(cfg_.underlay.ip.addr, kVxlanPort, error)) return false;
  for (const PortConfig& p : cfg_.ports)
    if (!open(p.name, PortRole::kVnic, p.binding)) return false;
  if (cfg_.external) {
    VnicBinding external;
    external.kind = VnicKind::kDpdk;
    external.devargs = cfg_.external->device;
    if (!open("external", PortRole::kExternal, external)) return false;
  }
  return true;
}

Dataplane::~Dataplane() {
  stop();
  reclaim_timer_.cancel();
  lb_health_.reset();
  probe_channel_.reset();  // frees the probes no worker sent
  for (const DataplanePort& p : ports_) close_port(p.dev);
  // No reader is left: every snapshot can go now.
  publisher_.synchronize();
  workers_.clear();
  graphs_.clear();
  handoff_.reset();  // frees what was still in its rings
  rte_mempool_free(pool_);
}

bool Dataplane::start(std::string& error) {
  for (auto& w : workers_) {
    const unsigned lcore = cfg_.worker_lcore(w->index());
    if (!w->launch(lcore)) {
      error = "cannot launch worker " + std::to_string(w->index()) + " on lcore " + std::to_string(lcore);
      stop();
      return false;
    }
  }
  running_ = true;
  if (lb_health_) lb_health_->start();
  return true;
}

void Dataplane::stop() {
  if (lb_health_) lb_health_->stop();
  for (auto& w : workers_) w->request_stop();
  for (auto& w : workers_) w->wait();
  running_ = false;
}

std::unique_ptr<Snapshot> Dataplane::make_snapshot() const {
  auto snap = std::make_unique<Snapshot>();
  for (const DataplanePort& p : ports_) {
    snap->ports[p.dev.id] = PortEntry{p.role, p.kind, p.name};
    if (p.role == PortRole::kUnderlay) snap->underlay_port = p.dev.id;
    if (p.role == PortRole::kExternal) snap->external_port = p.dev.id;
  }
  if (snap->external_port != kNoPort) {
    rte_eth_macaddr_get(snap->external_port, &snap->external.mac);
    snap->external.vlan = cfg_.external->vlan;
    snap->external.port_lo = cfg_.external->snat_lo;
    snap->external.port_hi = cfg_.external->snat_hi;
  }
  snap->external_neighbors = external_neighbors_;
  snap->underlay.ip = cfg_.underlay.ip.addr;
  snap->underlay.prefix_len = cfg_.underlay.ip.len;
  snap->underlay.next_hop = cfg_.underlay.next_hop.value_or(0);
  if (snap->underlay_port != kNoPort) rte_eth_macaddr_get(snap->underlay_port, &snap->underlay.mac);
  snap->neighbors = neighbors_;
  snap->lb_down = lb_down_;
  return snap;
}

uint32_t Dataplane::publish(std::unique_ptr<Snapshot> snap) {
  const uint32_t generation = publisher_.publish(std::move(snap));
  schedule_reclaim();
  return generation;
}

void Dataplane::schedule_reclaim() {
  if (reclaim_armed_ || publisher_.pending() == 0) return;
  reclaim_armed_ = true;
  reclaim_timer_.expires_after(kReclaimInterval);
  reclaim_timer_.async_wait([this](boost::system::error_code ec) {
    reclaim_armed_ = false;
    if (ec) return;
    publisher_.reclaim();
    schedule_reclaim();
  });
}

}  // namespace weft::dp
