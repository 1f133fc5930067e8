#pragma once
// A minimal HTTP server for Prometheus scrapes: `GET /metrics` answers what
// the owner's render function returns (text format 0.0.4, text_format.h);
// any other path is 404, any other method on /metrics 405. weftd serves it
// from the main lcore's io_context, weft-controller from its own.
//
//   MetricsServer server(io, [&] { return render_metrics(...); }, options);
//   auto ep = server.listen({address, port});   // port 0: any free one
//   ...
//   server.stop();
//
// Limits, so a scraper (or anyone who can reach the port) cannot tie the
// process up: at most max_connections at once (listener.h: one over the
// cap is accepted and closed at once; a failing accept backs off), each
// request header must arrive and each response be taken within `timeout`,
// headers are capped at 8 KiB and bodies at 4 KiB, and a keep-alive
// connection idle for `timeout` is closed. No TLS and no authentication:
// bind it to an address only the monitoring network reaches.
//
// Threads: the io_context's thread only; render() runs there too.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/base/expected.h"
#include "common/base/log.h"
#include "common/transport/listener.h"

namespace weft::prom {

struct MetricsServerOptions {
  static constexpr size_t kDefaultMaxConnections = 8;

  size_t max_connections = kDefaultMaxConnections;
  std::chrono::milliseconds timeout{10000};
  ctl::Log log;
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  MetricsServer(boost::asio::io_context& io, Render render, MetricsServerOptions options = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds, listens and starts accepting; the bound endpoint.
  ctl::Expected<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& at);
  // Closes the listener and every connection. Idempotent.
  void stop();

  size_t connections() const;

 private:
  class Session;
  struct Shared;

  std::shared_ptr<Shared> shared_;
  ctl::Listener listener_;
};

}  // namespace weft::prom
