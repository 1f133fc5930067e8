#pragma once
// A node's trace as JSON: what weftd's `trace` command answers and what
// weftctl prints (as text, or as it is with --json). Each table entry a
// decision rests on is looked up in the node's NodeSources, when there are
// any, and carries the policy FILE:LINE:COLUMN that produced it.
//
//   {"node": "node-a", "sender": "web-1", "packet": "tcp ... flags S", "reply": false,
//    "steps": [{"packet": 0, "stage": "security_group", "decision": "commit",
//               "detail": "...", "refs": [{"entry": "...", "source": "p.yaml:12:9"}]}, ...],
//    "verdict": [{"packet": 0, "delivered": true, "port": "db-1", "node": "node-a"},
//                {"packet": 0, "delivered": false, "reason": "sg_ingress_denied",
//                 "stage": "security_group"}]}
//
// Pure; any thread.

#include <nlohmann/json.hpp>

#include <string>

#include "common/proto/tables.pb.h"
#include "dataplane/trace/trace_node.h"

namespace weft::dp {

// `sources` may be null (the node has none: no positions shown).
nlohmann::json trace_json(const NodeTrace& t, const std::string& node, bool reply,
                          const proto::NodeSources* sources);

}  // namespace weft::dp
