// libFuzzer target for the worker's DHCP server (dataplane/dhcp/dhcp_server.h).
//
// Any bytes, answered twice: once with the layers the parser finds (as the
// stage will call it), once with fixed layers (Ethernet, a 20-byte IPv4
// header, UDP at 34) whatever the bytes say, so that the server's own
// length checks are all that stands between it and the end of the data.
// The lease's MAC is the input's chaddr, so that the fuzzer gets past the
// foreign-MAC check to the options. ASan and UBSan catch a read past the
// input (libFuzzer hands over an exactly sized heap copy) or a write past
// the output (sized exactly too); the checks below catch a reply that is
// wrong: not a frame the parser accepts, not UDP 67 -> 68 from the gateway,
// a checksum that does not verify, an xid not echoed, a yiaddr that is not
// the lease's.

#include <netinet/in.h>
#include <rte_ether.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/dhcp/dhcp_server.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace weft::dp;

constexpr uint32_t kGateway = 0x0a010101;  // 10.1.1.1
constexpr uint32_t kPortIp = 0x0a01010a;   // 10.1.1.10
const rte_ether_addr kRouterMac = {{0x02, 0xfe, 0, 0, 0, 1}};

// RFC 1071 over data[0, n), plus `sum`: 0xffff when the checksum inside verifies.
uint16_t folded(const uint8_t* p, uint32_t n, uint32_t sum = 0) {
  for (uint32_t i = 0; i + 1 < n; i += 2) sum += load_be16(p + i);
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

DhcpLease lease_for(const uint8_t* data, uint32_t len, const FrameLayers& f) {
  DhcpLease lease;
  lease.ip = kPortIp;
  lease.prefix_len = 24;
  lease.router = kGateway;
  lease.mtu = 1450;
  lease.lease_seconds = 3600;
  lease.dns = {0x0a010002, 0x08080808};
  lease.dns_count = 2;
  lease.hostname = {'v', 'm'};
  lease.hostname_len = 2;
  lease.client_mac = {{0x02, 0, 0x0a, 1, 1, 0x0a}};
  const uint32_t chaddr = f.l4 + 8u + offsetof(BootpHeader, chaddr);
  if (f.l4 != 0 && chaddr + RTE_ETHER_ADDR_LEN <= len)
    std::memcpy(lease.client_mac.addr_bytes, data + chaddr, RTE_ETHER_ADDR_LEN);
  return lease;
}

void check_reply(const uint8_t* req, const FrameLayers& f, DhcpVerdict v,
                 const std::vector<uint8_t>& out, uint32_t out_len) {
  FUZZ_CHECK(out_len <= out.size());
  FUZZ_CHECK(out_len >= RTE_ETHER_HDR_LEN + 28 + kBootpMinLen);
  const uint8_t* r = out.data();
  PktMeta md{};
  FUZZ_CHECK(parse_packet(r, out_len, md, false) == DropReason::kNone);
  const FrameLayers& l = md.outer;
  FUZZ_CHECK(l.l3 == RTE_ETHER_HDR_LEN && l.l4 == l.l3 + 20 && l.l4_proto == IPPROTO_UDP);
  FUZZ_CHECK(load_be16(r + l.l3 + 2) == out_len - l.l3);
  FUZZ_CHECK(folded(r + l.l3, 20) == 0xffff);
  FUZZ_CHECK(load_be32(r + l.l3 + 12) == kGateway);
  FUZZ_CHECK(load_be16(r + l.l4) == kDhcpServerPort && load_be16(r + l.l4 + 2) == kDhcpClientPort);
  const uint32_t udp_len = load_be16(r + l.l4 + 4);
  FUZZ_CHECK(udp_len == out_len - l.l4);
  // The pseudo-header: addresses, protocol, UDP length.
  const uint32_t pseudo = folded(r + l.l3 + 12, 8) + IPPROTO_UDP + udp_len;
  FUZZ_CHECK(folded(r + l.l4, udp_len, pseudo) == 0xffff);

  const uint8_t* bootp = r + l.l4 + 8;
  const uint8_t* asked = req + f.l4 + 8;
  FUZZ_CHECK(bootp[0] == kBootReply);
  FUZZ_CHECK(std::memcmp(bootp + 4, asked + 4, 4) == 0);  // xid
  const uint32_t yiaddr = load_be32(bootp + offsetof(BootpHeader, yiaddr));
  FUZZ_CHECK(yiaddr == (v == DhcpVerdict::offer || v == DhcpVerdict::ack ? kPortIp : 0));
  FUZZ_CHECK(load_be32(bootp + sizeof(BootpHeader)) == kDhcpMagicCookie);
}

void answer(const uint8_t* data, uint32_t len, const FrameLayers& f) {
  const DhcpLease lease = lease_for(data, len, f);
  std::vector<uint8_t> out(kDhcpReplyMaxLen);
  uint32_t out_len = 1;
  const DhcpVerdict v = dhcp_answer(data, len, f, lease, kRouterMac, out.data(),
                                    static_cast<uint32_t>(out.size()), out_len);
  FUZZ_CHECK(static_cast<size_t>(v) < kDhcpVerdictCount);
  FUZZ_CHECK(dhcp_replied(v) == (out_len != 0));
  FUZZ_CHECK(v != DhcpVerdict::no_room && v != DhcpVerdict::bad_lease);
  if (dhcp_replied(v)) check_reply(data, f, v, out, out_len);

  // A buffer one byte short of the reply: no_room, nothing written past it.
  if (out_len > 0) {
    std::vector<uint8_t> small(out_len - 1);
    uint32_t small_len = 1;
    FUZZ_CHECK(dhcp_answer(data, len, f, lease, kRouterMac, small.data(),
                           static_cast<uint32_t>(small.size()), small_len) == DhcpVerdict::no_room);
    FUZZ_CHECK(small_len == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint32_t len = size < UINT16_MAX ? static_cast<uint32_t>(size) : UINT16_MAX;
  PktMeta md{};
  if (parse_packet(data, len, md, false) == DropReason::kNone) answer(data, len, md.outer);

  FrameLayers fixed;
  fixed.l2 = 0;
  fixed.l3 = RTE_ETHER_HDR_LEN;
  fixed.l4 = RTE_ETHER_HDR_LEN + 20;
  fixed.ethertype = RTE_ETHER_TYPE_IPV4;
  fixed.l3_type = L3Type::kIpv4;
  fixed.l4_proto = IPPROTO_UDP;
  answer(data, len, fixed);
  return 0;
}
