#include "dataplane/arp/arp_table.h"
#include "dataplane/tables/build_support.h"

namespace weft::dp {

void build_arp(const BuildContext& ctx, ArpTable& t) {
  size_t entries = 0;
  for (const proto::Network& n : ctx.in.networks()) entries += static_cast<size_t>(n.arp_size());
  t.by_ip = make_hash("arp", sizeof(uint64_t), entries);
  for (const proto::Network& n : ctx.in.networks()) {
    for (const proto::ArpEntry& e : n.arp()) {
      const uint64_t key = arp_key(n.vni(), e.ip());
      if (!add_unique(t.by_ip.get(), &key, mac_data(ether_from_u64(e.mac()))))
        build_fail("network '" + n.name() + "': ARP entry " + ip_text(e.ip()) + " appears twice");
    }
  }
}

}  // namespace weft::dp
