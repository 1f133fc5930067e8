#include "dataplane/dhcp/dhcp_server.h"

#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/wire.h"

namespace weft::dp {
namespace {

constexpr uint32_t kIpv4HdrLen = sizeof(rte_ipv4_hdr);
constexpr uint32_t kUdpHdrLen = sizeof(rte_udp_hdr);
constexpr uint32_t kBroadcastIp = 0xffffffff;
constexpr uint8_t kReplyTtl = 64;

// The options of the client's message that the server acts on.
struct ClientOptions {
  bool has_message_type = false;
  bool has_requested_ip = false;
  bool has_server_id = false;
  uint8_t message_type = 0;
  uint32_t requested_ip = 0;  // host order
  uint32_t server_id = 0;
};

// Walks options[0, len): every length is checked against the end before
// the value it covers is read. False when one runs past it, or a fixed-size
// option we read has another size. Stops at End; running out of bytes
// without an End is tolerated (the message's length already bounds it, and
// clients that leave it out exist).
// An option given twice counts once, as first given.
bool read_options(const uint8_t* opt, uint32_t len, ClientOptions& out) {
  uint32_t i = 0;
  while (i < len) {
    const uint8_t code = opt[i];
    if (code == kDhcpOptPad) {
      ++i;
      continue;
    }
    if (code == kDhcpOptEnd) return true;
    if (i + 2 > len) return false;  // no room for the length byte
    const uint32_t olen = opt[i + 1];
    const uint8_t* value = opt + i + 2;
    if (i + 2 + olen > len) return false;
    switch (code) {
      case kDhcpOptMessageType:
        if (olen != 1) return false;
        if (!out.has_message_type) out.message_type = value[0];
        out.has_message_type = true;
        break;
      case kDhcpOptRequestedIp:
        if (olen != 4) return false;
        if (!out.has_requested_ip) out.requested_ip = load_be32(value);
        out.has_requested_ip = true;
        break;
      case kDhcpOptServerId:
        if (olen != 4) return false;
        if (!out.has_server_id) out.server_id = load_be32(value);
        out.has_server_id = true;
        break;
      default:  // 52 (overload) among them: ignored
        break;
    }
    i += 2 + olen;
  }
  return true;
}

uint32_t prefix_mask(uint8_t prefix_len) {
  return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - std::min<uint8_t>(prefix_len, 32));
}

// Appends options to a reply; the caller has sized the buffer for the
// longest set (kDhcpMaxOptionsLen).
class OptionWriter {
 public:
  explicit OptionWriter(uint8_t* p) : begin_(p), p_(p) {}
  void u8(uint8_t code, uint8_t v) {
    *p_++ = code;
    *p_++ = 1;
    *p_++ = v;
  }
  void u16(uint8_t code, uint16_t v) {
    *p_++ = code;
    *p_++ = 2;
    put16(v);
  }
  void u32(uint8_t code, uint32_t v) {
    *p_++ = code;
    *p_++ = 4;
    put32(v);
  }
  void ips(uint8_t code, const uint32_t* v, uint32_t n) {
    *p_++ = code;
    *p_++ = static_cast<uint8_t>(4 * n);
    for (uint32_t k = 0; k < n; ++k) put32(v[k]);
  }
  void bytes(uint8_t code, const char* v, uint8_t n) {
    *p_++ = code;
    *p_++ = n;
    std::memcpy(p_, v, n);
    p_ += n;
  }
  void end() { *p_++ = kDhcpOptEnd; }
  uint32_t size() const { return static_cast<uint32_t>(p_ - begin_); }

 private:
  void put16(uint16_t v) {
    *p_++ = static_cast<uint8_t>(v >> 8);
    *p_++ = static_cast<uint8_t>(v);
  }
  void put32(uint32_t v) {
    put16(static_cast<uint16_t>(v >> 16));
    put16(static_cast<uint16_t>(v));
  }
  uint8_t* begin_;
  uint8_t* p_;
};

// The options of one reply, in the order RFC 2131's table 3 lists them.
// Returns their length.
uint32_t write_options(uint8_t* p, DhcpMessageType type, bool with_lease, const DhcpLease& lease) {
  OptionWriter w(p);
  w.u8(kDhcpOptMessageType, static_cast<uint8_t>(type));
  w.u32(kDhcpOptServerId, lease.router);
  if (type != DhcpMessageType::kNak) {
    if (with_lease) {
      const uint32_t t = lease.lease_seconds;
      const bool infinite = t == kDhcpInfiniteLease;
      w.u32(kDhcpOptLeaseTime, t);
      w.u32(kDhcpOptRenewalTime, infinite ? t : t / 2);
      w.u32(kDhcpOptRebindingTime, infinite ? t : static_cast<uint32_t>(uint64_t{t} * 7 / 8));
    }
    w.u32(kDhcpOptSubnetMask, prefix_mask(lease.prefix_len));
    w.u32(kDhcpOptRouter, lease.router);
    const uint32_t dns = std::min<uint32_t>(lease.dns_count, kDhcpMaxDns);
    if (dns > 0) w.ips(kDhcpOptDns, lease.dns.data(), dns);
    if (lease.mtu >= kDhcpMinMtu) w.u16(kDhcpOptInterfaceMtu, lease.mtu);
    const uint8_t host =
        static_cast<uint8_t>(std::min<uint32_t>(lease.hostname_len, kDhcpMaxHostname));
    if (host > 0) w.bytes(kDhcpOptHostname, lease.hostname.data(), host);
  }
  w.end();
  return w.size();
}

}  // namespace

DhcpVerdict dhcp_answer(const uint8_t* data, uint32_t len, const FrameLayers& f,
                        const DhcpLease& lease, const rte_ether_addr& router_mac, uint8_t* out,
                        uint32_t out_cap, uint32_t& out_len) noexcept {
  out_len = 0;

  // UDP 68 -> 67 over IPv4, not a fragment: the caller's classification,
  // checked again because this function is all a fuzzer sees.
  if (f.l3_type != L3Type::kIpv4 || f.l4_proto != IPPROTO_UDP || f.l4 == 0 ||
      (f.flags & kFlagFragment) || len < kUdpHdrLen || f.l4 > len - kUdpHdrLen)
    return DhcpVerdict::not_dhcp;
  const uint8_t* udp = data + f.l4;
  if (load_be16(udp) != kDhcpClientPort || load_be16(udp + 2) != kDhcpServerPort)
    return DhcpVerdict::not_dhcp;
  const uint32_t udp_len = load_be16(udp + 4);
  if (udp_len < kUdpHdrLen || udp_len > len - f.l4) return DhcpVerdict::truncated;
  const uint8_t* msg = udp + kUdpHdrLen;
  const uint32_t msg_len = udp_len - kUdpHdrLen;
  if (msg_len < kDhcpOptionsOffset) return DhcpVerdict::truncated;

  const auto* req = reinterpret_cast<const BootpHeader*>(msg);
  if (req->op != kBootRequest) return DhcpVerdict::not_boot_request;
  if (req->htype != kBootpHtypeEthernet || req->hlen != RTE_ETHER_ADDR_LEN)
    return DhcpVerdict::bad_hardware;
  if (req->giaddr != 0) return DhcpVerdict::relayed;
  if (std::memcmp(req->chaddr, lease.client_mac.addr_bytes, RTE_ETHER_ADDR_LEN) != 0)
    return DhcpVerdict::foreign_client_mac;
  if (load_be32(msg + sizeof(BootpHeader)) != kDhcpMagicCookie) return DhcpVerdict::no_magic_cookie;

  ClientOptions opts;
  if (!read_options(msg + kDhcpOptionsOffset, msg_len - kDhcpOptionsOffset, opts))
    return DhcpVerdict::bad_options;
  if (!opts.has_message_type) return DhcpVerdict::no_message_type;

  const uint32_t ciaddr = rte_be_to_cpu_32(req->ciaddr);
  DhcpMessageType reply_type;
  DhcpVerdict verdict;
  uint32_t yiaddr = lease.ip;
  bool with_lease = true;
  switch (static_cast<DhcpMessageType>(opts.message_type)) {
    case DhcpMessageType::kDiscover:
      reply_type = DhcpMessageType::kOffer;
      verdict = DhcpVerdict::offer;
      break;
    case DhcpMessageType::kRequest: {
      // SELECTING names the server (54) and asks for its offer (50);
      // INIT-REBOOT asks for its old address (50); RENEWING and REBINDING
      // put it in ciaddr.
      if (opts.has_server_id && opts.server_id != lease.router)
        return DhcpVerdict::for_other_server;
      if (!opts.has_requested_ip && ciaddr == 0) return DhcpVerdict::request_without_address;
      const uint32_t asked = opts.has_requested_ip ? opts.requested_ip : ciaddr;
      if (asked == lease.ip) {
        reply_type = DhcpMessageType::kAck;
        verdict = DhcpVerdict::ack;
      } else {
        reply_type = DhcpMessageType::kNak;
        verdict = DhcpVerdict::nak;
        yiaddr = 0;
      }
      break;
    }
    case DhcpMessageType::kInform:
      // §3.4: the client has its address; it wants the rest.
      reply_type = DhcpMessageType::kAck;
      verdict = DhcpVerdict::inform_ack;
      yiaddr = 0;
      with_lease = false;
      break;
    case DhcpMessageType::kRelease:
      return DhcpVerdict::released;
    case DhcpMessageType::kDecline:
      return DhcpVerdict::declined;
    default:
      return DhcpVerdict::unknown_message_type;
  }
  if (lease.ip == 0 || lease.router == 0) return DhcpVerdict::bad_lease;

  // Where it goes (§4.1, giaddr zero).
  const uint16_t flags = rte_be_to_cpu_16(req->flags);
  const bool nak = reply_type == DhcpMessageType::kNak;
  uint32_t dst_ip;
  bool broadcast;
  if (nak) {
    dst_ip = kBroadcastIp;
    broadcast = true;
  } else if (ciaddr != 0) {
    dst_ip = ciaddr;
    broadcast = false;
  } else if ((flags & kBootpFlagBroadcast) || yiaddr == 0) {
    // yiaddr 0: an INFORM from a client without ciaddr has no address to
    // be reached at.
    dst_ip = kBroadcastIp;
    broadcast = true;
  } else {
    dst_ip = yiaddr;
    broadcast = false;
  }

  // Options first, into a scratch area: their length sizes the frame.
  uint8_t options[kDhcpMaxOptionsLen];
  const uint32_t options_len = write_options(options, reply_type, with_lease, lease);
  const uint32_t bootp_len = std::max(kDhcpOptionsOffset + options_len, kBootpMinLen);
  const uint32_t ip_len = kIpv4HdrLen + kUdpHdrLen + bootp_len;
  const uint32_t frame_len = RTE_ETHER_HDR_LEN + ip_len;
  if (frame_len > out_cap) return DhcpVerdict::no_room;
  std::memset(out, 0, frame_len);

  auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
  if (broadcast)
    std::memset(&eth->dst_addr, 0xff, sizeof eth->dst_addr);
  else
    std::memcpy(&eth->dst_addr, req->chaddr, RTE_ETHER_ADDR_LEN);
  eth->src_addr = router_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len));
  ip->time_to_live = kReplyTtl;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = rte_cpu_to_be_32(lease.router);
  ip->dst_addr = rte_cpu_to_be_32(dst_ip);

  auto* uh = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  uh->src_port = rte_cpu_to_be_16(kDhcpServerPort);
  uh->dst_port = rte_cpu_to_be_16(kDhcpClientPort);
  uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(kUdpHdrLen + bootp_len));

  // RFC 2131 table 3: xid, flags, giaddr and chaddr echoed; ciaddr echoed
  // in an ACK (0 in OFFER and NAK); secs, hops, siaddr, sname, file zero.
  auto* rep = reinterpret_cast<BootpHeader*>(uh + 1);
  rep->op = kBootReply;
  rep->htype = kBootpHtypeEthernet;
  rep->hlen = RTE_ETHER_ADDR_LEN;
  rep->xid = req->xid;
  rep->flags = req->flags;
  rep->ciaddr = reply_type == DhcpMessageType::kAck ? req->ciaddr : 0;
  rep->yiaddr = rte_cpu_to_be_32(yiaddr);
  rep->giaddr = req->giaddr;
  std::memcpy(rep->chaddr, req->chaddr, sizeof rep->chaddr);
  uint8_t* cookie = reinterpret_cast<uint8_t*>(rep + 1);
  const rte_be32_t magic = rte_cpu_to_be_32(kDhcpMagicCookie);
  std::memcpy(cookie, &magic, sizeof magic);
  std::memcpy(cookie + sizeof magic, options, options_len);  // the rest stays Pad (0)

  ip->hdr_checksum = rte_ipv4_cksum(ip);
  uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
  out_len = frame_len;
  return verdict;
}

}  // namespace weft::dp
