// The test tools themselves: the builder's checksums and lengths against
// DPDK's own routines, pcap files through a round trip, and the field diff.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tests/packet/dissect.h"
#include "tests/packet/eal_env.h"
#include "tests/packet/packet_builder.h"
#include "tests/packet/pcap.h"

namespace weft::test {
namespace {

const Mac kMacA = mac("02:00:00:00:00:0a");
const Mac kMacB = mac("02:00:00:00:00:0b");

// DPDK verifies what the builder computed, in an mbuf (aligned headers).
struct MbufFrame {
  explicit MbufFrame(const Bytes& b) : m(to_mbuf(packet_pool(), b)) {}
  ~MbufFrame() { rte_pktmbuf_free(m); }
  template <typename T>
  const T* at(size_t off) const { return rte_pktmbuf_mtod_offset(m, const T*, off); }
  rte_mbuf* m;
};

TEST(PacketBuilder, ChecksumsAgreeWithDpdk) {
  struct Case {
    const char* what;
    Frame frame;
  };
  const Case cases[] = {
      {"ipv4 tcp", Frame().eth(kMacA, kMacB).ipv4(ip4("10.0.0.1"), ip4("10.0.0.2")).tcp(1, 2).payload(33)},
      {"ipv4 udp with options",
       Frame().eth(kMacA, kMacB).ipv4(ip4("10.0.0.1"), ip4("10.9.0.2"), {.options = {1, 1, 1, 0}})
           .udp(5, 6).payload(100)},
      {"ipv6 tcp", Frame().eth(kMacA, kMacB).ipv6(ip6("fd00::1"), ip6("fd00::2")).tcp(7, 8).payload(3)},
      {"ipv6 udp", Frame().eth(kMacA, kMacB).ipv6(ip6("fd00::1"), ip6("2001:db8::2")).udp(7, 8).payload(64)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Bytes b = c.frame.bytes();
    const LayerSpan ip = c.frame.layers()[1];
    MbufFrame f(b);
    ASSERT_NE(f.m, nullptr);
    if (ip.layer == Layer::kIpv4) {
      const auto* h = f.at<rte_ipv4_hdr>(ip.begin);
      EXPECT_EQ(rte_ipv4_cksum(h), 0) << "header checksum must verify to zero";  // over itself
      EXPECT_EQ(rte_be_to_cpu_16(h->total_length), b.size() - ip.begin);
      EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(h, f.at<void>(ip.end)), 0);
    } else {
      const auto* h = f.at<rte_ipv6_hdr>(ip.begin);
      EXPECT_EQ(rte_be_to_cpu_16(h->payload_len), b.size() - ip.end);
      EXPECT_EQ(rte_ipv6_udptcp_cksum_verify(h, f.at<void>(ip.end)), 0);
    }
  }
}

TEST(PacketBuilder, IcmpChecksums) {
  const Bytes v4 = Frame().eth(kMacA, kMacB).ipv4(ip4("10.0.0.1"), ip4("10.0.0.2")).icmp(8, 0, 1, 2)
                       .payload(56).bytes();
  EXPECT_EQ(inet_checksum(std::span(v4).subspan(34)), 0) << "ICMP sums to zero over itself";
  // ICMPv6 includes the pseudo header: DPDK's L4 verifier covers it.
  const Frame f6 = Frame().eth(kMacA, kMacB).ipv6(ip6("fd00::1"), ip6("fd00::2")).icmp(128, 0, 1, 2)
                       .payload(8);
  MbufFrame m(f6.bytes());
  EXPECT_EQ(rte_ipv6_udptcp_cksum_verify(m.at<rte_ipv6_hdr>(14), m.at<void>(54)), 0);
  EXPECT_EQ(f6.bytes()[20], IPPROTO_ICMPV6);
}

TEST(PacketBuilder, LengthsExcludePaddingAndNestVxlan) {
  const Frame f = Frame()
                      .eth(kMacA, kMacB)
                      .ipv4(ip4("172.31.0.1"), ip4("172.31.0.2"))
                      .udp(1, 4789)
                      .vxlan(5001)
                      .eth(kMacA, kMacB)
                      .ipv4(ip4("10.0.0.1"), ip4("10.0.0.2"))
                      .udp(3, 4)
                      .payload(2)
                      .pad_to(128);
  const Bytes b = f.bytes();
  ASSERT_EQ(b.size(), 128u);
  EXPECT_EQ((b[16] << 8) | b[17], 20 + 8 + 8 + 14 + 20 + 8 + 2) << "outer total length";
  EXPECT_EQ((b[38] << 8) | b[39], 8 + 8 + 14 + 20 + 8 + 2) << "outer udp length";
  EXPECT_EQ((b[46] << 16) | (b[47] << 8) | b[48], 5001) << "vni";
  EXPECT_EQ(f.span(Layer::kIpv4, 1).begin, 64u);
  EXPECT_EQ(f.span(Layer::kPadding).begin, 94u);
  EXPECT_EQ((b[66] << 8) | b[67], 20 + 8 + 2) << "inner total length";
}

TEST(Pcap, RoundTrip) {
  char dir[] = "/tmp/weft-pcap-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/t.pcap";
  const std::vector<Bytes> frames = {
      Frame().eth(kMacA, kMacB).ipv4(ip4("10.0.0.1"), ip4("10.0.0.2")).udp(1, 2).payload(3).bytes(),
      Bytes(60, 0xee),
      Bytes(1514, 0x11),
  };
  std::string error;
  ASSERT_TRUE(write_pcap(path, frames, &error)) << error;
  const PcapFile back = read_pcap(path);
  EXPECT_EQ(back.error, "");
  ASSERT_EQ(back.packets.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(back.packets[i].data, frames[i]);
    EXPECT_EQ(back.packets[i].orig_len, frames[i].size());
    EXPECT_EQ(back.packets[i].ts_ns, i * 1000);
  }

  // Cut the last record short: what came before is still read.
  ASSERT_EQ(truncate(path.c_str(), 24 + 16 + 60 + 16 + 60 + 16 + 100), 0);
  const PcapFile cut = read_pcap(path);
  EXPECT_EQ(cut.packets.size(), 2u);
  EXPECT_NE(cut.error.find("cut short"), std::string::npos) << cut.error;

  EXPECT_NE(read_pcap(std::string(dir) + "/missing.pcap").error, "");
  unlink(path.c_str());
  rmdir(dir);
}

TEST(Dissect, NamesTheFieldsThatDiffer) {
  const Frame base = Frame().eth(kMacA, kMacB).vlan(10).ipv4(ip4("10.0.0.1"), ip4("10.0.0.2"), {.ttl = 64})
                         .udp(1, 2).payload(4);
  const Frame other = Frame().eth(kMacA, kMacB).vlan(11).ipv4(ip4("10.0.0.1"), ip4("10.0.0.2"), {.ttl = 63})
                          .udp(1, 2).payload(4);
  EXPECT_EQ(packet_diff(base.bytes(), base.bytes()), "");
  const std::string diff = packet_diff(other.bytes(), base.bytes());
  EXPECT_NE(diff.find("vlan0.vid: got 11, want 10"), std::string::npos) << diff;
  EXPECT_NE(diff.find("ipv4.ttl: got 63, want 64"), std::string::npos) << diff;
  EXPECT_NE(diff.find("ipv4.checksum"), std::string::npos) << diff;
  EXPECT_EQ(diff.find("udp.sport"), std::string::npos) << diff;

  const Bytes vx = Frame().eth(kMacA, kMacB).ipv4(ip4("1.1.1.1"), ip4("2.2.2.2")).udp(1, 4789)
                       .vxlan(77).eth(kMacB, kMacA).arp({}).bytes();
  const std::string d = describe(vx);
  EXPECT_NE(d.find("vxlan.vni = 77"), std::string::npos) << d;
  EXPECT_NE(d.find("inner.arp.op = 1"), std::string::npos) << d;
}

}  // namespace
}  // namespace weft::test
