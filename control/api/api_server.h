#pragma once
// The controller's northbound API: HTTP/1.1 with JSON over TLS (Boost.Beast),
// serving a PolicyService. The routes and documents are in api_types.h.
//
// Authentication, per request, on its header before any of its body is
// read: an admin client certificate (signed by the CA, role
// weft:role:admin; see tls.h) or `Authorization: Bearer TOKEN` with the
// token from --api-token-file. Otherwise 401 (no credentials or a wrong
// token) or 403 (a certificate without the admin role: a node's, say), and
// the connection is closed with the body unread. Request bodies are capped
// (413), the TLS handshake and each request header must arrive within
// handshake_timeout, everything else within timeout, and at most
// `max_connections` are served at once (listener.h).
//
//   ApiServer api(io, tls_ctx, service, {.token = token});
//   auto ep = api.listen({address, port});
//
// Threads: the controller's io_context thread only; the service is called
// on it, one request at a time.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "control/api/policy_service.h"
#include "common/base/expected.h"
#include "common/base/log.h"
#include "common/transport/listener.h"

namespace weft::ctl::api {

struct ApiOptions {
  static constexpr size_t kDefaultMaxConnections = 64;

  std::string token;                 // empty: bearer tokens are not accepted
  size_t body_limit = 16u << 20;     // the policy loader's own cap
  std::chrono::milliseconds handshake_timeout{5000};  // TLS handshake, each request header
  std::chrono::milliseconds timeout{30000};           // each body read, each write
  size_t max_connections = kDefaultMaxConnections;
  Log log;
};

// A bearer token kept as its SHA-256: an offered token is hashed and the
// two digests compared with CRYPTO_memcmp, so neither the token's content
// nor its length shows in how long a refusal takes.
class BearerToken {
 public:
  explicit BearerToken(std::string_view token);
  bool matches(std::string_view offered) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest sha256(std::string_view s);
  Digest digest_;
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
  struct Shared;  // what sessions reach back to; outlives us while they run
  std::shared_ptr<Shared> shared_;
  Listener listener_;
};

}  // namespace weft::ctl::api
