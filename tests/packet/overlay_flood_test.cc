// Broadcast and unknown unicast in the overlay, and network isolation,
// through weftd's policy-mode graph: the exact set of ports and VTEPs a
// frame is replicated to, from a vNIC and from the underlay, and that a
// frame of one network never leaves to a port or VTEP of the other, though
// red and blue share every IP and MAC.

#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/pipeline/drop_reasons.h"
#include "tests/packet/overlay_topology.h"

namespace weft::test {
namespace {

using dp::DropReason;

const Topo T;

// Where one copy went: a local port, or a VTEP and VNI on the underlay.
struct Copy {
  uint16_t port;
  uint32_t vtep = 0;  // 0: not a tunnel packet
  uint32_t vni = 0;
  auto operator<=>(const Copy&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Copy& c) {
  if (c.vtep == 0) return os << "port " << c.port;
  return os << "VTEP " << format_ipv4(c.vtep) << " VNI " << c.vni;
}

// Where `c` went; for a tunnel packet, its outer destination and VNI.
Copy copy_of(const Captured& c) {
  Copy copy{c.port};
  if (c.port == kUnderlayPort && c.bytes.size() >= 50) {
    const Bytes& b = c.bytes;
    copy.vtep = static_cast<uint32_t>(b[30] << 24 | b[31] << 16 | b[32] << 8 | b[33]);
    copy.vni = static_cast<uint32_t>(b[46] << 16 | b[47] << 8 | b[48]);
  }
  return copy;
}

class OverlayFloodTest : public OverlayFixture {
 protected:
  void SetUp() override {
    OverlayFixture::SetUp();
    use_tables(overlay_tables(), T.kNextHop);  // node-c reachable too
    learn_neighbor(T.kVtepB, T.kNodeBMac);
    learn_neighbor(T.kNextHop, T.kRouterMac);
  }

  // Runs `frame` and returns where its copies went, each checked to carry
  // `carried` unchanged (inside a tunnel, for a VTEP).
  std::vector<Copy> copies(const Bytes& frame, uint16_t in_port, const Bytes& carried) {
    clear();
    run(frame, {.in_port = in_port});
    std::vector<Copy> out;
    for (const Captured& c : sent()) {
      const Copy copy = copy_of(c);
      Bytes inner = c.bytes;
      if (copy.vtep != 0) inner.erase(inner.begin(), inner.begin() + 50);
      EXPECT_TRUE(same_packet(inner, carried)) << "copy to " << copy;
      out.push_back(copy);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

Bytes broadcast_from(const Addr& a) {
  return Frame().eth(a.mac, Topo::kBroadcast).arp({.sha = a.mac, .spa = a.ip, .tpa = ip4("10.0.1.99")}).pad_to(60).bytes();
}

TEST_F(OverlayFloodTest, ReplicatesToTheFloodListOfItsNetworkOnly) {
  const Copy to_red1{kRed1Port}, to_red2{kRed2Port}, to_blue1{kBlue1Port};
  const Copy red_b{kUnderlayPort, T.kVtepB, kRedVni}, red_c{kUnderlayPort, T.kVtepC, kRedVni};
  const Copy blue_b{kUnderlayPort, T.kVtepB, kBlueVni};
  const struct {
    const char* what;
    Bytes frame;
    uint16_t in_port;
    std::vector<Copy> want;
  } cases[] = {
      {"red-1 broadcast: red-2, node-b, node-c", broadcast_from(T.kRed1), kRed1Port, {to_red2, red_b, red_c}},
      {"red-2 broadcast: red-1, node-b, node-c", broadcast_from(T.kRed2), kRed2Port, {to_red1, red_b, red_c}},
      {"blue-1 broadcast: node-b in blue only", broadcast_from(T.kBlue1), kBlue1Port, {blue_b}},
      {"red unknown unicast", vm_udp(T.kRed1, mac("02:00:00:00:09:99"), T.kRed2.ip).bytes(), kRed1Port,
       {to_red2, red_b, red_c}},
      {"red multicast", vm_udp(T.kRed2, mac("01:00:5e:00:00:fb"), ip4("224.0.0.251")).bytes(), kRed2Port,
       {to_red1, red_b, red_c}},
      // red-2's MAC is unknown in blue: flooded in blue, never to red-2.
      {"blue-1 to red-2's MAC", vm_udp(T.kBlue1, T.kRed2.mac, T.kRed2.ip).bytes(), kBlue1Port, {blue_b}},
      // From the underlay: local ports only, the VTEPs had their copies.
      {"node-b's red broadcast", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, broadcast_from(T.kRed3)), kUnderlayPort,
       {to_red1, to_red2}},
      {"node-b's blue broadcast", tunnel(T.kVtepB, T.kNodeBMac, kBlueVni, broadcast_from(T.kBlue3)), kUnderlayPort,
       {to_blue1}},
      {"node-b's blue frame for red-2's MAC", tunnel(T.kVtepB, T.kNodeBMac, kBlueVni,
                                                     vm_udp(T.kBlue3, T.kRed2.mac, T.kRed2.ip).bytes()),
       kUnderlayPort, {to_blue1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    // From the underlay, what is carried is the inner frame.
    Bytes carried = c.frame;
    if (c.in_port == kUnderlayPort) carried.erase(carried.begin(), carried.begin() + 50);
    std::vector<Copy> want = c.want;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(copies(c.frame, c.in_port, carried), want) << "drops: " << drop_summary();
    EXPECT_EQ(total_drops(), 0u) << drop_summary();
  }
}

// Unicast between twins: the VNI alone tells red-3 from blue-3.
TEST_F(OverlayFloodTest, IsolatesNetworksWithIdenticalAddresses) {
  const struct {
    const char* what;
    Bytes frame;
    uint16_t in_port;
    std::vector<Copy> want;
  } cases[] = {
      {"red-1 -> 02:..:0b is red-3", vm_udp(T.kRed1, T.kRed3.mac, T.kRed3.ip).bytes(), kRed1Port,
       {{kUnderlayPort, T.kVtepB, kRedVni}}},
      {"blue-1 -> 02:..:0b is blue-3", vm_udp(T.kBlue1, T.kBlue3.mac, T.kBlue3.ip).bytes(), kBlue1Port,
       {{kUnderlayPort, T.kVtepB, kBlueVni}}},
      {"red-2 -> 02:..:0a is red-1", vm_udp(T.kRed2, T.kRed1.mac, T.kRed1.ip).bytes(), kRed2Port, {{kRed1Port}}},
      {"node-b's red frame for 02:..:0a is red-1's",
       tunnel(T.kVtepB, T.kNodeBMac, kRedVni, vm_udp(T.kRed3, T.kRed1.mac, T.kRed1.ip).bytes()), kUnderlayPort,
       {{kRed1Port}}},
      {"node-b's blue frame for 02:..:0a is blue-1's",
       tunnel(T.kVtepB, T.kNodeBMac, kBlueVni, vm_udp(T.kBlue3, T.kBlue1.mac, T.kBlue1.ip).bytes()), kUnderlayPort,
       {{kBlue1Port}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    clear();
    run(c.frame, {.in_port = c.in_port});
    ASSERT_EQ(sent().size(), c.want.size()) << drop_summary();
    EXPECT_EQ(copy_of(sent()[0]), c.want[0]);
  }
}

TEST_F(OverlayFloodTest, NobodyToFloodTo) {
  // Without blue's remote members, blue-1 is alone in its network.
  proto::NodeTables t = overlay_tables();
  for (proto::Network& n : *t.mutable_networks())
    if (n.name() == "blue") n.clear_flood_remote_vteps();
  use_tables(t, T.kNextHop);
  expect_case({"blue-1 alone", broadcast_from(T.kBlue1), Verdict::drop(DropReason::flood_no_members), {}, {},
               kBlue1Port});
}

TEST_F(OverlayFloodTest, CountsReplicasItHasNoMbufFor) {
  rte_mbuf* frame = to_mbuf(packet_pool(), broadcast_from(T.kRed1));
  ASSERT_NE(frame, nullptr);
  std::vector<rte_mbuf*> hoard;
  while (rte_mbuf* m = rte_pktmbuf_alloc(packet_pool())) hoard.push_back(m);
  rte_mbuf* const burst[] = {frame};
  run_mbufs(burst, {.in_port = kRed1Port});
  for (rte_mbuf* m : hoard) rte_pktmbuf_free(m);
  // Three members: two copies failed, the original went to the last one.
  EXPECT_EQ(drops(DropReason::flood_copy_failed), 2u) << drop_summary();
  EXPECT_EQ(sent().size(), 1u);
}

}  // namespace
}  // namespace weft::test
