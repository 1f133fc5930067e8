#include "control/server/node_session.h"

#include <boost/asio/ssl/stream_base.hpp>

namespace weft::ctl {

void NodeSession::start() {
  auto self = shared_from_this();
  conn_->handshake(boost::asio::ssl::stream_base::server, [self](Status s) {
    if (!self->owner_) return;
    if (!s) return self->owner_->on_closed(*self, s.error());
    self->conn_->start({.on_frame = [self](std::string_view f) { self->on_frame(f); },
                        .on_close =
                            [self](const std::string& reason) {
                              if (self->owner_) self->owner_->on_closed(*self, reason);
                            }});
  });
}

void NodeSession::on_frame(std::string_view frame) {
  if (!owner_) return;
  proto::NodeMessage msg;
  if (!msg.ParseFromArray(frame.data(), static_cast<int>(frame.size())))
    return conn_->close("malformed message");
  if (!hello_seen_) {
    if (msg.msg_case() != proto::NodeMessage::kHello)
      return conn_->close("protocol error: first message is not a Hello");
    hello_seen_ = true;
    return owner_->on_hello(shared_from_this(), msg.hello());
  }
  if (node_.empty()) return;  // refused: the Goodbye is on its way
  switch (msg.msg_case()) {
    case proto::NodeMessage::kAck:
      return owner_->on_ack(*this, msg.ack());
    case proto::NodeMessage::kKeepalive:
      return;
    case proto::NodeMessage::kHealth:
      return owner_->on_health(*this, msg.health());
    case proto::NodeMessage::kHello:
      return conn_->close("protocol error: second Hello");
    default:
      return;  // a newer agent's message: ignore, stay compatible
  }
}

void NodeSession::refuse(const std::string& reason) {
  proto::ControllerMessage bye;
  bye.mutable_goodbye()->set_reason(reason);
  conn_->send(bye.SerializeAsString());
  conn_->close_after_flush("refused: " + reason);
}

void NodeSession::send_tables(uint64_t version, const std::string& node_tables) {
  proto::ControllerMessage msg;
  auto* t = msg.mutable_tables();
  t->set_version(version);
  t->set_node_tables(node_tables);
  conn_->send(msg.SerializeAsString());
}

void NodeSession::send_health(const proto::HealthState& state) {
  proto::ControllerMessage msg;
  *msg.mutable_health() = state;
  conn_->send(msg.SerializeAsString());
}

void NodeSession::detach() {
  owner_ = nullptr;
  conn_->close("controller stopping");
}

}  // namespace weft::ctl
