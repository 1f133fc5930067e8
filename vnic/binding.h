#pragma once
// A vNIC binding: which kind of DPDK port backs one port on this node, with
// the kind's parameters, as read from node.yaml (dataplane/config). The
// underlay is a binding of kind `dpdk` whose devargs are the configured device.
//
// Plain data; any thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::dp {

enum class VnicKind : uint8_t {
  kAfPacket,  // kernel netdev (veth, tap, NIC) through an AF_PACKET mmap ring
  kAfXdp,     // kernel netdev through an AF_XDP socket (libbpf)
  kVhostUser, // a QEMU VM's virtio-net over a vhost-user unix socket
  kDpdk,      // raw DPDK devargs: a PCI address, or pcap/null/ring vdevs for tests
};

inline constexpr std::array<std::string_view, 4> kVnicKindNames = {"af_packet", "af_xdp",
                                                                   "vhost_user", "dpdk"};

constexpr std::string_view vnic_kind_name(VnicKind k) {
  return kVnicKindNames[static_cast<size_t>(k)];
}

constexpr std::optional<VnicKind> vnic_kind_from_name(std::string_view name) {
  for (size_t i = 0; i < kVnicKindNames.size(); ++i)
    if (kVnicKindNames[i] == name) return static_cast<VnicKind>(i);
  return std::nullopt;
}

struct VnicBinding {
  VnicKind kind = VnicKind::kAfPacket;
  std::string iface;    // af_packet, af_xdp: kernel interface name
  std::string socket;   // vhost_user: unix socket path
  bool client = false;  // vhost_user: weftd connects to a socket the VM (QEMU) listens on
  std::string devargs;  // dpdk: devargs as given, e.g. "net_pcap0,rx_pcap=in.pcap"
};

}  // namespace weft::dp
