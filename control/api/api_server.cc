#include "control/api/api_server.h"

#include <openssl/crypto.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <map>
#include <optional>

#include "control/transport/tls.h"

namespace weft::ctl::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr size_t kHeaderLimit = 16 * 1024;

// Beast (Boost 1.74) speaks boost::string_view.
beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

Response reply(const Request& req, http::status status, std::string body,
               std::string_view content_type = "application/json") {
  Response res(status, req.version());
  res.set(http::field::server, "weft-controller");
  res.set(http::field::content_type, bsv(content_type));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response failure(const Request& req, http::status status, std::string_view message) {
  return reply(req, status, error_json(message));
}

Response not_allowed(const Request& req, std::string_view allow) {
  auto res = failure(req, http::status::method_not_allowed,
                     std::string(req.method_string()) + " is not allowed here; use " + std::string(allow));
  res.set(http::field::allow, bsv(allow));
  return res;
}

// Equal-time comparison: a token must not leak through response timing.
bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view bearer_token(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v(it->value().data(), it->value().size());
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return {};
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

}  // namespace

struct ApiServer::Shared {
  asio::io_context& io;
  std::shared_ptr<asio::ssl::context> tls;
  PolicyService* service;  // null once the server stopped
  ApiOptions options;
  std::map<Session*, std::weak_ptr<Session>> sessions;
};

class ApiServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket), *shared->tls), shared_(std::move(shared)) {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    // Header and body go out as separate writes; Nagle would hold the second
    // until the client's delayed ACK.
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
  }

  void start() {
    shared_->sessions.emplace(this, weak_from_this());
    beast::get_lowest_layer(stream_).expires_after(shared_->options.timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const error_code& ec) {
                              if (ec) {
                                self->shared_->options.log.debug("API: TLS handshake with " + self->peer_ +
                                                                 " failed: " + ec.message());
                                return self->close();
                              }
                              self->read();
                            });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
    shared_->sessions.erase(this);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(kHeaderLimit);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) { self->on_read(ec); });
  }

  void on_read(const error_code& ec) {
    if (closed_ || !shared_->service) return close();
    if (ec == http::error::body_limit) {
      Request req = parser_->release();
      req.keep_alive(false);
      return write(failure(req, http::status::payload_too_large,
                           "request body exceeds " + std::to_string(shared_->options.body_limit) +
                               " bytes"));
    }
    if (ec == http::error::header_limit) {
      Request req;
      req.keep_alive(false);
      return write(failure(req, http::status::request_header_fields_too_large, "headers too large"));
    }
    if (ec) return close();  // end of stream, timeout, garbage: nothing to answer
    const Request req = parser_->release();
    write(handle(req));
  }

  void write(Response res) {
    res_ = std::move(res);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  // Who is asking: "cert:NAME", "token", or empty with `why` set.
  std::string authenticate(const Request& req, http::status& status, std::string& why) {
    const auto names = peer_names(stream_.native_handle());
    bool node_cert = false;
    for (const auto& n : names) node_cert |= shared_->service->is_node(n);
    if (!names.empty() && !node_cert) return "cert:" + names.front();

    const auto& token = shared_->options.token;
    const auto offered = bearer_token(req);
    if (!token.empty() && !offered.empty() && same_secret(offered, token)) return "token";

    if (node_cert) {
      status = http::status::forbidden;
      why = "node certificate '" + names.front() + "' is not accepted on the API";
    } else {
      status = http::status::unauthorized;
      why = offered.empty() ? "authentication required: a client certificate signed by the CA"
                              " or a bearer token"
                            : "invalid bearer token";
    }
    return {};
  }

  Response handle(const Request& req) {
    PolicyService& svc = *shared_->service;
    const Log& log = shared_->options.log;
    http::status denied = http::status::unauthorized;
    std::string why;
    const std::string who = authenticate(req, denied, why);
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (who.empty()) {
      log.warn("API: " + std::string(req.method_string()) + " " + std::string(target) + " from " +
               peer_ + " denied: " + why);
      auto res = failure(req, denied, why);
      if (denied == http::status::unauthorized)
        res.set(http::field::www_authenticate, "Bearer realm=\"weft-controller\"");
      return res;
    }

    if (target == "/v1/status") {
      if (req.method() != http::verb::get) return not_allowed(req, "GET");
      return reply(req, http::status::ok, to_json(svc.status()));
    }
    if (target == "/v1/policy") {
      if (req.method() == http::verb::get) {
        auto doc = svc.current_policy();
        if (doc.version == 0) return failure(req, http::status::not_found, "no policy applied yet");
        auto res = reply(req, http::status::ok, std::move(doc.yaml), "application/yaml");
        res.set("X-Weft-Version", std::to_string(doc.version));
        return res;
      }
      if (req.method() != http::verb::put) return not_allowed(req, "GET, PUT");
      auto outcome = svc.apply_policy(req.body());
      switch (outcome.kind) {
        case ApplyOutcome::Kind::kApplied:
          log.info("API: policy version " + std::to_string(outcome.result.version) +
                   (outcome.result.unchanged ? " re-applied unchanged" : " applied") + " by " +
                   who + " from " + peer_ + "; " +
                   std::to_string(outcome.result.changed_nodes.size()) + " node(s) updated");
          return reply(req, http::status::ok, to_json(outcome.result));
        case ApplyOutcome::Kind::kInvalid:
          log.info("API: invalid policy from " + who + " (" + std::to_string(outcome.errors.size()) +
                   " error(s)); nothing changed");
          return reply(req, http::status::bad_request, errors_json(outcome.errors));
        case ApplyOutcome::Kind::kFailed:
          log.error("API: applying a policy from " + who + " failed: " + outcome.failure);
          return failure(req, http::status::internal_server_error, outcome.failure);
      }
    }
    if (target == "/v1/validate") {
      if (req.method() != http::verb::post) return not_allowed(req, "POST");
      return reply(req, http::status::ok, validate_json(svc.validate_policy(req.body())));
    }
    return failure(req, http::status::not_found, "no such resource: " + std::string(target));
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<Shared> shared_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  bool closed_ = false;
};

ApiServer::ApiServer(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                     PolicyService& service, ApiOptions options)
    : acceptor_(io),
      shared_(std::make_shared<Shared>(Shared{io, std::move(tls), &service, std::move(options), {}})) {}

ApiServer::~ApiServer() { stop(); }

Expected<tcp::endpoint> ApiServer::listen(const tcp::endpoint& at) {
  error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unexpected{"API listen on " + at.address().to_string() + ":" +
                            std::to_string(at.port()) + ": " + ec.message()};
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return Unexpected{"API: " + ec.message()};
  accept();
  return bound;
}

void ApiServer::accept() {
  acceptor_.async_accept([this, shared = shared_](const error_code& ec, tcp::socket socket) {
    if (!shared->service) return;  // stopped (and maybe destroyed): touch nothing of ours
    if (ec) {
      if (ec != asio::error::operation_aborted) shared->options.log.warn("API accept: " + ec.message());
      return accept();
    }
    if (shared->sessions.size() >= shared->options.max_connections) {
      shared->options.log.warn("API: connection limit reached; refusing a connection");
      error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Session>(std::move(socket), shared)->start();
    }
    accept();
  });
}

void ApiServer::stop() {
  if (!shared_->service) return;
  shared_->service = nullptr;
  error_code ignored;
  acceptor_.close(ignored);
  auto sessions = std::move(shared_->sessions);
  shared_->sessions.clear();
  for (auto& [ptr, weak] : sessions)
    if (auto s = weak.lock()) s->close();
}

}  // namespace weft::ctl::api
