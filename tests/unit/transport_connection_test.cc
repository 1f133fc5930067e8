// FramedConnection over real TLS on 127.0.0.1: identities, frames both ways,
// and that every kind of misbehaviour closes the offending connection only.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "common/transport/framed_connection.h"
#include "common/transport/tls.h"
#include "tests/unit/ctl_test_support.h"

namespace weft::ctl {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// One end of a connection and what it observed.
struct End {
  std::shared_ptr<FramedConnection> conn;
  std::vector<std::string> frames;
  std::optional<std::string> closed;   // the on_close reason
  std::optional<Status> handshake;

  void start() {
    conn->start({.on_frame = [this](std::string_view f) { frames.emplace_back(f); },
                 .on_close = [this](const std::string& why) { closed = why; }});
  }
};

class TransportConnection : public ::testing::Test {
 protected:
  TransportConnection() : pki_({"node-a", "node-b"}), acceptor_(io_) {
    auto server = make_tls_context(TlsRole::kServer, pki_.files("controller"), PeerCerts::kRequire);
    EXPECT_TRUE(server) << server.error();
    server_ctx_ = *server;
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
  }

  std::shared_ptr<asio::ssl::context> client_ctx(const TlsFiles& files) {
    auto c = make_tls_context(TlsRole::kClient, files, PeerCerts::kRequire);
    EXPECT_TRUE(c) << c.error();
    return c ? *c : nullptr;
  }

  // Connects a client with `files`; both handshakes run; returns after both
  // finished (successfully or not).
  std::pair<std::unique_ptr<End>, std::unique_ptr<End>> connect(
      const TlsFiles& files, FramedConnection::Options server_opts = {},
      FramedConnection::Options client_opts = {}, const std::string& expect_host = "127.0.0.1") {
    auto s = std::make_unique<End>();
    auto c = std::make_unique<End>();
    contexts_.push_back(client_ctx(files));
    tcp::socket cs(io_);
    cs.connect(acceptor_.local_endpoint());
    tcp::socket ss = acceptor_.accept();
    s->conn = FramedConnection::create(std::move(ss), *server_ctx_, server_opts);
    c->conn = FramedConnection::create(std::move(cs), *contexts_.back(), client_opts);
    EXPECT_TRUE(expect_peer_host(c->conn->ssl(), expect_host));
    s->conn->handshake(asio::ssl::stream_base::server, [e = s.get()](Status st) { e->handshake = st; });
    c->conn->handshake(asio::ssl::stream_base::client, [e = c.get()](Status st) { e->handshake = st; });
    EXPECT_TRUE(test::run_until(io_, [&] { return s->handshake && c->handshake; }));
    return {std::move(s), std::move(c)};
  }

  test::Pki pki_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<asio::ssl::context> server_ctx_;
  std::vector<std::shared_ptr<asio::ssl::context>> contexts_;
};

TEST_F(TransportConnection, MutualTlsExchangesFramesAndNamesThePeer) {
  auto ends1 = connect(pki_.files("node-a"));
  auto& s = ends1.first;
  auto& c = ends1.second;
  ASSERT_TRUE(*s->handshake) << s->handshake->error();
  ASSERT_TRUE(*c->handshake) << c->handshake->error();
  EXPECT_EQ(peer_names(s->conn->ssl()), (std::vector<std::string>{"node-a", "node-a"}));
  EXPECT_TRUE(peer_is(s->conn->ssl(), "node-a"));
  EXPECT_FALSE(peer_is(s->conn->ssl(), "node-b"));
  EXPECT_TRUE(peer_is(c->conn->ssl(), "localhost")) << "client sees the controller's SAN";

  s->start();
  c->start();
  std::string big(200000, 'z');
  EXPECT_TRUE(c->conn->send("hello"));
  EXPECT_TRUE(c->conn->send(""));
  EXPECT_TRUE(s->conn->send(big));
  ASSERT_TRUE(test::run_until(io_, [&] { return s->frames.size() == 2 && c->frames.size() == 1; }));
  EXPECT_EQ(s->frames[0], "hello");
  EXPECT_EQ(s->frames[1], "");
  EXPECT_EQ(c->frames[0], big);

  c->conn->close("done");
  ASSERT_TRUE(test::run_until(io_, [&] { return s->closed && c->closed; }));
  EXPECT_EQ(*c->closed, "done");
  EXPECT_EQ(*s->closed, "peer closed the connection");
  EXPECT_FALSE(c->conn->send("after close"));
}

TEST_F(TransportConnection, CertificateFromAnotherCaFailsTheHandshake) {
  test::Pki rogue({"node-a"}, "rogue");
  TlsFiles files = rogue.files("node-a");
  files.ca = pki_.ca();  // the client trusts the real CA; its own cert is rogue
  auto ends2 = connect(files);
  auto& s = ends2.first;
  ASSERT_FALSE(*s->handshake);
  EXPECT_NE(s->handshake->error().find("certificate"), std::string::npos) << s->handshake->error();
  EXPECT_FALSE(s->conn->is_open());
}

TEST_F(TransportConnection, ClientWithoutCertificateIsRefusedWhenRequired) {
  auto ends3 = connect({pki_.ca(), "", ""});
  auto& s = ends3.first;
  auto& c = ends3.second;
  ASSERT_FALSE(*s->handshake);
  EXPECT_NE(s->handshake->error().find("certificate"), std::string::npos) << s->handshake->error();
  // Under TLS 1.3 the client finishes its side before the server judges its
  // certificate; it learns on its first read.
  if (*c->handshake) {
    c->start();
    ASSERT_TRUE(test::run_until(io_, [&] { return c->closed.has_value(); }));
  }
}

TEST_F(TransportConnection, ClientRefusesAServerThatIsNotTheExpectedHost) {
  auto ends4 = connect(pki_.files("node-a"), {}, {}, "10.9.9.9");
  auto& c = ends4.second;
  ASSERT_FALSE(*c->handshake);
  EXPECT_NE(c->handshake->error().find("certificate"), std::string::npos) << c->handshake->error();
}

TEST_F(TransportConnection, OversizedFrameClosesThatConnectionOnly) {
  FramedConnection::Options small;
  small.max_frame_payload = 1024;
  auto ends5 = connect(pki_.files("node-a"), small, small);
  auto& s1 = ends5.first;
  auto& c1 = ends5.second;
  auto ends6 = connect(pki_.files("node-b"), small, small);
  auto& s2 = ends6.first;
  auto& c2 = ends6.second;
  for (End* e : {s1.get(), c1.get(), s2.get(), c2.get()}) {
    ASSERT_TRUE(*e->handshake);
    e->start();
  }
  // A well-formed client cannot send above its own cap; write the header of
  // a 1 MiB frame by hand on the raw TLS stream.
  TlsFiles files = pki_.files("node-a");
  auto ctx = client_ctx(files);
  tcp::socket raw(io_);
  raw.connect(acceptor_.local_endpoint());
  End victim;
  victim.conn = FramedConnection::create(acceptor_.accept(), *server_ctx_, small);
  asio::ssl::stream<tcp::socket> evil(std::move(raw), *ctx);
  bool evil_done = false;
  victim.conn->handshake(asio::ssl::stream_base::server, [&](Status st) { victim.handshake = st; });
  evil.async_handshake(asio::ssl::stream_base::client, [&](auto ec) { evil_done = !ec; });
  ASSERT_TRUE(test::run_until(io_, [&] { return victim.handshake && evil_done; }));
  victim.start();
  const char header[4] = {0, 0x10, 0, 0};
  bool written = false;
  asio::async_write(evil, asio::buffer(header, 4), [&](auto, size_t) { written = true; });
  ASSERT_TRUE(test::run_until(io_, [&] { return written && victim.closed.has_value(); }));
  EXPECT_NE(victim.closed->find("oversized frame"), std::string::npos) << *victim.closed;
  EXPECT_TRUE(victim.frames.empty());

  // The neighbours still talk.
  EXPECT_TRUE(c2->conn->send("still here"));
  EXPECT_TRUE(s1->conn->send("me too"));
  ASSERT_TRUE(test::run_until(io_, [&] { return !s2->frames.empty() && !c1->frames.empty(); }));
  EXPECT_TRUE(s1->conn->is_open() && s2->conn->is_open());
  EXPECT_FALSE(s1->closed || s2->closed);

  // And a sender refuses to exceed the cap itself.
  EXPECT_FALSE(c1->conn->send(std::string(1025, 'x')));
  EXPECT_FALSE(c1->conn->is_open());
}

TEST_F(TransportConnection, SilentPeerIsClosedHeartbeatsKeepALinkAlive) {
  FramedConnection::Options strict;
  strict.idle_timeout = 200ms;
  strict.heartbeat_interval = 20ms;
  strict.heartbeat_payload = "beat";
  FramedConnection::Options mute;  // sends nothing on its own
  auto ends7 = connect(pki_.files("node-a"), strict, mute);
  auto& s = ends7.first;
  auto& c = ends7.second;
  ASSERT_TRUE(*s->handshake && *c->handshake);
  s->start();
  c->start();
  ASSERT_TRUE(test::run_until(io_, [&] { return s->closed.has_value(); }));
  EXPECT_NE(s->closed->find("silent"), std::string::npos) << *s->closed;
  EXPECT_FALSE(c->frames.empty()) << "the strict side sent heartbeats while it waited";
  EXPECT_EQ(c->frames.front(), "beat");

  // Both sides beating: the link outlives many idle timeouts.
  auto ends8 = connect(pki_.files("node-a"), strict, strict);
  auto& s2 = ends8.first;
  auto& c2 = ends8.second;
  s2->start();
  c2->start();
  ASSERT_TRUE(test::run_until(io_, [&] { return s2->frames.size() >= 30; }));
  EXPECT_FALSE(s2->closed || c2->closed);
}

TEST_F(TransportConnection, CloseAfterFlushDeliversTheLastWord) {
  auto ends9 = connect(pki_.files("node-a"));
  auto& s = ends9.first;
  auto& c = ends9.second;
  s->start();
  c->start();
  ASSERT_TRUE(s->conn->send("goodbye: you are refused"));
  s->conn->close_after_flush("refused");
  ASSERT_TRUE(test::run_until(io_, [&] { return s->closed && c->closed; }));
  EXPECT_EQ(*s->closed, "refused");
  ASSERT_EQ(c->frames.size(), 1u);
  EXPECT_EQ(c->frames[0], "goodbye: you are refused");
}

TEST_F(TransportConnection, HandshakeTimesOutOnAPeerThatSaysNothing) {
  FramedConnection::Options quick;
  quick.handshake_timeout = 100ms;
  tcp::socket mute(io_);
  mute.connect(acceptor_.local_endpoint());
  End s;
  s.conn = FramedConnection::create(acceptor_.accept(), *server_ctx_, quick);
  s.conn->handshake(asio::ssl::stream_base::server, [&](Status st) { s.handshake = st; });
  ASSERT_TRUE(test::run_until(io_, [&] { return s.handshake.has_value(); }));
  ASSERT_FALSE(*s.handshake);
  EXPECT_NE(s.handshake->error().find("timed out"), std::string::npos) << s.handshake->error();
}

TEST(TransportTls, BadMaterialIsAnErrorNotAnException) {
  test::Pki pki({"node-a"});
  auto missing = make_tls_context(TlsRole::kServer, {pki.ca(), "/nonexistent.pem", pki.key("controller")},
                                  PeerCerts::kRequire);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("/nonexistent.pem"), std::string::npos) << missing.error();
  auto mismatched = make_tls_context(TlsRole::kServer,
                                     {pki.ca(), pki.pem("controller"), pki.key("node-a")},
                                     PeerCerts::kRequire);
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().find(pki.key("node-a")), std::string::npos) << mismatched.error();
  EXPECT_FALSE(make_tls_context(TlsRole::kServer, {pki.ca(), "", ""}, PeerCerts::kRequire));
  EXPECT_FALSE(make_tls_context(TlsRole::kClient, {"", "", ""}, PeerCerts::kRequire));
  EXPECT_TRUE(make_tls_context(TlsRole::kClient, {pki.ca(), "", ""}, PeerCerts::kRequire));
}

}  // namespace
}  // namespace weft::ctl
