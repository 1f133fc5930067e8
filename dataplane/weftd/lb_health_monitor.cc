#include "dataplane/weftd/lb_health_monitor.h"

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstdio>

#include "dataplane/lb/probe_channel.h"
#include "dataplane/lb/probe_frame.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/tables/snapshot_builder.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {
namespace {

uint64_t steady_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

LbHealthMonitor::LbHealthMonitor(boost::asio::io_context& io, Dataplane& dp, ProbeChannel& channel)
    : timer_(io), dp_(dp), channel_(channel) {}

void LbHealthMonitor::arm(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    tick(steady_ms());
    arm(prober_.targets().empty() ? kIdleTick : kTick);
  });
}

void LbHealthMonitor::tick(uint64_t now_ms) {
  const Snapshot& snap = dp_.snapshot();
  if (snap.generation != seen_generation_) {
    seen_generation_ = snap.generation;
    prober_.set_targets(snap.lbs.probes);
  }
  ProbeReply replies[64];
  for (unsigned n; (n = channel_.take_replies(replies, 64)) != 0;)
    for (unsigned i = 0; i < n; ++i) prober_.on_reply(replies[i], now_ms);
  send_probes(now_ms);
  const bool changed = prober_.take_changed();
  if (report_) {
    std::vector<std::pair<std::string, std::string>> probed;
    for (const LbProbeTarget& t : prober_.targets()) probed.emplace_back(t.lb, t.port);
    if (changed || probed != reported_) {
      reported_ = std::move(probed);
      report_(local());
    }
  }
  if (changed) update();
}

std::vector<LbHealthMonitor::BackendHealth> LbHealthMonitor::local() const {
  std::vector<BackendHealth> out;
  for (size_t i = 0; i < prober_.targets().size(); ++i)
    out.push_back({prober_.targets()[i].lb, prober_.targets()[i].port, prober_.states()[i].up});
  return out;
}

void LbHealthMonitor::set_remote_down(LbHealth down) {
  remote_down_ = std::move(down);
  update();
}

void LbHealthMonitor::update() {
  LbHealth effective = prober_.down();
  for (const auto& backend : remote_down_) {
    const bool probed_here = std::any_of(prober_.targets().begin(), prober_.targets().end(), [&](const auto& t) {
      return t.lb == backend.first && t.port == backend.second;
    });
    if (!probed_here) effective.insert(backend);
  }
  if (effective == applied_) return;
  applied_ = std::move(effective);
  republish();
}

void LbHealthMonitor::send_probes(uint64_t now_ms) {
  for (const ProbeSyn& syn : prober_.poll(now_ms)) {
    const LbProbeTarget& t = prober_.targets()[syn.target];
    rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool());
    if (m == nullptr) continue;  // no mbuf: the probe times out, a failure
    auto* buf = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kProbeFrameLen));
    if (buf == nullptr) {
      rte_pktmbuf_free(m);
      continue;
    }
    write_probe_segment(buf, ProbeSegment{t.src_mac, t.dst_mac, t.src_ip, t.dst_ip, syn.sport, t.dst_port, syn.seq,
                                          0, RTE_TCP_SYN_FLAG});
    PktMeta* md = meta(m);
    *md = PktMeta{};
    md->in_port = t.dpdk_port;
    md->out_port = t.dpdk_port;
    channel_.send(m);
  }
}

void LbHealthMonitor::republish() {
  const LbHealth& down = applied_;
  dp_.set_lb_down(down);
  const Snapshot& cur = dp_.snapshot();
  if (!cur.compiled) return;  // no policy yet: the next one is built with it
  std::string error;
  auto snap = build_snapshot(*cur.compiled, dp_.make_snapshot(), error);
  if (!snap) {
    std::fprintf(stderr, "weftd: health change not applied: %s\n", error.c_str());
    return;
  }
  snap->policy_version = cur.policy_version;
  snap->compiled = cur.compiled;
  snap->sources = cur.sources;
  seen_generation_ = dp_.publish(std::move(snap));
  ++republished_;
  std::string names;
  for (const auto& [lb, port] : down) names += " " + lb + "/" + port;
  std::fprintf(stderr, "weftd: load balancer health changed (generation %u): down:%s\n", seen_generation_,
               names.empty() ? " none" : names.c_str());
}

nlohmann::json LbHealthMonitor::report(const Snapshot& snap) const {
  nlohmann::json backends = nlohmann::json::array();
  for (const LbBackend& b : snap.lbs.backends) {
    const std::string& lb = snap.lbs.lbs[b.lb].name;
    nlohmann::json j = {{"load_balancer", lb}, {"port", b.port}, {"ip", ip_text(b.ip)}, {"weight", b.weight},
                        {"up", !b.down}, {"probed_here", false}};
    for (size_t i = 0; i < prober_.targets().size(); ++i) {
      const LbProbeTarget& t = prober_.targets()[i];
      if (t.lb != lb || t.port != b.port) continue;
      const HealthProber::State& s = prober_.states()[i];
      j["probed_here"] = true;
      j["probe_port"] = t.dst_port;
      j["probes_sent"] = s.sent;
      j["probes_failed"] = s.failed;
      j["replies_forged"] = s.forged;
    }
    backends.push_back(std::move(j));
  }
  return {{"backends", backends},
          {"replies_unmatched", prober_.unmatched()},
          {"probes_lost", channel_.lost_probes()},
          {"replies_lost", channel_.lost_replies()},
          {"republished", republished_}};
}

}  // namespace weft::dp
