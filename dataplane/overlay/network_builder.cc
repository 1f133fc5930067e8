#include "dataplane/overlay/network_table.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {
namespace {
constexpr uint32_t kMinMtu = 68;  // RFC 791: every IPv4 link carries 68 bytes
}  // namespace

void build_networks(const BuildContext& ctx, NetworkTable& t) {
  if (static_cast<size_t>(ctx.in.networks_size()) > kMaxTableIndex) build_fail("more than 65535 networks");
  t.by_vni = make_hash("vni", sizeof(uint32_t), static_cast<size_t>(ctx.in.networks_size()));
  for (const proto::Network& n : ctx.in.networks()) {
    const std::string where = "network '" + n.name() + "'";
    const uint32_t vni = n.vni();
    if (vni == 0 || vni > kVxlanMaxVni)
      build_fail(where + ": VNI " + std::to_string(vni) + " is outside 1-16777215");
    if (n.mtu() < kMinMtu) build_fail(where + ": MTU " + std::to_string(n.mtu()) + " is below 68");
    if (!add_unique(t.by_vni.get(), &vni, index_data(static_cast<uint32_t>(t.networks.size()))))
      build_fail(where + ": VNI " + std::to_string(vni) + " is used by another network");
    t.networks.push_back({n.name(), vni, n.mtu(), ether_from_u64(n.router_mac())});
  }
}

}  // namespace weft::dp
