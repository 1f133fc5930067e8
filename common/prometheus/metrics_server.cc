#include "common/prometheus/metrics_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <optional>

#include "common/prometheus/text_format.h"

namespace weft::prom {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr size_t kHeaderLimit = 8 * 1024;
constexpr size_t kBodyLimit = 4 * 1024;
constexpr std::string_view kPath = "/metrics";

beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

Response reply(unsigned version, bool keep_alive, http::status status, std::string body,
               std::string_view content_type = "text/plain; charset=utf-8") {
  Response res(status, version);
  res.set(http::field::content_type, bsv(content_type));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

struct MetricsServer::Shared {
  Render render;
  MetricsServerOptions options;
  std::map<Session*, std::weak_ptr<Session>> sessions;
  bool stopped = false;
};

class MetricsServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void start() {
    shared_->sessions.emplace(this, weak_from_this());
    read();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    shared_->sessions.erase(this);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    // Also the idle limit of a kept-alive connection.
    stream_.expires_after(shared_->options.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) { self->on_read(ec); });
  }

  void on_read(const error_code& ec) {
    if (closed_ || shared_->stopped) return close();
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      return write(reply(11, false, http::status::payload_too_large, "request too large\n"));
    }
    if (ec) return close();  // end of stream, a timeout, garbage: no one to answer
    write(handle(parser_->release()));
  }

  Response handle(const Request& req) {
    std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != kPath)
      return reply(req.version(), req.keep_alive(), http::status::not_found,
                   "not found; metrics are at " + std::string(kPath) + "\n");
    if (req.method() != http::verb::get) {
      auto res = reply(req.version(), req.keep_alive(), http::status::method_not_allowed,
                       std::string(req.method_string()) + " is not allowed here; use GET\n");
      res.set(http::field::allow, "GET");
      return res;
    }
    try {
      return reply(req.version(), req.keep_alive(), http::status::ok, shared_->render(), kContentType);
    } catch (const std::exception& e) {
      shared_->options.log.error(std::string("metrics: rendering failed: ") + e.what());
      return reply(req.version(), false, http::status::internal_server_error,
                   std::string("internal error: ") + e.what() + "\n");
    }
  }

  void write(Response res) {
    res_ = std::move(res);
    stream_.expires_after(shared_->options.timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec || !self->res_.keep_alive() || self->closed_) return self->close();
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  std::shared_ptr<Shared> shared_;
  bool closed_ = false;
};

MetricsServer::MetricsServer(asio::io_context& io, Render render, MetricsServerOptions options)
    : shared_(std::make_shared<Shared>(Shared{std::move(render), std::move(options), {}, false})),
      listener_(io, "metrics", shared_->options.log) {}

MetricsServer::~MetricsServer() { stop(); }

ctl::Expected<tcp::endpoint> MetricsServer::listen(const tcp::endpoint& at) {
  auto bound = listener_.listen(at);
  if (!bound) return bound;
  listener_.start(
      shared_->options.max_connections, [shared = shared_] { return shared->sessions.size(); },
      [shared = shared_](tcp::socket socket) {
        if (shared->stopped) return;
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), shared)->start();
      });
  return bound;
}

void MetricsServer::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  listener_.stop();
  // close() erases from the map: take the sessions out first.
  auto sessions = std::move(shared_->sessions);
  shared_->sessions.clear();
  for (auto& [ptr, weak] : sessions)
    if (auto s = weak.lock()) s->close();
}

size_t MetricsServer::connections() const { return shared_->sessions.size(); }

}  // namespace weft::prom
