#include "dataplane/trace/trace_report.h"

namespace weft::dp {

using nlohmann::json;

json trace_json(const NodeTrace& t, const std::string& node, bool reply, const proto::NodeSources* sources) {
  json steps = json::array();
  for (const TraceStep& s : t.result.steps) {
    json step = {{"packet", s.packet}, {"stage", node_name(s.node)}, {"decision", s.decision}};
    if (s.reason != DropReason::kNone) step["reason"] = drop_reason_name(s.reason);
    if (!s.detail.empty()) step["detail"] = s.detail;
    json refs = json::array();
    for (const TraceRef& r : s.refs) {
      json ref = {{"entry", r.text}};
      if (sources != nullptr && !r.key.empty()) {
        auto it = sources->entries().find(r.key);
        if (it != sources->entries().end())
          ref["source"] = it->second.file() + ":" + std::to_string(it->second.line()) + ":" +
                          std::to_string(it->second.column());
      }
      refs.push_back(std::move(ref));
    }
    if (!refs.empty()) step["refs"] = std::move(refs);
    steps.push_back(std::move(step));
  }
  json verdict = json::array();
  for (const TraceOutcome& o : t.result.outcomes) {
    json v = {{"packet", o.packet}, {"delivered", o.delivered}};
    if (o.delivered && o.vtep != 0) {
      v["vtep"] = format_ipv4(o.vtep);
      v["node"] = o.vtep_node;
    } else if (o.delivered) {
      v["port"] = o.port_name;
      v["node"] = node;
    } else {
      v["reason"] = drop_reason_name(o.reason);
      v["stage"] = node_name(o.drop_node);
    }
    verdict.push_back(std::move(v));
  }
  return {{"node", node},
          {"sender", t.sender},
          {"packet", format_trace_packet(t.packet)},
          {"reply", reply},
          {"steps", std::move(steps)},
          {"verdict", std::move(verdict)}};
}

}  // namespace weft::dp
