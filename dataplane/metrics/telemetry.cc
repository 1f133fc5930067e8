#include "dataplane/metrics/telemetry.h"

#include <rte_telemetry.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "dataplane/metrics/node_metrics.h"

namespace weft::dp {
namespace {

std::mutex g_mutex;
const Dataplane* g_dp = nullptr;  // under g_mutex
bool g_registered = false;        // under g_mutex; DPDK keeps commands forever

// Runs `fill` over the counters of the published Dataplane; -EAGAIN when
// there is none (weftd starting or stopping).
template <typename Fill>
int with_counters(rte_tel_data* d, Fill fill) {
  std::lock_guard lock(g_mutex);
  if (g_dp == nullptr) return -EAGAIN;
  const NodeMetrics m = collect_counters(*g_dp);
  return fill(m, d);
}

int add_u64_column(rte_tel_data* d, const char* name, const NodeMetrics& m,
                   uint64_t PortMetrics::*field) {
  rte_tel_data* col = rte_tel_data_alloc();
  if (col == nullptr) return -ENOMEM;
  rte_tel_data_start_array(col, RTE_TEL_U64_VAL);
  for (const PortMetrics& p : m.ports) rte_tel_data_add_array_u64(col, p.*field);
  return rte_tel_data_add_dict_container(d, name, col, 0);
}

int add_string_column(rte_tel_data* d, const char* name, const NodeMetrics& m,
                      std::string PortMetrics::*field) {
  rte_tel_data* col = rte_tel_data_alloc();
  if (col == nullptr) return -ENOMEM;
  rte_tel_data_start_array(col, RTE_TEL_STRING_VAL);
  for (const PortMetrics& p : m.ports) rte_tel_data_add_array_string(col, (p.*field).c_str());
  return rte_tel_data_add_dict_container(d, name, col, 0);
}

constexpr std::pair<const char*, uint64_t PortMetrics::*> kPortCounters[] = {
    {"rx_packets", &PortMetrics::rx_packets},
    {"rx_bytes", &PortMetrics::rx_bytes},
    {"tx_packets", &PortMetrics::tx_packets},
    {"tx_bytes", &PortMetrics::tx_bytes},
    {"drops", &PortMetrics::drops},
    {"sg_ingress_denied", &PortMetrics::sg_ingress_denied},
    {"sg_egress_denied", &PortMetrics::sg_egress_denied},
};

int ports_cb(const char*, const char* params, rte_tel_data* d) {
  const std::string name = params ? params : "";
  return with_counters(d, [&](const NodeMetrics& m, rte_tel_data* out) {
    rte_tel_data_start_dict(out);
    if (!name.empty()) {
      for (const PortMetrics& p : m.ports) {
        if (p.name != name) continue;
        rte_tel_data_add_dict_string(out, "name", p.name.c_str());
        rte_tel_data_add_dict_string(out, "kind", p.kind.c_str());
        rte_tel_data_add_dict_u64(out, "port_id", p.port_id);
        for (const auto& [key, field] : kPortCounters) rte_tel_data_add_dict_u64(out, key, p.*field);
        return 0;
      }
      return -EINVAL;  // no such port
    }
    int rc = add_string_column(out, "name", m, &PortMetrics::name);
    if (rc == 0) rc = add_string_column(out, "kind", m, &PortMetrics::kind);
    for (const auto& [key, field] : kPortCounters)
      if (rc == 0) rc = add_u64_column(out, key, m, field);
    return rc;
  });
}

int drops_cb(const char*, const char*, rte_tel_data* d) {
  return with_counters(d, [](const NodeMetrics& m, rte_tel_data* out) {
    rte_tel_data_start_dict(out);
    size_t n = 0;
    for (const DropMetrics& drop : m.drops) {
      if (++n > RTE_TEL_MAX_DICT_ENTRIES) break;  // a dict holds 256; ~20 reasons is a busy node
      const std::string key = std::string(drop.stage) + "/" + std::string(drop.reason);
      rte_tel_data_add_dict_u64(out, key.c_str(), drop.count);
    }
    return 0;
  });
}

int conntrack_cb(const char*, const char*, rte_tel_data* d) {
  return with_counters(d, [](const NodeMetrics& m, rte_tel_data* out) {
    ConntrackMetrics sum;
    for (const ConntrackMetrics& c : m.conntrack) {
      sum.connections += c.connections;
      sum.capacity += c.capacity;
      sum.assured += c.assured;
      sum.embryonic += c.embryonic;
      sum.closing += c.closing;
      sum.created += c.created;
      sum.expired += c.expired;
      sum.removed += c.removed;
      sum.cut += c.cut;
      sum.hits += c.hits;
      sum.misses += c.misses;
      sum.full += c.full;
      for (size_t k = 0; k < kConnClassCount; ++k) sum.evicted[k] += c.evicted[k];
    }
    rte_tel_data_start_dict(out);
    rte_tel_data_add_dict_u64(out, "tables", m.conntrack.size());
    const std::pair<const char*, uint64_t> fields[] = {
        {"connections", sum.connections}, {"capacity", sum.capacity}, {"assured", sum.assured},
        {"embryonic", sum.embryonic},     {"closing", sum.closing},   {"created", sum.created},
        {"expired", sum.expired},         {"removed", sum.removed},   {"cut", sum.cut},
        {"hits", sum.hits},               {"misses", sum.misses},     {"full", sum.full},
        {"evicted_closing", sum.evicted[0]}, {"evicted_embryonic", sum.evicted[1]},
        {"evicted_assured", sum.evicted[2]},
    };
    for (const auto& [key, v] : fields) rte_tel_data_add_dict_u64(out, key, v);
    return 0;
  });
}

}  // namespace

TelemetryCommands::TelemetryCommands(const Dataplane& dp) {
  std::lock_guard lock(g_mutex);
  g_dp = &dp;
  if (!g_registered) {
    g_registered =
        rte_telemetry_register_cmd("/weft/ports", ports_cb,
                                   "weftd's ports and their counters, by column; with a port name, that port. "
                                   "Parameters: string port name (optional)") == 0 &&
        rte_telemetry_register_cmd("/weft/drops", drops_cb,
                                   "weftd's non-zero drop counters as stage/reason. Takes no parameters") == 0 &&
        rte_telemetry_register_cmd("/weft/conntrack", conntrack_cb,
                                   "weftd's connection tables, summed over the workers. Takes no parameters") == 0;
  }
  registered_ = g_registered;
}

TelemetryCommands::~TelemetryCommands() {
  std::lock_guard lock(g_mutex);
  g_dp = nullptr;
}

}  // namespace weft::dp
