#include "vnic/vnic.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <cctype>
#include <cerrno>

#include "vnic/drivers.h"

namespace weft::dp {
namespace {

std::string dpdk_error(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

// Configures `queues` rx/tx queue pairs, starts the port.
bool start_port(uint16_t id, const PortOptions& opt, rte_mempool* pool, std::string& error) {
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) {
    error = "cannot read device info: " + dpdk_error(rc);
    return false;
  }
  if (opt.queues > info.max_rx_queues || opt.queues > info.max_tx_queues) {
    error = "needs " + std::to_string(opt.queues) + " rx/tx queue pairs (one per worker); the device has " +
            std::to_string(info.max_rx_queues) + " rx and " + std::to_string(info.max_tx_queues) + " tx";
    return false;
  }

  rte_eth_conf conf{};
  if (opt.queues > 1) {
    // Spread flows over the workers; a device without RSS gets every packet
    // on queue 0, which still forwards correctly, on one worker.
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    if (conf.rx_adv_conf.rss_conf.rss_hf != 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
  }
  rc = rte_eth_dev_configure(id, opt.queues, opt.queues, &conf);
  if (rc != 0) {
    error = "cannot configure: " + dpdk_error(rc);
    return false;
  }
  uint16_t rx_desc = opt.rx_desc;
  uint16_t tx_desc = opt.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc);
  if (rc != 0) {
    error = "cannot size descriptor rings: " + dpdk_error(rc);
    return false;
  }
  const int socket = rte_eth_dev_socket_id(id);
  for (uint16_t q = 0; q < opt.queues; ++q) {
    rc = rte_eth_rx_queue_setup(id, q, rx_desc, static_cast<unsigned>(socket), nullptr, pool);
    if (rc != 0) {
      error = "cannot set up rx queue " + std::to_string(q) + ": " + dpdk_error(rc);
      return false;
    }
    rc = rte_eth_tx_queue_setup(id, q, tx_desc, static_cast<unsigned>(socket), nullptr);
    if (rc != 0) {
      error = "cannot set up tx queue " + std::to_string(q) + ": " + dpdk_error(rc);
      return false;
    }
  }
  rc = rte_eth_dev_start(id);
  if (rc != 0) {
    error = "cannot start: " + dpdk_error(rc);
    return false;
  }
  if (opt.promiscuous) {
    rc = rte_eth_promiscuous_enable(id);
    // vhost and the test vdevs have no MAC filter to open: nothing to do.
    if (rc != 0 && rc != -ENOTSUP) {
      error = "cannot enable promiscuous mode: " + dpdk_error(rc);
      rte_eth_dev_stop(id);
      return false;
    }
  }
  return true;
}

void release_device(uint16_t id) {
  rte_eth_dev_info info;
  rte_device* dev = rte_eth_dev_info_get(id, &info) == 0 ? info.device : nullptr;
  rte_eth_dev_close(id);
  if (dev != nullptr) rte_dev_remove(dev);
}

bool all_hex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

const VnicDriver& vnic_driver(VnicKind kind) {
  switch (kind) {
    case VnicKind::kAfPacket: return af_packet_driver();
    case VnicKind::kAfXdp: return af_xdp_driver();
    case VnicKind::kVhostUser: return vhost_user_driver();
    case VnicKind::kDpdk: break;
  }
  return dpdk_devargs_driver();
}

std::optional<OpenedPort> open_port(const VnicBinding& b, const PortOptions& opt,
                                    rte_mempool* pool, std::string& error) {
  OpenedPort port;
  port.devargs = vnic_driver(b.kind).devargs(b, opt.instance, opt.queues);
  port.name = port.devargs.substr(0, port.devargs.find(','));

  // A PCI device allow-listed at EAL init is already an ethdev; a vdev is
  // probed here, so its PMD's own error message lands right before ours.
  if (rte_eth_dev_get_port_by_name(port.name.c_str(), &port.id) != 0) {
    int rc = rte_dev_probe(port.devargs.c_str());
    if (rc != 0) {
      error = "cannot open device '" + port.devargs + "': " + dpdk_error(rc);
      return std::nullopt;
    }
    if (rte_eth_dev_get_port_by_name(port.name.c_str(), &port.id) != 0) {
      error = "device '" + port.devargs + "' did not create an Ethernet port named '" + port.name + "'";
      rte_eal_hotplug_remove(is_pci_devargs(port.devargs) ? "pci" : "vdev", port.name.c_str());
      return std::nullopt;
    }
  }
  std::string why;
  if (!start_port(port.id, opt, pool, why)) {
    error = "device '" + port.devargs + "': " + why;
    release_device(port.id);
    return std::nullopt;
  }
  return port;
}

void close_port(const OpenedPort& port) {
  rte_eth_dev_stop(port.id);
  release_device(port.id);
}

bool is_pci_devargs(std::string_view devargs) {
  std::string_view addr = devargs.substr(0, devargs.find(','));
  // [DDDD:]BB:DD.F
  auto colon = addr.rfind(':');
  auto dot = addr.rfind('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) return false;
  std::string_view head = addr.substr(0, colon);
  std::string_view dev = addr.substr(colon + 1, dot - colon - 1);
  std::string_view fn = addr.substr(dot + 1);
  if (!all_hex(dev, 2) || fn.size() != 1 || fn[0] < '0' || fn[0] > '7') return false;
  auto first = head.find(':');
  if (first == std::string_view::npos) return all_hex(head, 2);
  return all_hex(head.substr(0, first), 4) && all_hex(head.substr(first + 1), 2);
}

}  // namespace weft::dp
