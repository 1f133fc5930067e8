#include "dataplane/trace/trace_node.h"

#include <cstring>

#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// A frame to an address nobody holds: unicast, so the L2 lookup's answer
// (unknown: flooded) is the one the dataplane gives such a frame.
constexpr Mac kUnknownMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00};

void fill_network(const proto::Network& n, TraceEndpoint& e) {
  e.network = n.name();
  e.vni = n.vni();
  e.router_mac = mac_from_u64(n.router_mac());
  for (const proto::Subnet& s : n.subnets()) {
    const Ipv4Prefix p{s.cidr().addr(), static_cast<uint8_t>(s.cidr().len())};
    if (p.contains(e.ip)) e.subnet = p;
  }
}

std::string node_of(const proto::NodeTables& t, uint32_t vtep) {
  for (const proto::PeerVtep& p : t.peers())
    if (p.ip() == vtep) return p.node();
  return {};
}

// The port named `port` (or, when empty, holding `ip`) among the L2 and
// ARP entries of network `n`.
std::optional<TraceEndpoint> in_network(const proto::NodeTables& t, const proto::Network& n, std::string_view port,
                                        uint32_t ip) {
  for (const proto::ArpEntry& a : n.arp()) {
    if (a.owner() != proto::ArpEntry::PORT) continue;
    if (port.empty() ? a.ip() != ip : a.name() != port) continue;
    TraceEndpoint e;
    e.port = a.name();
    e.ip = a.ip();
    e.mac = mac_from_u64(a.mac());
    fill_network(n, e);
    for (const proto::L2Entry& l : n.l2())
      if (l.port() == e.port && l.location().has_remote_vtep()) e.vtep = l.location().remote_vtep();
    e.node = e.vtep == 0 ? t.node() : node_of(t, e.vtep);
    return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<TraceEndpoint> find_endpoint(const proto::NodeTables& t, std::string_view port) {
  for (const proto::Network& n : t.networks())
    if (auto e = in_network(t, n, port, 0)) return e;
  return std::nullopt;
}

std::optional<TraceEndpoint> endpoint_by_ip(const proto::NodeTables& t, uint32_t ip) {
  for (const proto::Network& n : t.networks())
    if (auto e = in_network(t, n, {}, ip)) return e;
  return std::nullopt;
}

std::optional<TraceResult> send_traced(TraceSession& session, const Snapshot& snap, const proto::NodeTables& t,
                                       const TraceEndpoint& sender, const TracePacket& p, std::string& error) {
  Mac dst_mac = kUnknownMac;
  for (const proto::Network& n : t.networks())
    if (n.name() == sender.network)
      for (const proto::ArpEntry& a : n.arp())
        if (a.ip() == p.dst) dst_mac = mac_from_u64(a.mac());
  Mac src_mac = sender.mac;
  TracePacket sent = p;
  if (!sender.subnet.contains(p.dst)) {
    if (sender.vtep == 0) {
      dst_mac = sender.router_mac;
    } else {
      // The router is distributed: the sender's node routed the packet
      // already, and the tunnel brings it from the router to the port.
      src_mac = sender.router_mac;
      sent.ttl = static_cast<uint8_t>(p.ttl - 1);
    }
  }
  std::vector<uint8_t> frame = build_trace_frame(sent, src_mac, dst_mac);
  uint16_t in_port = kNoPort;
  if (sender.vtep == 0) {
    for (uint16_t port = 0; port < kMaxPorts; ++port)
      if (snap.ports[port].role == PortRole::kVnic && snap.ports[port].name == sender.port) in_port = port;
    if (in_port == kNoPort) {
      error = "port '" + sender.port + "' is bound to no vNIC on node " + t.node();
      return std::nullopt;
    }
  } else {
    in_port = snap.underlay_port;
    Mac own;
    std::memcpy(own.data(), snap.underlay.mac.addr_bytes, own.size());
    frame = build_tunnel_frame(frame, sender.vni, sender.vtep, t.vtep_ip(), own);
  }
  return session.run(in_port, frame);
}

std::optional<NodeTrace> trace_on_node(const Snapshot& snap, const proto::NodeTables& t, rte_mempool* pool,
                                       const TraceRequest& req, std::string& error) {
  auto from = req.from.empty() ? endpoint_by_ip(t, req.packet.src) : find_endpoint(t, req.from);
  if (!from) {
    error = req.from.empty() ? "no port of node " + t.node() + "'s networks holds " + format_ipv4(req.packet.src) +
                                   ": name the sender with --from"
                             : "node " + t.node() + " knows no port '" + req.from +
                                   "' (it is in no network present on the node)";
    return std::nullopt;
  }
  auto session = TraceSession::create(snap, pool, error);
  if (!session) return std::nullopt;
  NodeTrace out;
  out.sender = from->port;
  out.packet = req.packet;
  if (req.reply) {
    auto to = endpoint_by_ip(t, req.packet.dst);
    if (!to) {
      error = "--reply: no port of node " + t.node() + "'s networks holds " + format_ipv4(req.packet.dst);
      return std::nullopt;
    }
    if (!send_traced(*session, snap, t, *from, req.packet, error)) return std::nullopt;
    from = to;
    out.sender = to->port;
    out.packet = reply_packet(req.packet);
  }
  auto result = send_traced(*session, snap, t, *from, out.packet, error);
  if (!result) return std::nullopt;
  out.result = std::move(*result);
  return out;
}

}  // namespace weft::dp
