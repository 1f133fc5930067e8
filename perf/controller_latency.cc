// Policy change to convergence: how long from `PUT /v1/policy` until every
// node whose tables changed has acked the new version.
//
// One process: weft-controller on its own thread (real HTTP API, real store
// with fsync under a temporary state dir, real southbound TLS), and N nodes
// made of the real agent library on another thread (agents without a
// dataplane: `apply` accepts the tables). Each change moves one port's
// address in a network that spans every node, so every node gets new tables:
// the worst case for a one-port change.
//
//   controller_latency [--nodes 50] [--changes 50] [--ports-per-node 4]
//
// Prints p50/p90/p99/max; asserts nothing (perf/ measures, tests assert).

#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "control/api/api_client.h"
#include "control/controller/controller.h"
#include "dataplane/agent/controller_agent.h"
#include "tests/unit/ctl_test_support.h"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of the whole process (controller, agents, client), in ms: unlike
// latency, it does not grow when a shared machine is busy.
double cpu_ms() {
  rusage u {};
  getrusage(RUSAGE_SELF, &u);
  auto t = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  return t(u.ru_utime) + t(u.ru_stime);
}

struct Percentiles {
  double p50, p90, p99, max;
};

Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::min(v.size(), std::max<size_t>(i, 1)) - 1];
  };
  return {at(0.50), at(0.90), at(0.99), v.back()};
}

// Acks seen by the controller, by version.
class AckBoard {
 public:
  void record(const std::string& node, uint64_t version) {
    std::lock_guard lock(mu_);
    acked_[version].insert(node);
    cv_.notify_all();
  }
  bool wait_for(uint64_t version, const std::vector<std::string>& nodes, Clock::duration limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] {
      const auto& got = acked_[version];
      return std::all_of(nodes.begin(), nodes.end(), [&](const auto& n) { return got.count(n); });
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::set<std::string>> acked_;
};

int arg(int argc, char** argv, const char* name, int dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], name)) return std::atoi(argv[i + 1]);
  return dflt;
}

}  // namespace

int main(int argc, char** argv) {
  const int n_nodes = arg(argc, argv, "--nodes", 50);
  const int n_changes = arg(argc, argv, "--changes", 50);
  const int ports_per_node = arg(argc, argv, "--ports-per-node", 4);
  if (n_nodes < 1 || n_changes < 1 || ports_per_node < 1) {
    std::fprintf(stderr, "usage: controller_latency [--nodes N] [--changes N] [--ports-per-node N]\n");
    return 2;
  }
  const auto names = weft::test::node_names(n_nodes);
  const int n_ports = n_nodes * ports_per_node;
  std::fprintf(stderr, "controller_latency: making %d node certificates...\n", n_nodes);
  weft::test::Pki pki(names);
  const std::string state_dir = weft::test::make_temp_dir("weft-perf-state");

  weft::test::IoThread controller_io;
  weft::test::IoThread nodes_io;
  AckBoard acks;

  auto controller = controller_io.call([&] {
    weft::ctl::ControllerOptions o;
    o.state_dir = state_dir;
    o.southbound = {asio::ip::make_address("127.0.0.1"), 0};
    o.api = {asio::ip::make_address("127.0.0.1"), 0};
    o.tls = pki.files("controller");
    auto c = weft::ctl::Controller::start(controller_io.io(), std::move(o));
    if (!c) {
      std::fprintf(stderr, "controller: %s\n", c.error().c_str());
      std::exit(1);
    }
    (*c)->southbound().add_ack_observer([&](const std::string& node, uint64_t version, bool ok) {
      if (ok) acks.record(node, version);
    });
    return std::move(*c);
  });
  const uint16_t sb_port = controller->southbound_endpoint().port();
  const uint16_t api_port = controller->api_endpoint().port();

  weft::ctl::api::ApiClientOptions co;
  co.url = "https://127.0.0.1:" + std::to_string(api_port);
  co.tls = pki.files("client");
  auto client = weft::ctl::api::ApiClient::create(co);
  if (!client) return std::fprintf(stderr, "%s\n", client.error().c_str()), 1;

  auto put = [&](int variant) {
    auto reply = client->request("PUT", "/v1/policy",
                                 weft::test::test_policy(names, n_ports, variant), "application/yaml");
    if (!reply || reply->status != 200) {
      std::fprintf(stderr, "PUT failed: %s\n", reply ? reply->body.c_str() : reply.error().c_str());
      std::exit(1);
    }
    auto r = weft::ctl::api::parse_apply(reply->body);
    if (!r) std::exit(1);
    return *r;
  };

  const auto v0 = put(0);
  std::vector<std::unique_ptr<weft::agent::ControllerAgent>> agents;
  nodes_io.call([&] {
    for (int i = 0; i < n_nodes; ++i) {
      weft::agent::ControllerAgentOptions o;
      o.node = names[static_cast<size_t>(i)];
      o.controller_host = "127.0.0.1";
      o.controller_port = sb_port;
      o.tls = pki.files(o.node);
      o.jitter_seed = static_cast<uint64_t>(i) + 1;
      auto a = weft::agent::ControllerAgent::create(
          nodes_io.io(), o, [](const weft::proto::NodeTables&, uint64_t) { return std::string(); });
      if (!a) std::exit(1);
      (*a)->start();
      agents.push_back(std::move(*a));
    }
  });
  if (!acks.wait_for(v0.version, names, 60s)) {
    std::fprintf(stderr, "nodes did not converge on the initial policy\n");
    return 1;
  }

  // The floor under any API call: a TLS connection and one HTTP exchange.
  std::vector<double> get_status;
  for (int i = 0; i < n_changes; ++i) {
    const auto t0 = Clock::now();
    auto reply = client->request("GET", "/v1/status");
    if (!reply || reply->status != 200) return 1;
    get_status.push_back(ms(Clock::now() - t0));
  }

  std::vector<double> converge, round_trip;
  size_t updated = 0;
  const double cpu0 = cpu_ms();
  for (int i = 1; i <= n_changes; ++i) {
    const auto t0 = Clock::now();
    const auto r = put(i);
    const auto t1 = Clock::now();
    if (!acks.wait_for(r.version, r.changed_nodes, 30s)) {
      std::fprintf(stderr, "version %llu: not every node acked within 30 s\n",
                   static_cast<unsigned long long>(r.version));
      return 1;
    }
    converge.push_back(ms(Clock::now() - t0));
    round_trip.push_back(ms(t1 - t0));
    updated += r.changed_nodes.size();
  }

  const double cpu_per_change = (cpu_ms() - cpu0) / n_changes;
  struct statfs fs {};
  statfs(state_dir.c_str(), &fs);
  const auto c = percentiles(converge), p = percentiles(round_trip), g = percentiles(get_status);
  std::printf("controller_latency: %d nodes, %d ports, %d one-port changes, %.1f nodes updated per change\n",
              n_nodes, n_ports, n_changes, static_cast<double>(updated) / n_changes);
  std::printf("  state dir on %s\n", fs.f_type == 0x01021994 ? "tmpfs (fsync is free)" : "a disk filesystem (fsync included)");
  std::printf("  PUT -> every updated node acked   p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
              c.p50, c.p90, c.p99, c.max);
  std::printf("  PUT round trip (validate, compile,\n"
              "    persist, push; acks not awaited) p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
              p.p50, p.p90, p.p99, p.max);
  std::printf("  GET /v1/status round trip (new TLS\n"
              "    connection each, as weftctl)     p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
              g.p50, g.p90, g.p99, g.max);
  std::printf("  CPU per change (controller + agents + client): %.2f ms\n", cpu_per_change);

  nodes_io.call([&] { agents.clear(); });
  controller_io.call([&] { controller.reset(); });
  return 0;
}
