// nodes_touched(): which nodes' tables a policy change can affect.
//
// What a node's tables are made of (compile.cc), and so what touches them:
//   its peers           the nodes of its networks (their underlay addresses)
//   its networks        the network, every port in it (L2, ARP, flood,
//                       routes, remote-group members, LB backends, floating
//                       IPs all stay within one network), its load balancers,
//                       the gateway serving it
//   its ports           their security groups and QoS policies
//   its gateways        the gateway and the networks it serves
// So a changed entity touches: a network, port or load balancer -> the nodes
// of its network; a node -> itself and the nodes sharing a network with it;
// a security group or QoS policy -> the nodes of the ports using it; a
// gateway -> its node and the nodes of the networks it serves. Each is taken
// in both versions, so moves are covered at both ends.

#include <set>

#include "control/compile/compile.h"

namespace weft::policy {
namespace {

class TouchFinder {
 public:
  TouchFinder(const Model& before, const Model& after) : before_(before), after_(after) {}

  std::vector<std::string> run() {
    compare(&Model::nodes, &ModelIndex::nodes, [&](const Model& m, uint32_t i) {
      add(m.nodes[i].name);
      for (uint32_t ni : m.index.node_networks[i]) network_nodes(m, ni);
    });
    compare(&Model::networks, &ModelIndex::networks,
            [&](const Model& m, uint32_t i) { network_nodes(m, i); });
    compare(&Model::ports, &ModelIndex::ports, [&](const Model& m, uint32_t i) {
      network_nodes(m, m.index.port[i].network);
    });
    compare(&Model::load_balancers, &ModelIndex::lbs, [&](const Model& m, uint32_t i) {
      network_of(m, m.load_balancers[i].network);
    });
    compare(&Model::security_groups, &ModelIndex::groups, [&](const Model& m, uint32_t i) {
      for (uint32_t pi : m.index.group_members[i]) add(m.ports[pi].node);
    });
    compare(&Model::qos_policies, &ModelIndex::qos, [&](const Model& m, uint32_t i) {
      for (size_t pi = 0; pi < m.ports.size(); ++pi)
        if (m.index.port[pi].qos == i) add(m.ports[pi].node);
    });
    compare(&Model::gateways, &ModelIndex::gateways, [&](const Model& m, uint32_t i) {
      add(m.gateways[i].node);
      for (const std::string& n : m.gateways[i].networks) network_of(m, n);
    });
    return {touched_.begin(), touched_.end()};
  }

 private:
  // Calls touch(model, index) for every entity of a kind that is not the same
  // in both versions, in each version it exists in.
  template <class T, class Touch>
  void compare(std::vector<T> Model::*kind, ModelIndex::NameMap ModelIndex::*names, Touch touch) {
    const std::vector<T>& old_all = before_.*kind;
    const std::vector<T>& new_all = after_.*kind;
    const ModelIndex::NameMap& old_names = before_.index.*names;
    const ModelIndex::NameMap& new_names = after_.index.*names;
    for (uint32_t i = 0; i < old_all.size(); ++i) {
      auto it = new_names.find(old_all[i].name);
      if (it != new_names.end() && new_all[it->second] == old_all[i]) continue;
      touch(before_, i);
      if (it != new_names.end()) touch(after_, it->second);
    }
    for (uint32_t i = 0; i < new_all.size(); ++i)
      if (!old_names.count(new_all[i].name)) touch(after_, i);
  }

  void add(const std::string& node) { touched_.insert(node); }
  void network_nodes(const Model& m, uint32_t network) {
    if (network == ModelIndex::kNone) return;
    for (uint32_t n : m.index.network_nodes[network]) add(m.nodes[n].name);
  }
  void network_of(const Model& m, const std::string& name) {
    if (auto it = m.index.networks.find(name); it != m.index.networks.end())
      network_nodes(m, it->second);
  }

  const Model& before_;
  const Model& after_;
  std::set<std::string> touched_;
};

}  // namespace

std::vector<std::string> nodes_touched(const Model& before, const Model& after) {
  return TouchFinder(before, after).run();
}

}  // namespace weft::policy
