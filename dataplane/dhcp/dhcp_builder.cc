#include <algorithm>
#include <cstring>

#include "dataplane/dhcp/dhcp_table.h"
#include "dataplane/tables/build_support.h"

namespace weft::dp {

void build_dhcp(const BuildContext& ctx, DhcpTable& t) {
  for (const proto::Port& p : ctx.in.ports()) {
    const auto port = ctx.bound_port(p.name());
    if (!port || !p.has_dhcp()) continue;
    const proto::DhcpOptions& o = p.dhcp();
    const std::string where = "port '" + p.name() + "': DHCP";
    if (o.ip() == 0 || o.gateway() == 0) build_fail(where + " has no address or no gateway");
    if (o.prefix_len() == 0 || o.prefix_len() > 30) build_fail(where + ": prefix length " + std::to_string(o.prefix_len()));
    DhcpLease& l = t.lease[*port];
    l.client_mac = ether_from_u64(p.mac());
    l.ip = o.ip();
    l.prefix_len = static_cast<uint8_t>(o.prefix_len());
    l.mtu = static_cast<uint16_t>(std::min<uint32_t>(o.mtu(), UINT16_MAX));
    l.router = o.gateway();
    l.lease_seconds = o.lease_seconds();
    l.dns_count = static_cast<uint8_t>(std::min<size_t>(static_cast<size_t>(o.dns_size()), kDhcpMaxDns));
    for (uint8_t i = 0; i < l.dns_count; ++i) l.dns[i] = o.dns(i);
    l.hostname_len = static_cast<uint8_t>(std::min<size_t>(o.hostname().size(), kDhcpMaxHostname));
    std::memcpy(l.hostname.data(), o.hostname().data(), l.hostname_len);
    t.enabled[*port] = true;
  }
}

}  // namespace weft::dp
