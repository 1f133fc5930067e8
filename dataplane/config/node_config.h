#pragma once
// node.yaml: one weftd's local configuration (SPEC.md, "weftd"): the node
// name, the controller, the underlay device, the vNIC bindings, DPDK lcores
// and memory, the connection table's size, and the control socket and the
// group that may use it, and where Prometheus scrapes it.
//
// load_node_config reads and validates the whole file before weftd touches
// DPDK: every problem is reported, each as `FILE:LINE:COLUMN: error: KEY:
// MESSAGE` with the position of the offending node, and a config that loads
// is valid. Defaults are named constants next to their fields.
//
//   weft::Diagnostics diags;
//   auto cfg = weft::dp::load_node_config("node.yaml", diags);
//   if (!cfg) { fputs(diags.format().c_str(), stderr); return 2; }
//
// Thread-compatible; the result is plain data.

#include <sys/types.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diag.h"
#include "common/net.h"
#include "vnic/binding.h"

namespace weft::dp {

struct ControllerConfig {
  std::string host;
  uint16_t port = 0;
  std::string ca, cert, key;  // PEM files for mutual TLS
};

struct UnderlayConfig {
  std::string device;               // DPDK devargs or a PCI address
  Ipv4Prefix ip;                    // the VTEP address (host bits kept) and its subnet
  std::optional<uint32_t> next_hop; // for VTEPs outside the underlay subnet
  // An af_xdp uplink's steering program (dataplane/underlay/xdp_steering.h);
  // empty: the one installed beside weftd.
  std::string xdp_program;
};

// The gateway's external network (only on a node that hosts a gateway):
// its port, an optional 802.1Q tag on it, and the TCP/UDP ports (and ICMP
// echo identifiers) SNAT hands out.
struct ExternalConfig {
  static constexpr uint16_t kDefaultSnatLo = 1024;
  static constexpr uint16_t kDefaultSnatHi = 65535;

  std::string device;  // DPDK devargs or a PCI address
  uint16_t vlan = 0;   // 1-4094; 0: untagged
  uint16_t snat_lo = kDefaultSnatLo;
  uint16_t snat_hi = kDefaultSnatHi;
};

// A local binding: policy port name -> vNIC.
struct PortConfig {
  std::string name;
  VnicBinding binding;
  SourcePos pos;  // of the binding, for errors found after loading
};

struct DpdkConfig {
  static constexpr uint32_t kDefaultMemoryMb = 1024;

  std::vector<unsigned> lcores = {0, 1};  // first: main lcore; the rest: workers
  SourcePos lcores_pos;                   // for "CPU not available" at start
  bool hugepages = true;                  // false: --no-huge (also the fallback when none are free)
  uint32_t memory_mb = kDefaultMemoryMb;  // EAL memory without hugepages
  uint32_t mbufs = 0;                     // 0: sized from the ports and workers
};

// The flow cache's connection table (dataplane/conntrack/conn_table.h),
// one per worker, allocated at start: about 80 bytes per connection.
struct ConntrackConfig {
  static constexpr uint32_t kDefaultMaxConnections = 256 * 1024;
  static constexpr uint32_t kMinConnections = 1024;
  static constexpr uint32_t kMaxConnections = 64u << 20;

  uint32_t max_connections = kDefaultMaxConnections;  // per worker
};

// Prometheus /metrics (dataplane/metrics/): where weftd listens for scrapes.
struct MetricsConfig {
  std::string address;  // an IPv4 or IPv6 address, without brackets
  uint16_t port = 0;    // 0: any free port (weftd logs the one it got)
};

// Port security's limit on broadcast and multicast from each vNIC
// (dataplane/portsec/port_security.h), per worker that polls it.
struct PortSecurityConfig {
  static constexpr uint32_t kDefaultBroadcastRate = 100;
  static constexpr uint32_t kDefaultBroadcastBurst = 50;
  static constexpr uint32_t kMaxBroadcast = 1u << 20;

  uint32_t broadcast_rate = kDefaultBroadcastRate;    // frames a second; 0: no limit
  uint32_t broadcast_burst = kDefaultBroadcastBurst;  // frames back to back
};

// QoS limits (dataplane/qos/, docs/policy.md): shaped where the packet
// leaves (rte_sched; the default), or all policed (rte_meter; no queueing,
// cheaper, harsher on TCP).
struct QosNodeConfig {
  bool shape = true;
};

struct NodeConfig {
  static constexpr const char* kDefaultControlSocketDir = "/run/weft";

  std::string file;
  std::string node;
  std::optional<ControllerConfig> controller;  // absent: standalone (--policy) only
  UnderlayConfig underlay;
  std::vector<PortConfig> ports;  // in file order: DPDK port ids follow it, after the underlay
  std::optional<ExternalConfig> external;  // the external port comes after the vNICs
  DpdkConfig dpdk;
  ConntrackConfig conntrack;
  PortSecurityConfig port_security;
  QosNodeConfig qos;
  std::string control_socket;     // default: /run/weft/<node>.sock
  // control_socket_group: a group (name or number) whose members may use the
  // control socket too (mode 0660, owner root); absent: the owner's group.
  std::optional<gid_t> control_socket_gid;
  std::optional<MetricsConfig> metrics;  // absent: no /metrics

  unsigned workers() const { return static_cast<unsigned>(dpdk.lcores.size() - 1); }
  // The main lcore's CPU listed again, for a worker: the main lcore mostly
  // sleeps, so on a small machine it may share a worker's CPU ("0,0-1").
  // The EAL then numbers its lcores 0..workers() (--lcores lcore@cpu).
  bool main_shares_cpu() const {
    return std::count(dpdk.lcores.begin(), dpdk.lcores.end(), dpdk.lcores.front()) > 1;
  }
  // The EAL lcore id worker `w` runs on.
  unsigned worker_lcore(unsigned w) const { return main_shares_cpu() ? w + 1 : dpdk.lcores[w + 1]; }
};

std::optional<NodeConfig> load_node_config(const std::string& path, Diagnostics& diags);
std::optional<NodeConfig> parse_node_config(const YAML::Node& root, const std::string& file,
                                            Diagnostics& diags);

}  // namespace weft::dp
