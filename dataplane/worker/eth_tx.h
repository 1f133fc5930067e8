#pragma once
// The PacketOutput a worker hands its Pipeline: rte_eth_tx_burst on the
// worker's own tx queue of each port (queue id = worker index), so workers
// never share a queue and need no lock. Worker lcore only.

#include <rte_ethdev.h>

#include "dataplane/pipeline/pipeline.h"

namespace weft::dp {

class EthTxOutput final : public PacketOutput {
 public:
  explicit EthTxOutput(uint16_t queue) noexcept : queue_(queue) {}
  uint16_t transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    return rte_eth_tx_burst(port, queue_, pkts, n);
  }

 private:
  uint16_t queue_;
};

}  // namespace weft::dp
