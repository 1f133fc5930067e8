#include <algorithm>
#include <map>

#include "dataplane/overlay/network_table.h"
#include "dataplane/portsec/vnic_table.h"
#include "dataplane/tables/build_support.h"

namespace weft::dp {

void build_vnics(const BuildContext& ctx, const NetworkTable& networks, VnicTable& t) {
  std::map<std::string, const proto::Port*> ports;
  for (const proto::Port& p : ctx.in.ports()) {
    ports[p.name()] = &p;
    if (!ctx.bound_port(p.name()))
      ctx.warn("port '" + p.name() + "' is bound to no vNIC in node.yaml: frames for it are dropped (l2_port_unbound)");
  }
  for (const auto& [name, id] : ctx.bound) {
    auto it = ports.find(name);
    if (it == ports.end()) {
      ctx.warn("node.yaml binds '" + name + "', which is no port of node '" + ctx.in.node() +
               "' in the policy: its frames are dropped (port_not_in_policy)");
      continue;
    }
    const proto::Port& p = *it->second;
    const uint32_t vni = p.vni();
    void* data = nullptr;
    if (rte_hash_lookup_data(networks.by_vni.get(), &vni, &data) < 0)
      build_fail("port '" + name + "' is in network '" + p.network() + "' (VNI " + std::to_string(vni) +
                 "), which the tables do not hold");
    Vnic& vn = t.by_port[id];
    vn.in_policy = true;
    vn.network = static_cast<uint16_t>(data_index(data));
    vn.vni = vni;
    vn.mtu = networks.networks[vn.network].mtu;
    vn.mac = ether_from_u64(p.mac());
    vn.ip = rte_cpu_to_be_32(p.ip());
    for (const proto::Network& n : ctx.in.networks()) {
      if (n.vni() != vni) continue;
      for (const proto::Subnet& s : n.subnets())
        if (s.name() == p.subnet()) vn.gateway = rte_cpu_to_be_32(s.gateway());
    }
    for (const proto::Prefix& a : p.allowed_addresses()) {
      const uint32_t mask = a.len() == 0 ? 0 : ~uint32_t{0} << (32 - std::min<uint32_t>(a.len(), 32));
      vn.allowed.push_back({rte_cpu_to_be_32(a.addr() & mask), rte_cpu_to_be_32(mask)});
    }
  }
}

}  // namespace weft::dp
