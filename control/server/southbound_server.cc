#include "control/server/southbound_server.h"

#include <boost/asio/ssl/stream_base.hpp>

#include <algorithm>

#include "common/transport/tls.h"

namespace weft::ctl {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Node names and errors arrive from the network: keep log lines one line
// long and readable whatever they hold.
std::string printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + printable(s);
  return out.empty() ? "(no name)" : out;
}

}  // namespace

SouthboundServer::SouthboundServer(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                                   SouthboundOptions options)
    : tls_(std::move(tls)), options_(std::move(options)), listener_(io, "southbound", options_.log) {
  proto::ControllerMessage keepalive;
  keepalive.mutable_keepalive();
  keepalive_ = keepalive.SerializeAsString();
}

SouthboundServer::~SouthboundServer() { stop(); }

Expected<tcp::endpoint> SouthboundServer::listen(const tcp::endpoint& at) {
  auto bound = listener_.listen(at);
  if (!bound) return bound;
  // Every session counts, accepted or not: a handshake costs as much as a node.
  listener_.start(
      options_.max_connections, [this] { return sessions_.size(); },
      [this](tcp::socket socket) { start_session(std::move(socket)); });
  return bound;
}

void SouthboundServer::start_session(tcp::socket socket) {
  FramedConnection::Options copt;
  copt.max_frame_payload = options_.max_frame_payload;
  copt.handshake_timeout = options_.handshake_timeout;
  copt.heartbeat_interval = options_.keepalive_interval;
  copt.heartbeat_payload = keepalive_;
  copt.idle_timeout = options_.idle_timeout;
  auto session = std::make_shared<NodeSession>(
      FramedConnection::create(std::move(socket), *tls_, std::move(copt)),
      static_cast<NodeSession::Owner&>(*this));
  sessions_.emplace(session.get(), session);
  session->start();
}

void SouthboundServer::refuse(const std::shared_ptr<NodeSession>& s, const std::string& who,
                              const std::string& why) {
  options_.log.warn("refused node '" + printable(who) + "' from " + s->peer() + ": " + why);
  s->refuse(why);
}

void SouthboundServer::on_hello(const std::shared_ptr<NodeSession>& s, const proto::Hello& hello) {
  const std::string& name = hello.node();
  if (hello.protocol() != proto::SOUTHBOUND_PROTOCOL_V1)
    return refuse(s, name, "unsupported southbound protocol " + std::to_string(hello.protocol()) +
                               " (this controller speaks 1)");
  // Authority is in the certificate (tls.h): only a node certificate may be
  // a node here, whatever its name; an operator's certificate is not one.
  if (peer_role(s->ssl()) != PeerRole::kNode)
    return refuse(s, name, "certificate " + join(peer_names(s->ssl())) + " is not a node's (no " +
                               std::string(kNodeRoleUri) + ")");
  if (!peer_is(s->ssl(), name))
    return refuse(s, name, "certificate names " + join(peer_names(s->ssl())) + ", not '" +
                               printable(name) + "'");
  auto it = nodes_.find(name);
  if (it == nodes_.end())
    return refuse(s, name, "unknown node: not in the policy at version " + std::to_string(version_));

  Node& n = it->second;
  if (n.session) {
    options_.log.info("node " + name + ": new connection from " + s->peer() + " replaces " +
                      n.session->peer());
    n.session->close("replaced by a new connection from " + s->peer());
  }
  s->accept_as(name);
  n.session = s;
  n.applied_version = hello.applied_version();
  n.acked_current = false;
  options_.log.info("node " + name + " connected from " + s->peer() + " (runs version " +
                    std::to_string(hello.applied_version()) + ")");
  s->send_tables(n.tables_version, n.tables);
  n.sent_version = n.tables_version;
  s->send_health(down_state());
}

void SouthboundServer::on_health(NodeSession& s, const proto::HealthReport& report) {
  auto it = nodes_.find(s.node());
  if (it == nodes_.end() || it->second.session.get() != &s) return;  // a stale session
  std::vector<BackendHealthStatus> backends;
  for (const proto::BackendHealth& b : report.backends())
    backends.push_back({printable(b.load_balancer()), printable(b.port()), b.up()});
  if (backends == it->second.backends) return;
  for (const BackendHealthStatus& b : backends) {
    const auto old = std::find_if(it->second.backends.begin(), it->second.backends.end(), [&](const auto& o) {
      return o.load_balancer == b.load_balancer && o.port == b.port;
    });
    if (old == it->second.backends.end() || old->up != b.up)
      options_.log.info("node " + s.node() + ": backend " + b.port + " of load balancer " + b.load_balancer +
                        (b.up ? " up" : " down"));
  }
  it->second.backends = std::move(backends);
  relay_health();
}

proto::HealthState SouthboundServer::down_state() const {
  // Sorted (nodes_ is a map, reports come sorted), so equal sets serialize alike.
  std::vector<std::pair<std::string, std::string>> down;
  for (const auto& [name, n] : nodes_)
    for (const BackendHealthStatus& b : n.backends)
      if (!b.up) down.emplace_back(b.load_balancer, b.port);
  std::sort(down.begin(), down.end());
  down.erase(std::unique(down.begin(), down.end()), down.end());
  proto::HealthState state;
  for (const auto& [lb, port] : down) {
    proto::BackendHealth* b = state.add_down();
    b->set_load_balancer(lb);
    b->set_port(port);
    b->set_up(false);
  }
  return state;
}

void SouthboundServer::relay_health() {
  const proto::HealthState state = down_state();
  std::string bytes = state.SerializeAsString();
  if (bytes == down_sent_) return;
  down_sent_ = std::move(bytes);
  for (auto& [name, n] : nodes_)
    if (n.session) n.session->send_health(state);
}

void SouthboundServer::on_ack(NodeSession& s, const proto::Ack& ack) {
  auto it = nodes_.find(s.node());
  if (it == nodes_.end() || it->second.session.get() != &s) return;  // a stale session
  Node& n = it->second;
  if (ack.version() > n.sent_version) {
    options_.log.warn("node " + s.node() + " acked version " + std::to_string(ack.version()) +
                      " which it was never sent; ignored");
    return;
  }
  if (ack.ok()) {
    n.applied_version = ack.version();
    n.acked_current = ack.version() == n.tables_version;
    n.last_error.clear();
  } else {
    n.last_error = printable(ack.error(), 1024);
    options_.log.warn("node " + s.node() + " failed to apply version " +
                      std::to_string(ack.version()) + ": " + n.last_error);
  }
  for (const AckObserver& observe : ack_observers_) observe(s.node(), ack.version(), ack.ok());
}

void SouthboundServer::on_closed(NodeSession& s, const std::string& reason) {
  auto owned = sessions_.find(&s);
  if (owned == sessions_.end()) return;
  std::shared_ptr<NodeSession> keep = std::move(owned->second);
  sessions_.erase(owned);

  if (s.node().empty()) {
    // Never got past the handshake or the Hello check: a TLS failure here is
    // an unknown or misconfigured peer, which operators want to see.
    if (reason.starts_with("TLS handshake"))
      options_.log.warn("southbound connection from " + s.peer() + " refused: " + reason);
    return;
  }
  auto it = nodes_.find(s.node());
  if (it == nodes_.end() || it->second.session.get() != &s) return;
  it->second.session.reset();
  it->second.acked_current = false;
  options_.log.info("node " + s.node() + " disconnected: " + reason);
}

std::vector<std::string> SouthboundServer::publish(uint64_t version,
                                                   std::map<std::string, std::string> tables) {
  version_ = version;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (tables.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.session) {
      options_.log.info("node " + it->first + " removed from the policy at version " +
                        std::to_string(version) + "; disconnecting it");
      it->second.session->refuse("node removed from the policy at version " +
                                 std::to_string(version));
    }
    it = nodes_.erase(it);
  }
  relay_health();  // a removed node's report went with it

  std::vector<std::string> changed;
  for (auto& [name, bytes] : tables) {
    Node& n = nodes_[name];
    if (n.tables_version != 0 && n.tables == bytes) continue;
    n.tables = std::move(bytes);
    n.tables_version = version;
    n.acked_current = false;
    changed.push_back(name);
    if (n.session) {
      n.session->send_tables(version, n.tables);
      n.sent_version = version;
    }
  }
  return changed;
}

std::vector<NodeStatus> SouthboundServer::status() const {
  std::vector<NodeStatus> out;
  out.reserve(nodes_.size());
  for (const auto& [name, n] : nodes_) {
    NodeStatus s;
    s.name = name;
    s.connected = n.session != nullptr;
    if (n.session) s.address = n.session->peer();
    s.applied_version = n.applied_version;
    s.tables_version = n.tables_version;
    s.in_sync = s.connected && n.acked_current;
    s.last_error = n.last_error;
    s.backends = n.backends;
    out.push_back(std::move(s));
  }
  return out;
}

void SouthboundServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  listener_.stop();
  for (auto& [ptr, s] : sessions_) s->detach();
  sessions_.clear();
  for (auto& [name, n] : nodes_) n.session.reset();
}

}  // namespace weft::ctl
