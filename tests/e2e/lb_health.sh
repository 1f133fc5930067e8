#!/usr/bin/env bash
# End-to-end test of the load balancer's health checks (issue 13): a VIP
# with three backends (lb_tools.py servers that answer with their own name),
# a TCP health check of 1 s interval, 500 ms timeout, unhealthy after 3
# failures, healthy after 2 successes, and a client c1:
#
#   standalone      one weftd (--policy) hosts c1 and the three backends;
#   with controller (WEFT_CONTROLLER and DEV_CA given) weft-controller and
#                   two weftd: node A hosts c1 and b1, node B b2 and b3;
#                   B probes b2, and A learns its health through the
#                   controller (weftctl status shows it);
#
#   - the backends' nodes probe them (node stats: probes sent, none failed,
#     every backend up) and c1's new connections reach all three;
#   - killing b2's server takes it out of c1's node's selection within
#     interval x unhealthy_threshold + 1 s (the measured failover time is
#     printed), with no failed new connection after that;
#   - restarting it brings it back within healthy_threshold intervals
#     (+ 1 s), and new connections reach it again;
#   - a segment a VM sends to the probe address (the subnet's gateway) is
#     consumed and counted as forged, never forwarded.
#
# LB_HEALTH_CHECK=http: the check is an HTTP GET of /index.html on port
# 8081, where each backend also runs python3's http.server; it is that
# server of b2 that dies and comes back (its name server on 8080 stays up:
# the GET, not a TCP connect, decides).
#
#   lb_health.sh WEFTD WEFTCTL [WEFT_CONTROLLER DEV_CA]   (root; else exit 77)
#
# Everything it creates is named lh-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
CONTROLLER=${3:-}
DEV_CA=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue lh python3 ethtool jq ss
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
tools() { local l=$1; shift; ovl_in "$l" python3 "$here/lb_tools.py" "$@"; }
now_ms() { date +%s%3N; }

A="lh$$a" B="lh$$b"
if [ -n "$CONTROLLER" ]; then
  NB=$B   # b2 and b3 live on node B
  echo "mode: weft-controller, nodes $A (c1, b1) and $B (b2, b3)"
else
  NB=$A
  echo "mode: standalone, node $A"
fi
VIP=10.0.1.100
CHECK_KIND=${LB_HEALTH_CHECK:-tcp}
case $CHECK_KIND in
  tcp) CHECK="protocol: tcp" CHECK_PORT=8080 ;;
  http) CHECK="protocol: http, port: 8081, path: /index.html, expect_status: 200" CHECK_PORT=8081 ;;
  *) fail "LB_HEALTH_CHECK=$CHECK_KIND: tcp or http" ;;
esac
echo "health check: $CHECK_KIND on port $CHECK_PORT"
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 4101
    subnets:
      - {name: s1, cidr: 10.0.1.0/24}
security_groups:
  - name: client
    egress: [{protocol: icmp, to: 0.0.0.0/0}, {protocol: tcp, ports: 80, to: $VIP/32}]
  - name: srv                  # only the client may connect: the probes pass all the same
    ingress: [{protocol: icmp, from: 0.0.0.0/0}, {protocol: tcp, ports: 8080, from: 10.0.1.10/32}]
ports:
  - {name: c1, network: red, subnet: s1, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [client]}
  - {name: b1, network: red, subnet: s1, node: $A, ip: 10.0.1.21, mac: "02:00:0a:00:01:15", security_groups: [srv]}
  - {name: b2, network: red, subnet: s1, node: $NB, ip: 10.0.1.22, mac: "02:00:0a:00:01:16", security_groups: [srv]}
  - {name: b3, network: red, subnet: s1, node: $NB, ip: 10.0.1.23, mac: "02:00:0a:00:01:17", security_groups: [srv]}
load_balancers:
  - name: web
    network: red
    vip: $VIP
    listeners: [{protocol: tcp, port: 80, target_port: 8080}]
    backends: [{port: b1}, {port: b2}, {port: b3}]
    health_check: {$CHECK, interval: 1s, timeout: 500ms, unhealthy_threshold: 3, healthy_threshold: 2}
YAML
BOUND_MS=$((1000 * 3 + 1000))   # interval x unhealthy_threshold + 1 s
BACK_MS=$((1000 * 2 + 1000))    # interval x healthy_threshold + 1 s

echo "== topology"
ovl_underlay
ovl_vm c1 10.0.1.10/24 02:00:0a:00:01:0a 1450 10.0.1.1
for i in 1 2 3; do ovl_vm b$i 10.0.1.2$i/24 02:00:0a:00:01:1$((4 + i)) 1450 10.0.1.1; done
if [ -n "$CONTROLLER" ]; then
  pki=$work/pki
  "$DEV_CA" "$pki" "$A" "$B" >/dev/null
  ovl_controller "$CONTROLLER" "$work/state" "$pki" "$work/controller.log" || fail "controller did not start"
  api() { echo --controller "https://127.0.0.1:$OVL_API_PORT" --ca "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key"; }
  "$WEFTCTL" apply "$work/policy.yaml" $(api) >/dev/null || fail "apply"
  controller_yaml() { echo "controller: {address: 127.0.0.1:$OVL_SB_PORT, ca: $pki/ca.pem, cert: $pki/$1.pem, key: $pki/$1.key}"; }
  OVL_NODE_YAML=$(controller_yaml "$A") ovl_weftd "$A" a 172.31.0.1/24 c1:c1 b1:b1 --
  OVL_NODE_YAML=$(controller_yaml "$B") ovl_weftd "$B" b 172.31.0.2/24 b2:b2 b3:b3 --
  deadline=$((SECONDS + 60))
  until "$WEFTCTL" status $(api) >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "nodes did not sync: $("$WEFTCTL" status $(api) 2>&1)"
    sleep 0.2
  done
else
  ovl_weftd "$A" a 172.31.0.1/24 c1:c1 b1:b1 b2:b2 b3:b3 -- "$work/policy.yaml"
fi
declare -A SERVER CHECKED
listening() {  # backend, port
  local deadline=$((SECONDS + 10))
  until ovl_in "$1" ss -Hltn | grep -q ":$2 "; do
    [ $SECONDS -lt $deadline ] || fail "server of $1 not listening on $2"
    sleep 0.1
  done
}
serve() {  # the name server (8080) and, for http checks, the checked one (8081)
  ovl_spawn ip netns exec "${OVL_PREFIX}$1" python3 "$here/lb_tools.py" server "$1" 8080
  SERVER[$1]=$!
  listening "$1" 8080
  CHECKED[$1]=${SERVER[$1]}
  [ "$CHECK_KIND" = http ] && serve_http "$1"
  return 0
}
serve_http() {
  mkdir -p "$work/www-$1"
  echo "$1" >"$work/www-$1/index.html"
  ovl_spawn ip netns exec "${OVL_PREFIX}$1" python3 -m http.server 8081 --bind 0.0.0.0 --directory "$work/www-$1"
  CHECKED[$1]=$!
  listening "$1" 8081
}
for b in b1 b2 b3; do serve $b; done
ovl_wait_ping c1 10.0.1.1 60 || fail "c1 never got an answer from its gateway"
# A backend's row in node stats: on the node that probes it (counters), or
# on the client's node A (`up`: in A's selection).
node_of() { case $1 in b1) echo "$A" ;; *) echo "$NB" ;; esac; }
backend() { ovl_stats "$(node_of "$1")" | jq -c --arg p "$1" '.lb_health.backends[] | select(.port == $p)'; }
up() { ovl_stats "$A" | jq -r --arg p "$1" '.lb_health.backends[] | select(.port == $p) | .up'; }

echo "== the node probes its three backends"
deadline=$((SECONDS + 30))
probed_up() { for b in b1 b2 b3; do backend $b | jq -e '.probed_here and .up and .probes_sent >= 2' >/dev/null || return 1; done; }
until probed_up && [ "$(up b2)" = true ] && [ "$(up b3)" = true ]; do
  [ $SECONDS -lt $deadline ] || fail "backends not probed: $(ovl_stats "$A" | jq -c .lb_health) $(ovl_stats "$NB" | jq -c .lb_health)"
  sleep 0.2
done
# Until c1's first connection through the VIP passes (the first packets to
# a peer node are lost while its underlay MAC resolves).
deadline=$((SECONDS + 30))
until [ "$(tools c1 spread $VIP 80 3 19000 | jq .failed)" = 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "c1 never reached the VIP: $(ovl_nonzero_drops "$A")"
done
# (Probes sent before a vNIC passed traffic or its server listened failed.)
declare -A FAILED SENT
for b in b1 b2 b3; do FAILED[$b]=$(backend $b | jq .probes_failed); SENT[$b]=$(backend $b | jq .probes_sent); done
s=$(tools c1 spread $VIP 80 60 20000)
echo "all up: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "connections failed: $s"
for b in b1 b2 b3; do [ "$(jq ".$b // 0" <<<"$s")" -gt 0 ] || fail "$b never chosen: $s"; done
sleep 2
for b in b1 b2 b3; do
  echo "$b: $(backend $b)"
  [ "$(backend $b | jq .probes_sent)" -gt "${SENT[$b]}" ] || fail "$b: no probe sent in 2 s"
  [ "$(backend $b | jq .probes_failed)" = "${FAILED[$b]}" ] || fail "$b: probes failed while its server listens"
done

echo "== b2's checked server killed"
kill -TERM "${CHECKED[b2]}"; wait "${CHECKED[b2]}" 2>/dev/null || true
t0=$(now_ms)
until [ "$(up b2)" = false ]; do
  [ $(($(now_ms) - t0)) -le $((BOUND_MS + 2000)) ] || fail "b2 still up $(($(now_ms) - t0)) ms after its server died: $(backend b2)"
  sleep 0.05
done
failover=$(($(now_ms) - t0))
echo "failover: b2 out of the selection ${failover} ms after its server died (bound ${BOUND_MS} ms)"
[ "$failover" -le "$BOUND_MS" ] || fail "failover took ${failover} ms, more than ${BOUND_MS} ms"
echo "b2: $(backend b2)"
s=$(tools c1 spread $VIP 80 60 21000)
echo "b2 down: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "new connections failed after b2 went down: $s"
[ "$(jq '.b2 // 0' <<<"$s")" = 0 ] || fail "b2 still chosen while down: $s"

echo "== b2's checked server back"
if [ "$CHECK_KIND" = http ]; then serve_http b2; else serve b2; fi
t0=$(now_ms)
until [ "$(up b2)" = true ]; do
  [ $(($(now_ms) - t0)) -le $((BACK_MS + 2000)) ] || fail "b2 not back $(($(now_ms) - t0)) ms after its server restarted: $(backend b2)"
  sleep 0.05
done
back=$(($(now_ms) - t0))
echo "recovery: b2 back in the selection ${back} ms after its server restarted (bound ${BACK_MS} ms)"
[ "$back" -le "$BACK_MS" ] || fail "recovery took ${back} ms, more than ${BACK_MS} ms"
s=$(tools c1 spread $VIP 80 60 22000)
echo "b2 back: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "connections failed after b2 came back: $s"
[ "$(jq '.b2 // 0' <<<"$s")" -gt 0 ] || fail "b2 not chosen again: $s"

echo "== a VM's segment to the probe address is consumed, counted as forged"
forged0=$(backend b1 | jq .replies_forged)
consumed0=$(ovl_drops "$A" lb_probe_reply)
ovl_in b1 python3 -c '
import socket
s = socket.socket()
s.settimeout(1.0)
try:
    s.connect(("10.0.1.1", 61500))
except OSError:
    pass' || true
deadline=$((SECONDS + 5))
until [ "$(backend b1 | jq .replies_forged)" -gt "$forged0" ]; do
  [ $SECONDS -lt $deadline ] || fail "b1's SYN to the probe address not counted as forged: $(backend b1)"
  sleep 0.1
done
[ "$(ovl_drops "$A" lb_probe_reply)" -gt "$consumed0" ] || fail "b1's SYN to the probe address not consumed"

if [ -n "$CONTROLLER" ]; then
  echo "== weftctl status shows what each node probes"
  "$WEFTCTL" status $(api) | tee "$work/status.txt"
  grep -Eq "^$NB +web +b2 +up" "$work/status.txt" || fail "weftctl status does not show b2 up on $NB"
fi
for n in "$A" "$NB"; do
  ie=$(ovl_drops "$n" internal_error)
  [ "$ie" = 0 ] || fail "$n: internal_error $ie"
done
echo "PASS (failover ${failover} ms, recovery ${back} ms)"
