#pragma once
// The controller's northbound API: HTTP/1.1 with JSON over TLS (Boost.Beast),
// serving a PolicyService. The routes and documents are in api_types.h.
//
// Authentication, per request: a client certificate signed by the CA (and
// not a node's: node identities belong to the southbound) or
// `Authorization: Bearer TOKEN` with the token from --api-token-file;
// otherwise 401. Request bodies are capped (413), idle and slow connections
// time out, and at most `max_connections` are served at once.
//
//   ApiServer api(io, tls_ctx, service, {.token = token});
//   auto ep = api.listen({address, port});
//
// Threads: the controller's io_context thread only; the service is called
// on it, one request at a time.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "control/api/policy_service.h"
#include "control/base/expected.h"
#include "control/base/log.h"

namespace weft::ctl::api {

struct ApiOptions {
  std::string token;                 // empty: bearer tokens are not accepted
  size_t body_limit = 16u << 20;     // the policy loader's own cap
  std::chrono::milliseconds timeout{30000};  // handshake, each read, each write
  size_t max_connections = 64;
  Log log;
};

class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
            PolicyService& service, ApiOptions options);
  ~ApiServer();

  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Expected<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& at);
  // Stops accepting and closes every connection.
  void stop();

  class Session;

 private:
  void accept();

  struct Shared;  // what sessions reach back to; outlives us while they run
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace weft::ctl::api
