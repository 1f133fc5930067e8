// Broadcast and multicast from a VM are limited per port (issue 17, item
// 4), through weftd's policy-mode graph (flowcache_fixture.h) at the
// default limit, 100 frames a second with bursts of 50, on the fake clock
// of one tick per millisecond: a storm from red-1 is cut to the burst, then
// to the rate, and counted as portsec_broadcast_limit; red-2's broadcast
// and ARP, and blue-1's, still pass meanwhile; unicast from red-1 is never
// limited.

#include <gtest/gtest.h>
#include <rte_tcp.h>

#include "dataplane/portsec/port_security.h"
#include "tests/packet/flowcache_fixture.h"

namespace weft::test {
namespace {

const Topo T;
using dp::DropReason;

constexpr uint64_t kBurst = dp::PortSecurityStage::kDefaultBroadcastLimit.burst;
constexpr uint64_t kRate = dp::PortSecurityStage::kDefaultBroadcastLimit.rate;
static_assert(kBurst == 50 && kRate == 100, "the test's arithmetic assumes the default limit");

class PortsecBroadcastTest : public FlowCacheFixture {
 protected:
  // A broadcast UDP datagram to port 53 (group db lets it in on red-2).
  // The address is made here, not as a global: Topo's members are
  // initialised dynamically, and a global of this file may come first.
  static Bytes broadcast_from(const Addr& vm) {
    return udp_frame(vm, Addr{Topo::kBroadcast, ip4("10.0.1.255")}, 5353, 53);
  }
  // Who has `ip`? from `vm`, to the broadcast address.
  static Bytes arp_request(const Addr& vm, uint32_t ip) {
    Frame f;
    f.eth(vm.mac, T.kBroadcast).arp({.sha = vm.mac, .spa = vm.ip, .tpa = ip}).pad_to(60);
    return f.bytes();
  }

  // Sends `frame` on `port` and says whether the limit let it through.
  bool passes(const Bytes& frame, uint16_t port) {
    send(frame, port);
    return drops(DropReason::portsec_broadcast_limit) == 0;
  }
  // Sends `count` copies of `frame` at the current time: how many passed.
  uint64_t storm(const Bytes& frame, uint16_t port, uint64_t count) {
    uint64_t passed = 0;
    for (uint64_t i = 0; i < count; ++i) passed += passes(frame, port) ? 1 : 0;
    return passed;
  }
};

TEST_F(PortsecBroadcastTest, StormIsCutToTheBurstThenTheRate) {
  at(10 * kSec);
  const Bytes storm_frame = broadcast_from(T.kRed1);
  // A storm at one instant: the burst passes, the rest is dropped and counted.
  EXPECT_EQ(storm(storm_frame, kRed1Port, 1000), kBurst);
  send(storm_frame, kRed1Port);
  EXPECT_EQ(drops_at(dp::NodeId::kPortSecurity, DropReason::portsec_broadcast_limit), 1u)
      << drop_summary();

  // Meanwhile red-2's broadcast passes port security (the bucket is
  // red-1's alone; group web then refuses its copies, which is no matter
  // here) and its ARP request for red-1 is answered.
  EXPECT_TRUE(passes(broadcast_from(T.kRed2), kRed2Port)) << drop_summary();
  const Outcome arp = send(arp_request(T.kRed2, T.kRed1.ip), kRed2Port);
  EXPECT_TRUE(arp.delivered_to(kRed2Port)) << arp.drops;
  // blue-1, in another network, as well.
  EXPECT_TRUE(passes(broadcast_from(T.kBlue1), kBlue1Port)) << drop_summary();
  // Unicast from red-1 is not broadcast: never limited.
  const Outcome dns = send(udp_frame(T.kRed1, T.kRed2, 5353, 53), kRed1Port);
  EXPECT_TRUE(dns.delivered_to(kRed2Port)) << dns.drops;

  // Then the storm goes on, one frame a millisecond for two seconds: the
  // rate, 100 a second, gets through.
  uint64_t passed = 0;
  for (uint64_t ms = 1; ms <= 2 * kSec; ++ms) {
    at(10 * kSec + ms);
    passed += passes(storm_frame, kRed1Port) ? 1 : 0;
  }
  EXPECT_EQ(passed, 2 * kRate);

  // Its ARP requests count too: the bucket is empty.
  EXPECT_FALSE(passes(arp_request(T.kRed1, T.kRed2.ip), kRed1Port));

  // A quiet second fills the bucket again, to the burst and no more.
  at(14 * kSec);
  EXPECT_EQ(storm(storm_frame, kRed1Port, 1000), kBurst);
}

TEST_F(PortsecBroadcastTest, PassingBroadcastIsFlooded) {
  at(10 * kSec);
  // Within the burst, red-1's broadcast reaches red-2 (db lets udp 53 in).
  const Outcome o = send(broadcast_from(T.kRed1), kRed1Port);
  bool to_red2 = false;
  for (const Captured& c : o.sent) to_red2 |= c.port == kRed2Port;
  EXPECT_TRUE(to_red2) << o.drops;
}

}  // namespace
}  // namespace weft::test
