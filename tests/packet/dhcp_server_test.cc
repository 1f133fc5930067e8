// The worker's DHCP server (dataplane/dhcp/dhcp_server.h) over real client
// packets built here byte by byte: every message kind's reply checked field
// by field (BOOTP fields, every option and its value, where it goes, both
// checksums recomputed here), every refusal, and truncation at every byte.
// Pure function: no pipeline, but the packet builder and the parser.

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/dhcp/dhcp_server.h"
#include "dataplane/pipeline/parse.h"
#include "tests/packet/packet_builder.h"

namespace weft::dp {
inline void PrintTo(DhcpVerdict v, std::ostream* os) {
  *os << dhcp_verdict_name(v);
}
}  // namespace weft::dp

namespace weft::test {
namespace {

using dp::DhcpLease;
using dp::DhcpMessageType;
using dp::DhcpVerdict;

const Mac kVmMac = mac("02:00:0a:01:01:0a");
const Mac kOtherMac = mac("02:00:0a:01:01:0b");
const Mac kRouterMac = mac("02:fe:00:00:00:01");
const Mac kBroadcastMac = mac("ff:ff:ff:ff:ff:ff");
const uint32_t kVmIp = ip4("10.1.1.10");
const uint32_t kOtherIp = ip4("10.1.1.99");
const uint32_t kGateway = ip4("10.1.1.1");
const uint32_t kOtherServer = ip4("10.1.1.2");
const uint32_t kDns1 = ip4("10.1.0.2");
const uint32_t kDns2 = ip4("8.8.8.8");
constexpr uint32_t kBroadcastIp = 0xffffffff;
constexpr uint32_t kXid = 0xdeadbeef;
constexpr uint32_t kLeaseSeconds = 86400;

rte_ether_addr ether(const Mac& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.data(), m.size());
  return a;
}

DhcpLease make_lease() {
  DhcpLease l;
  l.client_mac = ether(kVmMac);
  l.ip = kVmIp;
  l.prefix_len = 24;
  l.mtu = 1450;
  l.router = kGateway;
  l.lease_seconds = kLeaseSeconds;
  l.dns = {kDns1, kDns2};
  l.dns_count = 2;
  const std::string host = "web-1";
  std::memcpy(l.hostname.data(), host.data(), host.size());
  l.hostname_len = static_cast<uint8_t>(host.size());
  return l;
}

// --- the client's message, byte by byte --------------------------------------

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

Bytes opt(uint8_t code, const Bytes& value) {
  Bytes b;
  b.reserve(2 + value.size());
  b.push_back(code);
  b.push_back(static_cast<uint8_t>(value.size()));
  for (uint8_t v : value) b.push_back(v);
  return b;
}
Bytes opt_ip(uint8_t code, uint32_t ip) {
  Bytes v;
  put32(v, ip);
  return opt(code, v);
}
Bytes opt_type(DhcpMessageType t) {
  return opt(dp::kDhcpOptMessageType, {static_cast<uint8_t>(t)});
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts)
    for (uint8_t v : p) b.push_back(v);
  return b;
}
const Bytes kEnd = {dp::kDhcpOptEnd};

struct ClientMessage {
  uint8_t op = dp::kBootRequest;
  uint8_t htype = dp::kBootpHtypeEthernet;
  uint8_t hlen = 6;
  uint32_t xid = kXid;
  uint16_t secs = 7;
  uint16_t flags = 0;
  uint32_t ciaddr = 0;
  uint32_t giaddr = 0;
  Mac chaddr = kVmMac;
  uint32_t cookie = dp::kDhcpMagicCookie;
  Bytes options;  // raw, End included by the caller

  Bytes bytes() const {
    Bytes b{op, htype, hlen, 0};
    put32(b, xid);
    put16(b, secs);
    put16(b, flags);
    put32(b, ciaddr);
    put32(b, 0);  // yiaddr
    put32(b, 0);  // siaddr
    put32(b, giaddr);
    b.insert(b.end(), chaddr.begin(), chaddr.end());
    b.resize(b.size() + 10 + 64 + 128);  // chaddr padding, sname, file
    put32(b, cookie);
    b.insert(b.end(), options.begin(), options.end());
    return b;
  }
};

ClientMessage discover() {
  return {.options = cat({opt_type(DhcpMessageType::kDiscover), kEnd})};
}

// The frame a VM sends: from 0.0.0.0 to broadcast unless it has an address.
Frame client_frame(const ClientMessage& m, uint32_t src = 0, uint32_t dst = kBroadcastIp,
                   uint16_t sport = dp::kDhcpClientPort, uint16_t dport = dp::kDhcpServerPort) {
  return Frame()
      .eth(kVmMac, dst == kBroadcastIp ? kBroadcastMac : kRouterMac)
      .ipv4(src, dst)
      .udp(sport, dport)
      .payload(m.bytes());
}

// --- running it ----------------------------------------------------------------

struct Answer {
  DhcpVerdict verdict;
  Bytes reply;  // empty unless answered
};

dp::FrameLayers layers_of(const Bytes& frame) {
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(frame.data(), static_cast<uint32_t>(frame.size()), md, false),
            dp::DropReason::kNone);
  return md.outer;
}

// Runs the server on data[0, len) (an exactly sized copy, so ASan sees any
// read past it) with the layers `f`.
Answer answer_with(const Bytes& frame, size_t len, const dp::FrameLayers& f,
                   const DhcpLease& lease = make_lease(), uint32_t out_cap = dp::kDhcpReplyMaxLen) {
  const Bytes data(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(len));
  std::vector<uint8_t> out(out_cap, 0xa5);
  uint32_t out_len = 12345;
  const DhcpVerdict v = dp::dhcp_answer(data.data(), static_cast<uint32_t>(data.size()), f, lease,
                                        ether(kRouterMac), out.data(), out_cap, out_len);
  EXPECT_EQ(dp::dhcp_replied(v), out_len != 0) << dp::dhcp_verdict_name(v);
  EXPECT_LE(out_len, out_cap);
  if (out_len == 0) {
    // Refused or consumed: the buffer is untouched.
    for (uint8_t byte : out) EXPECT_EQ(byte, 0xa5);
    return {v, {}};
  }
  out.resize(out_len);
  return {v, out};
}

Answer answer(const Bytes& frame, const DhcpLease& lease = make_lease()) {
  return answer_with(frame, frame.size(), layers_of(frame), lease);
}

// --- reading the reply --------------------------------------------------------


constexpr size_t kIp = 14, kUdp = 34, kBootp = 42;
constexpr size_t kOptions = kBootp + dp::kDhcpOptionsOffset;

// The reply's options, code -> value, walked independently of the server;
// fails the test on a malformed list or a duplicate, and on anything but
// Pad after End.
std::map<uint8_t, Bytes> options_of(const Bytes& r) {
  std::map<uint8_t, Bytes> out;
  size_t i = kOptions;
  bool ended = false;
  while (i < r.size()) {
    const uint8_t code = r[i];
    if (ended) {
      EXPECT_EQ(code, dp::kDhcpOptPad) << "byte after End at " << i;
      ++i;
      continue;
    }
    if (code == dp::kDhcpOptPad) {
      ++i;
      continue;
    }
    if (code == dp::kDhcpOptEnd) {
      ended = true;
      ++i;
      continue;
    }
    EXPECT_LT(i + 1, r.size());
    const size_t len = r.at(i + 1);
    EXPECT_LE(i + 2 + len, r.size()) << "option " << int{code};
    EXPECT_FALSE(out.count(code)) << "option " << int{code} << " twice";
    out[code] = Bytes(r.begin() + static_cast<ptrdiff_t>(i + 2),
                      r.begin() + static_cast<ptrdiff_t>(i + 2 + len));
    i += 2 + len;
  }
  EXPECT_TRUE(ended) << "no End option";
  return out;
}

Bytes ip_bytes(uint32_t ip) {
  Bytes b;
  put32(b, ip);
  return b;
}

// Ethernet, IPv4 and UDP headers of a reply, and both checksums, recomputed
// here from the bytes (RFC 1071 over the header; RFC 768's pseudo-header).
void expect_headers(const Bytes& r, const Mac& eth_dst, uint32_t ip_dst) {
  ASSERT_GE(r.size(), kOptions);
  EXPECT_EQ(mac_at(r, 0), eth_dst);
  EXPECT_EQ(mac_at(r, 6), kRouterMac);
  EXPECT_EQ(be16_at(r, 12), RTE_ETHER_TYPE_IPV4);

  EXPECT_EQ(r[kIp], 0x45);
  EXPECT_EQ(be16_at(r, kIp + 2), r.size() - kIp) << "IP total length";
  EXPECT_EQ(be16_at(r, kIp + 6) & 0x3fff, 0) << "not a fragment";
  EXPECT_EQ(r[kIp + 8], 64) << "TTL";
  EXPECT_EQ(r[kIp + 9], IPPROTO_UDP);
  EXPECT_EQ(be32_at(r, kIp + 12), kGateway);
  EXPECT_EQ(be32_at(r, kIp + 16), ip_dst);
  EXPECT_EQ(inet_checksum({r.data() + kIp, 20}), 0) << "IP header checksum";

  EXPECT_EQ(be16_at(r, kUdp), dp::kDhcpServerPort);
  EXPECT_EQ(be16_at(r, kUdp + 2), dp::kDhcpClientPort);
  EXPECT_EQ(be16_at(r, kUdp + 4), r.size() - kUdp) << "UDP length";
  EXPECT_NE(be16_at(r, kUdp + 6), 0) << "UDP checksum present";
  Bytes pseudo(r.begin() + kIp + 12, r.begin() + kIp + 20);  // src, dst
  pseudo.push_back(0);
  pseudo.push_back(IPPROTO_UDP);
  put16(pseudo, static_cast<uint16_t>(r.size() - kUdp));
  pseudo.insert(pseudo.end(), r.begin() + kUdp, r.end());
  EXPECT_EQ(inet_checksum(pseudo), 0) << "UDP checksum";

  // BOOTP is padded to its 300-byte minimum, and the parser takes the whole.
  EXPECT_GE(r.size() - kBootp, dp::kBootpMinLen);
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(r.data(), static_cast<uint32_t>(r.size()), md, false),
            dp::DropReason::kNone);
}

// The fixed BOOTP fields of a reply (RFC 2131 table 3).
void expect_bootp(const Bytes& r, uint32_t yiaddr, uint32_t ciaddr, uint16_t flags,
                  const Mac& chaddr = kVmMac) {
  EXPECT_EQ(r[kBootp + 0], dp::kBootReply) << "op";
  EXPECT_EQ(r[kBootp + 1], 1) << "htype";
  EXPECT_EQ(r[kBootp + 2], 6) << "hlen";
  EXPECT_EQ(r[kBootp + 3], 0) << "hops";
  EXPECT_EQ(be32_at(r, kBootp + 4), kXid) << "xid echoed";
  EXPECT_EQ(be16_at(r, kBootp + 8), 0) << "secs";
  EXPECT_EQ(be16_at(r, kBootp + 10), flags) << "flags echoed";
  EXPECT_EQ(be32_at(r, kBootp + 12), ciaddr) << "ciaddr";
  EXPECT_EQ(be32_at(r, kBootp + 16), yiaddr) << "yiaddr";
  EXPECT_EQ(be32_at(r, kBootp + 20), 0u) << "siaddr";
  EXPECT_EQ(be32_at(r, kBootp + 24), 0u) << "giaddr";
  EXPECT_EQ(mac_at(r, kBootp + 28), chaddr) << "chaddr";
  for (size_t i = kBootp + 34; i < kBootp + 236; ++i)
    EXPECT_EQ(r[i], 0) << "chaddr pad, sname, file at " << i;
  EXPECT_EQ(be32_at(r, kBootp + 236), dp::kDhcpMagicCookie);
}

// The options of an OFFER or ACK for make_lease(); INFORM's ACK has no lease times.
void expect_lease_options(const Bytes& r, DhcpMessageType type, bool lease_times = true) {
  const auto o = options_of(r);
  EXPECT_EQ(o.at(dp::kDhcpOptMessageType), Bytes{static_cast<uint8_t>(type)});
  EXPECT_EQ(o.at(dp::kDhcpOptServerId), ip_bytes(kGateway));
  if (lease_times) {
    EXPECT_EQ(o.at(dp::kDhcpOptLeaseTime), ip_bytes(kLeaseSeconds));
    EXPECT_EQ(o.at(dp::kDhcpOptRenewalTime), ip_bytes(kLeaseSeconds / 2));
    EXPECT_EQ(o.at(dp::kDhcpOptRebindingTime), ip_bytes(kLeaseSeconds * 7 / 8));
  } else {
    EXPECT_FALSE(o.count(dp::kDhcpOptLeaseTime));
    EXPECT_FALSE(o.count(dp::kDhcpOptRenewalTime));
    EXPECT_FALSE(o.count(dp::kDhcpOptRebindingTime));
  }
  EXPECT_EQ(o.at(dp::kDhcpOptSubnetMask), ip_bytes(0xffffff00));
  EXPECT_EQ(o.at(dp::kDhcpOptRouter), ip_bytes(kGateway));
  EXPECT_EQ(o.at(dp::kDhcpOptDns), cat({ip_bytes(kDns1), ip_bytes(kDns2)}));
  EXPECT_EQ(o.at(dp::kDhcpOptInterfaceMtu), (Bytes{0x05, 0xaa}));  // 1450
  EXPECT_EQ(o.at(dp::kDhcpOptHostname), (Bytes{'w', 'e', 'b', '-', '1'}));
  EXPECT_EQ(o.size(), lease_times ? 10u : 7u);
}

// --- answers ------------------------------------------------------------------

TEST(DhcpServer, DiscoverGetsAnOfferUnicastToItsAddress) {
  const Answer a = answer(client_frame(discover()).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  // No broadcast flag, no ciaddr: unicast to yiaddr at chaddr (§4.1).
  expect_headers(a.reply, kVmMac, kVmIp);
  expect_bootp(a.reply, kVmIp, 0, 0);
  expect_lease_options(a.reply, DhcpMessageType::kOffer);
}

TEST(DhcpServer, DiscoverWithTheBroadcastFlagGetsABroadcastOffer) {
  ClientMessage m = discover();
  m.flags = dp::kBootpFlagBroadcast;
  const Answer a = answer(client_frame(m).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  expect_headers(a.reply, kBroadcastMac, kBroadcastIp);
  expect_bootp(a.reply, kVmIp, 0, dp::kBootpFlagBroadcast);
  expect_lease_options(a.reply, DhcpMessageType::kOffer);
}

TEST(DhcpServer, DiscoverAskingForAnotherAddressIsOfferedThePorts) {
  ClientMessage m = discover();
  m.options = cat({opt_type(DhcpMessageType::kDiscover), opt_ip(dp::kDhcpOptRequestedIp, kOtherIp),
                   opt(dp::kDhcpOptParamRequest, {1, 3, 6, 15}), kEnd});
  const Answer a = answer(client_frame(m).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  expect_bootp(a.reply, kVmIp, 0, 0);
}

TEST(DhcpServer, SelectingRequestForOurOfferIsAcked) {
  ClientMessage m{
      .flags = dp::kBootpFlagBroadcast,
      .options = cat({opt_type(DhcpMessageType::kRequest), opt_ip(dp::kDhcpOptServerId, kGateway),
                      opt_ip(dp::kDhcpOptRequestedIp, kVmIp), kEnd})};
  const Answer a = answer(client_frame(m).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::ack);
  expect_headers(a.reply, kBroadcastMac, kBroadcastIp);
  expect_bootp(a.reply, kVmIp, 0, dp::kBootpFlagBroadcast);
  expect_lease_options(a.reply, DhcpMessageType::kAck);
}

TEST(DhcpServer, SelectingRequestForAnotherServersOfferGetsNoAnswer) {
  ClientMessage m{.options = cat({opt_type(DhcpMessageType::kRequest),
                                  opt_ip(dp::kDhcpOptServerId, kOtherServer),
                                  opt_ip(dp::kDhcpOptRequestedIp, kVmIp), kEnd})};
  EXPECT_EQ(answer(client_frame(m).bytes()).verdict, DhcpVerdict::for_other_server);
  EXPECT_FALSE(dp::dhcp_refused(DhcpVerdict::for_other_server));
}

// A NAK: broadcast (§4.1), yiaddr and ciaddr 0, only type and server id.
void expect_nak(const Answer& a, uint16_t flags = 0) {
  ASSERT_EQ(a.verdict, DhcpVerdict::nak);
  expect_headers(a.reply, kBroadcastMac, kBroadcastIp);
  expect_bootp(a.reply, 0, 0, flags);
  const auto o = options_of(a.reply);
  EXPECT_EQ(o.at(dp::kDhcpOptMessageType), Bytes{static_cast<uint8_t>(DhcpMessageType::kNak)});
  EXPECT_EQ(o.at(dp::kDhcpOptServerId), ip_bytes(kGateway));
  EXPECT_EQ(o.size(), 2u);
}

TEST(DhcpServer, SelectingRequestForAnotherAddressIsNaked) {
  ClientMessage m{
      .options = cat({opt_type(DhcpMessageType::kRequest), opt_ip(dp::kDhcpOptServerId, kGateway),
                      opt_ip(dp::kDhcpOptRequestedIp, kOtherIp), kEnd})};
  expect_nak(answer(client_frame(m).bytes()));
}

TEST(DhcpServer, InitRebootRequestIsAckedForItsAddressAndNakedForAnother) {
  ClientMessage m{.options = cat({opt_type(DhcpMessageType::kRequest),
                                  opt_ip(dp::kDhcpOptRequestedIp, kVmIp), kEnd})};
  const Answer a = answer(client_frame(m).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::ack);
  expect_headers(a.reply, kVmMac, kVmIp);
  expect_bootp(a.reply, kVmIp, 0, 0);
  expect_lease_options(a.reply, DhcpMessageType::kAck);

  m.flags = dp::kBootpFlagBroadcast;
  m.options =
      cat({opt_type(DhcpMessageType::kRequest), opt_ip(dp::kDhcpOptRequestedIp, kOtherIp), kEnd});
  expect_nak(answer(client_frame(m).bytes()), dp::kBootpFlagBroadcast);
}

TEST(DhcpServer, RenewingRequestIsAckedUnicastToCiaddr) {
  // RENEWING: unicast from its address to the server, ciaddr set, no 50/54.
  ClientMessage m{.ciaddr = kVmIp, .options = cat({opt_type(DhcpMessageType::kRequest), kEnd})};
  const Answer a = answer(client_frame(m, kVmIp, kGateway).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::ack);
  expect_headers(a.reply, kVmMac, kVmIp);
  expect_bootp(a.reply, kVmIp, kVmIp, 0);  // ciaddr echoed in an ACK
  expect_lease_options(a.reply, DhcpMessageType::kAck);

  // Even with the broadcast flag, ciaddr wins (§4.1 checks it first).
  m.flags = dp::kBootpFlagBroadcast;
  const Answer b = answer(client_frame(m, kVmIp, kBroadcastIp).bytes());
  ASSERT_EQ(b.verdict, DhcpVerdict::ack);
  expect_headers(b.reply, kVmMac, kVmIp);
}

TEST(DhcpServer, RenewingAnAddressThePolicyNoLongerGivesIsNaked) {
  ClientMessage m{.ciaddr = kOtherIp, .options = cat({opt_type(DhcpMessageType::kRequest), kEnd})};
  expect_nak(answer(client_frame(m, kOtherIp, kGateway).bytes()));
}

TEST(DhcpServer, RequestNamingNoAddressIsRefused) {
  ClientMessage m{.options = cat({opt_type(DhcpMessageType::kRequest), kEnd})};
  EXPECT_EQ(answer(client_frame(m).bytes()).verdict, DhcpVerdict::request_without_address);
}

TEST(DhcpServer, InformIsAckedWithoutLeaseOrYiaddr) {
  ClientMessage m{.ciaddr = kVmIp, .options = cat({opt_type(DhcpMessageType::kInform), kEnd})};
  const Answer a = answer(client_frame(m, kVmIp, kBroadcastIp).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::inform_ack);
  expect_headers(a.reply, kVmMac, kVmIp);
  expect_bootp(a.reply, 0, kVmIp, 0);
  expect_lease_options(a.reply, DhcpMessageType::kAck, /*lease_times=*/false);
}

TEST(DhcpServer, InformWithoutCiaddrIsAckedToBroadcast) {
  // No ciaddr and no yiaddr to send to: broadcast, not 0.0.0.0.
  ClientMessage m{.options = cat({opt_type(DhcpMessageType::kInform), kEnd})};
  const Answer a = answer(client_frame(m).bytes());
  ASSERT_EQ(a.verdict, DhcpVerdict::inform_ack);
  expect_headers(a.reply, kBroadcastMac, kBroadcastIp);
  expect_bootp(a.reply, 0, 0, 0);
  expect_lease_options(a.reply, DhcpMessageType::kAck, /*lease_times=*/false);
}

TEST(DhcpServer, ReleaseAndDeclineAreConsumedWithoutAnswer) {
  ClientMessage release{.ciaddr = kVmIp,
                        .options = cat({opt_type(DhcpMessageType::kRelease),
                                        opt_ip(dp::kDhcpOptServerId, kGateway), kEnd})};
  EXPECT_EQ(answer(client_frame(release, kVmIp, kGateway).bytes()).verdict, DhcpVerdict::released);
  ClientMessage decline{
      .options = cat({opt_type(DhcpMessageType::kDecline), opt_ip(dp::kDhcpOptRequestedIp, kVmIp),
                      opt_ip(dp::kDhcpOptServerId, kGateway), kEnd})};
  EXPECT_EQ(answer(client_frame(decline).bytes()).verdict, DhcpVerdict::declined);
  EXPECT_FALSE(dp::dhcp_refused(DhcpVerdict::released));
  EXPECT_FALSE(dp::dhcp_refused(DhcpVerdict::declined));
}

TEST(DhcpServer, OptionalOptionsAreLeftOutWhenTheLeaseHasNone) {
  DhcpLease lease = make_lease();
  lease.dns_count = 0;
  lease.mtu = 0;
  lease.hostname_len = 0;
  lease.prefix_len = 16;
  const Answer a = answer(client_frame(discover()).bytes(), lease);
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  expect_headers(a.reply, kVmMac, kVmIp);
  const auto o = options_of(a.reply);
  EXPECT_FALSE(o.count(dp::kDhcpOptDns));
  EXPECT_FALSE(o.count(dp::kDhcpOptInterfaceMtu));
  EXPECT_FALSE(o.count(dp::kDhcpOptHostname));
  EXPECT_EQ(o.at(dp::kDhcpOptSubnetMask), ip_bytes(0xffff0000));
  EXPECT_EQ(o.size(), 7u);
}

TEST(DhcpServer, LongestOptionsFitTheAdvertisedBuffer) {
  DhcpLease lease = make_lease();
  lease.dns = {1, 2, 3, 4};
  lease.dns_count = 9;  // more than kDhcpMaxDns: the first four
  lease.hostname.fill('h');
  lease.hostname_len = 200;  // more than kDhcpMaxHostname: cut to it
  lease.prefix_len = 32;
  const Bytes frame = client_frame(discover()).bytes();
  const Answer a = answer_with(frame, frame.size(), layers_of(frame), lease, dp::kDhcpReplyMaxLen);
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  EXPECT_EQ(a.reply.size(), dp::kDhcpReplyMaxLen);
  expect_headers(a.reply, kVmMac, kVmIp);
  const auto o = options_of(a.reply);
  EXPECT_EQ(o.at(dp::kDhcpOptDns), cat({ip_bytes(1), ip_bytes(2), ip_bytes(3), ip_bytes(4)}));
  EXPECT_EQ(o.at(dp::kDhcpOptHostname), Bytes(dp::kDhcpMaxHostname, 'h'));
  EXPECT_EQ(o.at(dp::kDhcpOptSubnetMask), ip_bytes(0xffffffff));

  // One byte short: no room, and nothing written.
  EXPECT_EQ(
      answer_with(frame, frame.size(), layers_of(frame), lease, dp::kDhcpReplyMaxLen - 1).verdict,
      DhcpVerdict::no_room);
}

TEST(DhcpServer, InfiniteLeaseHasInfiniteRenewalAndRebinding) {
  DhcpLease lease = make_lease();
  lease.lease_seconds = dp::kDhcpInfiniteLease;
  const Answer a = answer(client_frame(discover()).bytes(), lease);
  ASSERT_EQ(a.verdict, DhcpVerdict::offer);
  const auto o = options_of(a.reply);
  EXPECT_EQ(o.at(dp::kDhcpOptLeaseTime), ip_bytes(0xffffffff));
  EXPECT_EQ(o.at(dp::kDhcpOptRenewalTime), ip_bytes(0xffffffff));
  EXPECT_EQ(o.at(dp::kDhcpOptRebindingTime), ip_bytes(0xffffffff));
}

TEST(DhcpServer, PadsOverloadAndRepeatsAreReadAsTheRfcSays) {
  // Pad before anything, an overload option (ignored: sname and file are
  // not read), a second message type (the first counts), no End at all.
  ClientMessage m{.options = cat({{0, 0, 0},
                                  opt(dp::kDhcpOptOverload, {3}),
                                  opt_type(DhcpMessageType::kDiscover),
                                  opt_type(DhcpMessageType::kRelease),
                                  opt(dp::kDhcpOptClientId, {1, 2, 0, 0x0a, 1, 1, 0x0a})})};
  EXPECT_EQ(answer(client_frame(m).bytes()).verdict, DhcpVerdict::offer);
}

// --- refusals -----------------------------------------------------------------

struct RefusalCase {
  std::string what;
  Bytes frame;
  DhcpVerdict expect;
  Bytes layers_from = {};  // parse this frame for the layers instead (the parser drops `frame`)
};

TEST(DhcpServer, RefusesEveryMalformedOrForeignMessageByName) {
  auto with = [](auto change) {
    ClientMessage m = discover();
    change(m);
    return client_frame(m).bytes();
  };
  Bytes long_udp = client_frame(discover()).bytes();
  poke16(long_udp, kUdp + 4, static_cast<uint16_t>(long_udp.size() - kUdp + 1));
  const RefusalCase cases[] = {
      {"server to client port", client_frame(discover(), 0, kBroadcastIp, 67, 68).bytes(),
       DhcpVerdict::not_dhcp},
      {"client port to client port", client_frame(discover(), 0, kBroadcastIp, 68, 68).bytes(),
       DhcpVerdict::not_dhcp},
      {"TCP to port 67",
       Frame()
           .eth(kVmMac, kBroadcastMac)
           .ipv4(0, kBroadcastIp)
           .tcp(68, 67)
           .payload(discover().bytes())
           .bytes(),
       DhcpVerdict::not_dhcp},
      {"a first fragment",
       Frame()
           .eth(kVmMac, kBroadcastMac)
           .ipv4(0, kBroadcastIp, {.more_fragments = true})
           .udp(68, 67)
           .payload(discover().bytes())
           .bytes(),
       DhcpVerdict::not_dhcp},
      {"UDP length past the data", long_udp, DhcpVerdict::truncated,
       client_frame(discover()).bytes()},
      {"BOOTP without the cookie",
       Frame()
           .eth(kVmMac, kBroadcastMac)
           .ipv4(0, kBroadcastIp)
           .udp(68, 67)
           .payload(Bytes(236, 0))
           .bytes(),
       DhcpVerdict::truncated},
      {"a BOOTREPLY", with([](ClientMessage& m) { m.op = dp::kBootReply; }),
       DhcpVerdict::not_boot_request},
      {"op 0", with([](ClientMessage& m) { m.op = 0; }), DhcpVerdict::not_boot_request},
      {"htype IEEE 802", with([](ClientMessage& m) { m.htype = 6; }), DhcpVerdict::bad_hardware},
      {"hlen 16", with([](ClientMessage& m) { m.hlen = 16; }), DhcpVerdict::bad_hardware},
      {"relayed", with([](ClientMessage& m) { m.giaddr = ip4("10.9.9.9"); }), DhcpVerdict::relayed},
      {"chaddr of another VM", with([](ClientMessage& m) { m.chaddr = kOtherMac; }),
       DhcpVerdict::foreign_client_mac},
      {"BOOTP cookie of zeros", with([](ClientMessage& m) { m.cookie = 0; }),
       DhcpVerdict::no_magic_cookie},
      {"cookie byte-swapped", with([](ClientMessage& m) { m.cookie = 0x63538263; }),
       DhcpVerdict::no_magic_cookie},
      {"option length past the end", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kDiscover), {12, 200, 'a'}});
       }),
       DhcpVerdict::bad_options},
      {"option length byte missing", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kDiscover), {12}});
       }),
       DhcpVerdict::bad_options},
      {"message type of two bytes", with([](ClientMessage& m) {
         m.options = cat({opt(dp::kDhcpOptMessageType, {1, 1}), kEnd});
       }),
       DhcpVerdict::bad_options},
      {"requested address of three bytes", with([](ClientMessage& m) {
         m.options = cat(
             {opt_type(DhcpMessageType::kRequest), opt(dp::kDhcpOptRequestedIp, {10, 1, 1}), kEnd});
       }),
       DhcpVerdict::bad_options},
      {"server id of five bytes", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kRequest),
                          opt(dp::kDhcpOptServerId, {10, 1, 1, 1, 0}), kEnd});
       }),
       DhcpVerdict::bad_options},
      {"no options", with([](ClientMessage& m) { m.options = {}; }), DhcpVerdict::no_message_type},
      {"only End", with([](ClientMessage& m) { m.options = kEnd; }), DhcpVerdict::no_message_type},
      {"message type after End", with([](ClientMessage& m) {
         m.options = cat({kEnd, opt_type(DhcpMessageType::kDiscover)});
       }),
       DhcpVerdict::no_message_type},
      {"type 0", with([](ClientMessage& m) {
         m.options = cat({opt(dp::kDhcpOptMessageType, {0}), kEnd});
       }),
       DhcpVerdict::unknown_message_type},
      {"an OFFER from a client", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kOffer), kEnd});
       }),
       DhcpVerdict::unknown_message_type},
      {"an ACK from a client", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kAck), kEnd});
       }),
       DhcpVerdict::unknown_message_type},
      {"a NAK from a client", with([](ClientMessage& m) {
         m.options = cat({opt_type(DhcpMessageType::kNak), kEnd});
       }),
       DhcpVerdict::unknown_message_type},
      {"LEASEQUERY (RFC 4388)", with([](ClientMessage& m) {
         m.options = cat({opt(dp::kDhcpOptMessageType, {10}), kEnd});
       }),
       DhcpVerdict::unknown_message_type},
  };
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.what);
    const Bytes& parsed = c.layers_from.empty() ? c.frame : c.layers_from;
    const Answer a = answer_with(c.frame, c.frame.size(), layers_of(parsed));
    EXPECT_EQ(a.verdict, c.expect);
    EXPECT_TRUE(dp::dhcp_refused(a.verdict));
    EXPECT_TRUE(a.reply.empty());
  }
}

TEST(DhcpServer, RefusesWhenTheLeaseIsIncomplete) {
  DhcpLease no_ip = make_lease();
  no_ip.ip = 0;
  EXPECT_EQ(answer(client_frame(discover()).bytes(), no_ip).verdict, DhcpVerdict::bad_lease);
  DhcpLease no_gateway = make_lease();
  no_gateway.router = 0;
  EXPECT_EQ(answer(client_frame(discover()).bytes(), no_gateway).verdict, DhcpVerdict::bad_lease);
}

TEST(DhcpServer, LayersThatAreNotUdpAreRefusedWithoutReading) {
  const Bytes frame = client_frame(discover()).bytes();
  dp::FrameLayers f = layers_of(frame);
  dp::FrameLayers arp = f;
  arp.l3_type = dp::L3Type::kArp;
  EXPECT_EQ(answer_with(frame, frame.size(), arp).verdict, DhcpVerdict::not_dhcp);
  dp::FrameLayers no_l4 = f;
  no_l4.l4 = 0;
  EXPECT_EQ(answer_with(frame, frame.size(), no_l4).verdict, DhcpVerdict::not_dhcp);
  dp::FrameLayers later = f;
  later.flags |= dp::kFlagFragment | dp::kFlagLaterFragment;
  EXPECT_EQ(answer_with(frame, frame.size(), later).verdict, DhcpVerdict::not_dhcp);
  dp::FrameLayers past = f;
  past.l4 = static_cast<uint16_t>(frame.size() - 7);  // a UDP header would end past the data
  EXPECT_EQ(answer_with(frame, frame.size(), past).verdict, DhcpVerdict::not_dhcp);
}

// The frame cut at every byte, with the layers of the whole: the UDP
// length then runs past the data, and nothing past it is read.
TEST(DhcpServer, FrameCutAtEveryByteIsRefused) {
  const ClientMessage request{
      .options = cat({opt_type(DhcpMessageType::kRequest), opt_ip(dp::kDhcpOptServerId, kGateway),
                      opt_ip(dp::kDhcpOptRequestedIp, kVmIp),
                      opt(dp::kDhcpOptHostname, {'w', 'e', 'b'}), kEnd})};
  for (const Bytes& frame : {client_frame(discover()).bytes(), client_frame(request).bytes()}) {
    const dp::FrameLayers f = layers_of(frame);
    for (size_t n = 0; n < frame.size(); ++n) {
      SCOPED_TRACE(n);
      const Answer a = answer_with(frame, n, f);
      EXPECT_TRUE(dp::dhcp_refused(a.verdict)) << dp::dhcp_verdict_name(a.verdict);
      EXPECT_EQ(a.verdict, n < kUdp + 8 ? DhcpVerdict::not_dhcp : DhcpVerdict::truncated);
    }
    EXPECT_TRUE(dp::dhcp_replied(answer_with(frame, frame.size(), f).verdict));
  }
}

// The message cut at every byte with IP and UDP lengths that agree: the
// fixed part is `truncated`; the options cut inside one are `bad_options`.
TEST(DhcpServer, MessageCutAtEveryByteIsRefusedUntilItsTypeIsWhole) {
  const Bytes whole = cat({discover().bytes()});
  const size_t type_end = dp::kDhcpOptionsOffset + 3;  // the message type option
  for (size_t n = 0; n <= whole.size(); ++n) {
    SCOPED_TRACE(n);
    const Bytes frame =
        Frame()
            .eth(kVmMac, kBroadcastMac)
            .ipv4(0, kBroadcastIp)
            .udp(68, 67)
            .payload(Bytes(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n)))
            .bytes();
    const Answer a = answer(frame);
    if (n < dp::kDhcpOptionsOffset) {
      EXPECT_EQ(a.verdict, DhcpVerdict::truncated);
    } else if (n == dp::kDhcpOptionsOffset) {
      EXPECT_EQ(a.verdict, DhcpVerdict::no_message_type);
    } else if (n < type_end) {
      EXPECT_EQ(a.verdict, DhcpVerdict::bad_options);
    } else {
      EXPECT_EQ(a.verdict, DhcpVerdict::offer);  // with or without End
    }
  }
}

TEST(DhcpServer, VerdictNamesAreStable) {
  EXPECT_EQ(dp::dhcp_verdict_name(DhcpVerdict::offer), "offer");
  EXPECT_EQ(dp::dhcp_verdict_name(DhcpVerdict::foreign_client_mac), "foreign_client_mac");
  EXPECT_EQ(dp::dhcp_verdict_name(DhcpVerdict::no_room), "no_room");
  for (size_t i = 0; i < dp::kDhcpVerdictCount; ++i) {
    EXPECT_FALSE(dp::kDhcpVerdictNames[i].empty());
    EXPECT_FALSE(dp::kDhcpVerdictDescriptions[i].empty());
  }
}

}  // namespace
}  // namespace weft::test
