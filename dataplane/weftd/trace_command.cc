#include "dataplane/weftd/trace_command.h"

#include <stdexcept>

#include "dataplane/trace/trace_report.h"

namespace weft::dp {

nlohmann::json trace_report(const Dataplane& dp, const nlohmann::json& request) {
  if (dp.mode() != ForwardingMode::kPolicy) throw std::runtime_error("trace: weftd forwards without a policy (--xconnect)");
  const Snapshot& snap = dp.snapshot();
  if (!snap.has_policy() || !snap.compiled) throw std::runtime_error("trace: no policy in force yet");
  const std::string text = request.value("packet", "");
  std::string error;
  auto packet = parse_trace_packet(text, error);
  if (!packet) throw std::runtime_error("trace: " + error);
  const TraceRequest req{*packet, request.value("from", ""), request.value("reply", false)};
  auto t = trace_on_node(snap, *snap.compiled, dp.pool(), req, error);
  if (!t) throw std::runtime_error("trace: " + error);
  return trace_json(*t, dp.config().node, req.reply, snap.sources.get());
}

void register_trace_command(ControlServer& server, const Dataplane& dp) {
  server.add_command("trace", [&dp](const nlohmann::json& request) { return trace_report(dp, request); });
}

}  // namespace weft::dp
