#!/usr/bin/env bash
# End-to-end test of the load balancer (issue 13): two standalone weftd
# nodes (overlay_lib.sh), a VIP with three backends, each a small TCP server
# in its namespace that answers with its own name (lb_tools.py):
#
#   - 300 connections from two clients (one on each node, one of them in
#     another subnet: routed) spread over the backends by weight within
#     +-20 %; none fails;
#   - a long-lived connection keeps its backend while another backend is
#     removed from the policy (SIGHUP); new connections stop going to the
#     removed one, and go to it again once it is back;
#   - hairpin: a backend reaching its own VIP is served, by itself too;
#   - a client whose security group does not allow the VIP is refused, and
#     the drop counted.
#
#   lb.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named lb-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue lb python3 ethtool jq ss
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
tools() { local l=$1; shift; ovl_in "$l" python3 "$here/lb_tools.py" "$@"; }
nonzero_drops() { ovl_stats "$1" | jq -c '[.drops[] | select(.count > 0) | {(.reason): .stages}] | add'; }

A="lb$$a" B="lb$$b"   # node names: unique per run (DPDK file prefixes)
VIP=10.0.1.100
policy() {  # the backends' YAML list
  cat <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 4001
    subnets:
      - {name: s1, cidr: 10.0.1.0/24}
      - {name: s2, cidr: 10.0.2.0/24}
security_groups:
  - name: client
    egress: [{protocol: icmp, to: 0.0.0.0/0}, {protocol: tcp, ports: 80, to: $VIP/32}]
  - name: refused              # may reach the VIP on 443 only
    egress: [{protocol: icmp, to: 0.0.0.0/0}, {protocol: tcp, ports: 443, to: $VIP/32}]
  - name: srv                  # no egress list: all out (hairpin)
    ingress: [{protocol: icmp, from: 0.0.0.0/0}, {protocol: tcp, ports: 8080, from: 10.0.0.0/16}]
ports:
  - {name: c1, network: red, subnet: s1, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [client]}
  - {name: cx, network: red, subnet: s1, node: $A, ip: 10.0.1.30, mac: "02:00:0a:00:01:1e", security_groups: [refused]}
  - {name: c2, network: red, subnet: s2, node: $B, ip: 10.0.2.10, mac: "02:00:0a:00:02:0a", security_groups: [client]}
  - {name: b1, network: red, subnet: s1, node: $A, ip: 10.0.1.21, mac: "02:00:0a:00:01:15", security_groups: [srv]}
  - {name: b2, network: red, subnet: s1, node: $B, ip: 10.0.1.22, mac: "02:00:0a:00:01:16", security_groups: [srv]}
  - {name: b3, network: red, subnet: s1, node: $B, ip: 10.0.1.23, mac: "02:00:0a:00:01:17", security_groups: [srv]}
load_balancers:
  - name: web
    network: red
    vip: $VIP
    listeners: [{protocol: tcp, port: 80, target_port: 8080}]
    backends: $1
YAML
}
ALL="[{port: b1, weight: 1}, {port: b2, weight: 1}, {port: b3, weight: 2}]"
policy "$ALL" >"$work/policy.yaml"

echo "== topology"
ovl_underlay
ovl_vm c1 10.0.1.10/24 02:00:0a:00:01:0a 1450 10.0.1.1
ovl_vm cx 10.0.1.30/24 02:00:0a:00:01:1e 1450 10.0.1.1
ovl_vm c2 10.0.2.10/24 02:00:0a:00:02:0a 1450 10.0.2.1
ovl_vm b1 10.0.1.21/24 02:00:0a:00:01:15 1450 10.0.1.1
ovl_vm b2 10.0.1.22/24 02:00:0a:00:01:16 1450 10.0.1.1
ovl_vm b3 10.0.1.23/24 02:00:0a:00:01:17 1450 10.0.1.1
ovl_weftd "$A" a 172.31.0.1/24 c1:c1 cx:cx b1:b1 -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 c2:c2 b2:b2 b3:b3 -- "$work/policy.yaml"
for b in b1 b2 b3; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$b" python3 "$here/lb_tools.py" server "$b" 8080
done
for b in b1 b2 b3; do
  deadline=$((SECONDS + 10))
  until ovl_in "$b" ss -Hltn | grep -q ':8080 '; do
    [ $SECONDS -lt $deadline ] || fail "server of $b not listening"
    sleep 0.1
  done
done
for v in c1 c2 cx b1 b2 b3; do
  ovl_wait_ping "$v" "$(ovl_in "$v" ip -4 route show default | awk '{print $3}')" 60 ||
    fail "$v never got an answer from its gateway"
done
# Until each client's first connection through the VIP passes (the first
# packets to a peer node are lost while its underlay MAC resolves).
for c in c1 c2; do
  deadline=$((SECONDS + 30))
  until [ "$(tools "$c" spread $VIP 80 1 30000 | jq .failed)" = 0 ]; do
    [ $SECONDS -lt $deadline ] || fail "$c never reached the VIP: A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
  done
done

echo "== 300 connections from two clients, by weight 1:1:2"
s1=$(tools c1 spread $VIP 80 150 20000)
s2=$(tools c2 spread $VIP 80 150 20000)
echo "c1 $s1"
echo "c2 $s2"
total=$(jq -s '{b1: ((.[0].b1 // 0) + (.[1].b1 // 0)), b2: ((.[0].b2 // 0) + (.[1].b2 // 0)),
                b3: ((.[0].b3 // 0) + (.[1].b3 // 0)), failed: (.[0].failed + .[1].failed)}' <<<"$s1 $s2")
echo "distribution: $total (expected b1 75, b2 75, b3 150, each +-20 %)"
[ "$(jq .failed <<<"$total")" = 0 ] || fail "connections failed: $total"
for want in b1:75 b2:75 b3:150; do
  n=$(jq ".${want%%:*}" <<<"$total") exp=${want#*:}
  [ $((n * 100)) -ge $((exp * 80)) ] && [ $((n * 100)) -le $((exp * 120)) ] ||
    fail "${want%%:*} got $n connections, expected $exp +-20 %"
done

echo "== hairpin: a backend reaching its own VIP"
h=$(tools b1 spread $VIP 80 40 21000)
echo "b1 $h"
[ "$(jq .failed <<<"$h")" = 0 ] || fail "hairpin connections failed: $h"
[ "$(jq '.b1 // 0' <<<"$h")" -gt 0 ] || fail "b1 was never chosen for itself: $h"

echo "== a client whose security group does not allow the VIP"
before=$(ovl_drops "$A" sg_egress_denied)
r=$(tools cx spread $VIP 80 2 22000)
[ "$(jq .failed <<<"$r")" = 2 ] || fail "cx reached the VIP: $r"
after=$(ovl_drops "$A" sg_egress_denied)
[ "$after" -gt "$before" ] || fail "sg_egress_denied did not count cx's SYNs ($before -> $after)"

echo "== a long-lived connection keeps its backend while another is removed"
reload() {  # the backends' YAML list: both nodes take the new policy
  policy "$1" >"$work/policy.yaml"
  local n v0
  for n in "$A" "$B"; do
    v0=$(ovl_stats "$n" | jq .policy_version)
    kill -HUP "${OVL_PID[$n]}"
    local deadline=$((SECONDS + 10))
    until [ "$(ovl_stats "$n" | jq .policy_version)" -gt "$v0" ]; do
      [ $SECONDS -lt $deadline ] || fail "$n did not take the new policy"
      sleep 0.1
    done
  done
}
tools c1 hold $VIP 80 4 >"$work/hold.txt" &
hold_pid=$!
OVL_PIDS+=("$hold_pid")
deadline=$((SECONDS + 10))
until [ -s "$work/hold.txt" ]; do
  [ $SECONDS -lt $deadline ] || fail "the long-lived connection got no answer"
  sleep 0.1
done
held=$(head -n 1 "$work/hold.txt")
gone=b2; [ "$held" != b2 ] || gone=b3
echo "held by $held; removing $gone"
case $gone in
  b2) reload "[{port: b1, weight: 1}, {port: b3, weight: 2}]" ;;
  b3) reload "[{port: b1, weight: 1}, {port: b2, weight: 1}]" ;;
esac
s=$(tools c1 spread $VIP 80 60 23000)
echo "after removing $gone: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "connections failed after $gone was removed: $s"
[ "$(jq ".$gone // 0" <<<"$s")" = 0 ] || fail "$gone still chosen after its removal: $s"
wait "$hold_pid" || fail "the long-lived connection failed"
seen=$(tail -n 1 "$work/hold.txt")
[ "$seen" = "$held" ] || fail "the long-lived connection saw '$seen', not only '$held'"

echo "== the removed backend back"
reload "$ALL"
s=$(tools c1 spread $VIP 80 60 24000)
echo "after $gone came back: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "connections failed after $gone came back: $s"
[ "$(jq ".$gone // 0" <<<"$s")" -gt 0 ] || fail "$gone not chosen again: $s"

for n in "$A" "$B"; do
  ie=$(ovl_drops "$n" internal_error)
  [ "$ie" = 0 ] || fail "$n: internal_error $ie"
done
echo "PASS"
