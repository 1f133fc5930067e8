#pragma once
// One valid frame of every kind the parser accepts: Ethernet with VLAN tags,
// ARP, IPv4 with options and fragments, IPv6 with extension headers and
// fragments, TCP, UDP, ICMP, and VXLAN over IPv4 and IPv6. The same list
// drives the parser's truncation sweep (tests/packet/parse_test.cc), the
// fuzzer's seed corpus (tests/fuzz/make_parse_corpus.cc) and the parser
// micro-benchmark (perf/parse_bench.cc), so a kind added here is covered by
// all three.
//
// Test and tool code; any thread.

#include <string>
#include <vector>

#include "tests/packet/packet_builder.h"

namespace weft::test {

struct FrameKind {
  std::string name;  // a file-name-safe slug: "ipv4_tcp", "vxlan6_vlan_ipv6_udp"
  Frame frame;
};

std::vector<FrameKind> frame_kinds();

}  // namespace weft::test
