#pragma once
// The tail: where every forwarded packet ends, whether it walked the
// pipeline or was a flow-cache hit. In order:
//
//   kRewrite     MACs, TTL, addresses and ports, checksums (rewrite/): only
//                for packets with a rewrite or a translated connection
//   kQos         the ports' QoS limits and classes (qos/): only for packets
//                with a QoS marking (PktMeta::qos)
//   kVxlanEncap  out to a remote VTEP, or
//   kExternalOut out of the gateway's external port, or
//   kTx          out of a local port
//
// The stage that decides a packet's path (the flow cache on a hit, the
// security groups or the flow commit after a walk) sends it to the first
// step it needs, along one of its own edges named kRewrite, kQos, kEncap
// and kLocal (tail_edge). A flow-cache entry records that step (FlowAction::
// tail), so a hit takes the same tail as the walk that recorded it.
//
// Any thread; pure functions of the metadata.

#include <cstdint>

#include "dataplane/pipeline/meta.h"

namespace weft::dp {

enum class TailStep : uint8_t {
  kNone = 0,  // not decided (a FlowAction with nothing recorded)
  kRewrite,
  kEncap,
  kLocal,
  kQos,
};

// The tail step after rewrite (or the first, without one): QoS, then out.
inline TailStep tail_step_after_rewrite(const PktMeta& md, uint16_t underlay_port) noexcept {
  if (md.qos != 0) return TailStep::kQos;
  return md.out_port == underlay_port ? TailStep::kEncap : TailStep::kLocal;
}

// The first tail step of a packet whose out_port, rewrite, xlate_conn and
// qos are set.
inline TailStep tail_step(const PktMeta& md, uint16_t underlay_port) noexcept {
  if (md.rewrite != 0 || md.xlate_conn != kNoConn) return TailStep::kRewrite;
  return tail_step_after_rewrite(md, underlay_port);
}

// The edge of a stage's `Next` enum (with kRewrite, kQos, kEncap and
// kLocal) that leads to tail step `s`.
template <typename Next>
constexpr Next tail_edge(TailStep s) noexcept {
  switch (s) {
    case TailStep::kRewrite:
      return Next::kRewrite;
    case TailStep::kEncap:
      return Next::kEncap;
    case TailStep::kQos:
      return Next::kQos;
    default:
      return Next::kLocal;
  }
}

// The edge of a stage's `Next` enum (with kEncap, kExternal and kLocal)
// that takes a packet out, the tail's last step: to a remote VTEP, to the
// gateway's external network, or to a local port.
template <typename Next>
constexpr Next out_edge(const PktMeta& md, uint16_t underlay_port, uint16_t external_port) noexcept {
  if (md.out_port == underlay_port) return Next::kEncap;
  return md.out_port == external_port ? Next::kExternal : Next::kLocal;
}

}  // namespace weft::dp
