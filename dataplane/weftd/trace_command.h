#pragma once
// weftd's `trace` control-socket command: `weftctl trace --socket` traces
// a packet live, on the snapshot this node forwards with, through the
// trace engine (dataplane/trace/): the real stages on a pipeline of the
// trace's own, with a connection table and counters of its own. Nothing
// is transmitted, no worker's counters or flow cache change.
//
//   {"command": "trace", "packet": "tcp 10.1.1.10:1234 > 10.1.2.20:5432",
//    "from": "web-1", "reply": false}
//   -> dataplane/trace/trace_report.h's JSON; the policy positions when
//      this node compiled the policy itself (weftd --policy).
//
// Main lcore only: the snapshot it reads is freed only there.

#include "dataplane/control_socket/control_server.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

nlohmann::json trace_report(const Dataplane& dp, const nlohmann::json& request);

void register_trace_command(ControlServer& server, const Dataplane& dp);

}  // namespace weft::dp
