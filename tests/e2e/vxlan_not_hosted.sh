#!/usr/bin/env bash
# End-to-end test of decap's membership check (issue 17, item 3): a real
# peer VTEP, a Linux kernel vxlan device in a namespace on the underlay
# (overlay_lib.sh), is a node of the policy that hosts a port of network red
# but none of blue. Its red traffic reaches weftd's red VM; the same peer
# sending blue's VNI (a second kernel vxlan device, pinging blue's VM) is
# dropped and counted as vxlan_vni_not_hosted, and blue's VM receives
# nothing of it.
#
#   vxlan_not_hosted.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wtv-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2

source "$(dirname "$0")/overlay_lib.sh"
OVL_DUMP=("*.log" "*.txt")
ovl_prologue wtv ethtool jq bridge tcpdump
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

A="wtv$$a" K="wtv$$k"   # node names: unique per run (DPDK file prefixes)
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $K, underlay_ip: 172.31.0.3}    # the kernel VTEP
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
  - {name: blue, vni: 1002, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-a, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: red-k, network: red, subnet: s, node: $K, ip: 10.0.1.30, mac: "02:00:0a:00:01:1e", security_groups: [open]}
  # blue lives on node A alone: K hosts none of it.
  - {name: blue-a, network: blue, subnet: s, node: $A, ip: 10.0.1.20, mac: "02:00:0b:00:01:14", security_groups: [open]}
YAML

echo "== topology: weftd $A, kernel VTEP $K (red only)"
ovl_underlay
ovl_vm ra 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm ba 10.0.1.20/24 02:00:0b:00:01:14 1450
ovl_weftd "$A" a 172.31.0.1/24 ra:red-a ba:blue-a -- "$work/policy.yaml"
ovl_kernel_vtep kv 172.31.0.3/24 1001 10.0.1.30/24 02:00:0a:00:01:1e 172.31.0.1

echo "== the peer's own network passes"
ovl_wait_ping kv 10.0.1.10 30 || fail "the kernel VTEP never reached red-a: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
[ "$(ovl_drops "$A" vxlan_vni_not_hosted)" = 0 ] || fail "red from its own peer counted as not hosted"

echo "== the peer sends blue's VNI"
# A second kernel vxlan device on the same VTEP address, for blue's VNI
# (its own address off red's subnet, and a host route to blue-a).
kns="${OVL_PREFIX}kv"
ip -n "$kns" link add vx1 type vxlan id 1002 local 172.31.0.3 dstport 4789 dev eth0
bridge -n "$kns" fdb append 00:00:00:00:00:00 dev vx1 dst 172.31.0.1
ip -n "$kns" link set vx1 address 02:00:0b:00:01:63
ip -n "$kns" addr add 10.0.2.99/24 dev vx1
ip -n "$kns" link set vx1 up
ip netns exec "$kns" ethtool -K vx1 tx off >/dev/null
# blue-a listens: nothing from the peer may reach it.
ovl_capture "${OVL_PREFIX}ba" eth0 "$work/ba.txt" "not ether src 02:00:0b:00:01:14"
capture=$OVL_CAPTURE_PID
# First ARP requests (broadcast), then, with blue-a's MAC as a static
# neighbor, unicast pings: both on blue's VNI.
ip -n "$kns" route add 10.0.1.20/32 dev vx1
ip netns exec "$kns" ping -c 5 -i 0.2 -W 1 -I vx1 10.0.1.20 >/dev/null 2>&1 && fail "the peer reached blue-a"
ip netns exec "$kns" ip neigh replace 10.0.1.20 lladdr 02:00:0b:00:01:14 dev vx1
ip netns exec "$kns" ping -c 5 -i 0.2 -W 1 -I vx1 10.0.1.20 >/dev/null 2>&1 && fail "the peer reached blue-a"
sleep 0.5
kill -TERM "$capture" 2>/dev/null || true
wait "$capture" 2>/dev/null || true
dropped=$(ovl_drops "$A" vxlan_vni_not_hosted)
echo "vxlan_vni_not_hosted: $dropped"
[ "$dropped" -ge 5 ] || fail "blue from a peer that does not host it not counted: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
if grep -q . "$work/ba.txt"; then fail "blue-a received the peer's frames: $(head -5 "$work/ba.txt")"; fi

echo "== and red still passes"
ovl_in kv ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "kernel VTEP -> red-a after the blue attempt"
echo "PASS"
