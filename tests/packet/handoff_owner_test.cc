// Connection ownership with several workers (dataplane/handoff/owner.h):
// both directions of a connection name one owner worker, however each
// arrives: a VM's frame on a vNIC, or the same connection's packet in
// VXLAN from a peer, whose outer headers (peer VTEP, UDP source port)
// differ per direction and per peer. An ICMP error about a connection
// names the connection's owner. Pure functions over packets built here:
// no EAL.

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <random>
#include <vector>

#include "dataplane/handoff/owner.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/vxlan/wire.h"
#include "tests/packet/packet_builder.h"

namespace weft::test {
namespace {

using dp::kAnyWorker;

constexpr int kConnections = 10000;

// Where one direction's packet came from.
enum class Via { kVnic, kTunnel };

struct Endpoint {
  Mac mac;
  uint32_t ip;
  uint16_t port;
};

struct Conn {
  uint8_t proto;
  uint32_t vni;
  Endpoint a, b;
};

Mac random_mac(std::mt19937& rng) {
  Mac m;
  for (auto& byte : m) byte = static_cast<uint8_t>(rng());
  m[0] = 0x02;  // unicast, locally administered
  return m;
}

// The frame `from` sends `to` in `c` (an echo request or reply for ICMP,
// the identifier as both ports).
Bytes frame(const Conn& c, const Endpoint& from, const Endpoint& to, bool reply) {
  Frame f;
  f.eth(from.mac, to.mac).ipv4(from.ip, to.ip);
  switch (c.proto) {
    case IPPROTO_TCP: f.tcp(from.port, to.port, {.flags = 0x10}); break;
    case IPPROTO_UDP: f.udp(from.port, to.port); break;
    default: f.icmp(reply ? 0 : 8, 0, c.a.port, 1); break;
  }
  return f.payload(16).bytes();
}

// `inner` in VXLAN from a random peer VTEP and UDP source port.
Bytes encapsulate(std::mt19937& rng, uint32_t vni, const Bytes& inner) {
  return Frame()
      .eth(random_mac(rng), mac("02:aa:00:00:00:01"))
      .ipv4(static_cast<uint32_t>(0xac1f0000u | (rng() & 0xffff)), ip4("172.31.0.1"))
      .udp(static_cast<uint16_t>(dp::kVxlanSrcPortMin + rng() % 16384), dp::kVxlanPort, {.checksum = 0})
      .vxlan(vni)
      .payload(inner)
      .bytes();
}

// The owner of `bytes` as the handoff stage sees it: the frame the flow
// cache will look up (the inner one of a tunnel packet) and its VNI.
unsigned owner(const Bytes& bytes, Via via, uint32_t vni, unsigned workers) {
  dp::PktMeta md{};
  const auto r = dp::parse_packet(bytes.data(), static_cast<uint32_t>(bytes.size()), md, via == Via::kTunnel);
  EXPECT_EQ(r, dp::DropReason::kNone);
  if (via == Via::kTunnel) {
    EXPECT_TRUE(md.outer.flags & dp::kFlagVxlan);
    EXPECT_EQ(md.vni, vni);
    return dp::packet_owner(bytes.data(), md.inner, md.vni, workers);
  }
  return dp::packet_owner(bytes.data(), md.outer, vni, workers);
}

std::vector<Conn> random_connections(std::mt19937& rng) {
  constexpr std::array<uint8_t, 3> kProtos = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
  std::vector<Conn> conns;
  for (int i = 0; i < kConnections; ++i) {
    Conn c;
    c.proto = kProtos[rng() % kProtos.size()];
    c.vni = static_cast<uint32_t>(1 + rng() % ((1u << 24) - 1));
    c.a = {random_mac(rng), static_cast<uint32_t>(0x0a000000u | (rng() & 0xffffff)), static_cast<uint16_t>(1024 + rng() % 64000)};
    c.b = {random_mac(rng), static_cast<uint32_t>(0x0a000000u | (rng() & 0xffffff)), static_cast<uint16_t>(1 + rng() % 65535)};
    conns.push_back(c);
  }
  return conns;
}

TEST(HandoffOwner, BothDirectionsOfEveryConnectionHaveOneOwner) {
  std::mt19937 rng(16);
  const std::vector<Conn> conns = random_connections(rng);
  for (unsigned workers : {2u, 3u, 4u}) {
    std::vector<int> owned(workers);
    for (const Conn& c : conns) {
      const Bytes forward = frame(c, c.a, c.b, false);
      const Bytes reverse = frame(c, c.b, c.a, true);
      const unsigned o = owner(forward, Via::kVnic, c.vni, workers);
      ASSERT_LT(o, workers);
      ++owned[o];
      // Each direction from a vNIC or a tunnel, every tunnel packet with
      // outer headers of its own.
      EXPECT_EQ(owner(reverse, Via::kVnic, c.vni, workers), o);
      EXPECT_EQ(owner(encapsulate(rng, c.vni, reverse), Via::kTunnel, c.vni, workers), o);
      EXPECT_EQ(owner(encapsulate(rng, c.vni, forward), Via::kTunnel, c.vni, workers), o);
      // A router's ICMP error about a packet a sent goes back to a, with
      // the quoted packet's connection as its owner.
      const Bytes quoted(forward.begin() + 14, forward.begin() + 14 + 20 + 8);
      const Bytes error = Frame()
                              .eth(c.b.mac, c.a.mac)
                              .ipv4(0x0a0000feu, c.a.ip)
                              .icmp(3, 1)
                              .payload(quoted)
                              .bytes();
      EXPECT_EQ(owner(error, Via::kVnic, c.vni, workers), o);
      EXPECT_EQ(owner(encapsulate(rng, c.vni, error), Via::kTunnel, c.vni, workers), o);
    }
    // ... and the connections spread evenly: no worker owns all.
    for (unsigned w = 0; w < workers; ++w)
      EXPECT_NEAR(owned[w], kConnections / workers, kConnections / workers / 10) << "worker " << w << " of " << workers;
  }
}

TEST(HandoffOwner, APacketOfNoConnectionIsHandledWhereItArrives) {
  const Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b");
  const uint32_t x = ip4("10.0.0.1"), y = ip4("10.0.0.2");
  const Bytes nobody[] = {
      Frame().eth(a, mac("ff:ff:ff:ff:ff:ff")).arp({.op = 1, .sha = a, .spa = x, .tpa = y}).bytes(),
      Frame().eth(a, b).ipv4(x, y).icmp(13, 0).payload(12).bytes(),  // timestamp: no connection
      Frame().eth(a, b).ipv4(x, y, {.more_fragments = true}).udp(1, 2).payload(8).bytes(),
  };
  for (const Bytes& f : nobody) EXPECT_EQ(owner(f, Via::kVnic, 5001, 2), kAnyWorker);
}

TEST(HandoffOwner, OwnersSpreadByTheHashsHighBits) {
  EXPECT_EQ(dp::owner_of_hash(0, 2), 0u);
  EXPECT_EQ(dp::owner_of_hash(0x7fffffffu, 2), 0u);
  EXPECT_EQ(dp::owner_of_hash(0x80000000u, 2), 1u);
  EXPECT_EQ(dp::owner_of_hash(0xffffffffu, 3), 2u);
  EXPECT_EQ(dp::owner_of_hash(0xffffffffu, 1), 0u);
}

}  // namespace
}  // namespace weft::test
