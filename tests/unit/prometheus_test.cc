// The Prometheus text-format writer (common/prometheus/text_format.h) and
// the /metrics HTTP server (metrics_server.h): escaping, value spelling,
// HELP/TYPE, histogram buckets, and what the server answers to a scrape,
// another path, another method, and a connection over its cap.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <string>
#include <thread>

#include "common/prometheus/metrics_server.h"
#include "common/prometheus/text_format.h"
#include "tests/unit/promtool.h"

namespace weft::prom {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

TEST(PromText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("vm-1"), "vm-1");
  EXPECT_EQ(escape_help("line\\one\nline \"two\""), "line\\\\one\\nline \"two\"");
}

TEST(PromText, SpellsValuesAsPrometheusParsesThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(0.0001), "0.0001");  // fixed notation in the usual range, as Go's 'g'
  EXPECT_EQ(format_value(123456789012.0), "123456789012");
  EXPECT_EQ(format_value(1e-7), "1e-07");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // round trip
}

TEST(PromText, Names) {
  EXPECT_TRUE(valid_metric_name("weft_port_rx_packets_total"));
  EXPECT_TRUE(valid_metric_name("ns:rule_total"));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("weft-port"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("port"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(PromText, FamiliesAndSamples) {
  TextWriter w;
  w.family("weft_port_rx_packets_total", "Packets received.\nPer port.", MetricType::kCounter);
  w.sample("weft_port_rx_packets_total", {{"port", "vm-1"}, {"kind", "af_packet"}}, uint64_t{18446744073709551615u});
  w.sample("weft_port_rx_packets_total", {{"port", "we\"ird\\"}, {"kind", "x"}}, 0);
  w.family("weft_up", "Up.", MetricType::kGauge);
  w.sample("weft_up", {}, 1);
  w.family("weft_ratio", "A ratio.", MetricType::kGauge);
  w.sample("weft_ratio", {}, 0.5);
  EXPECT_EQ(w.text(),
            "# HELP weft_port_rx_packets_total Packets received.\\nPer port.\n"
            "# TYPE weft_port_rx_packets_total counter\n"
            "weft_port_rx_packets_total{port=\"vm-1\",kind=\"af_packet\"} 18446744073709551615\n"
            "weft_port_rx_packets_total{port=\"we\\\"ird\\\\\",kind=\"x\"} 0\n"
            "# HELP weft_up Up.\n"
            "# TYPE weft_up gauge\n"
            "weft_up 1\n"
            "# HELP weft_ratio A ratio.\n"
            "# TYPE weft_ratio gauge\n"
            "weft_ratio 0.5\n");
}

TEST(PromText, HistogramBucketsAreCumulative) {
  Histogram h({0.125, 1, 0.0625});  // sorted on construction
  ASSERT_EQ(h.bounds().size(), 3u);
  EXPECT_EQ(h.bounds()[0], 0.0625);
  for (double v : {0.03125, 0.0625, 0.125, 0.5, 2.0, 4.0}) h.observe(v);  // exact in binary
  h.observe(std::nan(""));  // ignored
  TextWriter w;
  w.family("x_seconds", "X.", MetricType::kHistogram);
  w.histogram("x_seconds", {{"node", "a"}}, h);
  EXPECT_EQ(w.text(),
            "# HELP x_seconds X.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{node=\"a\",le=\"0.0625\"} 2\n"  // 0.0625 is in le="0.0625"
            "x_seconds_bucket{node=\"a\",le=\"0.125\"} 3\n"
            "x_seconds_bucket{node=\"a\",le=\"1\"} 4\n"
            "x_seconds_bucket{node=\"a\",le=\"+Inf\"} 6\n"
            "x_seconds_sum{node=\"a\"} 6.71875\n"
            "x_seconds_count{node=\"a\"} 6\n");
  const auto b = Histogram::exponential(0.001, 2, 3);
  EXPECT_EQ(b, (std::vector<double>{0.001, 0.002, 0.004}));
}

TEST(PromText, PromtoolAcceptsTheWritersOutput) {
  TextWriter w;
  w.family("weft_test_total", "A \"test\" counter\\with escapes.", MetricType::kCounter);
  w.sample("weft_test_total", {{"port", "a\"b\\c\nd"}}, 3);
  Histogram h(Histogram::exponential(0.001, 2, 4));
  h.observe(0.003);
  w.family("weft_test_seconds", "A histogram.", MetricType::kHistogram);
  w.histogram("weft_test_seconds", {}, h);
  test::expect_promtool_accepts(w.text());
}

// One HTTP exchange with a server on 127.0.0.1:`port`: the raw response.
std::string http(uint16_t port, const std::string& request) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "";
  asio::write(s, asio::buffer(request), ec);  // a refused connection may be reset already
  std::string out;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void start(MetricsServerOptions o = {}) {
    server_ = std::make_unique<MetricsServer>(io_, [this] {
      ++renders_;
      return std::string("# HELP x X.\n# TYPE x gauge\nx 1\n");
    }, o);
    auto ep = server_->listen({asio::ip::make_address("127.0.0.1"), 0});
    ASSERT_TRUE(ep) << ep.error();
    port_ = ep->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) asio::post(io_, [this] { server_->stop(); });
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context io_;
  std::unique_ptr<MetricsServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int> renders_{0};

  // The server's count, read on its own thread.
  size_t connections() {
    std::promise<size_t> n;
    asio::post(io_, [&] { n.set_value(server_->connections()); });
    return n.get_future().get();
  }
};

TEST_F(MetricsServerTest, ServesMetricsAndRefusesTheRest) {
  start();
  const std::string ok = http(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\n# HELP x X.\n# TYPE x gauge\nx 1\n")) << ok;
  EXPECT_TRUE(http(port_, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(http(port_, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .starts_with("HTTP/1.1 404 Not Found\r\n"));
  const std::string post = http(port_, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << post;
  EXPECT_NE(post.find("Allow: GET\r\n"), std::string::npos) << post;
  EXPECT_EQ(renders_.load(), 2);  // only the GETs of /metrics rendered
  // Garbage is not answered: the connection is closed.
  EXPECT_EQ(http(port_, "\x01\x02 nonsense\r\n\r\n"), "");
}

TEST_F(MetricsServerTest, KeepsAliveAndClosesIdleConnections) {
  MetricsServerOptions o;
  o.timeout = std::chrono::milliseconds(300);
  start(o);
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port_});
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(s, asio::buffer(req + req));  // two requests, one connection
  std::string got;
  char buf[4096];
  boost::system::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!ec && std::chrono::steady_clock::now() < deadline) {
    size_t n = s.read_some(asio::buffer(buf), ec);  // ends when the idle connection is closed
    got.append(buf, n);
  }
  EXPECT_TRUE(ec == asio::error::eof) << ec.message();
  size_t answers = 0;
  for (size_t at = got.find("HTTP/1.1 200 OK"); at != std::string::npos; at = got.find("HTTP/1.1 200 OK", at + 1))
    ++answers;
  EXPECT_EQ(answers, 2u) << got;
}

TEST_F(MetricsServerTest, ConnectionsOverTheCapAreClosed) {
  MetricsServerOptions o;
  o.max_connections = 1;
  start(o);
  asio::io_context io;
  tcp::socket holder(io);
  holder.connect({asio::ip::make_address("127.0.0.1"), port_});
  // Wait until the server counts the first connection.
  for (int i = 0; i < 200 && connections() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(http(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), "");
  holder.close();
  std::string ok;
  for (int i = 0; i < 200 && !ok.starts_with("HTTP/1.1 200"); ++i) {
    ok = http(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if (!ok.starts_with("HTTP/1.1 200")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK")) << ok;
}

}  // namespace
}  // namespace weft::prom
