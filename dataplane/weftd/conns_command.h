#pragma once
// The control socket's `conns` command: the workers' connection tables as
// `conntrack -L` shows them, one page at a time (`weftctl node conns`).
//
// Request: {"command": "conns", "cursor": C, "limit": N, and any of the
// filters "address": "10.0.1.10" (either end, either direction), "l4_port":
// 80 (either end; the echo identifier for ICMP), "port": "web-1" (a policy
// port a direction of the connection arrives on or leaves by), "state":
// "ESTABLISHED" (conn_state_name, any case), "proto": "tcp"}. Answer:
// {"connections": [...], "next_cursor": C' or null when the tables are done,
// "scanned": entries looked at}. Each connection: its cursor, worker,
// protocol, state, class, whether cut, whether translated, the original
// tuple and the reply tuple (for a translated connection, the tuple its
// replies carry: ConnTable::xlate), seconds since its last packet, the
// snapshot generation it was decided under, the ports it was recorded on.
//
// Bounded: a page holds at most kMaxLimit connections and looks at no more
// than kScanBudget entries, so a table of a million entries never holds the
// main lcore for more than a fraction of a millisecond per request; the
// cursor ((worker << 32) | entry index) resumes where a page stopped.
//
// Safety: the main lcore reads tables a worker writes without a lock. Each
// entry is copied before it is read; a copy torn by a concurrent update may
// show a mixed tuple (acceptable in a listing), but every index used is
// bounded by the table's capacity() (entries, translations) or by
// kMaxPorts (port ids), so a torn entry never leads a read out of range.
// Expired entries (idle past their timeout, not yet swept) are left out.
//
// Main lcore only.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "dataplane/conntrack/conn_table.h"

#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

inline constexpr uint32_t kConnsDefaultLimit = 100;
inline constexpr uint32_t kConnsMaxLimit = 1000;
inline constexpr uint32_t kConnsScanBudget = 64 * 1024;

// What a request asks for, parsed; parse_conns_query throws
// std::invalid_argument on a malformed request (the control socket answers
// its message as the error).
struct ConnsQuery {
  uint64_t cursor = 0;
  uint32_t limit = kConnsDefaultLimit;
  std::optional<uint32_t> address;  // network byte order
  std::optional<uint16_t> l4_port;  // host byte order
  std::optional<std::string> port;  // a policy port name
  std::optional<ConnState> state;
  std::optional<uint8_t> proto;
};
ConnsQuery parse_conns_query(const nlohmann::json& request);

// One worker's table, as the listing sees it.
struct ConnsTable {
  unsigned worker = 0;
  const ConnTable* table = nullptr;
};

// A page over `tables` (in worker order) at TSC `now`; `port_name(id)`
// names a DPDK port ("" for none). The pure part, tested without a
// Dataplane.
nlohmann::json conns_page(std::span<const ConnsTable> tables, const ConnsQuery& q, uint64_t now,
                          uint64_t tsc_hz, const std::function<std::string(uint16_t)>& port_name);

// conns_page over the Dataplane's workers, now.
nlohmann::json conns_report(const Dataplane& dp, const nlohmann::json& request);

}  // namespace weft::dp
