// weft-controller: holds the desired state, compiles it, pushes every node its
// tables over mutual TLS, and serves the HTTP/JSON API. See SPEC.md and
// docs/operations.md.
//
//   weft-controller --state-dir DIR --listen ADDR:PORT --api ADDR:PORT
//                   --tls-ca F --tls-cert F --tls-key F [--tls-crl F]
//                   [--api-token-file F] [--max-node-connections N]
//                   [--max-api-connections N] [--metrics ADDR:PORT]
//
// Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start, 2 on usage.

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "control/controller/controller.h"
#include "common/transport/host_port.h"

namespace {

namespace asio = boost::asio;
using weft::ctl::Expected;
using weft::ctl::Unexpected;

constexpr const char* kUsage =
    "usage: weft-controller --state-dir DIR --listen ADDR:PORT --api ADDR:PORT\n"
    "                       --tls-ca FILE --tls-cert FILE --tls-key FILE [--tls-crl FILE]\n"
    "                       [--api-token-file FILE] [--max-node-connections N]\n"
    "                       [--max-api-connections N] [--metrics ADDR:PORT] [--verbose]\n"
    "\n"
    "  --state-dir       desired state (policy.yaml, created if absent; one controller per dir)\n"
    "  --listen          southbound address for weftd nodes (mutual TLS)\n"
    "  --api             HTTP/JSON API address (TLS; client certificate or bearer token)\n"
    "  --tls-ca          CA that signed every node, client and this controller\n"
    "  --tls-cert/-key   this controller's certificate and key\n"
    "  --tls-crl         the CA's revocation list (PEM), read at start: revoked peers fail\n"
    "                    the TLS handshake on both listeners\n"
    "  --api-token-file  file holding a bearer token accepted by the API\n"
    "  --max-node-connections  southbound connections at once, handshakes included (1024)\n"
    "  --max-api-connections   API connections at once (64)\n"
    "  --metrics         serve Prometheus GET /metrics here (plain HTTP, no authentication)\n"
    "  --verbose         log debug messages too\n";

Expected<asio::ip::tcp::endpoint> parse_endpoint(const char* flag, const std::string& text) {
  auto hp = weft::ctl::parse_host_port(text);
  if (!hp) return Unexpected{std::string(flag) + " " + hp.error()};
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->host, ec);
  if (ec) return Unexpected{std::string(flag) + " '" + text + "': ADDR must be an IP address"};
  return asio::ip::tcp::endpoint(addr, hp->port);
}

Expected<size_t> parse_count(const char* flag, const std::string& text) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0)
    return Unexpected{std::string(flag) + " '" + text + "': a positive number"};
  return n;
}

Expected<std::string> read_token(const std::string& path, const weft::ctl::Log& log) {
  std::ifstream in(path);
  if (!in) return Unexpected{"--api-token-file " + path + ": " + std::strerror(errno)};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) token.erase(0, 1);
  if (token.empty()) return Unexpected{"--api-token-file " + path + ": empty"};
  if (token.find_first_of(" \t\r\n") != std::string::npos)
    return Unexpected{"--api-token-file " + path + ": the token must be one word"};
  if (token.size() < 16) log.warn("the API token is short (" + std::to_string(token.size()) + " characters)");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    log.warn("--api-token-file " + path + " is readable by group or others");
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  std::string state_dir, listen, api, ca, cert, key, crl, token_file, max_nodes, max_api, metrics;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--verbose") {
      verbose = true;
      continue;
    }
    std::string* dest = a == "--state-dir"        ? &state_dir
                        : a == "--listen"         ? &listen
                        : a == "--api"            ? &api
                        : a == "--tls-ca"         ? &ca
                        : a == "--tls-cert"       ? &cert
                        : a == "--tls-key"        ? &key
                        : a == "--tls-crl"        ? &crl
                        : a == "--api-token-file" ? &token_file
                        : a == "--max-node-connections" ? &max_nodes
                        : a == "--max-api-connections"  ? &max_api
                        : a == "--metrics"              ? &metrics
                                                        : nullptr;
    if (!dest || i + 1 >= argc) {
      std::fprintf(stderr, "weft-controller: %s '%s'\n\n%s",
                   dest ? "missing value for" : "unknown option", a.c_str(), kUsage);
      return 2;
    }
    *dest = argv[++i];
  }
  if (state_dir.empty() || listen.empty() || api.empty() || ca.empty() || cert.empty() || key.empty()) {
    std::fprintf(stderr, "weft-controller: --state-dir, --listen, --api, --tls-ca, --tls-cert and "
                         "--tls-key are required\n\n%s", kUsage);
    return 2;
  }

  auto log = weft::ctl::Log::to_stderr("weft-controller", verbose ? weft::ctl::LogLevel::kDebug
                                                                  : weft::ctl::LogLevel::kInfo);
  weft::ctl::ControllerOptions options;
  options.state_dir = state_dir;
  options.tls = {ca, cert, key};
  options.tls_crl = crl;
  for (auto [flag, text, dest] : {std::tuple{"--max-node-connections", &max_nodes,
                                             &options.southbound_options.max_connections},
                                  std::tuple{"--max-api-connections", &max_api,
                                             &options.api_options.max_connections}}) {
    if (text->empty()) continue;
    auto n = parse_count(flag, *text);
    if (!n) {
      std::fprintf(stderr, "weft-controller: %s\n", n.error().c_str());
      return 2;
    }
    *dest = *n;
  }
  options.log = log;
  auto sb = parse_endpoint("--listen", listen);
  auto ap = parse_endpoint("--api", api);
  for (const auto* e : {&sb, &ap})
    if (!*e) {
      std::fprintf(stderr, "weft-controller: %s\n", e->error().c_str());
      return 2;
    }
  options.southbound = *sb;
  options.api = *ap;
  if (!metrics.empty()) {
    auto m = parse_endpoint("--metrics", metrics);
    if (!m) {
      std::fprintf(stderr, "weft-controller: %s\n", m.error().c_str());
      return 2;
    }
    options.metrics = *m;
  }
  if (!token_file.empty()) {
    auto token = read_token(token_file, log);
    if (!token) {
      log.error(token.error());
      return 1;
    }
    options.api_options.token = *token;
  }

  // A node that vanishes mid-write must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  auto controller = weft::ctl::Controller::start(io, std::move(options));
  if (!controller) {
    log.error(controller.error());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log.info(std::string("stopping on ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    (*controller)->stop();
  });
  io.run();
  log.info("stopped");
  return 0;
}
