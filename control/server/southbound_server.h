#pragma once
// The controller's southbound server: accepts the nodes' mutual-TLS
// connections, checks who they are, and keeps every connected node on its
// current tables.
//
// Identity: TLS has already verified the certificate against the CA (and
// its CRL, if any); the certificate must be a node's (role weft:role:node,
// tls.h), the node's Hello must name a node of the current policy, and the
// certificate's CN or a DNS SAN must be that very name. Anything else is
// refused with a Goodbye saying why, and logged. A node's second connection
// replaces its first. At most max_connections sessions exist at once,
// counting those still in their handshake (listener.h).
//
// Distribution: publish() installs the serialized tables of every node at a
// version. A connected node gets its full tables on connect and again only
// when its bytes change; a node whose tables are unchanged hears nothing.
// A node removed from the policy is disconnected.
//
// Health: each node reports the load balancers' backends it hosts and
// probes (HealthReport, whole); the server keeps the last report of every
// node of the policy (also while it is away: its backends' servers did not
// stop because the node lost the controller) and sends every connected
// node the backends found down anywhere (HealthState, whole) on connect
// and whenever that set changes.
//
//   SouthboundServer sb(io, tls_ctx, options);
//   auto ep = sb.listen({address, port});
//   sb.publish(version, {{"node-a", bytes_a}, {"node-b", bytes_b}});
//   for (auto& n : sb.status()) ...
//
// Threads: the controller's io_context thread only (the API reads status()
// from the same thread).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/expected.h"
#include "common/base/log.h"
#include "control/server/node_session.h"
#include "control/server/node_status.h"
#include "common/transport/frame.h"
#include "common/transport/listener.h"

namespace weft::ctl {

struct SouthboundOptions {
  static constexpr size_t kDefaultMaxConnections = 1024;

  uint32_t max_frame_payload = kDefaultMaxFramePayload;
  size_t max_connections = kDefaultMaxConnections;
  std::chrono::milliseconds handshake_timeout{5000};
  // Keepalive sent to an idle node; a node silent for idle_timeout is
  // considered gone (agents send keepalives at the same pace).
  std::chrono::milliseconds keepalive_interval{5000};
  std::chrono::milliseconds idle_timeout{15000};
  Log log;
};

class SouthboundServer final : private NodeSession::Owner {
 public:
  using AckObserver = std::function<void(const std::string& node, uint64_t version, bool ok)>;

  SouthboundServer(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
                   SouthboundOptions options);
  ~SouthboundServer();

  SouthboundServer(const SouthboundServer&) = delete;
  SouthboundServer& operator=(const SouthboundServer&) = delete;

  // Binds and starts accepting; returns the bound endpoint (port 0 picks one).
  Expected<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& at);

  // The desired tables of every node at `version` (serialized NodeTables,
  // deterministic, so equal bytes mean equal tables). Returns the nodes whose
  // tables changed (or appeared), sorted.
  std::vector<std::string> publish(uint64_t version, std::map<std::string, std::string> tables);

  std::vector<NodeStatus> status() const;
  uint64_t version() const { return version_; }

  // Called for every Ack, after the status is updated (the controller's
  // metrics; benchmarks and tests that wait for convergence).
  void add_ack_observer(AckObserver observer) { ack_observers_.push_back(std::move(observer)); }

  // Stops accepting and closes every session.
  void stop();

 private:
  struct Node {
    std::string tables;
    uint64_t tables_version = 0;
    std::shared_ptr<NodeSession> session;  // set while connected
    uint64_t sent_version = 0;  // last Tables version sent to this session
    uint64_t applied_version = 0;
    bool acked_current = false;
    std::string last_error;
    std::vector<BackendHealthStatus> backends;  // its last HealthReport
  };

  void start_session(boost::asio::ip::tcp::socket socket);
  void on_hello(const std::shared_ptr<NodeSession>& s, const proto::Hello& hello) override;
  void on_ack(NodeSession& s, const proto::Ack& ack) override;
  void on_closed(NodeSession& s, const std::string& reason) override;
  void on_health(NodeSession& s, const proto::HealthReport& report) override;
  // The backends found down on any node, and whether that changed since
  // the last call; sends it to every connected node when it did.
  void relay_health();
  proto::HealthState down_state() const;
  void refuse(const std::shared_ptr<NodeSession>& s, const std::string& who, const std::string& why);

  std::shared_ptr<boost::asio::ssl::context> tls_;
  SouthboundOptions options_;
  Listener listener_;
  std::string keepalive_;  // a serialized ControllerMessage{keepalive}

  uint64_t version_ = 0;
  std::map<std::string, Node> nodes_;
  // Every live session, accepted or not, by address (callbacks name it by
  // reference).
  std::map<NodeSession*, std::shared_ptr<NodeSession>> sessions_;
  std::vector<AckObserver> ack_observers_;
  std::string down_sent_;  // the serialized HealthState last relayed
  bool stopped_ = false;
};

}  // namespace weft::ctl
