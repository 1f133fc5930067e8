#include "dataplane/pipeline/xconnect.h"

namespace weft::dp {

XconnectStage XconnectStage::paired(std::span<const uint16_t> ports) {
  XconnectStage x;
  for (size_t i = 0; i + 1 < ports.size(); i += 2) {
    x.connect(ports[i], ports[i + 1]);
    x.connect(ports[i + 1], ports[i]);
  }
  if (ports.size() % 2 == 1) x.connect(ports.back(), ports.back());
  return x;
}

void XconnectStage::connect(uint16_t in, uint16_t out) noexcept {
  if (in < kMaxPorts && out < kMaxPorts) peer_[in] = out;
}

void XconnectStage::process(StageCtx&, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    PktMeta* md = meta(pkts[i]);
    const uint16_t out = peer(md->in_port);
    if (out == kNoPeer) {
      drop(pkts[i], DropReason::no_route);
      continue;
    }
    md->out_port = out;
    send(pkts[i], XconnectNext::kOut);
  }
}

}  // namespace weft::dp
