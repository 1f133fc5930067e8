#include "dataplane/weftd/conns_command.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>

#include "common/net.h"

namespace weft::dp {
namespace {

using nlohmann::json;

constexpr std::string_view kClassNames[kConnClassCount] = {"closing", "embryonic", "assured"};

std::string proto_name(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    default: return std::to_string(p);
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct Tuple {
  uint32_t src, dst;      // network order
  uint16_t sport, dport;  // network order
  uint32_t vni;
};

// The tuple of a packet from key side `side` of `k`.
Tuple tuple_from(const ConnKey& k, uint8_t side) {
  const uint8_t s = side & 1, d = s ^ 1;
  return {k.addr[s], k.addr[d], k.port[s], k.port[d], conn_vni(k)};
}

Tuple reversed(const Tuple& t) { return {t.dst, t.src, t.dport, t.sport, t.vni}; }

json tuple_json(const Tuple& t, uint8_t proto) {
  json j = {{"src", format_ipv4(rte_be_to_cpu_32(t.src))}, {"dst", format_ipv4(rte_be_to_cpu_32(t.dst))},
            {"vni", t.vni}};
  if (proto == IPPROTO_ICMP) {
    j["id"] = rte_be_to_cpu_16(t.sport);
  } else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    j["sport"] = rte_be_to_cpu_16(t.sport);
    j["dport"] = rte_be_to_cpu_16(t.dport);
  }
  return j;
}

bool tuple_has_address(const Tuple& t, uint32_t a) { return t.src == a || t.dst == a; }
bool tuple_has_port(const Tuple& t, uint16_t p_be) { return t.sport == p_be || t.dport == p_be; }

uint64_t number(const json& req, const char* key, uint64_t lo, uint64_t hi, uint64_t dflt) {
  if (!req.contains(key)) return dflt;
  const json& v = req[key];
  const bool whole = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!whole || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi)
    throw std::invalid_argument(std::string(key) + ": a whole number from " + std::to_string(lo) + " to " +
                                std::to_string(hi));
  return v.get<uint64_t>();
}

std::string text(const json& req, const char* key) {
  const json& v = req[key];
  if (!v.is_string() || v.get<std::string>().empty())
    throw std::invalid_argument(std::string(key) + ": a non-empty string");
  return v.get<std::string>();
}

}  // namespace

ConnsQuery parse_conns_query(const json& req) {
  ConnsQuery q;
  if (!req.is_object()) return q;
  q.cursor = number(req, "cursor", 0, UINT64_MAX, 0);
  q.limit = static_cast<uint32_t>(number(req, "limit", 1, kConnsMaxLimit, kConnsDefaultLimit));
  if (req.contains("address")) {
    const std::string a = text(req, "address");
    auto ip = parse_ipv4(a);
    if (!ip) throw std::invalid_argument("address: '" + a + "' is not an IPv4 address");
    q.address = rte_cpu_to_be_32(*ip);
  }
  if (req.contains("l4_port")) q.l4_port = static_cast<uint16_t>(number(req, "l4_port", 0, 65535, 0));
  if (req.contains("port")) q.port = text(req, "port");
  if (req.contains("state")) {
    const std::string s = text(req, "state");
    for (size_t i = 1; i < kConnStateCount && !q.state; ++i)
      if (iequals(s, conn_state_name(static_cast<ConnState>(i)))) q.state = static_cast<ConnState>(i);
    if (!q.state) {
      std::string known;
      for (size_t i = 1; i < kConnStateCount; ++i)
        known += (i > 1 ? ", " : "") + std::string(conn_state_name(static_cast<ConnState>(i)));
      throw std::invalid_argument("state: '" + s + "' is none of " + known);
    }
  }
  if (req.contains("proto")) {
    const std::string p = text(req, "proto");
    if (iequals(p, "tcp")) q.proto = IPPROTO_TCP;
    else if (iequals(p, "udp")) q.proto = IPPROTO_UDP;
    else if (iequals(p, "icmp")) q.proto = IPPROTO_ICMP;
    else throw std::invalid_argument("proto: '" + p + "' is none of tcp, udp, icmp");
  }
  return q;
}

json conns_page(std::span<const ConnsTable> tables, const ConnsQuery& q, uint64_t now, uint64_t tsc_hz,
                const std::function<std::string(uint16_t)>& port_name) {
  json out = json::array();
  uint64_t worker = q.cursor >> 32;
  uint64_t index = q.cursor & 0xffffffffu;
  uint32_t scanned = 0;
  const uint16_t l4_port_be = q.l4_port ? rte_cpu_to_be_16(*q.l4_port) : 0;
  std::optional<uint64_t> next;

  for (; worker < tables.size(); ++worker, index = 0) {
    const ConnTable* t = tables[worker].table;
    if (t == nullptr) continue;
    const uint64_t capacity = t->capacity();
    for (; index < capacity; ++index) {
      if (out.size() >= q.limit || scanned >= kConnsScanBudget) {
        next = worker << 32 | index;
        break;
      }
      ++scanned;
      // A copy: the worker may be rewriting the entry as we read it.
      ConnEntry e;
      std::memcpy(static_cast<void*>(&e), &t->entry(static_cast<uint32_t>(index)), sizeof e);
      const auto state = static_cast<size_t>(e.state);
      if (e.state == ConnState::kFree || state >= kConnStateCount) continue;
      if (static_cast<size_t>(e.cls) >= kConnClassCount) continue;  // torn
      if (t->is_expired(e, now)) continue;
      const uint8_t proto = conn_proto(e.key);
      const Tuple orig = tuple_from(e.key, e.orig_side());
      Tuple reply = reversed(orig);
      const bool translated = (e.flags & kConnXlate) != 0;
      if (translated) {
        ConnXlate x;
        std::memcpy(static_cast<void*>(&x), &t->xlate(static_cast<uint32_t>(index)), sizeof x);
        reply = tuple_from(x.reply_key, x.reply_side);
      }
      if (q.state && e.state != *q.state) continue;
      if (q.proto && proto != *q.proto) continue;
      if (q.address && !tuple_has_address(orig, *q.address) && !tuple_has_address(reply, *q.address)) continue;
      if (q.l4_port && !tuple_has_port(orig, l4_port_be) && !tuple_has_port(reply, l4_port_be)) continue;
      // The ports each recorded direction arrives on and leaves by.
      json ports = json::object();
      bool port_match = !q.port;
      const char* const kDirs[] = {"original", "reply"};
      for (size_t d = 0; d < 2; ++d) {
        const FlowAction& a = e.action[d];
        if (!a.recorded()) continue;
        const std::string in = port_name(a.ingress);
        const std::string outp = a.out_port < kMaxPorts ? port_name(a.out_port) : "";
        ports[kDirs[d]] = {{"in", in}, {"out", outp}};
        if (q.port && (in == *q.port || outp == *q.port)) port_match = true;
      }
      if (!port_match) continue;
      const double idle =
          now > e.last_seen && tsc_hz != 0 ? static_cast<double>(now - e.last_seen) / static_cast<double>(tsc_hz) : 0;
      out.push_back({
          {"cursor", worker << 32 | index},
          {"worker", tables[worker].worker},
          {"proto", proto_name(proto)},
          {"state", conn_state_name(e.state)},
          {"class", std::string(kClassNames[static_cast<size_t>(e.cls)])},
          {"replied", e.reply_seen()},
          {"cut", (e.flags & kConnCut) != 0},
          {"translated", translated},
          {"original", tuple_json(orig, proto)},
          {"reply", tuple_json(reply, proto)},
          {"idle_seconds", std::round(idle * 1000) / 1000},
          {"generation", e.generation},
          {"ports", std::move(ports)},
      });
    }
    if (next) break;
  }
  return {{"connections", std::move(out)},
          {"next_cursor", next ? json(*next) : json(nullptr)},
          {"scanned", scanned}};
}

json conns_report(const Dataplane& dp, const json& request) {
  const ConnsQuery q = parse_conns_query(request);
  std::vector<ConnsTable> tables;
  const auto workers = dp.workers();
  const auto graphs = dp.graphs();
  for (size_t i = 0; i < workers.size() && i < graphs.size(); ++i)
    tables.push_back({workers[i]->index(), graphs[i]->conntrack.get()});
  const auto ports = dp.ports();
  const Snapshot& snap = dp.snapshot();
  auto port_name = [&](uint16_t id) -> std::string {
    if (id >= kIngressVtep) {  // an ingress from the underlay: the peer's node
      const size_t v = id - kIngressVtep;
      return v < snap.vteps.vteps.size() ? "vtep:" + snap.vteps.vteps[v].node : "";
    }
    for (const DataplanePort& p : ports)
      if (p.dev.id == id) return p.name;
    return "";
  };
  json page = conns_page(tables, q, rte_rdtsc(), rte_get_tsc_hz(), port_name);
  page["generation"] = snap.generation;
  return page;
}

}  // namespace weft::dp
