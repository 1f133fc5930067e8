#pragma once
// kXconnect: a fixed port-to-port patch panel, like testpmd's io forwarding.
// Every packet leaves by the peer of the port it came in on, untouched. weftd
// runs parse -> xconnect -> tx in its benchmarking mode (`weftd --xconnect`),
// which measures rx, parse and tx without any table lookup.
//
// Built on the main lcore before the workers start; process() runs on the
// worker that owns the stage.

#include <array>
#include <cstdint>
#include <span>

#include "dataplane/pipeline/stage.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

enum class XconnectNext : uint8_t { kOut, kCount };

class XconnectStage final : public StageWith<XconnectNext> {
 public:
  static constexpr uint16_t kNoPeer = UINT16_MAX;

  XconnectStage() noexcept : StageWith({"out"}) { peer_.fill(kNoPeer); }

  // testpmd's "paired" topology over `ports` in order: (0,1), (2,3), ...; a
  // last odd port forwards to itself.
  static XconnectStage paired(std::span<const uint16_t> ports);

  // Packets arriving on `in` leave on `out`. Ports without a peer drop
  // their packets as no_route.
  void connect(uint16_t in, uint16_t out) noexcept;
  uint16_t peer(uint16_t in) const noexcept { return in < kMaxPorts ? peer_[in] : kNoPeer; }

  std::string_view name() const override { return "xconnect"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  std::array<uint16_t, kMaxPorts> peer_;
};

}  // namespace weft::dp
