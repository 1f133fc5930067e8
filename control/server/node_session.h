#pragma once
// One node's connection to the controller, as the southbound server sees it:
// a FramedConnection that has passed the TLS handshake, then the southbound
// protocol on top. The session parses what the node sends and reports it to
// its owner (the SouthboundServer), which decides who the node is allowed to
// be; the session itself holds no policy.
//
//   session->start();               // handshake, then read frames
//   owner.on_hello(...)             // -> session->accept_as(node) or refuse(why)
//   session->send_tables(version, bytes);
//
// A node that sends anything but a Hello first, an unparseable message, or a
// message a node may not send is disconnected; nothing it says reaches the
// owner after that.
//
// Threads: the controller's io_context thread only.

#include <cstdint>
#include <memory>
#include <string>

#include "common/proto/southbound.pb.h"
#include "common/transport/framed_connection.h"

namespace weft::ctl {

class NodeSession : public std::enable_shared_from_this<NodeSession> {
 public:
  class Owner {
   public:
    virtual void on_hello(const std::shared_ptr<NodeSession>& s, const proto::Hello& hello) = 0;
    virtual void on_ack(NodeSession& s, const proto::Ack& ack) = 0;
    virtual void on_health(NodeSession& s, const proto::HealthReport& report) = 0;
    // Once per session, whether or not it was ever accepted.
    virtual void on_closed(NodeSession& s, const std::string& reason) = 0;

   protected:
    ~Owner() = default;
  };

  NodeSession(std::shared_ptr<FramedConnection> conn, Owner& owner)
      : conn_(std::move(conn)), owner_(&owner) {}

  void start();

  // The owner's verdict on the Hello.
  void accept_as(std::string node) { node_ = std::move(node); }
  void refuse(const std::string& reason);

  void send_tables(uint64_t version, const std::string& node_tables);
  void send_health(const proto::HealthState& state);
  void close(const std::string& reason) { conn_->close(reason); }
  // The owner is going away: close without calling it back.
  void detach();

  // Empty until accepted.
  const std::string& node() const { return node_; }
  const std::string& peer() const { return conn_->peer(); }
  SSL* ssl() { return conn_->ssl(); }

 private:
  void on_frame(std::string_view frame);

  std::shared_ptr<FramedConnection> conn_;
  Owner* owner_;
  std::string node_;
  bool hello_seen_ = false;
};

}  // namespace weft::ctl
