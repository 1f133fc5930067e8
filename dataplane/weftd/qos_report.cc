#include "dataplane/weftd/qos_report.h"

#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

using nlohmann::json;

namespace {

std::string_view priority_name(QosPriority p) {
  return p == QosPriority::kHigh ? "high" : p == QosPriority::kLow ? "low" : "normal";
}

}  // namespace

json qos_report(const Dataplane& dp) {
  json rows = json::array();
  const QosTable& t = dp.snapshot().qos;
  for (const DataplanePort& p : dp.ports()) {
    const uint16_t id = p.dev.id;
    const QosPolicy* policy = t.of(id);
    if (policy == nullptr) continue;
    for (QosDir d : {QosDir::kEgress, QosDir::kIngress}) {
      if (!policy->active(d)) continue;
      const size_t dir = static_cast<size_t>(d);
      for (size_t idx = 0; idx <= policy->classes.size(); ++idx) {
        uint64_t sent = 0, sent_bytes = 0, policed = 0, policed_bytes = 0;
        for (const auto& w : dp.workers()) {
          const QosCounters& c = w->stats().qos[id][dir][idx];
          sent += c.sent_packets.get();
          sent_bytes += c.sent_bytes.get();
          policed += c.policed_packets.get();
          policed_bytes += c.policed_bytes.get();
        }
        const QosClass* cls = idx == 0 ? nullptr : &policy->classes[idx - 1];
        rows.push_back({
            {"port", p.name},
            {"policy", policy->name},
            {"direction", d == QosDir::kEgress ? "egress" : "ingress"},
            {"class", cls != nullptr ? cls->name : std::string("default")},
            {"priority", priority_name(cls != nullptr ? cls->priority : QosPriority::kNormal)},
            {"rate_bps", cls != nullptr ? cls->rate_bps : policy->limit[dir].rate_bps},
            {"sent_packets", sent},
            {"sent_bytes", sent_bytes},
            {"policed_packets", policed},
            {"policed_bytes", policed_bytes},
        });
      }
    }
  }
  return rows;
}

}  // namespace weft::dp
