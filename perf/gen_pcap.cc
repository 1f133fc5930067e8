// gen_pcap: writes the traffic of a named benchmark scenario as a classic
// pcap file, for replay from memory by net_pcap (rx_pcap=F,infinite_rx=1).
//
//   gen_pcap --scenario udp --out F.pcap [--flows N] [--packets N] [--size BYTES]
//   gen_pcap --list
//
// Frame sizes count the Ethernet FCS, as line-rate figures do: a 64-byte
// frame is 60 bytes in the file. Packet i belongs to flow i % flows, so a
// replayed file cycles through its flows in order. Checksums are valid.
//
// Adding a scenario: write a `Frame make(const Params&, uint32_t flow)` and
// list it in kScenarios.

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace weft::perf {
namespace {

using Frame = std::vector<uint8_t>;

constexpr uint32_t kFcsBytes = 4;
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoTcp = 6;

struct Params {
  uint32_t flows = 1024;
  uint32_t packets = 0;  // 0: one per flow, at least 1024
  uint32_t size = 64;    // frame size on the wire, FCS included
  uint32_t vm = 0;       // vxlan-encap's sender: 0 port vm, N > 0 port vmN (perf/qos.yaml)
};

constexpr size_t kMaxFrame = 9216;

// Writes network-order fields front to back into a frame sized kMaxFrame;
// done() trims it to what was written.
class Writer {
 public:
  explicit Writer(Frame& f) : f_(f) { f_.assign(kMaxFrame, 0); }
  Writer& u8(uint8_t v) { f_.at(pos_++) = v; return *this; }
  Writer& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Writer& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Writer& bytes(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) u8(p[i]);
    return *this;
  }
  size_t size() const { return pos_; }
  void done() { f_.resize(pos_); }

 private:
  Frame& f_;
  size_t pos_ = 0;
};

uint16_t checksum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

struct Udp4 {
  uint8_t src_mac[6], dst_mac[6];
  uint32_t src_ip, dst_ip;  // host order
  uint16_t src_port, dst_port;
};

// Ethernet + IPv4 + UDP carrying `payload`, padded to `frame_bytes` (without
// FCS) when shorter.
Frame udp4_frame(const Udp4& h, const Frame& payload, size_t frame_bytes = 0) {
  Frame f;
  Writer w(f);
  w.bytes(h.dst_mac, 6).bytes(h.src_mac, 6).u16(kEthIpv4);
  const size_t ip = w.size();
  const uint16_t ip_len = static_cast<uint16_t>(20 + 8 + payload.size());
  w.u8(0x45).u8(0).u16(ip_len).u16(0).u16(0x4000 /* DF */).u8(64).u8(kProtoUdp).u16(0);
  w.u32(h.src_ip).u32(h.dst_ip);
  put16(f, ip + 10, checksum(&f[ip], 20));
  const size_t udp = w.size();
  const uint16_t udp_len = static_cast<uint16_t>(8 + payload.size());
  w.u16(h.src_port).u16(h.dst_port).u16(udp_len).u16(0).bytes(payload.data(), payload.size());
  w.done();
  // UDP checksum over the pseudo-header, header and payload.
  uint32_t pseudo = (h.src_ip >> 16) + (h.src_ip & 0xffff) + (h.dst_ip >> 16) + (h.dst_ip & 0xffff) +
                    kProtoUdp + udp_len;
  uint16_t sum = checksum(&f[udp], udp_len, pseudo);
  put16(f, udp + 6, sum == 0 ? 0xffff : sum);
  if (f.size() < frame_bytes) f.resize(frame_bytes, 0);
  return f;
}

// Flow k: source 10.0.x.y (the low 16 bits of k) and port 1024 + the rest,
// to one destination service.
Udp4 flow_udp4(uint32_t flow) {
  Udp4 h{{0x02, 0, 0, 0, 0, 0x01}, {0x02, 0, 0, 0, 0, 0x02}, 0, 0, 0, 0};
  h.src_ip = 0x0a000000u | (flow & 0xffff);
  h.dst_ip = 0x0a010001u;  // 10.1.0.1
  h.src_port = static_cast<uint16_t>(1024 + (flow >> 16));
  h.dst_port = 9;  // discard
  return h;
}

// udp: IPv4/UDP frames of `size` bytes, `flows` distinct 5-tuples.
Frame make_udp(const Params& p, uint32_t flow) {
  const size_t headers = 14 + 20 + 8;
  const size_t frame = p.size - kFcsBytes;
  Frame payload(frame > headers ? frame - headers : 0, 0);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  return udp4_frame(flow_udp4(flow), payload, frame);
}

// --- the overlay (VXLAN) scenarios --------------------------------------------
//
// Node "perf" of perf/overlay.yaml: VTEP 192.0.2.1, peer node "peer" at
// 192.0.2.2, network "bench" (VNI 5001). The addresses below are that
// policy's; change them together.
constexpr uint8_t kVmMac[6] = {0x02, 0, 0, 0, 0, 0x01};    // port vm, on perf
constexpr uint8_t kFarMac[6] = {0x02, 0, 0, 0, 0, 0x02};   // port far, on peer
constexpr uint8_t kSinkMac[6] = {0x02, 0, 0, 0, 0, 0x03};  // port sink, on perf
constexpr uint8_t kPeerUnderlayMac[6] = {0x02, 0, 0, 0, 0xff, 0x02};
constexpr uint8_t kUnderlayMac[6] = {0x02, 0, 0, 0, 0xff, 0x01};  // weftd does not filter on it
constexpr uint32_t kVtep = 0xc0000201;      // 192.0.2.1
constexpr uint32_t kPeerVtep = 0xc0000202;  // 192.0.2.2
constexpr uint32_t kVmIp = 0x0a00000b, kFarIp = 0x0a00000c, kSinkIp = 0x0a00000d;  // 10.0.0.11-13
constexpr uint32_t kBenchVni = 5001;
// Network bench's router MAC (0a:00:00 and the VNI, docs/policy.md), and
// port routed-far of its subnet r, on peer.
constexpr uint8_t kBenchRouterMac[6] = {0x0a, 0, 0, 0, 0x13, 0x89};
constexpr uint32_t kRoutedFarIp = 0x0a00010c;  // 10.0.1.12

// A VM's UDP frame of `size` bytes on the wire; flows differ in their
// source port, as port security pins the addresses.
Frame vm_frame(const Params& p, uint32_t flow, const uint8_t (&src_mac)[6], const uint8_t (&dst_mac)[6],
               uint32_t src_ip, uint32_t dst_ip) {
  Udp4 h{};
  std::memcpy(h.src_mac, src_mac, 6);
  std::memcpy(h.dst_mac, dst_mac, 6);
  h.src_ip = src_ip;
  h.dst_ip = dst_ip;
  h.src_port = static_cast<uint16_t>(1024 + flow % 64000);
  h.dst_port = 9;
  const size_t headers = 14 + 20 + 8;
  const size_t frame = p.size - kFcsBytes;
  Frame payload(frame > headers ? frame - headers : 0, 0);
  return udp4_frame(h, payload, frame);
}

// vxlan-encap: VM -> remote VM frames, as vNIC vm sends them (--vm N:
// as vNIC vmN, 02:00:00:00:01:N at 10.0.0.100+N, sends them).
Frame make_vxlan_encap(const Params& p, uint32_t flow) {
  if (p.vm == 0) return vm_frame(p, flow, kVmMac, kFarMac, kVmIp, kFarIp);
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0x01, static_cast<uint8_t>(p.vm)};
  return vm_frame(p, flow, mac, kFarMac, 0x0a000064 + p.vm, kFarIp);
}

// vxlan-routed: VM -> a VM of another subnet on the peer, through the
// distributed router: the same frames as vxlan-encap but to the router MAC.
Frame make_vxlan_routed(const Params& p, uint32_t flow) {
  return vm_frame(p, flow, kVmMac, kBenchRouterMac, kVmIp, kRoutedFarIp);
}

// The peer VTEP's tunnel packet carrying `inner` in `vni`; the outer UDP
// source port varies with the flow, as a VTEP's does (RFC 7348 §5).
Frame from_peer(const Frame& inner, uint32_t vni, uint32_t flow) {
  Frame vxlan;
  Writer w(vxlan);
  w.u32(0x08000000).u32(vni << 8).bytes(inner.data(), inner.size());
  w.done();
  Udp4 h{};
  std::memcpy(h.src_mac, kPeerUnderlayMac, 6);
  std::memcpy(h.dst_mac, kUnderlayMac, 6);
  h.src_ip = kPeerVtep;
  h.dst_ip = kVtep;
  h.src_port = static_cast<uint16_t>(49152 + flow % 16384);
  h.dst_port = 4789;
  Frame f = udp4_frame(h, vxlan);
  put16(f, 14 + 20 + 6, 0);  // no UDP checksum, as VTEPs send (RFC 7348 §5)
  return f;
}

// vxlan-decap: the peer's tunnel packets for VM sink; --size is the inner
// frame's, as for encap.
Frame make_vxlan_decap(const Params& p, uint32_t flow) {
  return from_peer(vm_frame(p, flow, kFarMac, kSinkMac, kFarIp, kSinkIp), kBenchVni, flow);
}

// --- the stateful security-group scenarios (perf/sg.yaml) ---------------------
//
// Network "bench" there is VNI 6001; 64 clients on node "peer" (10.0.1.10-73,
// MAC 02:00:00:01:00:<k>) connect to VM sink (10.0.0.13, the MAC above) on
// tcp 443, which sink's 56 ingress rules allow by their last one.
constexpr uint32_t kSgVni = 6001;
constexpr uint32_t kSgClients = 64;
constexpr uint32_t kSgClientIp = 0x0a00010a;  // 10.0.1.10
constexpr uint16_t kSgPort = 443;
constexpr uint8_t kTcpAck = 0x10;

// Ethernet + IPv4 + TCP (flags, no options) between the addresses and ports
// of `h`, padded to `frame_bytes` (without FCS).
Frame tcp4_frame(const Udp4& h, uint8_t flags, size_t frame_bytes) {
  Frame f;
  Writer w(f);
  w.bytes(h.dst_mac, 6).bytes(h.src_mac, 6).u16(kEthIpv4);
  const size_t ip = w.size();
  w.u8(0x45).u8(0).u16(20 + 20).u16(0).u16(0x4000 /* DF */).u8(64).u8(kProtoTcp).u16(0);
  w.u32(h.src_ip).u32(h.dst_ip);
  put16(f, ip + 10, checksum(&f[ip], 20));
  const size_t tcp = w.size();
  w.u16(h.src_port).u16(h.dst_port).u32(1).u32(1).u8(5 << 4).u8(flags).u16(65535).u16(0).u16(0);
  w.done();
  const uint32_t pseudo = (h.src_ip >> 16) + (h.src_ip & 0xffff) + (h.dst_ip >> 16) + (h.dst_ip & 0xffff) +
                          kProtoTcp + 20;
  put16(f, tcp + 16, checksum(&f[tcp], 20, pseudo));
  if (f.size() < frame_bytes) f.resize(frame_bytes, 0);  // Ethernet padding, outside the IP packet
  return f;
}

// sg-vxlan: the peer's tunnel packets of established connections (TCP ACK)
// from client flow % 64, source port 1024 + flow / 64, to sink:443. --size
// is the inner frame's.
Frame make_sg_vxlan(const Params& p, uint32_t flow) {
  Udp4 h{};
  const uint32_t client = flow % kSgClients;
  const uint8_t client_mac[6] = {0x02, 0, 0, 0x01, 0, static_cast<uint8_t>(client)};
  std::memcpy(h.src_mac, client_mac, 6);
  std::memcpy(h.dst_mac, kSinkMac, 6);
  h.src_ip = kSgClientIp + client;
  h.dst_ip = kSinkIp;
  h.src_port = static_cast<uint16_t>(1024 + flow / kSgClients);
  h.dst_port = kSgPort;
  return from_peer(tcp4_frame(h, kTcpAck, p.size - kFcsBytes), kSgVni, flow);
}

// --- the load-balancer scenarios (perf/lb.yaml) --------------------------------
//
// VM vm sends UDP to the VIP 10.0.0.100:53 of network "bench" (VNI 7001)
// through its router MAC, from the clients' addresses it may use
// (10.0.128.0/17): flow f from 10.0.128.<f / 64000>, source port
// 1024 + f % 64000. The first packet of each flow is a new connection.
constexpr uint8_t kLbRouterMac[6] = {0x0a, 0, 0, 0, 0x1b, 0x59};  // router_mac(7001)
constexpr uint32_t kLbClientIp = 0x0a008000;                      // 10.0.128.0
constexpr uint32_t kLbVip = 0x0a000064;                           // 10.0.0.100

Frame make_lb_vnic(const Params& p, uint32_t flow) {
  Udp4 h{};
  std::memcpy(h.src_mac, kVmMac, 6);
  std::memcpy(h.dst_mac, kLbRouterMac, 6);
  h.src_ip = kLbClientIp + flow / 64000;
  h.dst_ip = kLbVip;
  h.src_port = static_cast<uint16_t>(1024 + flow % 64000);
  h.dst_port = 53;
  const size_t headers = 14 + 20 + 8;
  const size_t frame = p.size - kFcsBytes;
  Frame payload(frame > headers ? frame - headers : 0, 0);
  return udp4_frame(h, payload, frame);
}

// vxlan-peer-arp: the peer VTEP's ARP reply to perf, which resolves the
// next hop before vxlan-encap traffic starts.
Frame make_peer_arp(const Params&, uint32_t) {
  Frame f;
  Writer w(f);
  // A gratuitous ARP (RFC 5227 announcement: sender and target the peer's
  // own address, broadcast): weftd learns a VTEP's MAC from that or from the
  // answer to its own request, never from an unasked reply.
  const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  w.bytes(broadcast, 6).bytes(kPeerUnderlayMac, 6).u16(0x0806);
  w.u16(1).u16(kEthIpv4).u8(6).u8(4).u16(1);  // Ethernet/IPv4, request
  w.bytes(kPeerUnderlayMac, 6).u32(kPeerVtep).bytes(broadcast, 6).u32(kPeerVtep);
  w.done();
  f.resize(60, 0);
  return f;
}

// --- the gateway scenarios (perf/snat.yaml) ----------------------------------
//
// Node "perf" hosts gateway edge (SNAT address 203.0.113.2, next hop
// 203.0.113.1) for network "bench" (VNI 7001); the same 64 clients as sg
// on node "peer", routed there: router MAC to router MAC.
constexpr uint32_t kSnatVni = 7001;
constexpr uint8_t kSnatRouterMac[6] = {0x0a, 0, 0, 0, 0x1b, 0x59};  // 0a:00:00 and VNI 7001
constexpr uint32_t kSnatServer = 0xc6336400;  // 198.51.100.0: + flow / 64 % 16
constexpr uint8_t kNextHopMac[6] = {0x02, 0, 0, 0, 0xfe, 0x01};
constexpr uint32_t kNextHop = 0xcb007101;  // 203.0.113.1

// snat-vxlan: the peer's tunnel packets of UDP flows from client flow % 64,
// source port 1024 + flow / 64, to one of 16 servers' port 443, for the
// gateway to translate. --size is the inner frame's.
Frame make_snat_vxlan(const Params& p, uint32_t flow) {
  Udp4 h{};
  std::memcpy(h.src_mac, kSnatRouterMac, 6);
  std::memcpy(h.dst_mac, kSnatRouterMac, 6);
  h.src_ip = kSgClientIp + flow % kSgClients;
  h.dst_ip = kSnatServer + 1 + flow / kSgClients % 16;
  h.src_port = static_cast<uint16_t>(1024 + flow / kSgClients);
  h.dst_port = kSgPort;
  const size_t headers = 14 + 20 + 8;
  const size_t frame = p.size - kFcsBytes;
  return from_peer(udp4_frame(h, Frame(frame > headers ? frame - headers : 0, 0), frame), kSnatVni, flow);
}

// gw-next-hop-arp: the external next hop's gratuitous ARP, which resolves
// it before the gateway's traffic starts.
Frame make_next_hop_arp(const Params&, uint32_t) {
  Frame f;
  Writer w(f);
  const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  w.bytes(broadcast, 6).bytes(kNextHopMac, 6).u16(0x0806);
  w.u16(1).u16(kEthIpv4).u8(6).u8(4).u16(1);
  w.bytes(kNextHopMac, 6).u32(kNextHop).bytes(broadcast, 6).u32(kNextHop);
  w.done();
  f.resize(60, 0);
  return f;
}

struct Scenario {
  std::string_view name;
  std::string_view description;
  Frame (*make)(const Params&, uint32_t flow);
};

constexpr Scenario kScenarios[] = {
    {"udp", "IPv4/UDP frames of --size bytes over --flows 5-tuples", make_udp},
    {"vxlan-encap", "VM frames of --size bytes for a remote VM (perf/overlay.yaml)", make_vxlan_encap},
    {"vxlan-routed", "VM frames of --size bytes for a VM of another subnet on the peer (router MAC)",
     make_vxlan_routed},
    {"vxlan-decap", "VXLAN from the peer VTEP carrying --size-byte frames for a local VM",
     make_vxlan_decap},
    {"vxlan-peer-arp", "the peer VTEP's gratuitous ARP (resolves vxlan-encap's next hop)", make_peer_arp},
    {"sg-vxlan", "VXLAN from the peer: --flows TCP connections of 64 clients to a VM (perf/sg.yaml)",
     make_sg_vxlan},
    {"lb-vnic", "VM vm's UDP to a VIP: --flows connections, balanced over 16 backends (perf/lb.yaml)",
     make_lb_vnic},
    {"snat-vxlan", "VXLAN from the peer: --flows UDP flows of 64 clients to the outside (perf/snat.yaml)",
     make_snat_vxlan},
    {"gw-next-hop-arp", "the gateway's external next hop's gratuitous ARP", make_next_hop_arp},
};

bool write_pcap(const char* path, const Params& p, const Scenario& s) {
  FILE* out = std::fopen(path, "wb");
  if (out == nullptr) {
    std::perror(path);
    return false;
  }
  struct {
    uint32_t magic = 0xa1b2c3d4;  // microsecond timestamps, host byte order
    uint16_t major = 2, minor = 4;
    int32_t thiszone = 0;
    uint32_t sigfigs = 0, snaplen = 65535, linktype = 1;  // LINKTYPE_ETHERNET
  } file_header;
  bool ok = std::fwrite(&file_header, sizeof file_header, 1, out) == 1;
  const uint32_t packets = p.packets != 0 ? p.packets : std::max<uint32_t>(p.flows, 1024);
  for (uint32_t i = 0; ok && i < packets; ++i) {
    const Frame f = s.make(p, i % p.flows);
    const uint32_t len = static_cast<uint32_t>(f.size());
    const uint32_t record[4] = {i / 1000000, i % 1000000, len, len};  // ts sec, usec, caplen, len
    ok = std::fwrite(record, sizeof record, 1, out) == 1 && std::fwrite(f.data(), f.size(), 1, out) == 1;
  }
  ok = std::fclose(out) == 0 && ok;
  if (!ok) std::fprintf(stderr, "gen_pcap: %s: write failed\n", path);
  return ok;
}

bool parse_u32(const char* s, uint32_t& v) {
  auto [end, ec] = std::from_chars(s, s + std::strlen(s), v);
  return ec == std::errc{} && *end == '\0';
}

constexpr const char* kUsage =
    "usage: gen_pcap --scenario NAME --out FILE [--flows N] [--packets N] [--size BYTES] [--vm N]\n"
    "       gen_pcap --list\n";

}  // namespace
}  // namespace weft::perf

int main(int argc, char** argv) {
  using namespace weft::perf;
  Params p;
  std::string_view scenario;
  const char* out = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    const bool value = i + 1 < argc;
    if (a == "--list") {
      for (const Scenario& s : kScenarios)
        std::printf("%-12.*s %.*s\n", static_cast<int>(s.name.size()), s.name.data(),
                    static_cast<int>(s.description.size()), s.description.data());
      return 0;
    } else if (a == "--scenario" && value) {
      scenario = argv[++i];
    } else if (a == "--out" && value) {
      out = argv[++i];
    } else if ((a == "--flows" && value && parse_u32(argv[++i], p.flows) && p.flows > 0) ||
               (a == "--packets" && value && parse_u32(argv[++i], p.packets)) ||
               (a == "--size" && value && parse_u32(argv[++i], p.size) && p.size >= 64 && p.size <= 9018) ||
               (a == "--vm" && value && parse_u32(argv[++i], p.vm) && p.vm <= 99)) {
      continue;
    } else {
      std::fprintf(stderr, "gen_pcap: bad argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
  }
  const Scenario* s = nullptr;
  for (const Scenario& c : kScenarios)
    if (c.name == scenario) s = &c;
  if (s == nullptr || out == nullptr) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  return write_pcap(out, p, *s) ? 0 : 1;
}
