#pragma once
// weftd's own control-socket commands:
//   stats   ports (name, kind, DPDK port id, link, rx/tx packets and bytes,
//           drops, device errors), every drop reason with its count, and per
//           worker its polls, sleeps and busy cycles; counters summed over
//           the workers. `weftctl node stats` prints it.
//   status  node name, mode, snapshot generation, applied policy version.
// Main lcore only (the control socket's io_context).

#include <nlohmann/json.hpp>

#include "dataplane/control_socket/control_server.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

nlohmann::json stats_report(const Dataplane& dp);
nlohmann::json status_report(const Dataplane& dp);

void register_control_commands(ControlServer& server, const Dataplane& dp);

}  // namespace weft::dp
