#include "dataplane/tables/snapshot_builder.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>

#include "common/net.h"
#include "dataplane/acl/sg_builder.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {
namespace {

constexpr uint32_t kMinMtu = 68;  // RFC 791: every IPv4 link carries 68 bytes
constexpr size_t kMaxIndex = UINT16_MAX;  // networks and VTEPs are indexed by uint16_t
constexpr uint32_t kMinHashEntries = 64;

// Thrown inside the builder only, to unwind to build_snapshot() with the
// reason; never crosses its boundary.
struct BuildError {
  std::string why;
};

[[noreturn]] void fail(std::string why) { throw BuildError{std::move(why)}; }

std::string ip_text(uint32_t ip) { return format_ipv4(ip); }

std::string mac_text(uint64_t mac) {
  Mac m;
  for (int i = 5; i >= 0; --i, mac >>= 8) m[static_cast<size_t>(i)] = static_cast<uint8_t>(mac);
  return format_mac(m);
}

rte_ether_addr ether(uint64_t mac) {
  rte_ether_addr a;
  for (int i = RTE_ETHER_ADDR_LEN - 1; i >= 0; --i, mac >>= 8) a.addr_bytes[i] = static_cast<uint8_t>(mac);
  return a;
}

// rte_hash names are global to the process (they name memzones): a serial
// number keeps the tables of consecutive snapshots apart.
HashPtr make_hash(const char* what, uint32_t key_len, size_t entries) {
  static std::atomic<uint32_t> serial{0};
  char name[RTE_HASH_NAMESIZE];
  std::snprintf(name, sizeof name, "weft_%s_%u", what, serial.fetch_add(1));
  rte_hash_parameters p{};
  p.name = name;
  // Twice the keys keeps buckets short; the extendable table takes any
  // collision overflow, so an insert never fails for want of a slot.
  p.entries = static_cast<uint32_t>(std::max<size_t>(entries * 2, kMinHashEntries));
  p.key_len = key_len;
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr)
    fail(std::string("cannot create the ") + what + " table of " + std::to_string(entries) +
         " entries: " + rte_strerror(rte_errno));
  return HashPtr(h);
}

// Adds `key`; false when it is already there.
bool add_unique(rte_hash* h, const void* key, void* data) {
  if (rte_hash_lookup(h, key) >= 0) return false;
  const int rc = rte_hash_add_key_data(h, key, data);
  if (rc < 0) fail(std::string("cannot add a table entry: ") + rte_strerror(-rc));
  return true;
}

class Builder {
 public:
  Builder(const proto::NodeTables& tables, Snapshot& snap, std::vector<std::string>* warnings)
      : in_(tables), snap_(snap), t_(snap.overlay), warnings_(warnings) {}

  void build() {
    check_identity();
    for (uint16_t port = 0; port < kMaxPorts; ++port)
      if (snap_.ports[port].role == PortRole::kVnic) bound_[snap_.ports[port].name] = port;
    add_vteps();
    add_networks();
    add_vnics();
    // Security groups of the bound ports: acl/sg_builder.h.
    std::string error;
    if (!build_security_groups(in_, bound_, snap_.security_groups, error)) fail(error);
  }

 private:
  void warn(std::string w) {
    if (warnings_ != nullptr) warnings_->push_back(std::move(w));
  }

  void check_identity() {
    const uint32_t own = snap_.underlay.ip;
    if (in_.vtep_ip() == 0) fail("the policy does not name node '" + in_.node() + "'");
    if (in_.vtep_ip() != own)
      fail("the policy gives node '" + in_.node() + "' the VTEP address " + ip_text(in_.vtep_ip()) +
           ", but its underlay address is " + (own == 0 ? std::string("unset") : ip_text(own)) +
           " (node.yaml underlay.ip)");
  }

  void add_vteps() {
    if (static_cast<size_t>(in_.peers_size()) > kMaxIndex) fail("more than 65535 peer VTEPs");
    t_.vtep = make_hash("vtep", sizeof(uint32_t), static_cast<size_t>(in_.peers_size()));
    const UnderlayIdentity& ul = snap_.underlay;
    for (const proto::PeerVtep& peer : in_.peers()) {
      const uint32_t ip = peer.ip();
      if (ip == 0 || ip == ul.ip)
        fail("peer node '" + peer.node() + "' has the VTEP address " + ip_text(ip) +
             (ip == 0 ? std::string() : ", which is this node's own"));
      OverlayVtep v;
      v.node = peer.node();
      v.ip = ip;
      if (ul.on_link(ip)) {
        v.next_hop = ip;
      } else if (ul.next_hop != 0) {
        v.next_hop = ul.next_hop;
      } else {
        warn("peer node '" + peer.node() + "' (" + ip_text(ip) + ") is outside the underlay subnet " +
             ip_text(ul.ip) + "/" + std::to_string(ul.prefix_len) +
             " and node.yaml sets no underlay.next_hop: its ports are unreachable");
      }
      v.routable = v.next_hop != 0;
      if (v.routable) {
        v.neighbor = snap_.neighbors->track(v.next_hop);
        if (v.neighbor == NeighborTable::kNone)
          fail("the underlay neighbor table is full (" + std::to_string(NeighborTable::kCapacity) +
               " addresses)");
      }
      v.outer = make_outer_template(ul.mac, ul.ip, ip);
      v.ip_partial_sum = outer_ip_partial_sum(v.outer);
      if (!add_unique(t_.vtep.get(), &ip, index_data(static_cast<uint32_t>(t_.vteps.size()))))
        fail("peer VTEP " + ip_text(ip) + " (node '" + peer.node() + "') is listed twice");
      t_.vteps.push_back(std::move(v));
    }
  }

  uint16_t vtep_index(uint32_t ip, const std::string& where) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(t_.vtep.get(), &ip, &data) < 0)
      fail(where + " names VTEP " + ip_text(ip) + ", which is no peer of this node");
    return static_cast<uint16_t>(data_index(data));
  }

  std::optional<uint16_t> bound_port(const std::string& name) const {
    auto it = bound_.find(name);
    if (it == bound_.end()) return std::nullopt;
    return it->second;
  }

  void add_networks() {
    if (static_cast<size_t>(in_.networks_size()) > kMaxIndex) fail("more than 65535 networks");
    size_t l2 = 0, arp = 0;
    for (const proto::Network& n : in_.networks()) {
      l2 += static_cast<size_t>(n.l2_size()) + 1;  // + the router MAC
      arp += static_cast<size_t>(n.arp_size());
    }
    t_.vni = make_hash("vni", sizeof(uint32_t), static_cast<size_t>(in_.networks_size()));
    t_.fdb = make_hash("fdb", sizeof(FdbKey), l2);
    t_.arp = make_hash("arp", sizeof(uint64_t), arp);
    for (const proto::Network& n : in_.networks()) add_network(n);
  }

  void add_network(const proto::Network& n) {
    const std::string where = "network '" + n.name() + "'";
    const uint32_t vni = n.vni();
    if (vni == 0 || vni > kVxlanMaxVni)
      fail(where + ": VNI " + std::to_string(vni) + " is outside 1-16777215");
    if (n.mtu() < kMinMtu) fail(where + ": MTU " + std::to_string(n.mtu()) + " is below 68");
    const auto index = static_cast<uint32_t>(t_.networks.size());
    if (!add_unique(t_.vni.get(), &vni, index_data(index)))
      fail(where + ": VNI " + std::to_string(vni) + " is used by another network");

    OverlayNetwork net;
    net.name = n.name();
    net.vni = vni;
    net.mtu = n.mtu();
    net.router_mac = ether(n.router_mac());

    if (n.router_mac() != 0) {
      const FdbKey key = fdb_key(vni, net.router_mac);
      if (!add_unique(t_.fdb.get(), &key, fdb_data({FdbKind::kRouter, 0})))
        fail(where + ": router MAC " + mac_text(n.router_mac()) + " is also a port's");
    }
    for (const proto::L2Entry& e : n.l2()) {
      const std::string entry = where + ": L2 entry " + mac_text(e.mac());
      const rte_ether_addr mac = ether(e.mac());
      if (rte_is_multicast_ether_addr(&mac)) fail(entry + " is a multicast MAC");
      FdbEntry fe{};
      switch (e.location().at_case()) {
        case proto::Location::kLocalPort:
          if (auto port = bound_port(e.location().local_port())) fe = {FdbKind::kLocal, *port};
          else fe = {FdbKind::kUnbound, 0};
          break;
        case proto::Location::kRemoteVtep:
          fe = {FdbKind::kRemote, vtep_index(e.location().remote_vtep(), entry)};
          break;
        case proto::Location::AT_NOT_SET:
          fail(entry + " has no location");
      }
      const FdbKey key = fdb_key(vni, mac);
      if (!add_unique(t_.fdb.get(), &key, fdb_data(fe))) fail(entry + " appears twice");
    }
    for (const proto::ArpEntry& e : n.arp()) {
      const uint64_t key = arp_key(vni, e.ip());
      if (!add_unique(t_.arp.get(), &key, mac_data(ether(e.mac()))))
        fail(where + ": ARP entry " + ip_text(e.ip()) + " appears twice");
    }
    for (const std::string& name : n.flood_local_ports())
      if (auto port = bound_port(name)) net.flood_ports.push_back(*port);
    for (uint32_t ip : n.flood_remote_vteps())
      net.flood_vteps.push_back(vtep_index(ip, where + ": flood list"));
    t_.networks.push_back(std::move(net));
  }

  void add_vnics() {
    std::map<std::string, const proto::Port*> ports;
    for (const proto::Port& p : in_.ports()) {
      ports[p.name()] = &p;
      if (!bound_port(p.name()))
        warn("port '" + p.name() + "' is bound to no vNIC in node.yaml: frames for it are dropped (l2_port_unbound)");
    }
    for (const auto& [name, id] : bound_) {
      auto it = ports.find(name);
      if (it == ports.end()) {
        warn("node.yaml binds '" + name + "', which is no port of node '" + in_.node() +
             "' in the policy: its frames are dropped (port_not_in_policy)");
        continue;
      }
      const proto::Port& p = *it->second;
      const uint32_t vni = p.vni();
      void* data = nullptr;
      if (rte_hash_lookup_data(t_.vni.get(), &vni, &data) < 0)
        fail("port '" + name + "' is in network '" + p.network() + "' (VNI " + std::to_string(vni) +
             "), which the tables do not hold");
      OverlayVnic& vn = t_.vnics[id];
      vn.in_policy = true;
      vn.network = static_cast<uint16_t>(data_index(data));
      vn.vni = vni;
      vn.mtu = t_.networks[vn.network].mtu;
      vn.mac = ether(p.mac());
      vn.ip = rte_cpu_to_be_32(p.ip());
      for (const proto::Prefix& a : p.allowed_addresses()) {
        const uint32_t mask = a.len() == 0 ? 0 : ~uint32_t{0} << (32 - std::min<uint32_t>(a.len(), 32));
        vn.allowed.push_back({rte_cpu_to_be_32(a.addr() & mask), rte_cpu_to_be_32(mask)});
      }
    }
  }

  const proto::NodeTables& in_;
  Snapshot& snap_;
  OverlayTables& t_;
  std::vector<std::string>* warnings_;
  std::map<std::string, uint16_t> bound_;  // policy port name -> DPDK port id
};

}  // namespace

std::unique_ptr<Snapshot> build_snapshot(const proto::NodeTables& tables,
                                         std::unique_ptr<Snapshot> base, std::string& error,
                                         std::vector<std::string>* warnings) {
  if (!base) {
    error = "build_snapshot: no base snapshot";
    return nullptr;
  }
  try {
    if (!base->neighbors) base->neighbors = NeighborTable::with_tsc_hz(rte_get_tsc_hz());
    base->overlay = OverlayTables{};
    Builder(tables, *base, warnings).build();
    return base;
  } catch (const BuildError& e) {
    error = e.why;
  } catch (const std::exception& e) {
    error = std::string("build_snapshot: ") + e.what();
  }
  return nullptr;
}

}  // namespace weft::dp
