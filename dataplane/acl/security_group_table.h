#pragma once
// SecurityGroupTable: the security-group allow-lists of this node's ports,
// compiled into DPDK rte_acl tries off the fast path, one table per
// snapshot, and classified a burst at a time.
//
//   SecurityGroupTable sg;                               // main lcore
//   uint32_t id = sg.add_ref({"web", "shop", 0, SgDirection::kIngress});
//   sg.add({.cls = 1, .direction = SgDirection::kIngress, .proto = 6, ...,
//           .id = id});
//   sg.bind_port(3, 1, /*egress_all=*/true);
//   if (!sg.build(error)) ...;
//   SgKey k = make_sg_key(proto, remote, sg.port_class(port), l4);   // worker
//   sg.classify(SgDirection::kIngress, keys, rule, n);   // rule[i] == 0: denied
//
// build_security_groups (sg_builder.h) fills one from NodeTables.
//
// Semantics (SPEC.md, security_groups): a port's ingress rules allow new
// connections into it, its egress rules new connections out of it; what no
// rule allows is denied. A port without ingress rules takes no new inbound
// connection; a port that allows all egress (no group restricts it) opens
// any outbound connection without a classification. A rule speaks of the
// connection as its first packet shows it: the protocol, the remote end's
// address (the source for ingress, the destination for egress) and the
// destination port, or for ICMP the type and code.
//
// Layout. Ports with the same groups (in the same network) share one rule
// set, their class: a hundred web servers cost the rules of one. One
// rte_acl context per direction, with the class as a field, so that a burst
// of packets for many ports is one rte_acl_classify call (per-port contexts
// would split every burst by port first). perf/sg_classify_bench measures
// it against a linear scan of each class's rules.
//
// Threads: add(), allow_all_egress() and build() on the main lcore (build
// allocates and may fail), before the table is published in a Snapshot;
// then classify() from any worker concurrently (rte_acl_classify only
// reads the trie).

#include <rte_byteorder.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/stats/counters.h"

struct rte_acl_ctx;

namespace weft::dp {

enum class SgDirection : uint8_t { kIngress = 0, kEgress = 1 };

// What a rule is matched against: rte_acl's input, fields in network byte
// order at fixed offsets (a 1-byte first field, then 4-byte groups).
struct SgKey {
  uint8_t proto;
  uint8_t pad_[3];
  rte_be32_t remote;  // the other end: source (ingress), destination (egress)
  rte_be16_t cls;     // class of the local port whose rules apply (port_class())
  rte_be16_t l4;      // TCP/UDP destination port; ICMP type << 8 | code; else 0
};
static_assert(sizeof(SgKey) == 12);

inline SgKey make_sg_key(uint8_t proto, rte_be32_t remote, uint16_t cls, rte_be16_t l4) {
  return SgKey{proto, {0, 0, 0}, remote, rte_cpu_to_be_16(cls), l4};
}

// One allow rule of one class and direction, in host byte order.
struct SgRule {
  uint16_t cls = 0;  // >= 1
  SgDirection direction = SgDirection::kIngress;
  bool any_proto = false;
  uint8_t proto = 0;  // IP protocol, unless any_proto
  uint32_t remote = 0;
  uint8_t remote_len = 0;
  uint16_t l4_lo = 0, l4_hi = UINT16_MAX;  // SgKey::l4 range
  uint32_t id = 0;                         // from add_ref(): what classify() reports
};

// Where a rule came from, for traces and tests.
struct SgRuleRef {
  std::string group;    // the security group
  std::string network;  // whose members its remote groups resolved to
  uint32_t index;       // position in the group's ingress or egress list
  SgDirection direction;
};

class SecurityGroupTable {
 public:
  static constexpr uint32_t kMaxBurst = 64;
  static constexpr uint32_t kDenied = 0;
  static constexpr uint16_t kNoClass = 0;  // a port bound to no rules: all denied

  SecurityGroupTable();
  ~SecurityGroupTable();
  SecurityGroupTable(SecurityGroupTable&&) noexcept;
  SecurityGroupTable& operator=(SecurityGroupTable&&) noexcept;

  // Building. Ids and classes count from 1.
  uint32_t add_ref(SgRuleRef ref);
  void add(const SgRule& rule);
  // `port` takes the rules of class `cls`; with `egress_all`, it opens any
  // outbound connection whatever the egress rules.
  void bind_port(uint16_t port, uint16_t cls, bool egress_all);
  // Compiles what was added into the tries. False, with `error`, when DPDK
  // cannot (memory); the table then denies everything.
  bool build(std::string& error);

  // results[i]: the id of a rule that allows keys[i] (>= 1), or kDenied.
  // n <= kMaxBurst.
  void classify(SgDirection d, const SgKey* keys, uint32_t* results, uint32_t n) const noexcept;

  uint16_t port_class(uint16_t port) const { return port < kMaxPorts ? class_[port] : kNoClass; }
  bool egress_allows_all(uint16_t port) const { return port < kMaxPorts && egress_all_[port]; }

  // The rule a classify() result names; null for kDenied or an unknown id.
  const SgRuleRef* ref(uint32_t id) const;
  size_t acl_rules(SgDirection d) const { return acl_rules_[static_cast<size_t>(d)]; }

 private:
  struct AclDeleter {
    void operator()(rte_acl_ctx* ctx) const noexcept;
  };
  using AclPtr = std::unique_ptr<rte_acl_ctx, AclDeleter>;

  std::array<AclPtr, 2> acl_;  // by direction; null: no rule that way
  std::array<size_t, 2> acl_rules_{};
  std::array<uint16_t, kMaxPorts> class_{};  // by DPDK port id
  std::array<bool, kMaxPorts> egress_all_{};
  std::array<std::vector<SgRule>, 2> pending_;  // added, not yet built
  std::vector<SgRuleRef> refs_;                 // by id - 1
};

}  // namespace weft::dp
