#pragma once
// weft-controller, assembled: the desired-state store, the policy compiler,
// the southbound server that keeps every node on its tables, and the HTTP
// API that changes the desired state. main.cc only parses flags and runs it;
// tests and perf/ start it in-process on ephemeral ports.
//
// A policy change is all-or-nothing and ordered so that nothing reaches a
// node that is not already durable: validate (every error, nothing changed on
// failure) -> compile the nodes it may touch -> persist (write, fsync, rename)
// -> push to the nodes whose tables changed. On start the persisted version
// is compiled and served again, under the same version number.
//
//   asio::io_context io;
//   auto c = Controller::start(io, options);     // listens, serves state
//   if (!c) die(c.error());
//   io.run();                                    // until (*c)->stop()
//
// Threads: everything runs on the thread that runs `io`, including the
// PolicyService calls the API makes. While a policy is applied that thread
// waits for it: persisting runs on a helper thread and the nodes' tables are
// compiled on up to four lanes at once (both are short; see
// perf/controller_latency), then everything is back on the io thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/prometheus/metrics_server.h"
#include "control/api/api_server.h"
#include "control/api/policy_service.h"
#include "common/base/expected.h"
#include "common/base/log.h"
#include "control/controller/metrics.h"
#include "control/model/model.h"
#include "control/server/southbound_server.h"
#include "control/store/state_store.h"
#include "common/transport/tls.h"

namespace weft::ctl {

struct ControllerOptions {
  std::string state_dir;
  boost::asio::ip::tcp::endpoint southbound;  // port 0: any free port
  boost::asio::ip::tcp::endpoint api;
  // Prometheus GET /metrics (plain HTTP; metrics.h); absent: not served.
  std::optional<boost::asio::ip::tcp::endpoint> metrics;
  TlsFiles tls;  // one CA, certificate and key for both listeners
  std::string tls_crl;  // optional: the CA's CRL; revoked peers fail the handshake
  StoreIo store_io;  // tests replace its system calls to make persisting fail
  SouthboundOptions southbound_options;
  api::ApiOptions api_options;  // .token: the bearer token, if any
  Log log;                      // copied into the parts that have none
};

class Controller final : public api::PolicyService {
 public:
  static Expected<std::unique_ptr<Controller>> start(boost::asio::io_context& io,
                                                     ControllerOptions options);
  ~Controller();

  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Closes both listeners and every connection; io.run() then returns once
  // the last handler finished. Idempotent.
  void stop();

  const boost::asio::ip::tcp::endpoint& southbound_endpoint() const { return southbound_ep_; }
  const boost::asio::ip::tcp::endpoint& api_endpoint() const { return api_ep_; }
  // Unset unless options.metrics was.
  const std::optional<boost::asio::ip::tcp::endpoint>& metrics_endpoint() const { return metrics_ep_; }
  // What GET /metrics answers (Prometheus text format).
  std::string metrics_text() const;
  SouthboundServer& southbound() { return *southbound_; }

  // api::PolicyService
  api::ApplyOutcome apply_policy(std::string yaml) override;
  std::vector<Diagnostic> validate_policy(std::string_view yaml) override;
  api::PolicyDocument current_policy() const override;
  api::StatusReport status() const override;

  // The name diagnostics give a policy that came through the API.
  static constexpr const char* kRequestName = "policy.yaml";

 private:
  struct Desired {
    policy::Model model;
    std::map<std::string, std::string> tables;  // node -> serialized NodeTables
  };

  explicit Controller(ControllerOptions options) : options_(std::move(options)) {}
  Status restore();
  std::map<std::string, std::string> compile_tables(const policy::Model& next) const;

  ControllerOptions options_;
  std::unique_ptr<StateStore> store_;
  std::optional<Desired> desired_;
  std::unique_ptr<SouthboundServer> southbound_;
  std::unique_ptr<api::ApiServer> api_;
  boost::asio::ip::tcp::endpoint southbound_ep_;
  boost::asio::ip::tcp::endpoint api_ep_;
  ControllerMetrics metrics_;
  std::unique_ptr<prom::MetricsServer> metrics_server_;
  std::optional<boost::asio::ip::tcp::endpoint> metrics_ep_;
};

}  // namespace weft::ctl
