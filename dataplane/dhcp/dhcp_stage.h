#pragma once
// kDhcp: the node's DHCP server, in the worker (no punt to a control
// thread, so no queue an attacker can fill, unlike OVN's pinctrl). Port
// security sends it every UDP datagram a vNIC addresses to port 67; each
// is answered from the port's lease (DhcpTable) by dhcp_answer
// (dhcp_server.h), the reply written over the request in its own mbuf and
// sent back out the port it came in on (kReply). Nothing a VM sends to a
// DHCP server ever goes further: not to another VM, not to the underlay.
//
//   OFFER, ACK, NAK, INFORM's ACK   kReply
//   RELEASE, DECLINE, a REQUEST     drop dhcp_no_answer (the protocol
//     for another server             wants silence)
//   malformed, foreign client MAC   drop dhcp_refused
//   a port whose subnet has no DHCP drop dhcp_disabled
//
// Each verdict is also counted on its own (DhcpStats), for node stats.
//
// Runs on the worker that owns it; reads the snapshot.

#include "dataplane/dhcp/dhcp_server.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

// One worker's counts, by verdict; single writer, read by the control socket.
struct DhcpStats {
  Counter verdicts[kDhcpVerdictCount];
};

enum class DhcpNext : uint8_t { kReply, kCount };

class DhcpStage final : public StageWith<DhcpNext> {
 public:
  DhcpStage() noexcept : StageWith({"reply"}) {}

  std::string_view name() const override { return "dhcp"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

  const DhcpStats& stats() const { return stats_; }

 private:
  DhcpStats stats_;
};

}  // namespace weft::dp
