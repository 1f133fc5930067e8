#pragma once
// Names the fields of a frame, so that a test comparing an output packet
// with the expected one reports "ipv4.ttl: got 64, want 63" rather than a
// byte offset (the way VPP's test_vxlan.py checks packets field by field).
//
//   std::string diff = packet_diff(actual, expected);  // empty: identical
//
// Decodes Ethernet, VLAN tags, ARP, IPv4, IPv6 and its extension headers,
// UDP, TCP, ICMP/ICMPv6 and VXLAN (UDP/4789) with its inner frame, whose
// fields are prefixed "inner.". A deliberately simple, trusting decoder for
// well-formed test packets, separate from the dataplane parser it helps
// test; it stops, bounds-checked, where the data ends. Test code; any thread.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tests/packet/packet_builder.h"

namespace weft::test {

struct Field {
  std::string name;   // "eth.dst", "vlan1.vid", "inner.ipv4.ttl", "payload"
  std::string value;  // printable
  size_t offset;      // of the field's first byte in the frame
};

std::vector<Field> dissect(std::span<const uint8_t> frame);

// One line per field that differs (or exists on one side only), then the
// first differing byte; empty when the frames are identical.
std::string packet_diff(std::span<const uint8_t> actual, std::span<const uint8_t> expected);

// All fields, one per line, for failure messages.
std::string describe(std::span<const uint8_t> frame);

}  // namespace weft::test
