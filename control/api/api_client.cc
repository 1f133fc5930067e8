#include "control/api/api_client.h"

#include "common/transport/host_port.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>


namespace weft::ctl::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

// Beast (Boost 1.74) speaks boost::string_view.
beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

// One exchange, each step under the deadline, run to completion on a private
// io_context (the caller blocks; nothing is shared).
class Exchange {
 public:
  Exchange(asio::ssl::context& ctx, std::chrono::milliseconds timeout)
      : resolver_(io_), stream_(io_, ctx), timeout_(timeout) {}

  Expected<HttpReply> run(const std::string& host, uint16_t port,
                          http::request<http::string_body> req) {
    req_ = std::move(req);
    if (auto s = expect_peer_host(stream_.native_handle(), host); !s) return Unexpected{s.error()};
    where_ = host + ":" + std::to_string(port);
    resolver_.async_resolve(host, std::to_string(port),
                            [this](const error_code& ec, tcp::resolver::results_type r) {
                              if (ec) return fail("resolve " + where_, ec);
                              connect(r);
                            });
    io_.run();
    if (!error_.empty()) return Unexpected{error_};
    HttpReply reply;
    reply.status = static_cast<int>(res_.result_int());
    reply.body = std::move(res_.body());
    if (auto it = res_.find(http::field::content_type); it != res_.end())
      reply.content_type = std::string(it->value());
    if (auto it = res_.find("X-Weft-Version"); it != res_.end())
      reply.version_header = std::string(it->value());
    return reply;
  }

 private:
  void fail(const std::string& step, const error_code& ec) {
    error_ = step + ": " + (ec == beast::error::timeout ? std::string("timed out") : ec.message());
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void connect(const tcp::resolver::results_type& r) {
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    beast::get_lowest_layer(stream_).async_connect(r, [this](const error_code& ec, const tcp::endpoint&) {
      if (ec) return fail("connect to " + where_, ec);
      // Beast writes a request's header and body separately: without this,
      // Nagle holds the body until the server's delayed ACK (40 ms).
      error_code ignored;
      beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ignored);
      beast::get_lowest_layer(stream_).expires_after(timeout_);
      stream_.async_handshake(asio::ssl::stream_base::client, [this](const error_code& ec) {
        if (ec) {
          std::string why = "TLS with " + where_;
          long verify = SSL_get_verify_result(stream_.native_handle());
          if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
          return fail(why, ec);
        }
        write();
      });
    });
  }

  void write() {
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    http::async_write(stream_, req_, [this](const error_code& ec, size_t) {
      if (ec) return fail("send to " + where_, ec);
      beast::get_lowest_layer(stream_).expires_after(timeout_);
      parser_.body_limit(256u << 20);
      http::async_read(stream_, buffer_, parser_, [this](const error_code& ec, size_t) {
        if (ec) return fail("read from " + where_, ec);
        res_ = parser_.release();
        error_code ignored;
        beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }

  asio::io_context io_;
  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::chrono::milliseconds timeout_;
  std::string where_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
  std::string error_;
};

}  // namespace

Expected<ApiClient> ApiClient::create(ApiClientOptions options) {
  constexpr std::string_view kScheme = "https://";
  std::string_view url = options.url;
  if (!url.starts_with(kScheme))
    return Unexpected{"controller URL '" + options.url + "' must start with https://"};
  url.remove_prefix(kScheme.size());
  if (auto slash = url.find('/'); slash != std::string_view::npos) {
    if (url.substr(slash) != "/") return Unexpected{"controller URL '" + options.url + "' must not have a path"};
    url = url.substr(0, slash);
  }
  auto hp = parse_host_port(url, 443);
  if (!hp || hp->port == 0)
    return Unexpected{"controller URL '" + options.url + "': expected https://HOST:PORT"};
  ApiClient c;
  c.host_ = std::move(hp->host);
  c.port_ = hp->port;
  if (options.tls.ca.empty()) return Unexpected{"a CA file (--ca) is needed to verify the controller"};
  auto ctx = make_tls_context(TlsRole::kClient, options.tls, PeerCerts::kRequire);
  if (!ctx) return Unexpected{ctx.error()};
  c.tls_ = std::move(*ctx);
  c.options_ = std::move(options);
  return c;
}

Expected<HttpReply> ApiClient::request(std::string_view method, std::string_view target,
                                       std::string body, std::string_view content_type) const {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(bsv(method)));
  if (req.method() == http::verb::unknown) return Unexpected{"unknown HTTP method"};
  req.target(bsv(target));
  req.version(11);
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "weftctl");
  req.set(http::field::accept, "application/json");
  if (!options_.token.empty()) req.set(http::field::authorization, "Bearer " + options_.token);
  if (!body.empty() || method == "PUT" || method == "POST") {
    req.set(http::field::content_type, bsv(content_type));
    req.body() = std::move(body);
  }
  req.keep_alive(false);
  req.prepare_payload();
  Exchange exchange(*tls_, options_.timeout);
  return exchange.run(host_, port_, std::move(req));
}

}  // namespace weft::ctl::api
