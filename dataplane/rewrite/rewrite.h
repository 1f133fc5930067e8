#pragma once
// kRewrite: the first step of the tail (pipeline/tail.h). Packets come here
// from a flow-cache hit or a walk that decided on a rewrite
// (PktMeta::rewrite, an entry of the snapshot's RewriteTable) or a
// translated connection (PktMeta::xlate_conn), and leave for encap or local
// tx with, in this order:
//
//   TTL        one hop off, the IPv4 checksum patched (RFC 1624); a packet
//              that arrives with TTL <= 1 is not forwarded: kIcmpError,
//              l3_ttl_exceeded (time exceeded for the sender)
//   MTU        an IPv4 packet larger than the destination network's MTU:
//              kIcmpError, l3_mtu_exceeded (fragmentation needed, with DF;
//              never fragmented)
//   MACs       the router's as source, the destination port's
//   addresses  the connection's translation (ConnXlate): the original
//   and ports  direction to its translated tuple, a reply back to what the
//              originator addressed; IPv4, TCP, UDP (a zero UDP checksum
//              stays zero) and ICMP echo checksums patched incrementally;
//              the packet takes the VNI of the side it now goes to (a
//              gateway's translation crosses from a network to the
//              external one, zone 0, and back)
//   ICMP       an error about a translated connection (RELATED): its
//   errors     quote and header translated instead (icmp_xlate.h), to what
//              the end it goes to sent; icmp_xlate_bad_checksum,
//              icmp_xlate_malformed when it cannot be
//
// Every later packet of a flow passes here the same way as the first, so a
// cache hit and a walk leave identical bytes.
//
// Runs on the worker that owns the connection table (translations are
// read from it); reads the snapshot.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// kExternal: out of the gateway's external port (gateway/external_out.h).
enum class RewriteNext : uint8_t { kEncap, kLocal, kIcmpError, kQos, kExternal, kCount };

class RewriteStage final : public StageWith<RewriteNext> {
 public:
  explicit RewriteStage(const ConnTable& table) noexcept
      : StageWith({"encap", "local", "icmp_error", "qos", "external"}), table_(table) {}

  std::string_view name() const override { return "rewrite"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  const ConnTable& table_;
};

}  // namespace weft::dp
