// weftd's monitoring output without an EAL: the Prometheus text rendered
// from plain NodeMetrics (every series the docs list, labels by name,
// escaping, promtool's approval), and the control socket's `conns` pages
// over real connection tables on the heap (tuples both ways, translated
// replies, filters, paging with a cursor, the scan budget).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <set>
#include <string>

#include "dataplane/metrics/node_metrics.h"
#include "dataplane/weftd/conns_command.h"
#include "tests/unit/promtool.h"

namespace weft::dp {
namespace {

using nlohmann::json;

NodeMetrics sample_metrics() {
  NodeMetrics m;
  m.node = "node-a";
  m.mode = "policy";
  m.tsc_hz = 2'000'000'000;
  m.have_snapshot = true;
  m.generation = 3;
  m.policy_version = 7;
  m.controller_connected = true;
  PortMetrics ul;
  ul.name = "underlay";
  ul.kind = "underlay";
  ul.rx_packets = 10;
  ul.rx_bytes = 1500;
  ul.have_device = true;
  ul.link_up = true;
  PortMetrics vm;
  vm.name = "web-\"1\"";  // not a valid port name; the escaping must cope anyway
  vm.kind = "af_packet";
  vm.port_id = 1;
  vm.tx_packets = 4;
  vm.drops = 2;
  vm.sg_ingress_denied = 1;
  m.ports = {ul, vm};
  m.drops = {{"parse", "truncated_eth", 2}, {"router", "no_route", 5}};
  m.workers = {{0, 1, 4'000'000'000, 100, 90, 80, 12, 7}};
  ConntrackMetrics c;
  c.worker = 0;
  c.connections = 2;
  c.capacity = 1024;
  c.created = 5;
  c.evicted[1] = 3;
  c.hits = 40;
  c.misses = 6;
  m.conntrack = {c};
  m.icmp_errors_sent = 1;
  m.dhcp = {{"offer", 1}, {"ack", 0}};
  QosRow voice{"web-1", "gold", "egress", "voice", "high", 0, 600, 58800, 0, 0};
  QosRow bulk{"web-1", "gold", "ingress", "default", "normal", 100'000'000, 10, 15000, 3, 4500, 12, 18000, 2, 3000};
  m.qos = {voice, bulk};
  return m;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(NodeMetricsText, EverySeriesLabelledByName) {
  const std::string t = render_node_metrics(sample_metrics());
  for (const char* line : {
           "weft_node_info{node=\"node-a\",mode=\"policy\"} 1",
           "weft_snapshot_generation 3",
           "weft_policy_version 7",
           "weft_controller_connected 1",
           "# TYPE weft_port_rx_packets_total counter",
           "weft_port_rx_packets_total{port=\"underlay\",kind=\"underlay\"} 10",
           "weft_port_rx_bytes_total{port=\"underlay\",kind=\"underlay\"} 1500",
           "weft_port_tx_packets_total{port=\"web-\\\"1\\\"\",kind=\"af_packet\"} 4",
           "weft_port_tx_bytes_total{port=\"underlay\",kind=\"underlay\"} 0",
           "weft_port_drops_total{port=\"web-\\\"1\\\"\",kind=\"af_packet\"} 2",
           "weft_port_up{port=\"underlay\",kind=\"underlay\"} 1",
           "weft_sg_denied_total{port=\"web-\\\"1\\\"\",direction=\"ingress\"} 1",
           "weft_sg_denied_total{port=\"underlay\",direction=\"egress\"} 0",
           "weft_drops_total{stage=\"parse\",reason=\"truncated_eth\"} 2",
           "weft_drops_total{stage=\"router\",reason=\"no_route\"} 5",
           "weft_conntrack_connections{worker=\"0\"} 2",
           "weft_conntrack_capacity{worker=\"0\"} 1024",
           "weft_conntrack_created_total{worker=\"0\"} 5",
           "weft_conntrack_evicted_total{worker=\"0\",class=\"embryonic\"} 3",
           "weft_conntrack_evicted_total{worker=\"0\",class=\"assured\"} 0",
           "weft_conntrack_expired_total{worker=\"0\"} 0",
           "weft_conntrack_cut_total{worker=\"0\"} 0",
           "weft_conntrack_hits_total{worker=\"0\"} 40",
           "weft_conntrack_misses_total{worker=\"0\"} 6",
           "weft_worker_busy_cycles_total{worker=\"0\"} 4000000000",
           "weft_worker_busy_seconds_total{worker=\"0\"} 2",
           "weft_worker_handoff_sent_total{worker=\"0\"} 12",
           "weft_worker_handoff_received_total{worker=\"0\"} 7",
           "weft_icmp_errors_sent_total 1",
           "weft_icmp_errors_limited_total 0",
           "weft_dhcp_messages_total{verdict=\"offer\"} 1",
           "weft_dhcp_messages_total{verdict=\"ack\"} 0",
           "# TYPE weft_qos_sent_packets_total counter",
           "weft_qos_sent_packets_total{port=\"web-1\",direction=\"egress\",class=\"voice\"} 600",
           "weft_qos_sent_bytes_total{port=\"web-1\",direction=\"egress\",class=\"voice\"} 58800",
           "weft_qos_policed_packets_total{port=\"web-1\",direction=\"ingress\",class=\"default\"} 3",
           "weft_qos_policed_bytes_total{port=\"web-1\",direction=\"ingress\",class=\"default\"} 4500",
           "weft_qos_queued_packets_total{port=\"web-1\",direction=\"ingress\",class=\"default\"} 12",
           "weft_qos_queue_full_bytes_total{port=\"web-1\",direction=\"ingress\",class=\"default\"} 3000",
       })
    EXPECT_TRUE(has_line(t, line)) << "missing: " << line << "\nin:\n" << t;
  // Only the device's own counters are absent for a port without them.
  EXPECT_EQ(t.find("weft_port_up{port=\"web-"), std::string::npos) << t;
  test::expect_promtool_accepts(t);
}

TEST(NodeMetricsText, XconnectAndStartingNodesOmitWhatTheyLack) {
  NodeMetrics m;
  m.node = "bench";
  m.mode = "xconnect";
  const std::string t = render_node_metrics(m);
  EXPECT_TRUE(has_line(t, "weft_node_info{node=\"bench\",mode=\"xconnect\"} 1")) << t;
  EXPECT_EQ(t.find("weft_conntrack_"), std::string::npos) << t;
  EXPECT_EQ(t.find("weft_controller_connected"), std::string::npos) << t;
  EXPECT_EQ(t.find("weft_drops_total"), std::string::npos) << t;
  EXPECT_EQ(t.find("weft_qos_"), std::string::npos) << t;
  test::expect_promtool_accepts(t);
}

// --- conns -------------------------------------------------------------

constexpr uint64_t kHz = 1000;
constexpr uint32_t kVni = 5001;

std::unique_ptr<ConnTable> make_table(uint32_t max_entries) {
  ConnTableConfig cfg;
  cfg.max_entries = max_entries;
  cfg.tsc_hz = kHz;
  cfg.memory = TableMemory::kHeap;
  std::string error;
  auto t = ConnTable::create(cfg, error);
  EXPECT_TRUE(t) << error;
  return t;
}

// A connection from 10.0.0.<n>:<sport> to 10.1.0.1:80 (TCP) opened by the client.
uint32_t open_tcp(ConnTable& t, uint32_t n, uint16_t sport, ConnState state, uint64_t now) {
  uint8_t side = 0;
  const ConnKey k = make_conn_key(kVni, IPPROTO_TCP, htonl(0x0a000000u + n), htons(sport), htonl(0x0a010001u),
                                  htons(80), side);
  const uint32_t idx = t.insert(k, state, side, now);
  EXPECT_NE(idx, ConnTable::kNone);
  return idx;
}

std::string no_port(uint16_t) { return ""; }

json page(std::span<const ConnsTable> tables, const json& request, uint64_t now) {
  return conns_page(tables, parse_conns_query(request), now, kHz, no_port);
}

TEST(Conns, TuplesBothWaysWithStateAndAge) {
  auto t = make_table(1024);
  const uint32_t idx = open_tcp(*t, 10, 40000, ConnState::kTcpEstablished, 1000);
  t->entry(idx).flags |= kConnReplySeen;
  t->touch(idx, 1000);
  t->entry(idx).generation = 4;
  t->entry(idx).act(ConnDir::kOriginal) = FlowAction{TailStep::kLocal, 0, 1, 2, 0, 0};
  const ConnsTable tables[] = {{0, t.get()}};
  const json p = conns_page(tables, {}, 3500, kHz, [](uint16_t id) { return id == 1 ? "web-1" : "web-2"; });
  ASSERT_EQ(p["connections"].size(), 1u) << p.dump(2);
  const json& c = p["connections"][0];
  EXPECT_EQ(c["proto"], "tcp");
  EXPECT_EQ(c["state"], "ESTABLISHED");
  EXPECT_EQ(c["replied"], true);
  EXPECT_EQ(c["cut"], false);
  EXPECT_EQ(c["generation"], 4);
  EXPECT_EQ(c["worker"], 0);
  EXPECT_DOUBLE_EQ(c["idle_seconds"].get<double>(), 2.5);
  EXPECT_EQ(c["original"], (json{{"src", "10.0.0.10"}, {"dst", "10.1.0.1"}, {"sport", 40000}, {"dport", 80},
                                 {"vni", kVni}}));
  EXPECT_EQ(c["reply"], (json{{"src", "10.1.0.1"}, {"dst", "10.0.0.10"}, {"sport", 80}, {"dport", 40000},
                              {"vni", kVni}}));
  EXPECT_EQ(c["ports"]["original"], (json{{"in", "web-1"}, {"out", "web-2"}}));
  EXPECT_TRUE(p["next_cursor"].is_null());
}

TEST(Conns, ATranslatedConnectionShowsItsReplyTuple) {
  auto t = make_table(1024);
  const uint32_t idx = open_tcp(*t, 10, 40000, ConnState::kTcpSynSent, 1000);
  // Client 10.0.0.10:40000 -> VIP 10.1.0.1:80, sent on to backend 10.2.0.5:8080.
  ConnXlate x{};
  uint8_t side = 0;
  x.reply_key = make_conn_key(kVni, IPPROTO_TCP, htonl(0x0a020005u), htons(8080), htonl(0x0a00000au), htons(40000),
                              side);
  x.reply_side = side;
  x.src = htonl(0x0a00000au);
  x.dst = htonl(0x0a020005u);
  x.sport = htons(40000);
  x.dport = htons(8080);
  ASSERT_TRUE(t->translate(idx, x, 1000));
  const ConnsTable tables[] = {{0, t.get()}};
  const json p = page(tables, json::object(), 1000);
  ASSERT_EQ(p["connections"].size(), 1u);
  const json& c = p["connections"][0];
  EXPECT_EQ(c["translated"], true);
  EXPECT_EQ(c["original"]["dst"], "10.1.0.1");
  EXPECT_EQ(c["reply"]["src"], "10.2.0.5");
  EXPECT_EQ(c["reply"]["sport"], 8080);
  EXPECT_EQ(c["reply"]["dst"], "10.0.0.10");
  // The backend's address finds it too.
  EXPECT_EQ(page(tables, {{"address", "10.2.0.5"}}, 1000)["connections"].size(), 1u);
}

TEST(Conns, Filters) {
  auto t = make_table(1024);
  open_tcp(*t, 1, 1000, ConnState::kTcpEstablished, 0);
  open_tcp(*t, 2, 2000, ConnState::kTcpSynSent, 0);
  uint8_t side = 0;
  const ConnKey udp =
      make_conn_key(kVni, IPPROTO_UDP, htonl(0x0a000003u), htons(53), htonl(0x0a010001u), htons(5353), side);
  t->insert(udp, ConnState::kUdpUnreplied, side, 0);
  const ConnsTable tables[] = {{0, t.get()}};
  auto count = [&](const json& req) { return page(tables, req, 0)["connections"].size(); };
  EXPECT_EQ(count(json::object()), 3u);
  EXPECT_EQ(count({{"state", "established"}}), 1u);
  EXPECT_EQ(count({{"proto", "udp"}}), 1u);
  EXPECT_EQ(count({{"address", "10.0.0.2"}}), 1u);
  EXPECT_EQ(count({{"address", "10.1.0.1"}}), 3u);
  EXPECT_EQ(count({{"l4_port", 2000}}), 1u);
  EXPECT_EQ(count({{"l4_port", 80}}), 2u);
  EXPECT_EQ(count({{"port", "web-1"}}), 0u);  // no direction recorded on a port yet
  EXPECT_THROW(parse_conns_query({{"state", "BOGUS"}}), std::invalid_argument);
  EXPECT_THROW(parse_conns_query({{"address", "10.0.0"}}), std::invalid_argument);
  EXPECT_THROW(parse_conns_query({{"limit", 0}}), std::invalid_argument);
  EXPECT_THROW(parse_conns_query({{"limit", kConnsMaxLimit + 1}}), std::invalid_argument);
  EXPECT_THROW(parse_conns_query({{"cursor", -1}}), std::invalid_argument);
}

TEST(Conns, PagesAcrossWorkersWithACursor) {
  auto a = make_table(1024);
  auto b = make_table(1024);
  for (uint32_t n = 0; n < 5; ++n) open_tcp(*a, n, 1000, ConnState::kTcpEstablished, 0);
  for (uint32_t n = 0; n < 4; ++n) open_tcp(*b, n, 2000, ConnState::kTcpEstablished, 0);
  const ConnsTable tables[] = {{0, a.get()}, {1, b.get()}};
  std::set<uint64_t> seen;
  json cursor = 0;
  size_t pages = 0;
  while (!cursor.is_null()) {
    const json p = page(tables, {{"cursor", cursor}, {"limit", 2}}, 0);
    EXPECT_LE(p["connections"].size(), 2u);
    for (const json& c : p["connections"]) EXPECT_TRUE(seen.insert(c["cursor"].get<uint64_t>()).second);
    cursor = p["next_cursor"];
    ASSERT_LT(++pages, 20u);
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_GE(pages, 5u);
  // A cursor past every table ends the listing.
  EXPECT_TRUE(page(tables, {{"cursor", uint64_t{7} << 32}}, 0)["next_cursor"].is_null());
}

TEST(Conns, AScanStopsAtItsBudget) {
  auto t = make_table(4 * kConnsScanBudget);
  const ConnsTable tables[] = {{0, t.get()}};
  // An empty table of 4 budgets: each page looks at one budget's worth.
  json cursor = 0;
  size_t pages = 0;
  while (!cursor.is_null()) {
    const json p = page(tables, {{"cursor", cursor}}, 0);
    EXPECT_LE(p["scanned"].get<uint64_t>(), kConnsScanBudget);
    EXPECT_TRUE(p["connections"].empty());
    cursor = p["next_cursor"];
    ASSERT_LT(++pages, 100u);
  }
  EXPECT_GE(pages, 4u);
}

TEST(Conns, ExpiredEntriesAreLeftOut) {
  auto t = make_table(1024);
  open_tcp(*t, 1, 1000, ConnState::kTcpSynSent, 0);
  const ConnsTable tables[] = {{0, t.get()}};
  EXPECT_EQ(page(tables, json::object(), 0)["connections"].size(), 1u);
  EXPECT_EQ(page(tables, json::object(), uint64_t{1} << 40)["connections"].size(), 0u);
}

}  // namespace
}  // namespace weft::dp
