#include <netinet/in.h>

#include <algorithm>

#include "dataplane/arp/arp_table.h"
#include "dataplane/lb/lb_table.h"
#include "dataplane/lb/probe_frame.h"
#include "dataplane/stats/counters.h"
#include "dataplane/tables/build_support.h"

namespace weft::dp {
namespace {

uint8_t ip_proto(proto::Protocol p, const std::string& where) {
  switch (p) {
    case proto::PROTOCOL_TCP:
      return IPPROTO_TCP;
    case proto::PROTOCOL_UDP:
      return IPPROTO_UDP;
    default:
      build_fail(where + ": a listener must be tcp or udp");
  }
}

// The TCP port a health check probes: its own, or the first TCP
// listener's target port; 0 when it probes none (ICMP, or UDP only).
uint16_t probe_port(const proto::LoadBalancer& lb) {
  const proto::HealthCheck& h = lb.health_check();
  if (h.protocol() != proto::PROTOCOL_TCP) return 0;
  if (h.port() != 0) return static_cast<uint16_t>(h.port());
  for (const proto::Listener& l : lb.listeners())
    if (l.protocol() == proto::PROTOCOL_TCP) return static_cast<uint16_t>(l.target_port() != 0 ? l.target_port() : l.port());
  return 0;
}

// The probes of `lb`'s backends that this node hosts: from the gateway of
// each backend's subnet, onto its vNIC.
void add_probes(const BuildContext& ctx, const proto::LoadBalancer& lb, LbTable& t) {
  if (!lb.has_health_check()) return;
  const uint16_t port = probe_port(lb);
  if (port == 0) return;
  const proto::HealthCheck& h = lb.health_check();
  const std::string where = "load balancer '" + lb.name() + "': health check";
  // Untrusted tables: the path goes into the probe's one segment.
  if (!h.http_path().empty()) {
    if (h.http_path().size() > 200 || h.http_path()[0] != '/' ||
        std::any_of(h.http_path().begin(), h.http_path().end(), [](char c) { return c <= 0x20 || c >= 0x7f; }))
      build_fail(where + ": bad HTTP path");
    if (h.http_status() < 100 || h.http_status() > 599) build_fail(where + ": bad HTTP status");
  }
  if (h.interval_ms() == 0 || h.timeout_ms() == 0 || h.timeout_ms() >= h.interval_ms())
    build_fail(where + ": the timeout must be positive and below the interval");
  for (const proto::Backend& b : lb.backends()) {
    const std::string request = h.http_path().empty() ? std::string() : http_probe_request(h.http_path(), b.ip());
    const auto dpdk_port = ctx.bound_port(b.port());
    if (!b.location().has_local_port() || !dpdk_port) continue;
    for (const proto::Port& p : ctx.in.ports()) {
      if (p.name() != b.port()) continue;
      for (const proto::Network& n : ctx.in.networks()) {
        if (n.name() != p.network()) continue;
        for (const proto::Subnet& s : n.subnets()) {
          if (s.name() != p.subnet() || s.gateway() == 0) continue;
          t.probes.push_back({lb.name(), b.port(), *dpdk_port, lb.vni(), s.gateway(), n.router_mac(), b.ip(),
                              b.mac(), port, h.interval_ms(), h.timeout_ms(), h.unhealthy_threshold(),
                              h.healthy_threshold(), request, static_cast<uint16_t>(h.http_status())});
          if (t.probe_src.empty()) t.probe_src.assign(kMaxPorts, 0);
          t.probe_src[*dpdk_port] = s.gateway();
        }
      }
    }
  }
}

}  // namespace

void build_load_balancers(const BuildContext& ctx, const LbHealth& health, LbTable& t) {
  size_t n_listeners = 0;
  for (const proto::LoadBalancer& lb : ctx.in.load_balancers())
    n_listeners += static_cast<size_t>(lb.listeners_size());
  if (ctx.in.load_balancers_size() == 0) return;
  t.listener_index = make_hash("lb_listeners", sizeof(LbKey), n_listeners);
  t.vips = make_hash("lb_vips", sizeof(uint64_t), static_cast<size_t>(ctx.in.load_balancers_size()));
  size_t n_ends = n_listeners;
  for (const proto::LoadBalancer& lb : ctx.in.load_balancers())
    n_ends += static_cast<size_t>(lb.listeners_size()) * static_cast<size_t>(lb.backends_size());
  t.service_ends = make_hash("lb_ends", sizeof(LbKey), n_ends);
  t.listeners.reserve(n_listeners);
  for (const proto::LoadBalancer& lb : ctx.in.load_balancers()) {
    const std::string where = "load balancer '" + lb.name() + "'";
    if (t.lbs.size() >= kMaxTableIndex) build_fail(where + ": more than 65535 load balancers");
    const auto lb_index = static_cast<uint16_t>(t.lbs.size());
    t.lbs.push_back({lb.name(), lb.vni(), lb.vip(), {}});
    const uint64_t vip_key = arp_key(lb.vni(), lb.vip());
    if (!add_unique(t.vips.get(), &vip_key, index_data(lb_index)))
      build_fail(where + ": VIP " + ip_text(lb.vip()) + " is another load balancer's");

    // The backends, and the Maglev table every listener of this load
    // balancer picks from (the selection is per load balancer; the
    // listeners differ only in the port).
    const auto first_backend = static_cast<uint16_t>(t.backends.size());
    std::vector<MaglevBackend> selection;
    std::vector<bool> selectable;
    for (const proto::Backend& b : lb.backends()) {
      if (t.backends.size() >= kMaxTableIndex) build_fail(where + ": more than 65535 backends");
      const bool down = health.contains({lb.name(), b.port()});
      t.backends.push_back({lb_index, b.port(), b.ip(), b.weight(), down});
      selectable.push_back(b.weight() != 0 && !down);
      selection.push_back({b.port(), selectable.back() ? b.weight() : 0});
    }
    t.lbs.back().maglev = MaglevTable::build(selection);
    add_probes(ctx, lb, t);

    for (const proto::Listener& l : lb.listeners()) {
      const uint8_t proto = ip_proto(l.protocol(), where);
      LbListener out;
      out.lb = lb_index;
      out.proto = proto;
      out.port = rte_cpu_to_be_16(static_cast<uint16_t>(l.port()));
      out.target_port = rte_cpu_to_be_16(static_cast<uint16_t>(l.target_port() != 0 ? l.target_port() : l.port()));
      out.first_target = static_cast<uint32_t>(t.targets.size());
      out.n_targets = static_cast<uint32_t>(lb.backends_size());
      for (int i = 0; i < lb.backends_size(); ++i) {
        t.targets.push_back({rte_cpu_to_be_32(lb.backends(i).ip()), static_cast<uint16_t>(first_backend + i),
                             selectable[static_cast<size_t>(i)]});
        // Another listener's backend may serve at the same end: one entry.
        const LbKey end = lb_key(lb.vni(), t.targets.back().ip, proto, out.target_port);
        if (rte_hash_add_key(t.service_ends.get(), &end) < 0) build_fail(where + ": no room for its backends");
      }
      const LbKey key = lb_key(lb.vni(), rte_cpu_to_be_32(lb.vip()), proto, out.port);
      if (!add_unique(t.listener_index.get(), &key, index_data(static_cast<uint32_t>(t.listeners.size()))))
        build_fail(where + ": listener " + std::to_string(l.port()) + " appears twice");
      if (rte_hash_add_key(t.service_ends.get(), &key) < 0) build_fail(where + ": no room for its listeners");
      t.listeners.push_back(std::move(out));
    }
  }
}

}  // namespace weft::dp
