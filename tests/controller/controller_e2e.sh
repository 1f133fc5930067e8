#!/usr/bin/env bash
# End-to-end: weft-controller and two weftd nodes in controller mode, VMs in
# network namespaces (the overlay harness of tests/e2e/overlay_lib.sh).
#
#   - v1 applied through weftctl: the nodes connect, sync, and VMs ping;
#   - v2 adds a port: traffic reaches it, status shows both nodes at v2;
#   - an invalid policy gets a 400 with its errors; no node changes;
#   - a node presenting another node's certificate is refused, and the real
#     node stays connected;
#   - hitless: a steady UDP flow with sequence numbers crosses 50 policy
#     updates that leave it allowed, with no datagram lost or reordered;
#   - the controller is killed: traffic continues; restarted, it serves the
#     persisted version and the nodes resync without rebuilding their tables.
#
#   controller_e2e.sh WEFTD WEFTCTL WEFT_CONTROLLER FAKE_NODE DEV_CA
#
# Root only (exit 77, skipped, otherwise). Everything it creates is named
# wtc-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1 WEFTCTL=$2 CONTROLLER=$3 FAKE_NODE=$4 DEV_CA=$5
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../e2e/overlay_lib.sh"
ovl_prologue wtc jq python3 ethtool ip
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
wait_for() {  # seconds, command...: polls until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}

A="wtc$$a" B="wtc$$b"   # node names: unique per run (DPDK file prefixes, certificates)
pki=$work/pki
"$DEV_CA" "$pki" "$A" "$B" >/dev/null

# A policy: web-1 on A, web-2 on B, and, when $2 is an address, web-3 on B.
policy() {
  cat >"$1" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - {name: blue, vni: 5001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: web-1, network: blue, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: web-2, network: blue, subnet: s, node: $B, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [open]}
YAML
  [ -z "${2:-}" ] || echo "  - {name: web-3, network: blue, subnet: s, node: $B, ip: $2, mac: \"02:00:0a:00:01:0c\", security_groups: [open]}" >>"$1"
}

sb_port=0 api_port=0
start_controller() {  # log file; a restart keeps the ports
  ovl_controller "$CONTROLLER" "$work/state" "$pki" "$1" "$sb_port" "$api_port" || fail "controller did not start"
  ctl_pid=$OVL_CTL_PID sb_port=$OVL_SB_PORT api_port=$OVL_API_PORT
}
api() { echo --controller "https://127.0.0.1:$api_port" --ca "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key"; }
status_json() { "$WEFTCTL" status $(api) --json 2>/dev/null || true; }
applied() { status_json | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .applied_version'; }
converged() { "$WEFTCTL" status $(api) >/dev/null 2>&1; }
node_version() { ovl_stats "$1" | jq '.policy_version'; }

echo "== controller, v1"
start_controller "$work/controller.log"
policy "$work/v1.yaml"
"$WEFTCTL" apply "$work/v1.yaml" $(api) >/dev/null || fail "apply v1"

echo "== two weftd nodes in controller mode"
ovl_underlay
ovl_vm va 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm vb 10.0.1.11/24 02:00:0a:00:01:0b 1450
ovl_vm vc 10.0.1.12/24 02:00:0a:00:01:0c 1450
controller_yaml() { echo "controller: {address: 127.0.0.1:$sb_port, ca: $pki/ca.pem, cert: $pki/$1.pem, key: $pki/$1.key}"; }
OVL_NODE_YAML=$(controller_yaml "$A") ovl_weftd "$A" a 172.31.0.1/24 va:web-1 --
OVL_NODE_YAML=$(controller_yaml "$B") ovl_weftd "$B" b 172.31.0.2/24 vb:web-2 vc:web-3 --
wait_for 60 converged || fail "nodes did not sync v1: $(status_json)"
[ "$(node_version "$A")" -eq 1 ] && [ "$(node_version "$B")" -eq 1 ] || fail "weftd does not run v1"
ovl_wait_ping va 10.0.1.11 60 || fail "web-1 never reached web-2"
ovl_in va ping -c 2 -i 0.2 -W 1 10.0.1.12 >/dev/null 2>&1 && fail "web-3 answered before the policy has it"

echo "== v2 adds web-3: traffic follows, both nodes at v2"
policy "$work/v2.yaml" 10.0.1.12
"$WEFTCTL" apply "$work/v2.yaml" $(api) --wait 60 >"$work/apply-v2.txt" || fail "apply v2: $(cat "$work/apply-v2.txt")"
[ "$(applied "$A")" -eq 2 ] && [ "$(applied "$B")" -eq 2 ] || fail "status: $(status_json)"
[ "$(node_version "$A")" -eq 2 ] && [ "$(node_version "$B")" -eq 2 ] || fail "weftd does not run v2"
ovl_wait_ping va 10.0.1.12 30 || fail "web-1 never reached the new web-3"

echo "== an invalid policy: 400 with every error, nodes untouched"
sed 's/vni: 5001/vni: 0/; s/node: '"$A"', ip: 10.0.1.10/node: nowhere, ip: 10.0.1.10/' "$work/v2.yaml" >"$work/bad.yaml"
python3 - "$api_port" "$pki" "$work/bad.yaml" >"$work/bad.out" <<'PY' || fail "PUT of an invalid policy: $(cat "$work/bad.out")"
import http.client, json, ssl, sys
port, pki, path = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/client.pem", pki + "/client.key")
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
c.request("PUT", "/v1/policy", open(path, "rb").read(), {"Content-Type": "application/yaml"})
r = c.getresponse()
body = json.loads(r.read())
print(r.status, json.dumps(body))
sys.exit(0 if r.status == 400 and len(body["errors"]) >= 2 and all(e["line"] > 0 for e in body["errors"]) else 1)
PY
[ "$(status_json | jq .desired_version)" -eq 2 ] || fail "an invalid policy changed the version"
[ "$(node_version "$A")" -eq 2 ] && [ "$(node_version "$B")" -eq 2 ] || fail "an invalid policy reached a node"
"$WEFTCTL" apply "$work/bad.yaml" $(api) >/dev/null 2>&1 && fail "weftctl applied an invalid policy"

echo "== a node presenting another node's certificate is refused"
addr_before=$(status_json | jq -r --arg n "$A" '.nodes[] | select(.name == $n) | .address')
"$FAKE_NODE" --node "$A" --controller "127.0.0.1:$sb_port" --ca "$pki/ca.pem" \
  --cert "$pki/$B.pem" --key "$pki/$B.key" >"$work/impostor.log" 2>&1 &
OVL_PIDS+=($!)
wait_for 20 grep -q "refused node '$A'.*certificate names $B" "$work/controller.log" || fail "impostor not refused"
grep -q "refused by controller: certificate names $B" "$work/impostor.log" || fail "impostor not told why"
[ "$(status_json | jq -r --arg n "$A" '.nodes[] | select(.name == $n) | .address')" = "$addr_before" ] ||
  fail "the impostor displaced the real node"

echo "== hitless: a UDP flow across 50 policy updates"
ovl_in vb python3 "$here/seq_udp.py" recv 9000 "$work/flow.json" &
recv_pid=$!
OVL_PIDS+=("$recv_pid")
wait_for 10 sh -c "ip netns exec ${OVL_PREFIX}vb ss -lun | grep -q ':9000'" || fail "receiver"
ovl_in va python3 "$here/seq_udp.py" send 10.0.1.11 9000 1000 "$work/stop" >"$work/sent.txt" &
send_pid=$!
OVL_PIDS+=("$send_pid")
for i in $(seq 1 50); do
  # web-3 moves between two addresses: both nodes get new tables, and the
  # flow web-1 -> web-2 stays allowed throughout.
  policy "$work/u.yaml" "10.0.1.$((12 + i % 2))"
  "$WEFTCTL" apply "$work/u.yaml" $(api) --wait 30 >"$work/apply-u.txt" || fail "update $i: $(cat "$work/apply-u.txt")"
done
[ "$(node_version "$A")" -eq 52 ] && [ "$(node_version "$B")" -eq 52 ] || fail "nodes not at v52"
touch "$work/stop"
wait "$send_pid"
wait_for 10 test -s "$work/flow.json" || fail "the receiver saw no end"
echo "flow: $(cat "$work/flow.json")"
# Where a lost datagram went: drop reasons, and each port's counters.
counters() {
  ovl_stats "$1" | jq -c '{drops: ([.drops[] | select(.count > 0) | {(.reason): .count}] | add),
    ports: [.ports[] | {name, rx_packets, tx_packets, drops, rx_missed, rx_nombuf, tx_errors}]}'
}
[ "$(jq .lost "$work/flow.json")" -eq 0 ] ||
  fail "datagrams lost across updates; $A: $(counters "$A"); $B: $(counters "$B");" \
    "receiver's UDP: $(ovl_in vb cat /proc/net/snmp | grep '^Udp:' | tail -1)"
[ "$(jq .reordered "$work/flow.json")" -eq 0 ] || fail "datagrams reordered across updates"
[ "$(jq .sent "$work/flow.json")" -gt 1000 ] || fail "the flow was too short to mean anything"

echo "== the controller dies: traffic continues; restarted, it serves the same version"
gen_a=$(ovl_stats "$A" | jq .generation) gen_b=$(ovl_stats "$B" | jq .generation)
kill -KILL "$ctl_pid"
wait "$ctl_pid" 2>/dev/null || true
ovl_in va ping -c 5 -i 0.2 -W 1 10.0.1.11 | grep -q " 0% packet loss" || fail "traffic suffered with the controller gone"
wait_for 30 grep -q "keeping the last tables" "$work/$A.log" || fail "node A did not notice"
start_controller "$work/controller2.log"    # same state dir, same ports
grep -q "serving policy version 52" "$work/controller2.log" || fail "restart: $(cat "$work/controller2.log")"
wait_for 60 converged || fail "nodes did not resync: $(status_json)"
[ "$(applied "$A")" -eq 52 ] && [ "$(applied "$B")" -eq 52 ] || fail "status after restart: $(status_json)"
# The resync sent byte-identical tables: acked, not rebuilt or republished.
[ "$(ovl_stats "$A" | jq .generation)" = "$gen_a" ] && [ "$(ovl_stats "$B" | jq .generation)" = "$gen_b" ] ||
  fail "a resync with unchanged tables rebuilt a snapshot"
ovl_in va ping -c 3 -i 0.2 -W 1 10.0.1.11 | grep -q " 0% packet loss" || fail "traffic after the restart"

echo "PASS"
