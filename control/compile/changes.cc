// What a policy change touches, and rebuilding only that.
//
// A node's tables are a node-wide part and one slice per network present on
// it (node_compiler.h). Which parts an entity feeds, and so which a change
// to it touches (taken in both versions, so that moves are covered at both
// ends):
//   node             its own tables; on every node sharing a network with it,
//                    the slices of the shared networks (locations, flood
//                    lists) and the node-wide part (peers, gateways)
//   network, port,   on every node of the network, its slice and the
//   load balancer    node-wide part (peers, QoS policies of the ports,
//                    floating IPs and SNAT of the gateway)
//   security group   the slices of the networks its members are in, on the
//                    members' nodes
//   QoS policy       the node-wide part of the nodes of the ports using it
//   gateway          its node; the nodes of the networks it serves
// Everything a port's entry or a network slice holds stays within one
// network (remote groups resolve within it, backends and floating IPs are
// ports of it), which is what keeps a port change from touching the rest.

#include <map>
#include <set>

#include "control/compile/compile.h"
#include "control/compile/node_compiler.h"

namespace weft::policy {
namespace {

struct NodeChange {
  bool node_wide = false;
  std::set<std::string> networks;  // slices to rebuild
  bool everything = false;         // the node itself changed
};
using Changes = std::map<std::string, NodeChange>;

class ChangeFinder {
 public:
  ChangeFinder(const Model& before, const Model& after) : before_(before), after_(after) {}

  Changes run() {
    compare(&Model::nodes, &ModelIndex::nodes, [&](const Model& m, uint32_t i) {
      changes_[m.nodes[i].name].everything = true;
      for (uint32_t ni : m.index.node_networks[i]) network(m, ni);
    });
    compare(&Model::networks, &ModelIndex::networks,
            [&](const Model& m, uint32_t i) { network(m, i); });
    compare(&Model::ports, &ModelIndex::ports,
            [&](const Model& m, uint32_t i) { network(m, m.index.port[i].network); });
    compare(&Model::load_balancers, &ModelIndex::lbs,
            [&](const Model& m, uint32_t i) { network(m, m.load_balancers[i].network); });
    compare(&Model::security_groups, &ModelIndex::groups, [&](const Model& m, uint32_t i) {
      for (uint32_t pi : m.index.group_members[i])
        changes_[m.ports[pi].node].networks.insert(m.ports[pi].network);
    });
    compare(&Model::qos_policies, &ModelIndex::qos, [&](const Model& m, uint32_t i) {
      for (size_t pi = 0; pi < m.ports.size(); ++pi)
        if (m.index.port[pi].qos == i) changes_[m.ports[pi].node].node_wide = true;
    });
    compare(&Model::gateways, &ModelIndex::gateways, [&](const Model& m, uint32_t i) {
      changes_[m.gateways[i].node].node_wide = true;
      for (const std::string& n : m.gateways[i].networks) network(m, n);
    });
    return std::move(changes_);
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

  // The slice of a network and the node-wide part, on every node of it.
  void network(const Model& m, uint32_t ni) {
    if (ni == ModelIndex::kNone) return;
    for (uint32_t n : m.index.network_nodes[ni]) {
      NodeChange& c = changes_[m.nodes[n].name];
      c.node_wide = true;
      c.networks.insert(m.networks[ni].name);
    }
  }
  void network(const Model& m, const std::string& name) {
    if (auto it = m.index.networks.find(name); it != m.index.networks.end()) network(m, it->second);
  }

  const Model& before_;
  const Model& after_;
  Changes changes_;
};

}  // namespace

std::vector<std::string> nodes_touched(const Model& before, const Model& after) {
  std::vector<std::string> out;
  for (const auto& [node, change] : ChangeFinder(before, after).run()) out.push_back(node);
  return out;
}

std::vector<std::string> update_tables(const Model& before, const Model& after,
                                       std::map<std::string, proto::NodeTables>& tables) {
  std::vector<std::string> touched;
  for (const auto& [node, change] : ChangeFinder(before, after).run()) {
    touched.push_back(node);
    auto in_after = after.index.nodes.find(node);
    if (in_after == after.index.nodes.end()) {
      tables.erase(node);
      continue;
    }
    const uint32_t n = in_after->second;
    auto have = tables.find(node);
    if (change.everything || have == tables.end()) {
      tables.insert_or_assign(node, compile_node(after, node));
      continue;
    }
    proto::NodeTables& t = have->second;
    if (change.node_wide) rebuild_node_wide(after, n, t);
    for (const std::string& network : change.networks) {
      remove_network_slice(network, t);
      if (auto ni = after.index.networks.find(network); ni != after.index.networks.end())
        add_network_slice(after, n, ni->second, t);
    }
    sort_tables(t);
  }
  return touched;
}

}  // namespace weft::policy
