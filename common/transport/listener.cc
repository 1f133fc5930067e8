#include "common/transport/listener.h"

#include <algorithm>

namespace weft::ctl {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

}  // namespace

Listener::Listener(asio::io_context& io, std::string what, Log log)
    : what_(std::move(what)), log_(std::move(log)), acceptor_(io), retry_(io) {}

Listener::~Listener() {
  stop();
  *alive_ = false;
}

Expected<tcp::endpoint> Listener::listen(const tcp::endpoint& at) {
  error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unexpected{what_ + " listen on " + at.address().to_string() + ":" +
                            std::to_string(at.port()) + ": " + ec.message()};
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return Unexpected{what_ + ": " + ec.message()};
  return bound;
}

void Listener::start(size_t max_connections, std::function<size_t()> live,
                     std::function<void(Socket)> on_accept) {
  max_ = max_connections;
  live_ = std::move(live);
  on_accept_ = std::move(on_accept);
  accept();
}

void Listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void Listener::accept() {
  acceptor_.async_accept([this, alive = alive_](const error_code& ec, Socket socket) {
    if (!*alive || stopped_) return;
    on_accept(ec, std::move(socket));
  });
}

void Listener::on_accept(const error_code& ec, Socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors (or memory): the backlog stays, so accepting again
    // at once fails again at once. Wait, and let sessions end meanwhile.
    backoff_ = backoff_.count() == 0 ? kBackoffInitial : std::min(backoff_ * 2, kBackoffMax);
    if (failures_++ == 0)
      log_.warn(what_ + " accept: " + ec.message() + "; retrying in " +
                std::to_string(backoff_.count()) + " ms, backing off up to " +
                std::to_string(kBackoffMax.count()) + " ms");
    retry_.expires_after(backoff_);
    retry_.async_wait([this, alive = alive_](const error_code& wait_ec) {
      if (!*alive || stopped_ || wait_ec) return;
      accept();
    });
    return;
  }
  if (failures_ > 0) {
    log_.info(what_ + " accept works again after " + std::to_string(failures_) + " failure(s)");
    failures_ = 0;
    backoff_ = std::chrono::milliseconds(0);
  }
  if (live_() >= max_) {
    if (refused_++ == 0)
      log_.warn(what_ + ": connection limit (" + std::to_string(max_) +
                ") reached; refusing new connections");
    error_code ignored;
    socket.close(ignored);
  } else {
    if (refused_ > 0) {
      log_.info(what_ + ": below the connection limit again; " + std::to_string(refused_) +
                " connection(s) were refused");
      refused_ = 0;
    }
    on_accept_(std::move(socket));
  }
  accept();
}

}  // namespace weft::ctl
