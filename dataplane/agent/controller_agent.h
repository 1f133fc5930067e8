#pragma once
// The node agent, controller mode: weftd's side of the southbound channel.
// It keeps one mutual-TLS connection to weft-controller, says Hello with its
// node name and the version it runs, receives its complete tables whenever
// they change, hands them to `apply`, and acks the outcome.
//
// While the controller is away nothing changes on the node: the dataplane
// keeps forwarding on the last tables that `apply` accepted, and the agent
// reconnects with exponential backoff and jitter. On reconnect the controller
// sends the full tables again; if they are byte-identical to what the node
// runs, the agent acks without calling `apply`, so a controller restart never
// rebuilds a node's tables.
//
// The library has no DPDK dependency: tests and perf/controller_latency run
// dozens of agents in one process with an `apply` that only records.
//
// In weftd (node.yaml's `controller:` gives host, port and the PEM files):
//
//   ControllerAgentOptions o;
//   o.node = cfg.node;
//   o.controller_host = cfg.controller->host;
//   o.controller_port = cfg.controller->port;
//   o.tls = {cfg.controller->ca, cfg.controller->cert, cfg.controller->key};
//   auto agent = ControllerAgent::create(io, o,
//       [&](const proto::NodeTables& t, uint64_t version) -> std::string {
//         // build the snapshot off the fast path, publish it with RCU;
//         // return "" -- or why the tables cannot be used (the old stay)
//         std::string error;
//         return publish_tables(dp, t, version, error) ? "" : error;
//       });
//   if (!agent) die(agent.error());
//   (*agent)->start();            // and (*agent)->stop() on SIGTERM
//
// Threads: create/start/stop and every callback, `apply` included, run on the
// thread that runs `io` (weftd's main lcore). `apply` may block that thread
// while it builds and publishes a snapshot. status() may be called from any
// thread.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/base/expected.h"
#include "common/base/log.h"
#include "common/proto/southbound.pb.h"
#include "common/proto/tables.pb.h"
#include "common/transport/frame.h"
#include "common/transport/tls.h"

namespace weft::agent {

// Builds and publishes the node's tables for `version`; returns "" on success
// or why they could not be applied (the controller shows it in its status).
using ApplyTables =
    std::function<std::string(const proto::NodeTables& tables, uint64_t version)>;

// The load balancers' backends found down on any node, as the controller
// relays them (whole, each time the set changes).
using ApplyHealth = std::function<void(const proto::HealthState& down)>;

struct ControllerAgentOptions {
  std::string node;             // this node's name; its certificate must carry it
  std::string controller_host;  // a name or an address; the controller's
  uint16_t controller_port = 0; //   certificate must name it (SAN)
  ctl::TlsFiles tls;            // CA that signed the controller, our cert and key

  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{15000};
  // A keepalive is sent after this long without traffic; the controller is
  // considered gone after three intervals of silence.
  std::chrono::milliseconds keepalive_interval{5000};
  uint32_t max_frame_payload = ctl::kDefaultMaxFramePayload;
  uint64_t jitter_seed = 0;  // 0: from std::random_device
  ctl::Log log;
  ApplyHealth on_health;  // optional
};

struct AgentStatus {
  bool connected = false;        // TLS up and Hello sent
  uint64_t applied_version = 0;  // version of the tables in force; 0: none yet
  // Why the last connection attempt, session or apply failed; cleared by a
  // session that starts and by tables applied.
  std::string last_error;
  uint64_t sessions = 0;         // connections that got as far as the Hello
  uint64_t tables_received = 0;
  uint64_t tables_applied = 0;   // `apply` calls that succeeded
};

class ControllerAgent {
 public:
  // Loads the TLS material and checks the options; an error is returned, not
  // thrown, and nothing is started.
  static ctl::Expected<std::unique_ptr<ControllerAgent>> create(boost::asio::io_context& io,
                                                                ControllerAgentOptions options,
                                                                ApplyTables apply);
  ~ControllerAgent();  // stop()

  ControllerAgent(const ControllerAgent&) = delete;
  ControllerAgent& operator=(const ControllerAgent&) = delete;

  void start();
  // Closes the connection and stops reconnecting; `apply` is not called
  // afterwards. The last applied tables stay where `apply` put them.
  void stop();

  AgentStatus status() const;

  // The health of the backends this node probes, whole: sent now when
  // connected, and again after every Hello.
  void report_health(proto::HealthReport report);

  class Impl;

 private:
  explicit ControllerAgent(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace weft::agent
