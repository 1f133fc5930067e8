#pragma once
// What the controller knows about one node of the policy: reported by the
// southbound server, served by `GET /v1/status`, printed by `weftctl status`.
// A plain value; thread-compatible.

#include <cstdint>
#include <string>
#include <vector>

namespace weft::ctl {

// A load balancer's backend as the node that hosts it (and alone probes
// it) last reported it.
struct BackendHealthStatus {
  std::string load_balancer;
  std::string port;
  bool up = true;

  friend bool operator==(const BackendHealthStatus&, const BackendHealthStatus&) = default;
};

struct NodeStatus {
  std::string name;
  bool connected = false;
  std::string address;           // the node's ip:port while connected
  uint64_t applied_version = 0;  // last version the node reported applied
  uint64_t tables_version = 0;   // the version that last changed its tables
  bool in_sync = false;          // connected and acked its current tables
  std::string last_error;        // the node's last failed apply, if any
  std::vector<BackendHealthStatus> backends;  // its health report (kept while away)

  friend bool operator==(const NodeStatus&, const NodeStatus&) = default;
};

}  // namespace weft::ctl
