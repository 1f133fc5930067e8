#pragma once
// kLbProbeReply: the health checker's replies, taken off the packet path
// right after port security, before the flow cache, the security groups
// or the router can see them as tenant traffic. A segment is a probe reply
// when it is TCP over IPv4 from a vNIC this node probes a backend on, to
// the probe source address of that vNIC (LbTable::probe_src: the backend
// subnet's gateway address, which no port holds and the router never
// answers over TCP). Each one:
//
//   handed to the prober (ProbeChannel::deliver), which judges it
//   (health_prober.h: success, refusal, or forged and counted), then
//     a SYN-ACK                    rewritten in place into the RST that
//                                  ends the half-open probe (seq = its
//                                  ack), back out of the same vNIC: kAnswer;
//                                  for an HTTP probe, into the ACK that
//                                  carries its GET (LbProbeTarget::
//                                  http_request) instead
//     an HTTP probe's answer with  its status read into the reply, then
//       a status line              rewritten into the RST: kAnswer
//     anything else                drop lb_probe_reply (consumed, counted)
//   the prober's inbox full        drop lb_probe_lost (the probe then
//                                  times out: a failure, as on a lossy wire)
// Everything else: kPass, untouched. A node with no backend to probe pays
// one branch per burst.
//
// Worker lcores; reads the snapshot; the channel may be null (a trace's or
// a test's pipeline): replies are then consumed all the same.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

class ProbeChannel;

enum class ProbeReplyNext : uint8_t { kPass, kAnswer, kCount };

class ProbeReplyStage final : public StageWith<ProbeReplyNext> {
 public:
  explicit ProbeReplyStage(ProbeChannel* channel) noexcept
      : StageWith({"pass", "answer"}), channel_(channel) {}

  std::string_view name() const override { return "lb_probe_reply"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  ProbeChannel* const channel_;
};

}  // namespace weft::dp
