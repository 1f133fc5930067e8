#include "tests/packet/frame_kinds.h"

#include <netinet/in.h>
#include <rte_icmp.h>

namespace weft::test {

std::vector<FrameKind> frame_kinds() {
  const Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b");
  const uint32_t ip_a = ip4("10.1.1.10"), ip_b = ip4("10.1.2.20");
  const uint32_t vtep_a = ip4("172.31.0.1"), vtep_b = ip4("172.31.0.2");
  const Ipv6Addr ip6_a = ip6("fd00:1::a"), ip6_b = ip6("fd00:2::b");
  const auto eth = [&] { return Frame().eth(a, b); };
  const auto eth4 = [&] { return eth().ipv4(ip_a, ip_b); };
  const auto eth6 = [&] { return eth().ipv6(ip6_a, ip6_b); };
  const ArpFields arp{.sha = a, .spa = ip_a, .tpa = ip_b};

  // An ICMP error to ip_a quoting its UDP packet (header and 8 bytes): the
  // seed of the NAT's error translation (tests/fuzz/fuzz_icmp_xlate.cc).
  const Bytes sent = Frame().ipv4(ip_a, ip_b).udp(40000, 53).payload(8).bytes();
  const Bytes quote(sent.begin(), sent.begin() + 28);

  return {
      {"ipv4_tcp", eth4().tcp(40000, 80).payload(20)},
      {"ipv4_tcp_options", eth4().tcp(40000, 80, {.options = {2, 4, 5, 180}}).payload(3)},
      {"ipv4_udp_padded", eth4().udp(53, 53).payload(2).pad_to(60)},
      {"ipv4_icmp_echo", eth4().icmp(RTE_IP_ICMP_ECHO_REQUEST, 0, 7, 1).payload(56)},
      {"ipv4_icmp_error_quote", eth().ipv4(ip_b, ip_a).icmp(3, 4, 0, 1300).payload(quote)},
      {"ipv4_options_udp",
       eth().ipv4(ip_a, ip_b, {.options = {0x94, 4, 0, 0}}).udp(1, 2).payload(4)},
      {"ipv4_gre", eth().ipv4(ip_a, ip_b, {.proto = IPPROTO_GRE}).payload(24)},
      {"ipv4_first_fragment",
       eth().ipv4(ip_a, ip_b, {.more_fragments = true}).udp(1, 2, {.length = 3000}).payload(64)},
      {"ipv4_later_fragment",
       eth().ipv4(ip_a, ip_b, {.frag_offset = 185, .proto = IPPROTO_UDP}).payload(64)},
      {"vlan_ipv4_udp", eth().vlan(100).ipv4(ip_a, ip_b).udp(1, 2).payload(30)},
      {"qinq_ipv4_tcp",
       eth().vlan(10, RTE_ETHER_TYPE_QINQ).vlan(100).ipv4(ip_a, ip_b).tcp(1, 2).payload(8)},
      {"arp_request", eth().arp(arp).pad_to(60)},
      {"ipv6_tcp", eth6().tcp(40000, 443).payload(16)},
      {"ipv6_udp", eth6().udp(546, 547).payload(16)},
      {"ipv6_icmpv6_echo", eth6().icmp(128, 0, 1, 1).payload(8)},
      {"ipv6_ext_chain_udp",
       eth6().ipv6_ext(IPPROTO_HOPOPTS).ipv6_ext(IPPROTO_DSTOPTS, 16).ipv6_ext(IPPROTO_ROUTING, 24)
           .udp(1, 2).payload(8)},
      {"ipv6_first_fragment", eth6().ipv6_frag(0, true).udp(1, 2, {.length = 3000}).payload(64)},
      {"ipv6_later_fragment",
       eth6().ipv6_ext(IPPROTO_HOPOPTS).ipv6_frag(100, false, 1, IPPROTO_UDP).payload(64)},
      {"vxlan4_ipv4_tcp",
       eth().ipv4(vtep_a, vtep_b).udp(49152, 4789).vxlan(5001).eth(a, b).ipv4(ip_a, ip_b)
           .tcp(40000, 80).payload(10)},
      {"vxlan6_vlan_ipv6_udp",
       eth6().udp(49152, 4789).vxlan(77).eth(a, b).vlan(5).ipv6(ip6_a, ip6_b).udp(1, 2)
           .payload(12)},
      {"vxlan4_arp", eth().ipv4(vtep_a, vtep_b).udp(49152, 4789).vxlan(5001).eth(a, b).arp(arp)},
  };
}

}  // namespace weft::test
