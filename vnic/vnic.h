#pragma once
// vNIC kinds -> DPDK ethdev ports.
//
// Each kind (af_packet, af_xdp, vhost_user, raw dpdk devargs) is one
// VnicDriver, in its own file, whose only job is to turn a binding into DPDK
// devargs. `open_port` is the one way weftd opens a port of any kind: it
// probes the device, configures one rx and one tx queue per worker lcore,
// starts it and sets promiscuous mode when asked; `close_port` undoes it.
//
//   std::string err;
//   auto port = open_port(binding, PortOptions{.instance = 3, .queues = 1}, pool, err);
//   if (!port) fail(err);
//   ... rte_eth_rx_burst(port->id, ...) on the workers ...
//   close_port(*port);   // after the workers stopped polling it
//
// Main lcore only, after rte_eal_init. Never call close_port while a worker
// may still poll the port.

#include <rte_mempool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vnic/binding.h"

namespace weft::dp {

class VnicDriver {
 public:
  virtual ~VnicDriver() = default;
  virtual VnicKind kind() const = 0;
  // DPDK devargs for `b` with `queues` rx/tx queue pairs. `instance` is unique
  // among the ports of this process, so generated vdev names never clash
  // with each other or with user-written ones (those never carry "_vnic").
  virtual std::string devargs(const VnicBinding& b, unsigned instance, uint16_t queues) const = 0;
};

// The driver for a kind; drivers are stateless singletons.
const VnicDriver& vnic_driver(VnicKind kind);

struct PortOptions {
  // Descriptor ring sizes: deep enough to absorb a worker's sleep at the end
  // of adaptive backoff (~1 ms at a few hundred kpps), small enough to stay
  // in cache. The device may round them (rte_eth_dev_adjust_nb_rx_tx_desc).
  static constexpr uint16_t kDefaultRxDesc = 1024;
  static constexpr uint16_t kDefaultTxDesc = 1024;

  unsigned instance = 0;    // see VnicDriver::devargs
  uint16_t queues = 1;      // rx/tx queue pairs: one per worker lcore
  uint16_t rx_desc = kDefaultRxDesc;
  uint16_t tx_desc = kDefaultTxDesc;
  bool promiscuous = false; // vNICs: yes (a VM's frames are for many MACs)
};

struct OpenedPort {
  uint16_t id = 0;          // DPDK port id
  std::string devargs;      // as probed
  std::string name;         // ethdev name (devargs up to the first ',')
};

// Opens and starts the port; nullopt with a one-line `error` on failure (the
// device is released again).
std::optional<OpenedPort> open_port(const VnicBinding& b, const PortOptions& opt,
                                    rte_mempool* pool, std::string& error);

// Stops and closes the port, releasing the device.
void close_port(const OpenedPort& port);

// True when devargs name a PCI device ("0000:01:00.0" or "01:00.0",
// optionally followed by ",key=value"): those must be allow-listed at EAL
// init (-a), vdevs are probed after it.
bool is_pci_devargs(std::string_view devargs);

}  // namespace weft::dp
