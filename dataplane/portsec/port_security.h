#pragma once
// kPortSecurity: a frame from a vNIC must come from the port's own
// addresses (SPEC: "frames with a source MAC or IP the port does not own
// are dropped"), checked against the snapshot's Vnic of the ingress
// port:
//
//   Ethernet source          == the port's MAC              else portsec_mac
//   IPv4 source              == the port's IP, or inside one
//                               of its allowed_addresses    else portsec_ip
//     except a DHCP client's 0.0.0.0:68 -> :67, before it has an address
//   ARP sender MAC / IP      likewise (sender IP 0.0.0.0 is an ARP probe,
//                               RFC 5227, and allowed)      else portsec_mac / portsec_ip
//   IPv6                     ports own no IPv6 address      portsec_ipv6
//   802.1Q/802.1ad tagged    a vNIC carries one network     portsec_vlan
//   UDP 67 -> 68             a VM is no DHCP server         portsec_dhcp_server
//
// Broadcast and multicast. Every frame with a group destination MAC
// (broadcast, multicast; ARP requests and DHCP discovers included) that
// passes the checks above takes a token from its port's bucket: `burst`
// frames back to back, then `rate` a second (a GCRA bucket, as
// l3/token_bucket.h, kept per port per worker: one worker polls a vNIC's
// queue, so a VM gets this limit from each worker that polls it). Over the
// limit: portsec_broadcast_limit. ARP requests that ARP suppression answers
// and DHCP that the node's server answers count too, deliberately: each
// costs the node a reply, and the bucket is the port's own, so counting
// them limits no one but the VM that floods. Rate 0 turns the limit off.
//
// A frame that passes gets its network's VNI in PktMeta::vni and goes on to
// ARP suppression (kArp), the node's DHCP server (kDhcp: any UDP to port
// 67, so that no DHCP from a VM reaches anyone else) or the flow cache
// (kIp: everything else; kProbed instead from a vNIC whose backend the
// node health-checks, so that only those frames pay the visit to the
// probe replies' stage, lb/probe_reply_stage.h).
//
// Runs on the worker that owns it; reads the snapshot only.

#include <array>
#include <cstdint>

#include "dataplane/pipeline/stage.h"
#include "dataplane/portsec/vnic_table.h"

namespace weft::dp {

enum class PortSecurityNext : uint8_t { kIp, kArp, kDhcp, kProbed, kCount };

// The limit on broadcast and multicast from each port.
struct PortBroadcastLimit {
  uint64_t rate = 100;  // frames per second; 0: no limit
  uint64_t burst = 50;  // frames back to back from a full bucket; at least 1
  uint64_t tsc_hz = 0;  // ticks per second of StageCtx::now_tsc; required when rate > 0
};

class PortSecurityStage final : public StageWith<PortSecurityNext> {
 public:
  using BroadcastLimit = PortBroadcastLimit;
  static constexpr BroadcastLimit kDefaultBroadcastLimit{};

  explicit PortSecurityStage(const BroadcastLimit& limit = kDefaultBroadcastLimit) noexcept;

  std::string_view name() const override { return "port_security"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  // Takes one token of `port`'s bucket at `now`, if it has one.
  bool take_broadcast_token(uint16_t port, uint64_t now) noexcept;

  uint64_t interval_ = 0;   // ticks per token; 0: no limit
  uint64_t tolerance_ = 0;  // (burst - 1) * interval_
  // Per port: the time its bucket is full again (GCRA's theoretical
  // arrival time). This worker's alone: no atomics.
  std::array<uint64_t, kMaxPorts> full_at_{};
};

}  // namespace weft::dp
