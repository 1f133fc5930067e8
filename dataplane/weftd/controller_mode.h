#pragma once
// weftd in controller mode: the node agent (dataplane/agent) driving this
// node's Dataplane. Each table version the controller sends is built into a
// snapshot on the main lcore (off the fast path), published with RCU, and
// acked only once every worker has moved past the old snapshot and it has
// been freed: an ack means the whole node forwards on that version.
//
//   auto agent = start_controller_agent(io, dp, cfg, error);  // cfg.controller set
//   if (!agent) die(error);
//   ...
//   agent->stop();                                            // on SIGTERM
//
// While the controller is away the node keeps forwarding on the last tables
// it applied; the agent reconnects with backoff and resyncs.
//
// Main lcore only (the thread that runs `io`).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/agent/controller_agent.h"
#include "dataplane/config/node_config.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

// Creates and starts the agent for node.yaml's `controller:`. Null, with the
// reason, when its TLS material cannot be loaded.
std::unique_ptr<agent::ControllerAgent> start_controller_agent(boost::asio::io_context& io,
                                                               Dataplane& dp, const NodeConfig& cfg,
                                                               std::string& error);

// The agent's view for `weftctl node stats` and the control socket's status:
// controller address, connected, applied version, last error, sessions.
nlohmann::json controller_status_json(const agent::ControllerAgent& agent, const ControllerConfig& cfg);

}  // namespace weft::dp
