#pragma once
// weftd's control socket: a unix stream socket served from the main lcore's
// io_context, which `weftctl node ...` and scripts talk to.
//
// Protocol: one request per line, one response per line, any number per
// connection. A request is a JSON object naming its command,
// {"command": "stats"}, or just the command word (`echo stats | socat -
// UNIX:/run/weft/node-a.sock`). A response is {"ok": true, "result": ...}
// or {"ok": false, "error": "..."}; bytes that are not UTF-8 come back as
// U+FFFD. Requests are capped at 64 KiB.
//
// Who may connect: the socket is owner root (weftd's user), mode 0660, group
// `Options::group` (node.yaml `control_socket_group`) or weftd's own. Mode
// and group are set after bind and before listen, so there is no moment
// when the socket accepts connections with other permissions (a unix socket
// that does not listen refuses every connect).
//
// Limits: at most max_sessions connections at once (one more is told so and
// closed), and a connection idle for idle_timeout (no request arrives, or
// the client does not take its response) is closed.
//
//   ControlServer::Options options;
//   options.group = cfg.control_socket_gid;
//   ControlServer server(io, "/run/weft/node-a.sock", options);
//   server.add_command("stats", [&](const nlohmann::json& req) { return stats_json(); });
//   if (!server.start(error)) ...;      // before io.run()
//
// Handlers run on the io_context's thread (the main lcore) and may throw:
// the exception's message becomes the error response; no exception leaves
// the server's own asio handlers. Not thread-safe.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace weft::dp {

struct ControlSocketOptions {
  static constexpr size_t kDefaultMaxSessions = 16;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{60000};

  std::optional<gid_t> group;  // absent: weftd's own group
  size_t max_sessions = kDefaultMaxSessions;
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
};

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  static constexpr size_t kMaxRequestBytes = 64 * 1024;

  using Options = ControlSocketOptions;

  ControlServer(boost::asio::io_context& io, std::string path, Options options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Registers (or replaces) a command. Other components (the agent) add
  // theirs the same way.
  void add_command(std::string name, Handler handler);

  // Creates the socket's directory, takes over a stale socket file left by
  // a dead weftd (but not a live one), binds, listens and starts accepting.
  bool start(std::string& error);
  // Closes the listener and every connection and removes the socket file.
  void stop();

  const std::string& path() const { return path_; }

  // The response line (without '\n') for one request line; public for
  // tests. Never throws.
  std::string handle(const std::string& line) const noexcept;

 private:
  class Session;
  void accept();

  size_t live_sessions();
  static constexpr std::chrono::milliseconds kAcceptRetry{100};

  boost::asio::io_context& io_;
  std::string path_;
  Options options_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // after accept failed (EMFILE)
  std::map<std::string, Handler, std::less<>> commands_;
  std::list<std::weak_ptr<Session>> sessions_;
  bool listening_ = false;
};

}  // namespace weft::dp
