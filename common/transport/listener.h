#pragma once
// A TCP listener for the controller's two servers (southbound and API):
// binds, accepts, and keeps a connection flood from taking the process down.
//
//   - At most `max_connections` connections are served at once; the owner
//     says how many it holds. One more is accepted and closed at once: it
//     costs a file descriptor for a moment, never a session or a handshake.
//   - When accept(2) itself fails (EMFILE, ENFILE, ENOBUFS: out of file
//     descriptors or memory) the listener waits before it tries again,
//     10 ms doubling to 1 s, instead of spinning on a backlog it cannot
//     take; the next accepted connection resets the delay.
//   - Either condition is logged once when it starts and once when it ends
//     (with how many connections it cost), not once per connection.
//
//   Listener listener(io, "API", log);
//   auto ep = listener.listen({address, 0});     // the bound endpoint
//   listener.start(64, [&] { return sessions.size(); },
//                  [&](tcp::socket s) { start_session(std::move(s)); });
//   listener.stop();                             // closes the acceptor
//
// Threads: the io_context's thread only. Handlers that run after stop() or
// after the Listener is gone do nothing.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/base/expected.h"
#include "common/base/log.h"

namespace weft::ctl {

class Listener {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  static constexpr std::chrono::milliseconds kBackoffInitial{10};
  static constexpr std::chrono::milliseconds kBackoffMax{1000};

  // `what` names the listener in log lines ("southbound", "API").
  Listener(boost::asio::io_context& io, std::string what, Log log);
  ~Listener();

  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; returns the bound endpoint (port 0 picks one).
  Expected<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& at);

  // Starts accepting: `on_accept` gets each connection while `live()` is
  // below `max_connections`.
  void start(size_t max_connections, std::function<size_t()> live,
             std::function<void(Socket)> on_accept);

  // Closes the acceptor. Idempotent.
  void stop();

 private:
  void accept();
  void on_accept(const boost::system::error_code& ec, Socket socket);

  std::string what_;
  Log log_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  size_t max_ = 0;
  std::function<size_t()> live_;
  std::function<void(Socket)> on_accept_;
  std::chrono::milliseconds backoff_{0};  // 0: accept is not failing
  size_t failures_ = 0;                   // accept errors in this episode
  size_t refused_ = 0;                    // connections refused at the cap, in this episode
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace weft::ctl
