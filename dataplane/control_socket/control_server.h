#pragma once
// weftd's control socket: a unix stream socket served from the main lcore's
// io_context, which `weftctl node ...` and scripts talk to.
//
// Protocol: one request per line, one response per line, any number per
// connection. A request is a JSON object naming its command,
// {"command": "stats"}, or just the command word (`echo stats | socat -
// UNIX:/run/weft/node-a.sock`). A response is {"ok": true, "result": ...}
// or {"ok": false, "error": "..."}. Requests are capped at 64 KiB.
//
//   ControlServer server(io, "/run/weft/node-a.sock");
//   server.add_command("stats", [&](const nlohmann::json& req) { return stats_json(); });
//   if (!server.start(error)) ...;      // before io.run()
//
// Handlers run on the io_context's thread (the main lcore) and may throw:
// the exception's message becomes the error response. Not thread-safe.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

namespace weft::dp {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  static constexpr size_t kMaxRequestBytes = 64 * 1024;

  ControlServer(boost::asio::io_context& io, std::string path);
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

  // The response line (without '\n') for one request line; public for tests.
  std::string handle(const std::string& line) const;

 private:
  class Session;
  void accept();

  boost::asio::io_context& io_;
  std::string path_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::map<std::string, Handler, std::less<>> commands_;
  std::list<std::weak_ptr<Session>> sessions_;
  bool listening_ = false;
};

}  // namespace weft::dp
