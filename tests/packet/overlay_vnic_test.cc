// The overlay from the vNIC side, through weftd's policy-mode graph: port
// security (source MAC, IP, allowed_addresses, DHCP, ARP sender, IPv6,
// VLAN), ARP suppression (which requests are answered, and every field of
// the reply), and L2 delivery to local ports with its drops.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_arp.h>

#include "dataplane/pipeline/drop_reasons.h"
#include "tests/packet/overlay_topology.h"

namespace weft::test {
namespace {

using dp::DropReason;

class OverlayVnicTest : public OverlayFixture {
 protected:
  Mac red_router() {
    rte_ether_addr a = snapshot().networks.networks[0].router_mac;  // red, by name order
    if (snapshot().networks.networks[0].name != "red") a = snapshot().networks.networks[1].router_mac;
    Mac m;
    std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), m.begin());
    return m;
  }
};

// A frame that passes unchanged to `port`.
PacketCase passes(std::string what, const Bytes& frame, uint16_t port, uint16_t in_port = kRed1Port) {
  return {std::move(what), frame, Verdict::tx(port), frame, {}, in_port};
}

PacketCase dropped(std::string what, const Bytes& frame, DropReason reason, uint16_t in_port = kRed1Port) {
  return {std::move(what), frame, Verdict::drop(reason), {}, {}, in_port};
}

const Topo T;

TEST_F(OverlayVnicTest, PortSecurity) {
  const Mac spoofed_mac = mac("02:00:00:00:01:ff");
  const PacketCase cases[] = {
      passes("own MAC and IP", vm_udp(T.kRed1, T.kRed2.mac, T.kRed2.ip).bytes(), kRed2Port),
      dropped("foreign source MAC",
              Frame().eth(spoofed_mac, T.kRed2.mac).ipv4(T.kRed1.ip, T.kRed2.ip).udp(1, 2).bytes(),
              DropReason::portsec_mac),
      dropped("another VM's MAC and IP", vm_udp(T.kRed2, T.kRed3.mac, T.kRed3.ip).bytes(),
              DropReason::portsec_mac),
      dropped("foreign source IP", vm_udp({T.kRed1.mac, ip4("10.0.1.11")}, T.kRed2.mac, T.kRed2.ip).bytes(),
              DropReason::portsec_ip),
      passes("allowed address (a /32)",
             vm_udp({T.kRed1.mac, ip4("10.0.1.200")}, T.kRed2.mac, T.kRed2.ip).bytes(), kRed2Port),
      passes("allowed address (inside a /24)",
             vm_udp({T.kRed1.mac, ip4("192.168.7.33")}, T.kRed2.mac, T.kRed2.ip).bytes(), kRed2Port),
      dropped("just outside the allowed /24",
              vm_udp({T.kRed1.mac, ip4("192.168.8.0")}, T.kRed2.mac, T.kRed2.ip).bytes(),
              DropReason::portsec_ip),
      // Past port security, to the node's DHCP server (never to another VM),
      // which refuses a BOOTP message of zeros.
      dropped("DHCP client without an address",
              Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv4(0, ip4("255.255.255.255")).udp(68, 67).payload(240).bytes(),
              DropReason::dhcp_refused),
      dropped("UDP from 0.0.0.0 that is not DHCP",
              Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv4(0, T.kRed2.ip).udp(68, 53).bytes(),
              DropReason::portsec_ip),
      dropped("DHCP server port from 0.0.0.0",
              Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv4(0, T.kRed2.ip).udp(67, 68).bytes(),
              DropReason::portsec_ip),
      dropped("IPv6", Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv6(ip6("fe80::1"), ip6("fe80::2")).udp(1, 2).bytes(),
              DropReason::portsec_ipv6),
      dropped("VLAN tagged",
              Frame().eth(T.kRed1.mac, T.kRed2.mac).vlan(7).ipv4(T.kRed1.ip, T.kRed2.ip).udp(1, 2).bytes(),
              DropReason::portsec_vlan),
      dropped("ARP with a foreign sender MAC",
              Frame().eth(T.kRed1.mac, T.kBroadcast)
                  .arp({.sha = spoofed_mac, .spa = T.kRed1.ip, .tpa = T.kRed2.ip}).pad_to(60).bytes(),
              DropReason::portsec_mac),
      dropped("ARP with a foreign sender IP",
              Frame().eth(T.kRed1.mac, T.kBroadcast)
                  .arp({.sha = T.kRed1.mac, .spa = T.kRed3.ip, .tpa = T.kRed2.ip}).pad_to(60).bytes(),
              DropReason::portsec_ip),
      dropped("a vNIC no port of the policy names",
              vm_udp(T.kRed1, T.kRed2.mac, T.kRed2.ip).bytes(), DropReason::port_not_in_policy, kStrayPort),
  };
  expect_cases(cases);
}

TEST_F(OverlayVnicTest, LocalDelivery) {
  const PacketCase cases[] = {
      passes("red-1 to red-2", vm_udp(T.kRed1, T.kRed2.mac, T.kRed2.ip, 1000).bytes(), kRed2Port),
      passes("red-2 to red-1", vm_udp(T.kRed2, T.kRed1.mac, T.kRed1.ip).bytes(), kRed1Port, kRed2Port),
      passes("TCP", Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv4(T.kRed1.ip, T.kRed2.ip).tcp(5, 6).payload(7).bytes(),
             kRed2Port),
      passes("ICMP", Frame().eth(T.kRed1.mac, T.kRed2.mac).ipv4(T.kRed1.ip, T.kRed2.ip).icmp(8, 0, 1, 1).bytes(),
             kRed2Port),
      passes("an ARP reply is forwarded like any frame",
             Frame().eth(T.kRed1.mac, T.kRed2.mac)
                 .arp({.op = RTE_ARP_OP_REPLY, .sha = T.kRed1.mac, .spa = T.kRed1.ip, .tha = T.kRed2.mac,
                       .tpa = T.kRed2.ip})
                 .pad_to(60).bytes(),
             kRed2Port),
      dropped("to its own MAC", vm_udp(T.kRed1, T.kRed1.mac, T.kRed1.ip).bytes(), DropReason::l2_same_port),
      dropped("to a port of this node bound to no vNIC", vm_udp(T.kRed1, T.kRed9.mac, T.kRed9.ip).bytes(),
              DropReason::l2_port_unbound),
      // Routed, and the router has no route: net unreachable, back to red-1.
      {"to the router MAC, no route", vm_udp(T.kRed1, red_router(), ip4("8.8.8.8")).bytes(), Verdict::tx(kRed1Port),
       {}, [](const Captured& c) {
         ASSERT_GE(c.bytes.size(), 36u);
         EXPECT_EQ(c.bytes[23], IPPROTO_ICMP);
         EXPECT_EQ(c.bytes[34], 3) << "destination unreachable";
         EXPECT_EQ(c.bytes[35], 0) << "net unreachable";
       }, kRed1Port},
      // Routed to a connected subnet, where no port holds the address: host
      // unreachable; but never an ICMP error about the subnet's broadcast
      // address (RFC 1812 4.3.2.7), which is not forwarded either.
      {"to the router MAC, an address of the subnet no port holds",
       vm_udp(T.kRed1, red_router(), ip4("10.0.1.254")).bytes(), Verdict::tx(kRed1Port), {},
       [](const Captured& c) {
         ASSERT_GE(c.bytes.size(), 36u);
         EXPECT_EQ(c.bytes[23], IPPROTO_ICMP);
         EXPECT_EQ(c.bytes[34], 3) << "destination unreachable";
         EXPECT_EQ(c.bytes[35], 1) << "host unreachable";
       }, kRed1Port},
      {"to the router MAC, the subnet's broadcast address", vm_udp(T.kRed1, red_router(), ip4("10.0.1.255")).bytes(),
       Verdict::drop(DropReason::l3_host_unknown), {}, {}, kRed1Port},
  };
  expect_cases(cases);
}

// An ARP request from red-1 for `target`, padded as on the wire.
Bytes who_has(uint32_t target, const Mac& dst = Topo::kBroadcast, const Addr& from = Topo::kRed1) {
  return Frame().eth(from.mac, dst).arp({.sha = from.mac, .spa = from.ip, .tpa = target}).pad_to(60).bytes();
}

// The reply weftd must make of it, every field.
Bytes is_at(uint32_t target, const Mac& answer, const Addr& to = Topo::kRed1) {
  return Frame()
      .eth(answer, to.mac)
      .arp({.op = RTE_ARP_OP_REPLY, .sha = answer, .spa = target, .tha = to.mac, .tpa = to.ip})
      .pad_to(60)
      .bytes();
}

// A request answered in place, back out the port it came from.
PacketCase answered(std::string what, const Bytes& request, const Bytes& reply, uint16_t port = kRed1Port) {
  return {std::move(what), request, Verdict::tx(port), reply, {}, port};
}

TEST_F(OverlayVnicTest, ArpSuppressionAnswersKnownAddresses) {
  const PacketCase cases[] = {
      answered("a local port", who_has(T.kRed2.ip), is_at(T.kRed2.ip, T.kRed2.mac)),
      answered("a port on another node", who_has(T.kRed3.ip), is_at(T.kRed3.ip, T.kRed3.mac)),
      answered("a port bound to no vNIC", who_has(T.kRed9.ip), is_at(T.kRed9.ip, T.kRed9.mac)),
      answered("the subnet gateway", who_has(ip4("10.0.1.1")), is_at(ip4("10.0.1.1"), red_router())),
      answered("unicast (a cache refresh)", who_has(T.kRed2.ip, T.kRed2.mac), is_at(T.kRed2.ip, T.kRed2.mac)),
      answered("a duplicate-address probe for another VM's address",
               Frame().eth(T.kRed1.mac, T.kBroadcast)
                   .arp({.sha = T.kRed1.mac, .spa = 0, .tpa = T.kRed2.ip}).pad_to(60).bytes(),
               Frame().eth(T.kRed2.mac, T.kRed1.mac)
                   .arp({.op = RTE_ARP_OP_REPLY, .sha = T.kRed2.mac, .spa = T.kRed2.ip, .tha = T.kRed1.mac, .tpa = 0})
                   .pad_to(60).bytes()),
      answered("blue asks for red-3's twin", who_has(T.kBlue3.ip, T.kBroadcast, T.kBlue1),
               is_at(T.kBlue3.ip, T.kBlue3.mac, T.kBlue1), kBlue1Port),
  };
  expect_cases(cases);
}

// What ARP suppression leaves alone floods within red: red-2 locally, and
// node-b and node-c (their next hops unresolved here, so dropped at encap).
TEST_F(OverlayVnicTest, ArpSuppressionFloodsWhatItDoesNotCover) {
  const struct {
    const char* what;
    Bytes frame;
  } cases[] = {
      {"an unknown address", who_has(ip4("10.0.1.99"))},
      {"gratuitous ARP for an allowed address",
       Frame().eth(T.kRed1.mac, T.kBroadcast)
           .arp({.sha = T.kRed1.mac, .spa = ip4("10.0.1.200"), .tpa = ip4("10.0.1.200")}).pad_to(60).bytes()},
      {"a duplicate-address probe for its own address",
       Frame().eth(T.kRed1.mac, T.kBroadcast).arp({.sha = T.kRed1.mac, .spa = 0, .tpa = T.kRed1.ip}).pad_to(60).bytes()},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    clear();
    run(c.frame, {.in_port = kRed1Port});
    // The probes for the unresolved next hops go out on the underlay too.
    std::vector<Captured> to_red2;
    for (const Captured& got : sent())
      if (got.port == kRed2Port) to_red2.push_back(got);
    ASSERT_EQ(to_red2.size(), 1u) << drop_summary();
    EXPECT_TRUE(same_packet(to_red2[0].bytes, c.frame));
    EXPECT_EQ(drops(DropReason::vxlan_neighbor_unresolved), 1u) << drop_summary();
    EXPECT_EQ(drops(DropReason::vxlan_no_underlay_route), 1u) << drop_summary();
  }
}

}  // namespace
}  // namespace weft::test
