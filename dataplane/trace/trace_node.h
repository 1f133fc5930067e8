#pragma once
// A trace request on one node: who sends which packet, answered by the
// trace engine (trace_run.h) on the node's snapshot. Shared by weftd's
// live `trace` command (the snapshot it forwards with) and weftctl's
// offline trace (a snapshot built from the policy in-process).
//
// The sender is a port of the policy: a vNIC of this node (the frame
// enters on it, from the port's MAC), or a port of another node in a
// network present here (the frame arrives from that node's VTEP in
// VXLAN, as its weftd would send it, routed there already when it goes to
// another subnet: the router is distributed). The destination MAC is what the VM
// would use: the destination port's for an address of its own subnet,
// the network's router MAC otherwise.
//
// --reply: the packet is first sent as it is, untraced, then the
// destination port answers (reply_packet), and that answer is traced: the
// return direction of an established connection.
//
// Main lcore (or any thread with an EAL); reads the snapshot.

#include <rte_mempool.h>

#include <optional>
#include <string>

#include "common/proto/tables.pb.h"
#include "dataplane/trace/trace_packet.h"
#include "dataplane/trace/trace_run.h"

namespace weft::dp {

struct Snapshot;

// A port of the policy, as this node's tables know it.
struct TraceEndpoint {
  std::string port;
  std::string network;
  uint32_t vni = 0;
  Mac mac{};
  uint32_t ip = 0;
  uint32_t vtep = 0;  // 0: a port of this node; else the VTEP of the node it is on
  std::string node;   // that node, when known
  Ipv4Prefix subnet{};
  Mac router_mac{};
};

std::optional<TraceEndpoint> find_endpoint(const proto::NodeTables& t, std::string_view port);
// The port holding address `ip`, in any network of the tables.
std::optional<TraceEndpoint> endpoint_by_ip(const proto::NodeTables& t, uint32_t ip);

struct TraceRequest {
  TracePacket packet;
  std::string from;  // the sending port; empty: the port holding packet.src
  bool reply = false;
};

struct NodeTrace {
  std::string sender;  // the port that sent the traced packet
  TracePacket packet;  // the traced packet (the reply, with --reply)
  TraceResult result;
};

// Nullopt, with `error`, when the request names no port this node's tables
// know, or a sender bound to no vNIC here.
std::optional<NodeTrace> trace_on_node(const Snapshot& snap, const proto::NodeTables& t, rte_mempool* pool,
                                       const TraceRequest& req, std::string& error);

// Runs the frame `sender` sends for `p` through `session`.
std::optional<TraceResult> send_traced(TraceSession& session, const Snapshot& snap, const proto::NodeTables& t,
                                       const TraceEndpoint& sender, const TracePacket& p, std::string& error);

}  // namespace weft::dp
