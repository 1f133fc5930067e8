#include "dataplane/weftd/qos_report.h"

#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

using nlohmann::json;

namespace {

std::string priority_name(QosPriority p) {
  return p == QosPriority::kHigh ? "high" : p == QosPriority::kLow ? "low" : "normal";
}

}  // namespace

std::vector<QosRow> qos_rows(const Dataplane& dp) {
  std::vector<QosRow> rows;
  const QosTable& t = dp.snapshot().qos;
  for (const DataplanePort& p : dp.ports()) {
    const uint16_t id = p.dev.id;
    const QosPolicy* policy = t.of(id);
    if (policy == nullptr) continue;
    for (QosDir d : {QosDir::kEgress, QosDir::kIngress}) {
      if (!policy->active(d)) continue;
      const size_t dir = static_cast<size_t>(d);
      for (size_t idx = 0; idx <= policy->classes.size(); ++idx) {
        const QosClass* cls = idx == 0 ? nullptr : &policy->classes[idx - 1];
        QosRow r;
        r.port = p.name;
        r.policy = policy->name;
        r.direction = d == QosDir::kEgress ? "egress" : "ingress";
        r.cls = cls != nullptr ? cls->name : std::string("default");
        r.priority = priority_name(cls != nullptr ? cls->priority : QosPriority::kNormal);
        r.rate_bps = cls != nullptr ? cls->rate_bps : policy->limit[dir].rate_bps;
        for (const auto& w : dp.workers()) {
          const QosCounters& c = w->stats().qos[id][dir][idx];
          r.sent_packets += c.sent_packets.get();
          r.sent_bytes += c.sent_bytes.get();
          r.policed_packets += c.policed_packets.get();
          r.policed_bytes += c.policed_bytes.get();
          r.queued_packets += c.queued_packets.get();
          r.queued_bytes += c.queued_bytes.get();
          r.queue_full_packets += c.queue_full_packets.get();
          r.queue_full_bytes += c.queue_full_bytes.get();
        }
        rows.push_back(std::move(r));
      }
    }
  }
  return rows;
}

json qos_report(const Dataplane& dp) {
  json rows = json::array();
  for (const QosRow& r : qos_rows(dp))
    rows.push_back({
        {"port", r.port},
        {"policy", r.policy},
        {"direction", r.direction},
        {"class", r.cls},
        {"priority", r.priority},
        {"rate_bps", r.rate_bps},
        {"sent_packets", r.sent_packets},
        {"sent_bytes", r.sent_bytes},
        {"policed_packets", r.policed_packets},
        {"policed_bytes", r.policed_bytes},
        {"queued_packets", r.queued_packets},
        {"queued_bytes", r.queued_bytes},
        {"queue_full_packets", r.queue_full_packets},
        {"queue_full_bytes", r.queue_full_bytes},
    });
  return rows;
}

}  // namespace weft::dp
