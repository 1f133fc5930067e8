#pragma once
// A small blocking HTTPS client for the controller's API: what weftctl, the
// tests and perf/ use to talk to weft-controller. TLS verifies the controller
// against the CA and the URL's host; the client authenticates with a client
// certificate, a bearer token, or both.
//
//   auto client = ApiClient::create({.url = "https://127.0.0.1:6443",
//                                    .tls = {ca, cert, key}});
//   auto reply = client->request("GET", "/v1/status");
//   if (reply && reply->status == 200) ... parse_status(reply->body) ...
//
// One request per connection (the CLI makes one or two). Every step has a
// deadline. Errors are values. Thread-compatible: one client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/expected.h"
#include "common/transport/tls.h"

namespace boost::asio::ssl {
class context;
}

namespace weft::ctl::api {

struct ApiClientOptions {
  std::string url;  // https://HOST:PORT
  TlsFiles tls;     // ca required; cert and key optional
  std::string token;
  std::chrono::milliseconds timeout{30000};
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string version_header;  // X-Weft-Version, when present
};

class ApiClient {
 public:
  static Expected<ApiClient> create(ApiClientOptions options);

  Expected<HttpReply> request(std::string_view method, std::string_view target,
                              std::string body = {},
                              std::string_view content_type = "application/json") const;

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 private:
  ApiClientOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // loaded once, used per request
  std::string host_;
  uint16_t port_ = 0;
};

}  // namespace weft::ctl::api
