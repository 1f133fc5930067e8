#!/usr/bin/env bash
# End-to-end test of translated connections with two workers per node
# (dpdk.lcores "0,0-1", two queue pairs on every port): a translated
# connection's replies carry another tuple than its packets out, and must
# still reach the worker that holds it (dataplane/handoff/conn_owner.h,
# gateway/nat.h). Two standalone nodes (overlay_lib.sh); node A hosts the
# gateway, its external port on a veth into an "internet" namespace whose
# eth0 is the next hop (203.0.113.1) and runs a server:
#
#   - load balancer: 60 connections from c1 (node A) to a VIP whose
#     backends are b1 (node A) and b2 (node B) all answered, by both; a
#     hairpin (b1 to its own VIP) too;
#   - SNAT: 40 connections from c1 to the internet server, all answered,
#     seen from the SNAT address;
#   - floating IP: 30 connections from the internet to pa's floating IP
#     203.0.113.10 all answered by pa, and pa's own connection seen as it;
#   - each worker of each node received traffic and packets were handed
#     over (ovl_check_workers); no internal_error.
#
#   workers_translate.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wx-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue wx python3 ethtool jq ss
work=$OVL_WORK
export OVL_LCORES="0,0-1"
export OVL_UNDERLAY_DEVARGS=",qpairs=2"

fail() { echo "FAIL: $*"; exit 1; }
lb() { local l=$1; shift; ovl_in "$l" python3 "$here/lb_tools.py" "$@"; }
gw() { local l=$1; shift; ovl_in "$l" python3 "$here/gateway_tools.py" "$@"; }
drops() { echo "A $(ovl_nonzero_drops "$A") B $(ovl_nonzero_drops "$B")"; }
listening() {  # LABEL PORT: waits for a TCP server
  local deadline=$((SECONDS + 20))
  until ovl_in "$1" ss -Hltn | grep -q ":$2 "; do
    [ $SECONDS -lt $deadline ] || fail "$1: nothing listens on $2"
    sleep 0.1
  done
}

A="wx$$a" B="wx$$b"
VIP=10.0.1.100
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 3201
    subnets:
      - {name: priv, cidr: 10.0.1.0/24}
      - {name: pub, cidr: 10.0.2.0/24, public: true}
security_groups:
  - name: srv
    ingress: [{protocol: icmp, from: 0.0.0.0/0}, {protocol: tcp, ports: 8080, from: 10.0.0.0/16}]
  - name: web
    ingress: [{protocol: icmp, from: 0.0.0.0/0}, {protocol: tcp, ports: 7000, from: 0.0.0.0/0}]
ports:
  - {name: c1, network: red, subnet: priv, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a"}
  - {name: b1, network: red, subnet: priv, node: $A, ip: 10.0.1.21, mac: "02:00:0a:00:01:15", security_groups: [srv]}
  - {name: pa, network: red, subnet: pub, node: $A, ip: 10.0.2.10, mac: "02:00:0a:00:02:0a", security_groups: [web]}
  - {name: b2, network: red, subnet: priv, node: $B, ip: 10.0.1.22, mac: "02:00:0a:00:01:16", security_groups: [srv]}
load_balancers:
  - name: web
    network: red
    vip: $VIP
    listeners: [{protocol: tcp, port: 80, target_port: 8080}]
    backends: [{port: b1}, {port: b2}]
gateways:
  - name: edge
    node: $A
    external_cidr: 203.0.113.0/24
    external_ip: 203.0.113.2
    external_next_hop: 203.0.113.1
    networks: [red]
    floating_ips:
      - {ip: 203.0.113.10, port: pa}
YAML

echo "== topology: two workers per node"
ovl_underlay
ovl_vm c1 10.0.1.10/24 02:00:0a:00:01:0a 1450 10.0.1.1
ovl_vm b1 10.0.1.21/24 02:00:0a:00:01:15 1450 10.0.1.1
ovl_vm pa 10.0.2.10/24 02:00:0a:00:02:0a 1450 10.0.2.1
ovl_vm b2 10.0.1.22/24 02:00:0a:00:01:16 1450 10.0.1.1
ovl_netns "${OVL_PREFIX}inet"
ovl_veth "${OVL_PREFIX}x" "${OVL_PREFIX}inet" eth0
ip -n "${OVL_PREFIX}inet" addr add 203.0.113.1/24 dev eth0
ip netns exec "${OVL_PREFIX}inet" ethtool -K eth0 tx off >/dev/null
OVL_NODE_YAML="external: {device: \"net_af_packet1,iface=${OVL_PREFIX}x,qpairs=2\"}" \
  ovl_weftd "$A" a 172.31.0.1/24 c1:c1 b1:b1 pa:pa -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 b2:b2 -- "$work/policy.yaml"
for b in b1 b2; do ovl_spawn ip netns exec "${OVL_PREFIX}$b" python3 "$here/lb_tools.py" server "$b" 8080; done
ovl_spawn ip netns exec "${OVL_PREFIX}pa" python3 "$here/lb_tools.py" server pa 7000
ovl_spawn ip netns exec "${OVL_PREFIX}inet" python3 "$here/lb_tools.py" server inet 7100
ovl_spawn ip netns exec "${OVL_PREFIX}inet" python3 "$here/gateway_tools.py" whoami 7101
for s in b1:8080 b2:8080 pa:7000 inet:7100 inet:7101; do listening "${s%:*}" "${s#*:}"; done
for v in c1 b1 pa b2; do
  ovl_wait_ping "$v" "$(ovl_in "$v" ip -4 route show default | awk '{print $3}')" 60 ||
    fail "$v never got an answer from its gateway: $(drops)"
done
ovl_wait_ping c1 10.0.1.22 30 || fail "c1 never reached b2 on node B: $(drops)"
ovl_wait_ping c1 203.0.113.1 30 || fail "c1 never reached the internet: $(drops)"

echo "== load balancer: 60 connections to the VIP, a hairpin"
s=$(lb c1 spread $VIP 80 60 20000)
echo "  c1: $s"
[ "$(jq .failed <<<"$s")" = 0 ] || fail "connections to the VIP failed: $s; $(drops)"
[ "$(jq '.b1 // 0' <<<"$s")" -gt 0 ] && [ "$(jq '.b2 // 0' <<<"$s")" -gt 0 ] || fail "not both backends answered: $s"
h=$(lb b1 spread $VIP 80 20 21000)
echo "  b1 (hairpin): $h"
[ "$(jq .failed <<<"$h")" = 0 ] || fail "hairpin connections failed: $h; $(drops)"

echo "== SNAT: 40 connections to the internet"
seen=$(gw c1 ask 203.0.113.1 7101) || fail "c1 -> internet: no answer: $(drops)"
echo "  c1 is seen as $seen"
[ "${seen%:*}" = 203.0.113.2 ] || fail "c1 was seen as $seen, not the SNAT address"
s=$(lb c1 spread 203.0.113.1 7100 40 22000)
echo "  c1: $s"
[ "$(jq .failed <<<"$s")" = 0 ] && [ "$(jq '.inet // 0' <<<"$s")" = 40 ] || fail "SNAT connections failed: $s; $(drops)"

echo "== floating IP: 30 connections in, one out"
s=$(lb inet spread 203.0.113.10 7000 30 23000)
echo "  internet: $s"
[ "$(jq .failed <<<"$s")" = 0 ] && [ "$(jq '.pa // 0' <<<"$s")" = 30 ] || fail "connections to the floating IP failed: $s; $(drops)"
seen=$(gw pa ask 203.0.113.1 7101) || fail "pa -> internet: no answer: $(drops)"
echo "  pa is seen as $seen"
[ "${seen%:*}" = 203.0.113.10 ] || fail "pa was seen as $seen, not its floating IP"

echo "== both workers of each node worked, and nothing went wrong"
ovl_check_workers "$A" "$B" || fail "the traffic did not spread over the workers"
for n in "$A" "$B"; do
  ie=$(ovl_drops "$n" internal_error)
  [ "$ie" = 0 ] || fail "$n: internal_error $ie"
  echo "  $n drops: $(ovl_nonzero_drops "$n")"
done
echo "PASS"
