#include "dataplane/agent/controller_agent.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <optional>
#include <random>

#include "common/proto/southbound.pb.h"
#include "common/transport/framed_connection.h"
#include "dataplane/agent/backoff.h"

namespace weft::agent {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class ControllerAgent::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, ControllerAgentOptions options,
       std::shared_ptr<asio::ssl::context> ctx, ApplyTables apply)
      : io_(io),
        opt_(std::move(options)),
        ctx_(std::move(ctx)),
        where_(opt_.controller_host.find(':') == std::string::npos
                   ? opt_.controller_host + ":" + std::to_string(opt_.controller_port)
                   : "[" + opt_.controller_host + "]:" + std::to_string(opt_.controller_port)),
        apply_(std::move(apply)),
        resolver_(io),
        timer_(io),
        backoff_(opt_.backoff_initial, opt_.backoff_max,
                 opt_.jitter_seed ? opt_.jitter_seed : std::random_device{}()) {
    proto::NodeMessage keepalive;
    keepalive.mutable_keepalive();
    keepalive_ = keepalive.SerializeAsString();
  }

  void start() {
    if (running_) return;
    running_ = true;
    connect();
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    ++attempt_;  // every callback in flight is now stale
    resolver_.cancel();
    timer_.cancel();
    error_code ignored;
    if (socket_) socket_->close(ignored);
    if (conn_) conn_->close("agent stopped");
    conn_.reset();
    update([](AgentStatus& s) { s.connected = false; });
  }

  AgentStatus status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

  void report_health(proto::HealthReport report) {
    health_ = std::move(report);
    if (conn_ && status().connected) send_health();
  }

 private:
  bool current(uint64_t attempt) const { return running_ && attempt == attempt_; }

  template <class F>
  void update(F&& f) {
    std::lock_guard lock(mu_);
    f(status_);
  }

  void connect() {
    const uint64_t attempt = ++attempt_;
    goodbye_.clear();
    resolver_.async_resolve(
        opt_.controller_host, std::to_string(opt_.controller_port),
        [self = shared_from_this(), attempt](const error_code& ec, tcp::resolver::results_type r) {
          if (!self->current(attempt)) return;
          if (ec) return self->retry("resolve " + self->opt_.controller_host + ": " + ec.message());
          self->connect_to(attempt, r);
        });
  }

  void connect_to(uint64_t attempt, const tcp::resolver::results_type& endpoints) {
    socket_.emplace(io_);
    timer_.expires_after(opt_.connect_timeout);
    timer_.async_wait([self = shared_from_this(), attempt](const error_code& ec) {
      if (ec || !self->current(attempt) || !self->socket_) return;
      error_code ignored;
      self->socket_->close(ignored);  // the connect handler sees operation_aborted
    });
    asio::async_connect(*socket_, endpoints,
                        [self = shared_from_this(), attempt](const error_code& ec, const tcp::endpoint&) {
                          if (!self->current(attempt)) return;
                          self->timer_.cancel();
                          if (ec == asio::error::operation_aborted)
                            return self->retry("connect to " + self->where_ + " timed out");
                          if (ec) return self->retry("connect to " + self->where_ + ": " + ec.message());
                          self->handshake(attempt);
                        });
  }

  void handshake(uint64_t attempt) {
    ctl::FramedConnection::Options copt;
    copt.max_frame_payload = opt_.max_frame_payload;
    copt.handshake_timeout = opt_.connect_timeout;
    copt.heartbeat_interval = opt_.keepalive_interval;
    copt.heartbeat_payload = keepalive_;
    copt.idle_timeout = 3 * opt_.keepalive_interval;
    conn_ = ctl::FramedConnection::create(std::move(*socket_), *ctx_, copt);
    socket_.reset();
    if (auto s = ctl::expect_peer_host(conn_->ssl(), opt_.controller_host); !s) return retry(s.error());
    conn_->handshake(asio::ssl::stream_base::client,
                     [self = shared_from_this(), attempt](ctl::Status s) {
                       if (!self->current(attempt)) return;
                       if (!s) return self->retry("controller " + self->where_ + ": " + s.error());
                       self->established(attempt);
                     });
  }

  void established(uint64_t attempt) {
    auto self = shared_from_this();
    conn_->start({.on_frame =
                      [self, attempt](std::string_view frame) {
                        if (self->current(attempt)) self->on_frame(frame);
                      },
                  .on_close =
                      [self, attempt](const std::string& reason) {
                        if (!self->current(attempt)) return;
                        self->retry(self->goodbye_.empty() ? "controller connection lost: " + reason
                                                           : "refused by controller: " + self->goodbye_);
                      }});
    proto::NodeMessage hello;
    auto* h = hello.mutable_hello();
    h->set_node(opt_.node);
    h->set_protocol(proto::SOUTHBOUND_PROTOCOL_V1);
    update([&](AgentStatus& s) {
      h->set_applied_version(s.applied_version);
      s.connected = true;
      s.last_error.clear();
      ++s.sessions;
    });
    conn_->send(hello.SerializeAsString());
    if (health_) send_health();
    opt_.log.info("connected to controller " + where_ + " as " + opt_.node);
    logged_error_.clear();
  }

  void on_frame(std::string_view frame) {
    proto::ControllerMessage msg;
    if (!msg.ParseFromArray(frame.data(), static_cast<int>(frame.size())))
      return conn_->close("malformed message from the controller");
    switch (msg.msg_case()) {
      case proto::ControllerMessage::kTables:
        return on_tables(*msg.mutable_tables());
      case proto::ControllerMessage::kGoodbye:
        goodbye_ = msg.goodbye().reason().empty() ? "(no reason given)" : msg.goodbye().reason();
        return conn_->close("goodbye");
      case proto::ControllerMessage::kKeepalive:
        return;
      case proto::ControllerMessage::kHealth:
        if (opt_.on_health) opt_.on_health(msg.health());
        return;
      default:
        // A newer controller's message we do not know: ignoring it keeps
        // mixed-version fleets talking.
        return;
    }
  }

  void on_tables(proto::Tables& t) {
    const uint64_t version = t.version();
    std::string error;
    bool changed = !applied_bytes_ || *applied_bytes_ != t.node_tables();
    if (changed) {
      proto::NodeTables tables;
      if (!tables.ParseFromString(t.node_tables())) {
        error = "malformed NodeTables for version " + std::to_string(version);
      } else {
        try {
          error = apply_(tables, version);
        } catch (const std::exception& e) {
          error = std::string("applying the tables failed: ") + e.what();
        } catch (...) {
          error = "applying the tables failed";
        }
      }
      if (error.empty()) applied_bytes_ = std::move(*t.mutable_node_tables());
    }
    update([&](AgentStatus& s) {
      ++s.tables_received;
      if (error.empty()) {
        s.applied_version = version;
        s.last_error.clear();
        if (changed) ++s.tables_applied;
      } else {
        s.last_error = error;
      }
    });
    if (!error.empty()) opt_.log.error("tables version " + std::to_string(version) + ": " + error);
    // The controller answered with our tables: this session works.
    backoff_.reset();

    proto::NodeMessage ack;
    auto* a = ack.mutable_ack();
    a->set_version(version);
    a->set_ok(error.empty());
    a->set_error(error);
    conn_->send(ack.SerializeAsString());
  }

  void send_health() {
    proto::NodeMessage msg;
    *msg.mutable_health() = *health_;
    conn_->send(msg.SerializeAsString());
  }

  void retry(const std::string& why) {
    if (conn_) conn_->close(why);
    conn_.reset();
    error_code ignored;
    if (socket_) socket_->close(ignored);
    socket_.reset();
    const auto delay = backoff_.next();
    update([&](AgentStatus& s) {
      s.connected = false;
      s.last_error = why;
    });
    // While the controller stays away, say so once, not every attempt.
    if (why != logged_error_) {
      opt_.log.warn(why + "; keeping the last tables, retrying");
      logged_error_ = why;
    }
    const uint64_t attempt = ++attempt_;
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this(), attempt](const error_code& ec) {
      if (!ec && self->current(attempt)) self->connect();
    });
  }

  asio::io_context& io_;
  const ControllerAgentOptions opt_;
  std::shared_ptr<asio::ssl::context> ctx_;
  const std::string where_;  // host:port, for messages
  ApplyTables apply_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // connect deadline, then backoff
  Backoff backoff_;
  std::optional<tcp::socket> socket_;  // while connecting
  std::shared_ptr<ctl::FramedConnection> conn_;
  std::string keepalive_;

  bool running_ = false;
  uint64_t attempt_ = 0;  // bumped by every (re)connect and stop
  std::string goodbye_;   // the controller's reason, when it refused us
  std::string logged_error_;
  std::optional<std::string> applied_bytes_;  // serialized tables in force
  std::optional<proto::HealthReport> health_;  // the last report, resent on reconnect

  mutable std::mutex mu_;
  AgentStatus status_;
};

ctl::Expected<std::unique_ptr<ControllerAgent>> ControllerAgent::create(
    asio::io_context& io, ControllerAgentOptions options, ApplyTables apply) {
  if (options.node.empty()) return ctl::Unexpected{"agent: node name is empty"};
  if (!apply) return ctl::Unexpected{"agent: no apply callback"};
  if (options.keepalive_interval.count() <= 0 || options.backoff_initial.count() <= 0 ||
      options.backoff_max < options.backoff_initial)
    return ctl::Unexpected{"agent: keepalive and backoff intervals must be positive"};
  if (options.controller_host.empty() || options.controller_port == 0)
    return ctl::Unexpected{"agent: the controller's host and port are required"};
  if (options.tls.cert.empty()) return ctl::Unexpected{"agent: controller mode needs a certificate and key"};
  auto ctx = ctl::make_tls_context(ctl::TlsRole::kClient, options.tls, ctl::PeerCerts::kRequire);
  if (!ctx) return ctl::Unexpected{ctx.error()};
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(*ctx), std::move(apply));
  return std::unique_ptr<ControllerAgent>(new ControllerAgent(std::move(impl)));
}

ControllerAgent::~ControllerAgent() { impl_->stop(); }
void ControllerAgent::start() { impl_->start(); }
void ControllerAgent::stop() { impl_->stop(); }
AgentStatus ControllerAgent::status() const { return impl_->status(); }
void ControllerAgent::report_health(proto::HealthReport report) { impl_->report_health(std::move(report)); }

}  // namespace weft::agent
