#pragma once
// weftd's own control-socket commands:
//   stats   ports (name, kind, DPDK port id, link, rx/tx packets and bytes,
//           drops, device errors), every drop reason with its count, and per
//           worker its polls, sleeps and busy cycles; counters summed over
//           the workers. `weftctl node stats` prints it.
//   status  node name, mode, snapshot generation, applied policy version.
//   conns   a page of the connection tables (conns_command.h).
// Both carry a "controller" object in controller mode (controller_mode.h).
// Main lcore only (the control socket's io_context).

#include <functional>
#include <nlohmann/json.hpp>

#include "dataplane/control_socket/control_server.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

// What the node's controller connection looks like now; empty outside
// controller mode.
using ControllerStatus = std::function<nlohmann::json()>;

nlohmann::json stats_report(const Dataplane& dp, const ControllerStatus& controller = {});
nlohmann::json status_report(const Dataplane& dp, const ControllerStatus& controller = {});

void register_control_commands(ControlServer& server, const Dataplane& dp, ControllerStatus controller = {});

}  // namespace weft::dp
