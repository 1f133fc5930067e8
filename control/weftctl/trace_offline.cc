#include "control/weftctl/trace_offline.h"

#include "control/compile/compile.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/trace/offline_node.h"

namespace weft::cli {
namespace {

constexpr size_t kMaxHops = 4;  // a path crosses one tunnel; more is a loop

}  // namespace

OfflineNodes::Built* OfflineNodes::built(const std::string& node, std::string& error) {
  auto it = built_.find(node);
  if (it != built_.end()) return it->second.get();
  if (!model_.index.nodes.count(node)) {
    error = "the policy has no node named '" + node + "'";
    return nullptr;
  }
  auto b = std::make_unique<Built>();
  b->tables = policy::compile_node(model_, node);
  b->sources = policy::compile_sources(model_, node);
  b->snap = dp::offline_snapshot(b->tables, error);
  if (!b->snap) {
    error = "node " + node + ": " + error;
    return nullptr;
  }
  return built_.emplace(node, std::move(b)).first->second.get();
}

const proto::NodeTables* OfflineNodes::tables(const std::string& node, std::string& error) {
  Built* b = built(node, error);
  return b != nullptr ? &b->tables : nullptr;
}

dp::TraceSession* OfflineNodes::session(const std::string& node, Built& b, std::string& error) {
  auto it = sessions_.find(node);
  if (it != sessions_.end()) return it->second.get();
  auto s = dp::TraceSession::create(*b.snap, pool_, error);
  if (!s) return nullptr;
  return sessions_.emplace(node, std::move(s)).first->second.get();
}

std::string OfflineNodes::node_of_port(const std::string& port) const {
  auto it = model_.index.ports.find(port);
  return it == model_.index.ports.end() ? std::string() : model_.ports[it->second].node;
}

std::string OfflineNodes::node_of_address(uint32_t ip) const {
  for (const policy::Port& p : model_.ports)
    if (p.ip == ip) return p.node;
  return {};
}

std::optional<std::vector<TraceHop>> OfflineNodes::trace(const std::string& node, const std::string& sender,
                                                         const dp::TracePacket& packet, bool follow,
                                                         std::string& error) {
  Built* b = built(node, error);
  if (b == nullptr) return std::nullopt;
  auto from = dp::find_endpoint(b->tables, sender);
  if (!from) {
    error = "node " + node + " knows no port '" + sender + "' (it is in no network present on the node)";
    return std::nullopt;
  }
  dp::TraceSession* s = session(node, *b, error);
  if (s == nullptr) return std::nullopt;
  auto first = dp::send_traced(*s, *b->snap, b->tables, *from, packet, error);
  if (!first) return std::nullopt;

  std::vector<TraceHop> hops;
  TraceHop hop{node, {sender, packet, std::move(*first)}, {}};
  while (true) {
    hop.json = dp::trace_json(hop.trace, hop.node, false, &built(hop.node, error)->sources);
    // Where the traced packet itself went on to (not the probes or copies
    // a stage made along the way).
    const dp::TraceOutcome* onward = nullptr;
    for (const dp::TraceOutcome& o : hop.trace.result.outcomes)
      if (o.packet == 0 && o.delivered && o.vtep != 0) onward = &o;
    const std::string next = onward != nullptr ? onward->vtep_node : std::string();
    std::vector<uint8_t> frame = onward != nullptr ? onward->frame : std::vector<uint8_t>();
    hops.push_back(std::move(hop));
    if (!follow || next.empty() || hops.size() >= kMaxHops) break;
    Built* nb = built(next, error);
    if (nb == nullptr) return std::nullopt;
    dp::TraceSession* ns = session(next, *nb, error);
    if (ns == nullptr) return std::nullopt;
    hop = TraceHop{next, {sender, packet, ns->run(nb->snap->underlay_port, frame)}, {}};
  }
  return hops;
}

}  // namespace weft::cli
