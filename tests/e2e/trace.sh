#!/usr/bin/env bash
# End-to-end test of `weftctl trace --socket`: a standalone weftd with two
# VMs (network namespaces on af_packet vNICs) and security groups, VM a
# pinging VM b, then live traces through weftd's control socket:
#
#   - an allowed connection is traced stage by stage to "delivered to port
#     vm-b", naming the security rule and the route with their policy
#     FILE:LINE:COLUMN; a denied one to "dropped ... sg_ingress_denied";
#     --reply traces the answer of the connection the packet opens;
#   - the live verdicts are the offline ones (`weftctl trace POLICY`);
#   - the traces transmit nothing (a capture in VM b sees no TCP), count
#     nothing (drops and per-port denials as before) and leave no
#     connection in the workers' tables (`weftctl node conns`).
#
#   trace.sh WEFTD WEFTCTL       (root; exits 77 = skipped otherwise)
#
# Everything it creates is named tr-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue tr jq tcpdump ethtool
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

A="tr$$a"
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - name: web
    ingress:
      - {protocol: icmp, from: 0.0.0.0/0}
  - name: db
    ingress:
      - {protocol: icmp, from: 0.0.0.0/0}
      - {protocol: tcp, ports: 5432, from_group: web}
ports:
  - {name: vm-a, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [web]}
  - {name: vm-b, network: red, subnet: s, node: $A, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [db]}
YAML
# The line of db's tcp rule, which the traces must name.
rule_line="$work/policy.yaml:13:9"

echo "== weftd, vm-a pings vm-b"
ovl_underlay
ovl_vm va 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm vb 10.0.1.11/24 02:00:0a:00:01:0b 1450
ovl_weftd "$A" a 172.31.0.1/24 va:vm-a vb:vm-b -- "$work/policy.yaml" || fail "weftd did not start"
sock=${OVL_SOCK[$A]}
ovl_wait_ping va 10.0.1.11 60 || fail "vm-a never reached vm-b"

snapshot() {  # what a trace must not change
  ovl_stats "$A" | jq -c '{drops: [.drops[] | select(.count > 0)],
                            denied: [.ports[] | {name, sg_ingress_denied, sg_egress_denied}]}'
  "$WEFTCTL" node conns --socket "$sock" --proto tcp --json | jq -c '[.connections[]?]'
}
ovl_capture "${OVL_PREFIX}vb" eth0 "$work/vb.txt" tcp
before=$(snapshot)

echo "== live: an allowed connection"
"$WEFTCTL" trace --socket "$sock" --from vm-a 'tcp 10.0.1.10:40000 > 10.0.1.11:5432' | tee "$work/allowed.txt"
grep -q "verdict: delivered to port vm-b on $A" "$work/allowed.txt" || fail "the allowed connection is not delivered"
grep -q "security_group .*commit .*ingress: port vm-b allowed by group db ingress rule 2 ($rule_line)" "$work/allowed.txt" ||
  fail "the security-group step does not name db's rule at $rule_line"
for stage in parse policy_gate ingress port_security flow_lookup l2_lookup security_group flow_commit; do
  grep -q "^  $stage " "$work/allowed.txt" || fail "no line for stage $stage"
done

echo "== live: a denied connection"
"$WEFTCTL" trace --socket "$sock" --from vm-a 'tcp 10.0.1.10:40000 > 10.0.1.11:22' | tee "$work/denied.txt"
grep -q "verdict: dropped by security_group: sg_ingress_denied" "$work/denied.txt" || fail "the denied connection is not dropped"
grep -q "no ingress rule of port vm-b's groups allows it" "$work/denied.txt" || fail "the denial does not say whose rules refused it"

echo "== live: the reply of the allowed connection"
"$WEFTCTL" trace --socket "$sock" --from vm-a --reply 'tcp 10.0.1.10:40000 > 10.0.1.11:5432' | tee "$work/reply.txt"
grep -q "sent by vm-b (the reply of an established connection)" "$work/reply.txt" || fail "--reply did not trace vm-b's answer"
grep -q "verdict: delivered to port vm-a" "$work/reply.txt" || fail "the reply is not delivered"

echo "== live: ICMP, a VLAN tag, and bad requests"
"$WEFTCTL" trace --socket "$sock" 'icmp 10.0.1.10 > 10.0.1.11' | grep -q "verdict: delivered to port vm-b" || fail "ping is not delivered"
"$WEFTCTL" trace --socket "$sock" 'icmp 10.0.1.10 > 10.0.1.11 vlan 7' --json | jq -e '.[0].verdict | length > 0' >/dev/null ||
  fail "a tagged frame has no verdict"
if "$WEFTCTL" trace --socket "$sock" --from nope 'icmp 10.0.1.10 > 10.0.1.11' 2>"$work/err.txt"; then fail "an unknown sender is traced"; fi
grep -q "'nope'" "$work/err.txt" || fail "the error does not name the port: $(cat "$work/err.txt")"
if "$WEFTCTL" trace --socket "$sock" 'tcp 10.0.1.10 > 10.0.1.11:1' 2>/dev/null; then fail "a packet without a port is traced"; fi

echo "== live and offline agree"
for pkt in 'tcp 10.0.1.10:40000 > 10.0.1.11:5432' 'tcp 10.0.1.10:40000 > 10.0.1.11:22' 'tcp 10.0.1.11:40000 > 10.0.1.10:80'; do
  live=$("$WEFTCTL" trace --socket "$sock" --json "$pkt" | jq -c '[.[].verdict[] | select(.packet == 0)]')
  offline=$("$WEFTCTL" trace "$work/policy.yaml" --json "$pkt" | jq -c '[.[-1].verdict[] | select(.packet == 0)]')
  [ "$live" = "$offline" ] || fail "'$pkt': live $live, offline $offline"
  echo "$pkt: $live"
done

echo "== the traces transmitted nothing, counted nothing, left no connection"
sleep 1
after=$(snapshot)
[ "$before" = "$after" ] || fail "the traces changed the node's state:"$'\n'"before $before"$'\n'"after  $after"
! grep -q "IP " "$work/vb.txt" || fail "vm-b received TCP during the traces: $(cat "$work/vb.txt")"
# The same denied connection for real is counted: the check above can fail.
ovl_in va timeout 3 bash -c 'exec 3<>/dev/tcp/10.0.1.11/22' 2>/dev/null && fail "port 22 is open"
deadline=$((SECONDS + 5))
until [ "$(snapshot)" != "$before" ]; do
  [ $SECONDS -lt $deadline ] || fail "a real denied connection did not change the counters either"
  sleep 0.2
done
echo "PASS"
