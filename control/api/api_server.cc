#include "control/api/api_server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <map>
#include <optional>

#include "common/transport/tls.h"

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

// The request's path, without the query.
std::string_view path_of(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
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

BearerToken::BearerToken(std::string_view token) : digest_(sha256(token)) {}

bool BearerToken::matches(std::string_view offered) const {
  const auto d = sha256(offered);
  return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

BearerToken::Digest BearerToken::sha256(std::string_view s) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

struct ApiServer::Shared {
  asio::io_context& io;
  std::shared_ptr<asio::ssl::context> tls;
  PolicyService* service;  // null once the server stopped
  ApiOptions options;
  std::optional<BearerToken> token;  // from options.token, when set
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
    // Until a request is authenticated the peer is a stranger: it gets
    // handshake_timeout for the handshake and for each request header.
    beast::get_lowest_layer(stream_).expires_after(shared_->options.handshake_timeout);
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
  // A request is read in two steps: the header, then, only for a caller the
  // header authenticates, the body. A stranger is answered (and the
  // connection closed) without a byte of body buffered or parsed.
  void read() {
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(kHeaderLimit);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.handshake_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](const error_code& ec, size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(const error_code& ec) {
    if (closed_ || !shared_->service) return close();
    if (ec == http::error::header_limit) {
      Request req;
      req.keep_alive(false);
      return write(failure(req, http::status::request_header_fields_too_large, "headers too large"));
    }
    // body_limit here: the header announces more than the cap (answered
    // below, once we know who is asking). Anything else (end of stream, a
    // timeout, garbage) has no one to answer.
    if (ec && ec != http::error::body_limit) return close();

    const Request& head = parser_->get();
    http::status denied = http::status::unauthorized;
    std::string why;
    who_ = authenticate(head, denied, why);
    if (who_.empty()) {
      shared_->options.log.warn("API: " + std::string(head.method_string()) + " " +
                                std::string(path_of(head)) + " from " + peer_ + " denied: " + why);
      auto res = failure(head, denied, why);
      if (denied == http::status::unauthorized)
        res.set(http::field::www_authenticate, "Bearer realm=\"weft-controller\"");
      res.keep_alive(false);  // its body, if any, stays unread
      return write(std::move(res));
    }
    if (ec == http::error::body_limit) return too_large(head);
    if (parser_->is_done()) return on_body({});
    beast::get_lowest_layer(stream_).expires_after(shared_->options.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) { self->on_body(ec); });
  }

  void on_body(const error_code& ec) {
    if (closed_ || !shared_->service) return close();
    if (ec == http::error::body_limit) return too_large(parser_->get());  // chunked, past the cap
    if (ec) return close();
    write(handle(parser_->release()));
  }

  void too_large(const Request& head) {
    auto res = failure(head, http::status::payload_too_large,
                       "request body exceeds " + std::to_string(shared_->options.body_limit) + " bytes");
    res.keep_alive(false);
    write(std::move(res));
  }

  void write(Response res) {
    res_ = std::move(res);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  // Who is asking: "cert:NAME" (an admin certificate), "token", or empty
  // with `status` and `why` set. Authority comes from the certificate's role
  // (tls.h), never from the policy: a node certificate is refused even
  // before any policy names its node, and after the policy drops it.
  std::string authenticate(const Request& req, http::status& status, std::string& why) {
    SSL* ssl = stream_.native_handle();
    const auto names = peer_names(ssl);
    const std::string name = names.empty() ? "(unnamed)" : names.front();
    const PeerRole role = peer_role(ssl);
    if (role == PeerRole::kAdmin) return "cert:" + name;

    const auto offered = bearer_token(req);
    if (shared_->token && !offered.empty() && shared_->token->matches(offered)) return "token";

    if (role == PeerRole::kNode) {
      status = http::status::forbidden;
      why = "node certificate '" + name + "' is not accepted on the API";
    } else if (!names.empty()) {
      status = http::status::forbidden;
      why = "certificate '" + name + "' is not an admin's (no " + std::string(kAdminRoleUri) + ")";
    } else {
      status = http::status::unauthorized;
      why = offered.empty() ? "authentication required: an admin client certificate signed by "
                              "the CA or a bearer token"
                            : "invalid bearer token";
    }
    return {};
  }

  // Answers an authenticated request (`who_`). Never throws: a failure
  // of ours is a 500, not an exception out of an asio handler.
  Response handle(const Request& req) {
    try {
      return route(req);
    } catch (const std::exception& e) {
      shared_->options.log.error("API: " + std::string(req.method_string()) + " " +
                                 std::string(path_of(req)) + " from " + who_ + " failed: " + e.what());
      return failure(req, http::status::internal_server_error, std::string("internal error: ") + e.what());
    }
  }

  Response route(const Request& req) {
    PolicyService& svc = *shared_->service;
    const Log& log = shared_->options.log;
    const std::string& who = who_;
    const std::string_view target = path_of(req);

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
  std::string who_;  // of the request being served
  Response res_;
  bool closed_ = false;
};

ApiServer::ApiServer(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                     PolicyService& service, ApiOptions options)
    : shared_(std::make_shared<Shared>(Shared{io, std::move(tls), &service, std::move(options), {}, {}})),
      listener_(io, "API", shared_->options.log) {
  if (!shared_->options.token.empty()) shared_->token.emplace(shared_->options.token);
}

ApiServer::~ApiServer() { stop(); }

Expected<tcp::endpoint> ApiServer::listen(const tcp::endpoint& at) {
  auto bound = listener_.listen(at);
  if (!bound) return bound;
  listener_.start(
      shared_->options.max_connections, [shared = shared_] { return shared->sessions.size(); },
      [shared = shared_](tcp::socket socket) {
        std::make_shared<Session>(std::move(socket), shared)->start();
      });
  return bound;
}

void ApiServer::stop() {
  if (!shared_->service) return;
  shared_->service = nullptr;
  listener_.stop();
  auto sessions = std::move(shared_->sessions);
  shared_->sessions.clear();
  for (auto& [ptr, weak] : sessions)
    if (auto s = weak.lock()) s->close();
}

}  // namespace weft::ctl::api
