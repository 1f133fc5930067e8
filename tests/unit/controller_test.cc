// weft-controller in-process, on 127.0.0.1 ephemeral ports, with fake nodes
// made of the real agent library (dataplane/agent) on their own io thread, as
// if they were separate processes. Through the real HTTP API and the real
// southbound TLS channel: identities, distribution, acks, persistence, auth.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "control/api/api_client.h"
#include "control/api/api_types.h"
#include "control/compile/compile.h"
#include "control/compile/tables_codec.h"
#include "control/controller/controller.h"
#include "control/model/loader.h"
#include "common/proto/southbound.pb.h"
#include "common/transport/frame.h"
#include "dataplane/agent/controller_agent.h"
#include "tests/unit/ctl_test_support.h"

namespace weft::ctl {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

const std::vector<std::string> kNodes = {"node-a", "node-b", "node-c"};

// Port p0 on node-a, p1 on node-b; node-c has none, so moving p0 to node-b
// changes the tables of a and b only.
std::string policy_v1() { return test::test_policy(kNodes, 2); }
std::string policy_p0_on_b() {
  std::string y = policy_v1();
  auto at = y.find("name: p0, network: blue, subnet: web, node: node-a");
  y.replace(y.find("node-a", at + 40), 6, "node-b");
  return y;
}

// One weft-controller, run by its own thread.
class ControllerProcess {
 public:
  struct Config {
    std::string state_dir;
    uint16_t southbound_port = 0;
    uint16_t api_port = 0;
    std::string token;
    size_t body_limit = 16u << 20;
    StoreIo store_io;
    std::function<void(ControllerOptions&)> tweak;  // anything else
  };

  ControllerProcess(const test::Pki& pki, Config cfg) : pki_(pki), cfg_(std::move(cfg)) {}
  ~ControllerProcess() { stop(); }

  Status start() {
    return io_.call([&]() -> Status {
      ControllerOptions o;
      o.state_dir = cfg_.state_dir;
      o.southbound = {asio::ip::make_address("127.0.0.1"), cfg_.southbound_port};
      o.api = {asio::ip::make_address("127.0.0.1"), cfg_.api_port};
      o.tls = pki_.files("controller");
      o.southbound_options.keepalive_interval = 500ms;
      o.southbound_options.idle_timeout = 5s;
      o.api_options.token = cfg_.token;
      o.api_options.body_limit = cfg_.body_limit;
      o.store_io = cfg_.store_io;
      if (cfg_.tweak) cfg_.tweak(o);
      o.log = log.log();
      auto c = Controller::start(io_.io(), std::move(o));
      if (!c) return Unexpected{c.error()};
      controller_ = std::move(*c);
      cfg_.southbound_port = controller_->southbound_endpoint().port();
      cfg_.api_port = controller_->api_endpoint().port();
      return ok();
    });
  }

  void stop() {
    io_.call([&] {
      if (controller_) controller_->stop();
      controller_.reset();
    });
  }

  api::ApiClient client(const std::string& who = "client", const std::string& token = "") const {
    api::ApiClientOptions o;
    o.url = "https://127.0.0.1:" + std::to_string(cfg_.api_port);
    o.tls.ca = pki_.ca();
    if (!who.empty()) {
      o.tls.cert = pki_.pem(who);
      o.tls.key = pki_.key(who);
    }
    o.token = token;
    o.timeout = 10s;
    auto c = api::ApiClient::create(o);
    EXPECT_TRUE(c) << c.error();
    return *c;
  }

  api::HttpReply put(const std::string& yaml, const std::string& who = "client") const {
    auto r = client(who).request("PUT", "/v1/policy", yaml, "application/yaml");
    EXPECT_TRUE(r) << r.error();
    return r ? *r : api::HttpReply{};
  }

  api::StatusReport status() const {
    auto r = client().request("GET", "/v1/status");
    EXPECT_TRUE(r && r->status == 200);
    auto s = api::parse_status(r ? r->body : "");
    EXPECT_TRUE(s) << s.error();
    return s ? *s : api::StatusReport{};
  }

  std::optional<NodeStatus> node(const std::string& name) const {
    for (auto& n : status().nodes)
      if (n.name == name) return n;
    return std::nullopt;
  }

  // Every node of the policy connected and acked its current tables.
  bool converged() const {
    auto s = status();
    if (s.nodes.empty()) return false;
    for (const auto& n : s.nodes)
      if (!n.in_sync) return false;
    return true;
  }

  uint16_t southbound_port() const { return cfg_.southbound_port; }
  const Config& config() const { return cfg_; }
  test::IoThread& io() { return io_; }
  Controller& controller() { return *controller_; }

  test::CapturedLog log;

 private:
  const test::Pki& pki_;
  Config cfg_;
  test::IoThread io_;
  std::unique_ptr<Controller> controller_;
};

// A weftd stand-in: the real agent with an `apply` that records.
class FakeNode {
 public:
  struct Applied {
    uint64_t version;
    std::string node;  // NodeTables.node: whose tables they are
    int ports;
  };

  FakeNode(test::IoThread& io, const test::Pki& pki, const std::string& name, uint16_t port,
           const std::string& cert_of = "")
      : io_(io) {
    agent::ControllerAgentOptions o;
    o.node = name;
    o.controller_host = "127.0.0.1";
    o.controller_port = port;
    o.tls = pki.files(cert_of.empty() ? name : cert_of);
    o.backoff_initial = 20ms;
    o.backoff_max = 200ms;
    o.keepalive_interval = 500ms;
    o.jitter_seed = 1;
    o.log = log.log();
    o.on_health = [this](const proto::HealthState& state) {
      std::lock_guard lock(mu_);
      down_.clear();
      for (const auto& b : state.down()) down_.push_back(b.load_balancer() + "/" + b.port());
      ++health_states_;
    };
    agent_ = io_.call([&] {
      auto a = agent::ControllerAgent::create(
          io_.io(), o, [this](const proto::NodeTables& t, uint64_t version) -> std::string {
            std::lock_guard lock(mu_);
            if (!fail_with_.empty()) return std::exchange(fail_with_, "");
            applied_.push_back({version, t.node(), t.ports_size()});
            tables_ = policy::serialize_tables(t);
            return "";
          });
      EXPECT_TRUE(a) << a.error();
      (*a)->start();
      return std::move(*a);
    });
  }
  ~FakeNode() {
    io_.call([&] { agent_.reset(); });
  }

  std::vector<Applied> applied() const {
    std::lock_guard lock(mu_);
    return applied_;
  }
  void fail_next_apply(std::string why) {
    std::lock_guard lock(mu_);
    fail_with_ = std::move(why);
  }
  agent::AgentStatus status() const { return agent_->status(); }
  // Reports the health of one backend it probes.
  void report_health(const std::string& lb, const std::string& port, bool up) {
    proto::HealthReport r;
    auto* b = r.add_backends();
    b->set_load_balancer(lb);
    b->set_port(port);
    b->set_up(up);
    io_.call([&] {
      agent_->report_health(r);
      return 0;
    });
  }
  // The backends the controller last said are down ("lb/port"), and how
  // many HealthStates came.
  std::vector<std::string> down() const {
    std::lock_guard lock(mu_);
    return down_;
  }
  int health_states() const {
    std::lock_guard lock(mu_);
    return health_states_;
  }
  // The tables in force, serialized.
  std::string tables() const {
    std::lock_guard lock(mu_);
    return tables_;
  }

  test::CapturedLog log;

 private:
  test::IoThread& io_;
  std::unique_ptr<agent::ControllerAgent> agent_;
  mutable std::mutex mu_;
  std::vector<Applied> applied_;
  std::string tables_;
  std::string fail_with_;
  std::vector<std::string> down_;
  int health_states_ = 0;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() : pki_({"node-a", "node-b", "node-c", "node-z"}) {}

  std::unique_ptr<ControllerProcess> start_controller(ControllerProcess::Config cfg = {}) {
    if (cfg.state_dir.empty()) cfg.state_dir = state_dir_;
    auto c = std::make_unique<ControllerProcess>(pki_, cfg);
    auto s = c->start();
    EXPECT_TRUE(s) << s.error();
    return c;
  }

  std::unique_ptr<FakeNode> node(const std::string& name, const ControllerProcess& c,
                                 const std::string& cert_of = "") {
    return std::make_unique<FakeNode>(nodes_io_, pki_, name, c.southbound_port(), cert_of);
  }

  test::Pki pki_;
  std::string state_dir_ = test::make_temp_dir("weft-ctl-state");
  test::IoThread nodes_io_;
};

TEST_F(ControllerTest, FullTablesOnConnectThenUpdatesOnlyToNodesWhoseTablesChanged) {
  auto ctl = start_controller();
  auto r1 = ctl->put(policy_v1());
  ASSERT_EQ(r1.status, 200) << r1.body;
  auto v1 = api::parse_apply(r1.body);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->version, 1u);

  std::map<std::string, std::unique_ptr<FakeNode>> nodes;
  for (const auto& n : kNodes) nodes[n] = node(n, *ctl);
  ASSERT_TRUE(test::wait_until([&] { return ctl->converged(); }));
  for (const auto& [name, n] : nodes) {
    auto a = n->applied();
    ASSERT_EQ(a.size(), 1u) << name;
    EXPECT_EQ(a[0].version, 1u);
    EXPECT_EQ(a[0].node, name) << "a node receives its own tables only";
  }
  EXPECT_EQ(nodes["node-a"]->applied()[0].ports, 1);
  EXPECT_EQ(nodes["node-c"]->applied()[0].ports, 0);

  auto r2 = ctl->put(policy_p0_on_b());
  ASSERT_EQ(r2.status, 200) << r2.body;
  auto v2 = api::parse_apply(r2.body);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2u);
  EXPECT_EQ(v2->changed_nodes, (std::vector<std::string>{"node-a", "node-b"}));
  ASSERT_TRUE(test::wait_until([&] { return ctl->converged(); }));

  EXPECT_EQ(nodes["node-a"]->applied().back().version, 2u);
  EXPECT_EQ(nodes["node-a"]->applied().back().ports, 0);
  EXPECT_EQ(nodes["node-b"]->applied().back().ports, 2);
  EXPECT_EQ(nodes["node-c"]->status().tables_received, 1u) << "node-c heard nothing";

  // What each node runs is exactly what the compiler makes of the policy for
  // it (the controller recompiled only some nodes, on several threads).
  Diagnostics diags;
  auto model = policy::load_policy_text(policy_p0_on_b(), "p.yaml", diags);
  ASSERT_TRUE(model) << diags.format();
  for (const auto& [name, n] : nodes)
    EXPECT_EQ(n->tables(), policy::serialize_tables(policy::compile_node(*model, name))) << name;

  auto s = ctl->status();
  EXPECT_EQ(s.desired_version, 2u);
  for (const auto& n : s.nodes) {
    EXPECT_TRUE(n.connected && n.in_sync) << n.name;
    EXPECT_EQ(n.applied_version, n.name == "node-c" ? 1u : 2u) << n.name;
    EXPECT_EQ(n.tables_version, n.name == "node-c" ? 1u : 2u) << n.name;
    EXPECT_TRUE(n.address.starts_with("127.0.0.1:")) << n.address;
  }

  // The same YAML again is no change at all.
  auto r3 = ctl->put(policy_p0_on_b());
  auto v3 = api::parse_apply(r3.body);
  ASSERT_TRUE(v3);
  EXPECT_TRUE(v3->unchanged);
  EXPECT_EQ(v3->version, 2u);
}

// Issue 13: a node reports the load balancers' backends it probes; the
// controller passes the ones found down to every node, and shows them.
TEST_F(ControllerTest, BackendHealthIsRelayedToEveryNodeAndShownInStatus) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto a = node("node-a", *ctl);
  auto b = node("node-b", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return a->health_states() >= 1 && b->health_states() >= 1; }))
      << "the state comes on connect";
  EXPECT_TRUE(b->down().empty());

  a->report_health("web", "p0", false);
  ASSERT_TRUE(test::wait_until([&] { return b->down() == std::vector<std::string>{"web/p0"}; }));
  EXPECT_EQ(a->down(), std::vector<std::string>{"web/p0"}) << "the reporter hears it too";
  auto s = ctl->status();
  bool shown = false;
  for (const auto& n : s.nodes)
    if (n.name == "node-a") {
      ASSERT_EQ(n.backends.size(), 1u);
      EXPECT_EQ(n.backends[0].load_balancer, "web");
      EXPECT_EQ(n.backends[0].port, "p0");
      EXPECT_FALSE(n.backends[0].up);
      shown = true;
    }
  EXPECT_TRUE(shown);

  // A node that connects later gets the state at once.
  auto c = node("node-c", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return c->down() == std::vector<std::string>{"web/p0"}; }));

  // Back up: the down set empties everywhere; a repeat report is no news.
  const int before = b->health_states();
  a->report_health("web", "p0", true);
  ASSERT_TRUE(test::wait_until([&] { return b->down().empty() && c->down().empty(); }));
  a->report_health("web", "p0", true);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(b->health_states(), before + 1) << "one HealthState per change";
}

TEST_F(ControllerTest, AcksAreTrackedIncludingFailures) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto a = node("node-a", *ctl);
  auto b = node("node-b", *ctl);
  auto c = node("node-c", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return ctl->converged(); }));

  b->fail_next_apply("no memory for the FIB");
  ASSERT_EQ(ctl->put(policy_p0_on_b()).status, 200);
  ASSERT_TRUE(test::wait_until([&] {
    auto n = ctl->node("node-b");
    return n && !n->last_error.empty();
  }));
  auto nb = *ctl->node("node-b");
  EXPECT_EQ(nb.last_error, "no memory for the FIB");
  EXPECT_EQ(nb.applied_version, 1u) << "the node still runs version 1";
  EXPECT_FALSE(nb.in_sync);
  EXPECT_TRUE(ctl->log.contains("node node-b failed to apply version 2: no memory for the FIB"));
  EXPECT_EQ(b->status().applied_version, 1u);
  EXPECT_EQ(b->status().last_error, "no memory for the FIB");

  // The next version goes through and clears the error.
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  ASSERT_TRUE(test::wait_until([&] { return ctl->converged(); }));
  nb = *ctl->node("node-b");
  EXPECT_EQ(nb.applied_version, 3u);
  EXPECT_EQ(nb.last_error, "");
}

TEST_F(ControllerTest, NodePresentingAnotherNodesCertificateIsRefused) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto impostor = node("node-a", *ctl, /*cert_of=*/"node-b");
  // Each retry clears the error when its session starts: keep the snapshot.
  agent::AgentStatus seen;
  ASSERT_TRUE(test::wait_until([&] {
    seen = impostor->status();
    return seen.last_error.find("refused") != std::string::npos;
  }));
  EXPECT_NE(seen.last_error.find("certificate names node-b"), std::string::npos) << seen.last_error;
  EXPECT_TRUE(impostor->applied().empty()) << "no tables for an impostor";
  EXPECT_FALSE(ctl->node("node-a")->connected);
  EXPECT_TRUE(ctl->log.contains("refused node 'node-a' from 127.0.0.1:")) << ctl->log.text();
}

TEST_F(ControllerTest, UnknownNodeIsRefused) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto z = node("node-z", *ctl);
  ASSERT_TRUE(test::wait_until(
      [&] { return z->status().last_error.find("unknown node") != std::string::npos; }));
  EXPECT_TRUE(z->applied().empty());
  EXPECT_TRUE(ctl->log.contains("refused node 'node-z'")) << ctl->log.text();
  for (const auto& n : ctl->status().nodes) EXPECT_FALSE(n.connected);
}

TEST_F(ControllerTest, CertificateFromAnotherCaIsRefusedAtTheHandshake) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  test::Pki rogue({"node-a"}, "rogue");
  agent::ControllerAgentOptions o;
  o.node = "node-a";
  o.controller_host = "127.0.0.1";
  o.controller_port = ctl->southbound_port();
  o.tls = {pki_.ca(), rogue.pem("node-a"), rogue.key("node-a")};
  o.backoff_initial = 20ms;
  o.backoff_max = 100ms;
  auto agent = nodes_io_.call([&] {
    auto a = agent::ControllerAgent::create(nodes_io_.io(), o,
                                            [](const proto::NodeTables&, uint64_t) { return ""; });
    (*a)->start();
    return std::move(*a);
  });
  ASSERT_TRUE(test::wait_until([&] { return ctl->log.contains("refused: TLS handshake"); }))
      << ctl->log.text();
  EXPECT_EQ(agent->status().tables_received, 0u);
  EXPECT_FALSE(ctl->node("node-a")->connected);
  nodes_io_.call([&] { agent.reset(); });
}

// A raw southbound client: TLS with a node's certificate, then whatever
// bytes a test wants to send.
class RawNode {
 public:
  RawNode(const test::Pki& pki, const std::string& cert_of, uint16_t port)
      : ctx_(*make_tls_context(TlsRole::kClient, pki.files(cert_of), PeerCerts::kRequire)),
        stream_(io_, *ctx_) {
    stream_.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    stream_.handshake(asio::ssl::stream_base::client);
  }
  void send_raw(const std::string& bytes) { asio::write(stream_, asio::buffer(bytes)); }
  void send(const proto::NodeMessage& m) {
    std::string frame;
    append_frame(m.SerializeAsString(), frame);
    send_raw(frame);
  }
  void hello(const std::string& node) {
    proto::NodeMessage m;
    m.mutable_hello()->set_node(node);
    m.mutable_hello()->set_protocol(proto::SOUTHBOUND_PROTOCOL_V1);
    send(m);
  }
  // Reads until the controller closes; true when it did within the timeout.
  bool closed_by_peer() {
    boost::system::error_code ec;
    char buf[4096];
    stream_.lowest_layer().non_blocking(false);
    timeval tv{10, 0};
    ::setsockopt(stream_.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (!ec) stream_.read_some(asio::buffer(buf), ec);
    return ec != asio::error::would_block && ec != asio::error::try_again;
  }

 private:
  asio::io_context io_;
  std::shared_ptr<asio::ssl::context> ctx_;
  asio::ssl::stream<tcp::socket> stream_;
};

TEST_F(ControllerTest, OversizedOrMalformedFramesCloseOnlyThatConnection) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto a = node("node-a", *ctl);
  auto b = node("node-b", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return ctl->node("node-a")->in_sync && ctl->node("node-b")->in_sync; }));

  {
    RawNode oversized(pki_, "node-c", ctl->southbound_port());
    oversized.hello("node-c");
    oversized.send_raw(std::string("\x7f\xff\xff\xff", 4));
    EXPECT_TRUE(oversized.closed_by_peer());
  }
  {
    RawNode garbage(pki_, "node-c", ctl->southbound_port());
    garbage.send_raw(std::string("\0\0\0\5\xff\xff\xff\xff\xff", 9));
    EXPECT_TRUE(garbage.closed_by_peer());
  }
  {
    RawNode rude(pki_, "node-c", ctl->southbound_port());
    proto::NodeMessage ack;
    ack.mutable_ack()->set_version(1);
    rude.send(ack);  // an Ack before any Hello
    EXPECT_TRUE(rude.closed_by_peer());
  }
  EXPECT_TRUE(ctl->log.contains("oversized frame")) << ctl->log.text();

  // The well-behaved nodes never noticed: same sessions, and they still get
  // their updates.
  ASSERT_EQ(ctl->put(policy_p0_on_b()).status, 200);
  ASSERT_TRUE(test::wait_until([&] {
    return a->applied().size() == 2 && b->applied().size() == 2;
  }));
  EXPECT_EQ(a->status().sessions, 1u);
  EXPECT_EQ(b->status().sessions, 1u);
  EXPECT_FALSE(ctl->node("node-c")->connected);
}

TEST_F(ControllerTest, InvalidPolicyIs400WithEveryErrorAndReachesNoNode) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto a = node("node-a", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return a->status().tables_received == 1; }));

  std::string bad = policy_p0_on_b();
  bad.replace(bad.find("vni: 5001"), 9, "vni: 0");                 // out of range
  bad.replace(bad.find("node: node-b"), 12, "node: node-q");       // missing node
  auto r = ctl->put(bad);
  ASSERT_EQ(r.status, 400) << r.body;
  auto errors = api::parse_errors(r.body);
  ASSERT_TRUE(errors) << errors.error();
  ASSERT_GE(errors->size(), 2u) << r.body;
  for (const auto& e : *errors) {
    EXPECT_EQ(e.pos.file, "policy.yaml");
    EXPECT_GT(e.pos.line, 0);
    EXPECT_GT(e.pos.column, 0);
  }
  auto garbage = ctl->put("version: 1\nnodes: [ {");
  EXPECT_EQ(garbage.status, 400) << garbage.body;

  EXPECT_EQ(ctl->status().desired_version, 1u);
  auto doc = ctl->client().request("GET", "/v1/policy");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->status, 200);
  EXPECT_EQ(doc->body, policy_v1());
  EXPECT_EQ(doc->version_header, "1");
  EXPECT_EQ(a->status().tables_received, 1u) << "nothing was pushed";

  // /v1/validate answers the same question without changing anything.
  auto v = ctl->client().request("POST", "/v1/validate", bad, "application/yaml");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 200);
  auto verrors = api::parse_errors(v->body);
  ASSERT_TRUE(verrors);
  EXPECT_EQ(verrors->size(), errors->size());
  auto ok = ctl->client().request("POST", "/v1/validate", policy_p0_on_b(), "application/yaml");
  EXPECT_NE(ok->body.find("\"valid\":true"), std::string::npos) << ok->body;
  EXPECT_EQ(ctl->status().desired_version, 1u);
}

TEST_F(ControllerTest, RestartServesThePersistedVersionAndNodesResyncWithoutReapplying) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  ASSERT_EQ(ctl->put(policy_p0_on_b()).status, 200);
  auto a = node("node-a", *ctl);
  auto b = node("node-b", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return a->status().applied_version == 2 && b->status().applied_version == 2; }));
  const ControllerProcess::Config cfg = ctl->config();
  ctl.reset();

  // The controller is away: the nodes notice, keep their tables, retry.
  ASSERT_TRUE(test::wait_until([&] { return !a->status().connected && !b->status().connected; }));
  EXPECT_EQ(a->status().applied_version, 2u);
  EXPECT_EQ(a->applied().size(), 1u);

  ctl = start_controller(cfg);  // same state dir, same ports
  EXPECT_EQ(ctl->status().desired_version, 2u);
  auto doc = ctl->client().request("GET", "/v1/policy");
  EXPECT_EQ(doc->body, policy_p0_on_b());
  EXPECT_EQ(doc->version_header, "2");
  ASSERT_TRUE(test::wait_until([&] {
    auto s = ctl->status();
    return ctl->node("node-a")->in_sync && ctl->node("node-b")->in_sync;
  }));
  EXPECT_EQ(a->status().sessions, 2u);
  EXPECT_EQ(a->status().tables_received, 2u) << "full tables again on reconnect";
  EXPECT_EQ(a->applied().size(), 1u) << "identical tables are not rebuilt";
  EXPECT_EQ(ctl->node("node-a")->applied_version, 2u);

  // And it goes on counting from there.
  auto r = api::parse_apply(ctl->put(policy_v1()).body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, 3u);
}

TEST_F(ControllerTest, NodeRemovedFromThePolicyIsDisconnected) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto c = node("node-c", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return ctl->node("node-c")->in_sync; }));
  ASSERT_EQ(ctl->put(test::test_policy({"node-a", "node-b"}, 2)).status, 200);
  ASSERT_TRUE(test::wait_until([&] {
    return c->status().last_error.find("removed from the policy") != std::string::npos;
  }));
  EXPECT_FALSE(ctl->node("node-c").has_value());
}

TEST_F(ControllerTest, ApiNeedsAClientCertificateOrTheToken) {
  ControllerProcess::Config cfg;
  cfg.token = "s3cret-token-0123456789";
  auto ctl = start_controller(cfg);
  auto get = [&](const std::string& who, const std::string& token) {
    auto r = ctl->client(who, token).request("GET", "/v1/status");
    EXPECT_TRUE(r) << r.error();
    return r ? r->status : 0;
  };
  EXPECT_EQ(get("", ""), 401);
  EXPECT_EQ(get("", "wrong-token-0123456789"), 401);
  EXPECT_EQ(get("", "s3cret-token-0123456789"), 200);
  EXPECT_EQ(get("client", ""), 200);

  // Node certificates are southbound identities, not API users.
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  EXPECT_EQ(get("node-a", ""), 403);

  auto r = ctl->client("", "").request("PUT", "/v1/policy", policy_v1(), "application/yaml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("authentication required"), std::string::npos) << r->body;
}

TEST_F(ControllerTest, ApiRefusesOversizedBodiesUnknownPathsAndWrongMethods) {
  ControllerProcess::Config cfg;
  cfg.body_limit = 1024;
  auto ctl = start_controller(cfg);
  auto client = ctl->client();
  auto big = client.request("PUT", "/v1/policy", std::string(4096, '#'), "application/yaml");
  ASSERT_TRUE(big) << big.error();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(client.request("GET", "/v1/nope")->status, 404);
  auto del = client.request("DELETE", "/v1/policy");
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(client.request("GET", "/v1/policy")->status, 404) << "no policy yet";
  EXPECT_EQ(ctl->status().desired_version, 0u);
}

// The state dir's fsync fails: the PUT is a 500 that says why, the version
// does not advance, and a repeated PUT of the same YAML is not mistaken for
// an unchanged policy (it was never durable, and no node received it).
TEST_F(ControllerTest, FailedPersistIsAnErrorAndTheVersionDoesNotAdvance) {
  auto fail_dir_fsync = std::make_shared<std::atomic<bool>>(false);
  ControllerProcess::Config cfg;
  cfg.store_io.fsync = [fail_dir_fsync](int fd) {
    struct stat st;
    if (*fail_dir_fsync && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      errno = EIO;
      return -1;
    }
    return ::fsync(fd);
  };
  auto ctl = start_controller(cfg);
  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  auto a = node("node-a", *ctl);
  ASSERT_TRUE(test::wait_until([&] { return ctl->node("node-a")->in_sync; }));

  *fail_dir_fsync = true;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = ctl->put(policy_p0_on_b());
    EXPECT_EQ(r.status, 500) << "attempt " << attempt << ": " << r.body;
    EXPECT_NE(r.body.find("cannot persist"), std::string::npos) << r.body;
  }
  EXPECT_EQ(ctl->status().desired_version, 1u);
  EXPECT_EQ(ctl->node("node-a")->tables_version, 1u);
  for (const auto& applied : a->applied()) EXPECT_EQ(applied.version, 1u);
}

// Authority is in the certificate, not in the policy: a node's certificate
// cannot change the policy before any policy names its node, nor after the
// policy drops it.
TEST_F(ControllerTest, NodeCertificateIsNeverAnAdmin) {
  auto ctl = start_controller();
  auto fresh = ctl->put(policy_v1(), "node-a");
  EXPECT_EQ(fresh.status, 403) << fresh.body;
  EXPECT_NE(fresh.body.find("node certificate 'node-a'"), std::string::npos) << fresh.body;
  EXPECT_EQ(ctl->status().desired_version, 0u);

  ASSERT_EQ(ctl->put(policy_v1()).status, 200);
  EXPECT_EQ(ctl->put(policy_p0_on_b(), "node-a").status, 403);
  ASSERT_EQ(ctl->put(test::test_policy({"node-a", "node-b"}, 2)).status, 200);  // node-c goes
  EXPECT_EQ(ctl->put(policy_v1(), "node-c").status, 403);
  EXPECT_EQ(ctl->status().desired_version, 2u);
  EXPECT_EQ(ctl->client("node-c").request("GET", "/v1/status")->status, 403);
}

// And the operator's certificate is not a node, even under a node's name.
TEST_F(ControllerTest, AdminCertificateIsNotANode) {
  auto ctl = start_controller();
  ASSERT_EQ(ctl->put(test::test_policy({"weftctl", "node-a"}, 2)).status, 200);
  auto impostor = node("weftctl", *ctl, "client");  // CN and DNS SAN "weftctl"
  ASSERT_TRUE(test::wait_until([&] { return ctl->log.contains("is not a node's"); })) << ctl->log.text();
  EXPECT_EQ(impostor->applied().size(), 0u);
  EXPECT_FALSE(ctl->node("weftctl")->connected);
}

// --tls-crl: a revoked certificate fails the TLS handshake on both listeners.
TEST_F(ControllerTest, RevokedCertificatesFailTheHandshake) {
  test::Pki pki({"node-a", "node-b"}, "revoking");
  pki.revoke("node-b");
  ControllerProcess::Config cfg;
  cfg.state_dir = test::make_temp_dir("weft-ctl-state");
  cfg.tweak = [&](ControllerOptions& o) { o.tls_crl = pki.crl(); };
  ControllerProcess ctl(pki, cfg);
  ASSERT_TRUE(ctl.start());
  ASSERT_EQ(ctl.put(test::test_policy({"node-a", "node-b"}, 2)).status, 200);
  FakeNode a(nodes_io_, pki, "node-a", ctl.southbound_port());
  FakeNode b(nodes_io_, pki, "node-b", ctl.southbound_port());
  ASSERT_TRUE(test::wait_until([&] { return ctl.node("node-a")->in_sync; }));
  ASSERT_TRUE(test::wait_until([&] { return ctl.log.contains("certificate revoked"); })) << ctl.log.text();
  EXPECT_FALSE(ctl.node("node-b")->connected);

  pki.revoke("client");
  ControllerProcess::Config again = cfg;
  again.state_dir = test::make_temp_dir("weft-ctl-state");
  ControllerProcess restarted(pki, again);  // a CRL is read at start
  ASSERT_TRUE(restarted.start());
  auto r = restarted.client().request("GET", "/v1/status");
  EXPECT_FALSE(r && r->status == 200) << "a revoked admin certificate was accepted";
}

// A raw TCP connection that sends nothing, or what a test writes.
class RawTcp {
 public:
  explicit RawTcp(uint16_t port) { connect(port); }
  // A socket made now and connected later (connect() needs no descriptor).
  RawTcp() { socket_.open(tcp::v4()); }
  void connect(uint16_t port) { socket_.connect({asio::ip::make_address("127.0.0.1"), port}); }
  // True when the peer closes within `within` (> 0; reads and discards until then).
  bool closed_by_peer(std::chrono::milliseconds within) {
    timeval tv{static_cast<time_t>(within.count() / 1000),
               static_cast<suseconds_t>(within.count() % 1000 * 1000)};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;  // timed out: still open
    }
  }

 private:
  asio::io_context io_;
  tcp::socket socket_{io_};
};

// A stranger is answered from the request header alone: no credentials and
// a body announced but never sent still get their 401 at once (the body is
// not awaited, let alone buffered).
TEST_F(ControllerTest, ApiAuthenticatesBeforeReadingTheBody) {
  auto ctl = start_controller();
  auto ctx = make_tls_context(TlsRole::kClient, {pki_.ca(), "", ""}, PeerCerts::kRequire);
  ASSERT_TRUE(ctx) << ctx.error();
  asio::io_context io;
  asio::ssl::stream<tcp::socket> stream(io, **ctx);
  stream.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), ctl->config().api_port});
  stream.handshake(asio::ssl::stream_base::client);
  asio::write(stream, asio::buffer(std::string("PUT /v1/policy HTTP/1.1\r\nHost: x\r\n"
                                               "Content-Length: 10000000\r\n\r\nversion: 1\n")));
  timeval tv{5, 0};
  ::setsockopt(stream.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  boost::system::error_code ec;
  size_t n = stream.read_some(asio::buffer(buf), ec);
  ASSERT_FALSE(ec) << ec.message() << " (no answer while the body is missing)";
  EXPECT_TRUE(std::string(buf, n).starts_with("HTTP/1.1 401")) << std::string(buf, n);
}

TEST_F(ControllerTest, ListenersRefuseConnectionsOverTheirCap) {
  ControllerProcess::Config cfg;
  cfg.tweak = [](ControllerOptions& o) {
    o.southbound_options.max_connections = 2;
    o.api_options.max_connections = 2;
  };
  auto ctl = start_controller(cfg);
  for (uint16_t port : {ctl->southbound_port(), ctl->config().api_port}) {
    RawTcp first(port), second(port);  // hold their slots, in their handshakes
    RawTcp third(port);
    EXPECT_TRUE(third.closed_by_peer(2s)) << "port " << port;
    EXPECT_FALSE(first.closed_by_peer(100ms));
  }
  EXPECT_TRUE(ctl->log.contains("southbound: connection limit (2) reached")) << ctl->log.text();
  EXPECT_TRUE(ctl->log.contains("API: connection limit (2) reached")) << ctl->log.text();
}

// A peer that connects and never starts TLS is dropped after the handshake
// timeout, not after the 30 s an authenticated request may take.
TEST_F(ControllerTest, SilentPeersAreDroppedAfterTheHandshakeTimeout) {
  ControllerProcess::Config cfg;
  cfg.tweak = [](ControllerOptions& o) {
    o.southbound_options.handshake_timeout = 200ms;
    o.api_options.handshake_timeout = 200ms;
  };
  auto ctl = start_controller(cfg);
  for (uint16_t port : {ctl->southbound_port(), ctl->config().api_port}) {
    RawTcp silent(port);
    EXPECT_TRUE(silent.closed_by_peer(3s)) << "port " << port;
  }
}

// Out of file descriptors, accept(2) fails for as long as the backlog holds
// a connection: the listeners wait between attempts instead of spinning.
TEST_F(ControllerTest, AcceptBacksOffWhenOutOfFileDescriptors) {
  auto ctl = start_controller();
  // The clients' sockets exist before the limit and connect after it, so
  // the connections surely arrive while the controller cannot accept them.
  RawTcp waiting_sb, waiting_api;
  rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);  // no new descriptor for anyone
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  waiting_sb.connect(ctl->southbound_port());
  waiting_api.connect(ctl->config().api_port);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);

  const std::string log = ctl->log.text();
  size_t accept_errors = 0;
  for (size_t at = 0; (at = log.find("Too many open files", at)) != std::string::npos; ++at) ++accept_errors;
  EXPECT_GE(accept_errors, 2u) << log;  // both listeners met the limit
  EXPECT_LE(accept_errors, 10u) << "accept spun: " << accept_errors << " errors logged";
  // Once descriptors are back, the waiting connections are taken.
  EXPECT_TRUE(test::wait_until([&] { return ctl->log.contains("accept works again"); })) << ctl->log.text();
}

TEST(BearerToken, MatchesOnlyTheSameTokenWhateverTheLength) {
  api::BearerToken token("s3cret-token-0123456789");
  EXPECT_TRUE(token.matches("s3cret-token-0123456789"));
  EXPECT_FALSE(token.matches("s3cret-token-012345678"));
  EXPECT_FALSE(token.matches("s3cret-token-01234567890"));
  EXPECT_FALSE(token.matches(""));
  EXPECT_FALSE(token.matches(std::string("s3cret-token-0123456789\0", 24)));
}

TEST_F(ControllerTest, SecondControllerOnTheSameStateDirCannotStart) {
  auto ctl = start_controller();
  ControllerProcess::Config cfg;
  cfg.state_dir = state_dir_;
  ControllerProcess second(pki_, cfg);
  auto s = second.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("in use"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace weft::ctl
