#pragma once
// The policy model: plain structs mirroring SPEC.md's policy language
// (version 1), one struct per kind. The loader (loader.h) fills them from YAML
// with every default applied and every value parsed (addresses in host byte
// order, rates in bits/s, sizes in bytes, durations in milliseconds);
// validate() checks the cross-references and fills Model::index, which the
// compiler walks instead of looking names up.
//
// Each entity keeps the YAML position of itself and of its fields in `at`, so
// that any later check can point at the offending node. Positions are
// metadata: they compare equal whatever their value, which makes `a == b` on
// two entities mean "same content", and lets nodes_touched() (compile.h)
// compare two versions of a policy entity by entity.
//
// A Model is a value: copyable, no pointers into itself. Thread-compatible.

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/diag.h"
#include "common/net.h"

namespace weft::policy {

// 1-based line and column within the file of the entity (see Where::file).
// Line 0 means "not given, or given but malformed": the loader records a
// field's position only once its value parsed, so validate() checks exactly
// the fields that hold real values and an error is never reported twice.
struct Loc {
  uint32_t line = 0;
  uint32_t column = 0;
  bool known() const { return line != 0; }
  friend bool operator==(const Loc&, const Loc&) { return true; }
};

// Where a top-level entity was written: an index into Model::files and the
// position of its mapping.
struct Where {
  uint32_t file = 0;
  Loc self;
  friend bool operator==(const Where&, const Where&) { return true; }
};

// Short lists (a port's groups, a rule's port ranges and remote prefixes)
// keep their first items inline: a policy holds tens of thousands of them,
// and copying a Model (PolicyCache merges files by copying) or freeing one
// should not cost an allocation each; this halved both. (g++ 12 at -O3 may
// warn -Wstringop-overread, falsely, on moving one into a std::optional.)
template <class T, size_t N>
using SmallVector = boost::container::small_vector<T, N>;

// IP protocol numbers, so the compiled tables can use them as they are.
enum class Protocol : uint8_t { kAny = 0, kIcmp = 1, kTcp = 6, kUdp = 17 };

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};
using PortRanges = SmallVector<PortRange, 2>;
using Prefixes = SmallVector<Ipv4Prefix, 2>;

struct Node {
  std::string name;
  uint32_t underlay_ip = 0;  // the node's VTEP address
  struct At : Where {
    Loc name, underlay_ip;
  } at;
  friend bool operator==(const Node&, const Node&) = default;
};

struct Subnet {
  std::string name;
  Ipv4Prefix cidr;
  uint32_t gateway = 0;  // default: the first usable address
  bool dhcp = true;
  std::vector<uint32_t> dns;
  bool is_public = false;
  struct At {
    Loc self, name, cidr, gateway;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const Subnet&, const Subnet&) = default;
};

struct Route {
  Ipv4Prefix prefix;
  uint32_t next_hop = 0;  // a port IP in the same network
  struct At {
    Loc self, prefix, next_hop;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const Route&, const Route&) = default;
};

struct Network {
  static constexpr uint32_t kDefaultMtu = 1450;
  std::string name;
  uint32_t vni = 0;
  uint32_t mtu = kDefaultMtu;
  std::vector<Subnet> subnets;
  std::vector<Route> routes;
  struct At : Where {
    Loc name, vni, mtu;
  } at;
  friend bool operator==(const Network&, const Network&) = default;
};

struct Port {
  std::string name;
  std::string network;
  std::string subnet;
  std::string node;
  uint32_t ip = 0;
  Mac mac{};                // explicit, or derived (see mac.h)
  bool mac_derived = true;  // false when the policy spelled it out
  SmallVector<std::string, 2> security_groups;
  Prefixes allowed_addresses;
  std::string qos;  // empty: no QoS policy
  struct At : Where {
    Loc name, network, subnet, node, ip, mac, qos;
    SmallVector<Loc, 2> security_groups, allowed_addresses;
  } at;
  friend bool operator==(const Port&, const Port&) = default;
};

struct SecurityRule {
  Protocol protocol = Protocol::kAny;
  PortRanges ports;  // empty: every port (tcp/udp)
  std::optional<uint8_t> icmp_type, icmp_code;
  // The remote end: `from`/`to` prefixes, or the members of `from_group`/
  // `to_group`. Neither: anywhere (0.0.0.0/0).
  Prefixes remote;
  std::string remote_group;
  struct At {
    Loc self, protocol, ports, icmp, remote, remote_group;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const SecurityRule&, const SecurityRule&) = default;
};

struct SecurityGroup {
  std::string name;
  std::vector<SecurityRule> ingress;  // allow-list; empty denies every new inbound connection
  std::vector<SecurityRule> egress;   // allow-list, when has_egress
  bool has_egress = false;            // `egress` omitted: every outbound connection allowed
  struct At : Where {
    Loc name, ingress, egress;
  } at;
  friend bool operator==(const SecurityGroup&, const SecurityGroup&) = default;
};

struct RateLimit {
  uint64_t rate_bps = 0;
  uint64_t burst_bytes = 0;
  struct At {
    Loc self, rate, burst;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

enum class Priority : uint8_t { kNormal, kHigh, kLow };

struct QosClass {
  std::string name;
  std::vector<uint8_t> dscp;
  Protocol protocol = Protocol::kAny;
  PortRanges ports;
  Priority priority = Priority::kNormal;
  uint64_t rate_bps = 0;  // 0: no cap of its own, only the port's rate
  struct At {
    Loc self, name, match, protocol, ports, rate;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const QosClass&, const QosClass&) = default;
};

struct QosPolicy {
  std::string name;
  std::optional<RateLimit> egress;   // traffic from the VM
  std::optional<RateLimit> ingress;  // traffic to the VM
  std::vector<QosClass> classes;
  struct At : Where {
    Loc name;
  } at;
  friend bool operator==(const QosPolicy&, const QosPolicy&) = default;
};

struct Listener {
  Protocol protocol = Protocol::kTcp;
  uint16_t port = 0;
  uint16_t target_port = 0;  // default: `port`
  struct At {
    Loc self, protocol, port, target_port;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const Listener&, const Listener&) = default;
};

struct Backend {
  std::string port;
  uint32_t weight = 1;
  struct At {
    Loc self, port, weight;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const Backend&, const Backend&) = default;
};

// tcp: a TCP connect; http: a GET over it, with an expected status.
enum class HealthProtocol : uint8_t { kTcp, kIcmp, kHttp };

struct HealthCheck {
  HealthProtocol protocol = HealthProtocol::kTcp;
  uint16_t port = 0;  // 0: each listener's target port
  uint64_t interval_ms = 5000;
  uint64_t timeout_ms = 2000;
  uint32_t unhealthy_threshold = 3;
  uint32_t healthy_threshold = 2;
  std::string path = "/";        // http only
  uint32_t expect_status = 200;  // http only
  struct At {
    Loc self, protocol, port, interval, timeout, unhealthy, healthy, path, expect_status;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

struct LoadBalancer {
  std::string name;
  std::string network;
  uint32_t vip = 0;
  std::vector<Listener> listeners;
  std::vector<Backend> backends;
  std::optional<HealthCheck> health_check;  // none: every backend counts as healthy
  struct At : Where {
    Loc name, network, vip, listeners, backends;
  } at;
  friend bool operator==(const LoadBalancer&, const LoadBalancer&) = default;
};

struct FloatingIp {
  uint32_t ip = 0;
  std::string port;
  struct At {
    Loc self, ip, port;
    friend bool operator==(const At&, const At&) { return true; }
  } at;
  friend bool operator==(const FloatingIp&, const FloatingIp&) = default;
};

struct Gateway {
  std::string name;
  std::string node;
  Ipv4Prefix external_cidr;
  uint32_t external_ip = 0;
  uint32_t external_next_hop = 0;
  std::vector<std::string> networks;
  std::vector<FloatingIp> floating_ips;
  struct At : Where {
    Loc name, node, external_cidr, external_ip, external_next_hop;
    std::vector<Loc> networks;
  } at;
  friend bool operator==(const Gateway&, const Gateway&) = default;
};

// Derived by validate(): every reference resolved to an index into Model's
// vectors, and the reverse relations the compiler walks. Lists are sorted by
// the name of what they hold, so compiled output is sorted by construction.
struct ModelIndex {
  using NameMap = std::unordered_map<std::string, uint32_t>;
  static constexpr uint32_t kNone = UINT32_MAX;

  NameMap nodes, networks, ports, groups, qos, lbs, gateways;

  struct PortRefs {
    uint32_t node = kNone, network = kNone, subnet = kNone, qos = kNone;
    SmallVector<uint32_t, 4> groups;
  };
  std::vector<PortRefs> port;                        // per port
  std::vector<std::vector<uint32_t>> node_ports;     // per node: its ports
  std::vector<std::vector<uint32_t>> node_networks;  // per node: networks present on it
  std::vector<std::vector<uint32_t>> node_gateways;  // per node: gateways it hosts
  std::vector<std::vector<uint32_t>> network_ports;  // per network: its ports
  std::vector<std::vector<uint32_t>> network_nodes;  // per network: nodes it is present on
  std::vector<std::vector<uint32_t>> network_lbs;    // per network: its load balancers
  std::vector<uint32_t> network_gateway;  // per network: the gateway serving it, or kNone
  std::vector<std::vector<uint32_t>> group_members;  // per group: its ports
};

struct Model {
  std::vector<std::string> files;  // Where::file indexes this
  std::vector<Node> nodes;
  std::vector<Network> networks;
  std::vector<Port> ports;
  std::vector<SecurityGroup> security_groups;
  std::vector<QosPolicy> qos_policies;
  std::vector<LoadBalancer> load_balancers;
  std::vector<Gateway> gateways;
  ModelIndex index;  // valid after validate() succeeded

  SourcePos pos(uint32_t file, Loc at) const {
    return {file < files.size() ? files[file] : std::string(), static_cast<int>(at.line),
            static_cast<int>(at.column)};
  }
};

}  // namespace weft::policy
