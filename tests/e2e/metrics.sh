#!/usr/bin/env bash
# End-to-end test of weftd's monitoring: a standalone weftd with two VMs
# (network namespaces on af_packet vNICs) in one subnet, pinging each other.
#
#   - GET /metrics (node.yaml `metrics`) passes `promtool check metrics`,
#     names ports by their policy names and counts the VMs' packets; another
#     path is 404, another method 405;
#   - a real Prometheus server on loopback (its own config and data in a
#     temporary directory, scraping every second) scrapes weftd, and
#     weft_port_rx_packets_total comes back through its HTTP API;
#   - dpdk-telemetry.py (weftd's EAL file prefix) lists DPDK's /ethdev/stats,0
#     and weftd's own /weft/ports, /weft/drops, /weft/conntrack;
#   - `weftctl node conns` lists the ICMP connection both ways, filters it,
#     and pages with a cursor.
#
#   metrics.sh WEFTD WEFTCTL       (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wtm-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
TELEMETRY=$(command -v dpdk-telemetry.py || dpkg -L dpdk-dev dpdk 2>/dev/null | grep -m1 '/dpdk-telemetry.py$' || true)
[ -n "$TELEMETRY" ] || { echo "SKIP: dpdk-telemetry.py is missing (package dpdk-dev)"; exit 77; }

source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue wtm jq curl promtool prometheus ethtool python3
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
# A free TCP port on 127.0.0.1 (for Prometheus, which cannot report the one it took).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

A="wtm$$a"   # the node's name: unique per run (DPDK file prefix weft-$A)
echo "== weftd with metrics on 127.0.0.1 (any free port)"
OVL_NODE_YAML="metrics: {listen: \"127.0.0.1:0\"}"
ovl_one_node "$A" || fail "weftd did not start"
metrics_url=$(sed -n 's|.*, metrics \(http://[0-9.:]*/metrics\).*|\1|p' "$work/$A.log" | head -1)
[ -n "$metrics_url" ] || fail "weftd's ready line names no metrics URL: $(cat "$work/$A.log")"
echo "weftd serves $metrics_url"

echo "== traffic: vm-a pings vm-b"
ovl_wait_ping va 10.0.1.11 60 || fail "vm-a never reached vm-b: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
ovl_in va ping -c 5 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "vm-a -> vm-b"

echo "== GET /metrics passes promtool and counts the VMs' packets"
curl -sf "$metrics_url" -o "$work/metrics.txt" || fail "GET $metrics_url"
promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics rejected weftd's /metrics"
grep -E '^weft_port_(rx|tx)_packets_total|^weft_conntrack_connections|^weft_policy_version|^weft_drops_total' \
  "$work/metrics.txt" | head -20
value() { awk -v s="$1" '$1 == s { print $2 }' "$work/metrics.txt"; }
[ "$(value 'weft_port_rx_packets_total{port="vm-a",kind="af_packet"}')" -ge 5 ] || fail "vm-a rx not counted"
[ "$(value 'weft_port_tx_packets_total{port="vm-b",kind="af_packet"}')" -ge 5 ] || fail "vm-b tx not counted"
[ -n "$(value 'weft_port_rx_packets_total{port="underlay",kind="underlay"}')" ] || fail "no underlay series"
[ "$(value 'weft_policy_version')" -eq 1 ] || fail "weft_policy_version"
[ "$(value 'weft_conntrack_connections{worker="0"}')" -ge 1 ] || fail "no connection in the table"
[ "$(value 'weft_conntrack_created_total{worker="0"}')" -ge 1 ] || fail "weft_conntrack_created_total"
[ "$(value 'weft_conntrack_hits_total{worker="0"}')" -ge 1 ] || fail "no flow cache hit counted"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "${metrics_url%/metrics}/")" = 404 ] || fail "GET / is not 404"
[ "$(code -X POST "$metrics_url")" = 405 ] || fail "POST /metrics is not 405"

echo "== a Prometheus server scrapes weftd"
prom_port=$(free_port)
mkdir -p "$work/prom-data"
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: weftd
    metrics_path: /metrics
    static_configs: [{targets: ["${metrics_url#http://}"], labels: {node: "$A"}}]
YAML
sed -i 's|/metrics"\]|"]|' "$work/prometheus.yml"   # the target is HOST:PORT
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool check config: $(promtool check config "$work/prometheus.yml" 2>&1)"
ovl_spawn prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1
prom="http://127.0.0.1:$prom_port"
deadline=$((SECONDS + 60))
until curl -sf "$prom/-/ready" >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "Prometheus not ready after 60 s"
  sleep 0.5
done
ovl_in va ping -c 5 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "vm-a -> vm-b (2)"
query='weft_port_rx_packets_total{port="vm-a"}'
deadline=$((SECONDS + 60))
while :; do
  curl -sfG "$prom/api/v1/query" --data-urlencode "query=$query" -o "$work/query.json" || true
  got=$(jq -r '.data.result[0].value[1] // empty' "$work/query.json" 2>/dev/null || true)
  [ -n "$got" ] && [ "$got" -ge 10 ] && break
  [ $SECONDS -lt $deadline ] || fail "Prometheus never returned $query >= 10: $(cat "$work/query.json" 2>/dev/null)"
  sleep 1
done
echo "Prometheus: $query = $got"
jq -c '.data.result[0].metric' "$work/query.json"
curl -sfG "$prom/api/v1/query" --data-urlencode 'query=up{job="weftd"}' | jq -e '.data.result[0].value[1] == "1"' \
  >/dev/null || fail "Prometheus does not see weftd up"

echo "== DPDK telemetry: /ethdev/stats,0 and /weft/*"
printf '/ethdev/stats,0\n/weft/ports\n/weft/ports,vm-a\n/weft/drops\n/weft/conntrack\n' |
  timeout 20 python3 "$TELEMETRY" -f "weft-$A" >"$work/telemetry.txt" 2>&1 || fail "dpdk-telemetry.py: $(cat "$work/telemetry.txt")"
cat "$work/telemetry.txt"
tel() { grep -F "\"$1\"" "$work/telemetry.txt" | head -1; }
tel /ethdev/stats | jq -e '.["/ethdev/stats"].ipackets >= 0' >/dev/null || fail "no /ethdev/stats,0"
tel /weft/ports | jq -e '.["/weft/ports"].name == ["underlay", "vm-a", "vm-b"]' >/dev/null || fail "/weft/ports names"
tel /weft/ports | jq -e '.["/weft/ports"].rx_packets[1] >= 10' >/dev/null || fail "/weft/ports rx_packets of vm-a"
grep -F '"/weft/ports": {"name": "vm-a"' "$work/telemetry.txt" >/dev/null || fail "/weft/ports,vm-a"
tel /weft/conntrack | jq -e '.["/weft/conntrack"].connections >= 1' >/dev/null || fail "/weft/conntrack"
tel /weft/drops | jq -e '.["/weft/drops"] | type == "object"' >/dev/null || fail "/weft/drops"

echo "== weftctl node conns"
sock=${OVL_SOCK[$A]}
"$WEFTCTL" node conns --socket "$sock" | tee "$work/conns.txt"
grep -Eq '^icmp +ICMP_REPLIED src=10.0.1.10 dst=10.0.1.11 id=[0-9]+ src=10.0.1.11 dst=10.0.1.10 id=[0-9]+' \
  "$work/conns.txt" || fail "no ICMP connection vm-a -> vm-b in: $(cat "$work/conns.txt")"
"$WEFTCTL" node conns --socket "$sock" --json --address 10.0.1.11 --proto icmp >"$work/conns.json"
jq -e '.connections | length >= 1' "$work/conns.json" >/dev/null || fail "filtered listing empty: $(cat "$work/conns.json")"
jq -e '.connections[0].ports.original.in == "vm-a"' "$work/conns.json" >/dev/null || fail "ports: $(cat "$work/conns.json")"
[ "$("$WEFTCTL" node conns --socket "$sock" --json --address 10.9.9.9 | jq '.connections | length')" -eq 0 ] ||
  fail "a filter on an unknown address lists connections"
[ "$("$WEFTCTL" node conns --socket "$sock" --json --state ESTABLISHED | jq '.connections | length')" -eq 0 ] ||
  fail "a state filter lists ICMP as ESTABLISHED"
"$WEFTCTL" node conns --socket "$sock" --state bogus >/dev/null 2>&1 && fail "an unknown state is accepted"
# One connection per page: the listing stops at --limit and says where to go on.
"$WEFTCTL" node conns --socket "$sock" --json --limit 1 >"$work/page.json"
[ "$(jq '.connections | length' "$work/page.json")" -eq 1 ] || fail "--limit 1: $(cat "$work/page.json")"

echo "== /metrics after the telemetry and conns requests: still valid"
curl -sf "$metrics_url" | promtool check metrics || fail "promtool (2)"
echo "PASS"
