#!/usr/bin/env bash
# End-to-end test of the L2 overlay: two weftd nodes in standalone mode
# (--policy), joined by a bridged veth underlay, each with VMs (network
# namespaces) on af_packet vNICs, plus a Linux kernel vxlan device as a
# foreign VTEP. Checks, with real ping, TCP and UDP:
#
#   - VMs on different nodes in one subnet reach each other (ping, a TCP
#     transfer checked byte for byte, TCP and UDP with iperf3);
#   - the underlay carries VXLAN with the network's VNI (tcpdump);
#   - a VM of another network, in the same IP range, reaches none of them,
#     while its own network, holding one of their addresses, works;
#   - a spoofed source MAC or IP from a VM is dropped and counted;
#   - the kernel VTEP and a weftd-hosted VM ping each other both ways;
#   - a tunnel packet from an address that is no node's VTEP is counted;
#   - SIGHUP applies a changed policy and keeps the old one over an invalid one;
#   - an invalid policy, or one without this node, refuses the start.
#
#   overlay_l2.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wto-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue wto tcpdump iperf3 nc ethtool jq bridge
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

A="wto$$a" B="wto$$b" K="wto$$k"   # node names: unique per run (DPDK file prefixes)
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
  - {name: $K, underlay_ip: 172.31.0.3}    # the kernel VTEP
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
  - {name: blue, vni: 1002, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-a, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: red-b, network: red, subnet: s, node: $B, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [open]}
  - {name: red-k, network: red, subnet: s, node: $K, ip: 10.0.1.30, mac: "02:00:0a:00:01:1e", security_groups: [open]}
  # blue: the same range; blue-b even holds red-a's address.
  - {name: blue-a, network: blue, subnet: s, node: $A, ip: 10.0.1.20, mac: "02:00:0b:00:01:14", security_groups: [open]}
  - {name: blue-b, network: blue, subnet: s, node: $B, ip: 10.0.1.10, mac: "02:00:0b:00:01:0a", security_groups: [open]}
YAML

echo "== an invalid policy refuses the start, with its diagnostics"
refused() {  # node policy pattern
  printf 'node: %s\nunderlay: {device: "net_null0", ip: 172.31.0.1/24}\ncontrol_socket: %s\n' \
    "$1" "$work/refused.sock" >"$work/refused.yaml"
  local rc=0
  "$WEFTD" --config "$work/refused.yaml" --policy "$2" >"$work/refused.log" 2>&1 || rc=$?
  [ $rc -eq 2 ] || fail "weftd started (exit $rc) with $2: $(cat "$work/refused.log")"
  grep -q "$3" "$work/refused.log" || fail "no '$3' in: $(cat "$work/refused.log")"
  grep -q "not starting" "$work/refused.log" || fail "no refusal in: $(cat "$work/refused.log")"
}
printf 'version: 1\nnodes:\n  - {name: %s, underlay_ip: 172.31.0.1, vtep: 1}\n' "$A" >"$work/bad.yaml"
refused "$A" "$work/bad.yaml" "bad.yaml:3:.*: error: unknown key 'vtep'"
refused "$A" "$work/nowhere.yaml" "nowhere.yaml"
refused wto-stranger "$work/policy.yaml" "the policy does not name node 'wto-stranger'"

echo "== topology"
ovl_underlay
ovl_vm ra 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm rb 10.0.1.11/24 02:00:0a:00:01:0b 1450
ovl_vm ba 10.0.1.20/24 02:00:0b:00:01:14 1450
ovl_vm bb 10.0.1.10/24 02:00:0b:00:01:0a 1450
ovl_kernel_vtep kv 172.31.0.3/24 1001 10.0.1.30/24 02:00:0a:00:01:1e 172.31.0.1 172.31.0.2
ovl_weftd "$A" a 172.31.0.1/24 ra:red-a ba:blue-a -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 rb:red-b bb:blue-b -- "$work/policy.yaml"
for n in "$A" "$B"; do
  [ "$(ovl_stats "$n" | jq '.policy_version')" -eq 1 ] || fail "$n: no policy in force"
done

echo "== ping across nodes in one subnet"
ovl_wait_ping ra 10.0.1.11 60 || fail "red-a never reached red-b: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
ovl_in ra ping -c 3 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "red-a -> red-b"
ovl_in rb ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "red-b -> red-a"
ovl_wait_ping ba 10.0.1.10 30 || fail "blue-a never reached blue-b"
mac_of() { ovl_in "$1" ip -j neigh show "$2" dev eth0 | jq -r '.[0].lladdr'; }
[ "$(mac_of ba 10.0.1.10)" = 02:00:0b:00:01:0a ] || fail "blue-a resolved 10.0.1.10 to $(mac_of ba 10.0.1.10), not blue-b"
[ "$(mac_of ra 10.0.1.11)" = 02:00:0a:00:01:0b ] || fail "red-a resolved 10.0.1.11 to $(mac_of ra 10.0.1.11)"

echo "== the underlay carries VXLAN with the network's VNI"
ovl_capture "$OVL_UL" br0 "$work/vxlan.txt" -c 4 'udp port 4789' || fail "tcpdump on the underlay"
tcpdump_pid=$OVL_CAPTURE_PID
ovl_in ra ping -c 3 -i 0.2 -W 1 10.0.1.11 >/dev/null || true
ovl_in ba ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || true
for _ in $(seq 50); do kill -0 "$tcpdump_pid" 2>/dev/null || break; sleep 0.1; done
cat "$work/vxlan.txt"
grep -q "VXLAN, flags \[I\] (0x08), vni 1001" "$work/vxlan.txt" || fail "no VXLAN with VNI 1001 on the underlay"
grep -q "172.31.0.1.[0-9]* > 172.31.0.2.4789" "$work/vxlan.txt" || fail "no VTEP-to-VTEP UDP/4789 packet"

echo "== TCP: a transfer checked byte for byte, and iperf3"
head -c 2000000 /dev/urandom >"$work/blob"
ovl_in rb nc -l -N 10.0.1.11 7000 >"$work/blob.rx" &
nc_pid=$!
OVL_PIDS+=("$nc_pid")
for _ in $(seq 50); do ovl_in rb ss -ltn | grep -q ':7000' && break; sleep 0.1; done
ovl_in ra timeout 30 nc -N 10.0.1.11 7000 <"$work/blob" || fail "nc transfer"
wait "$nc_pid" || true
cmp -s "$work/blob" "$work/blob.rx" || fail "TCP transfer corrupted: $(stat -c %s "$work/blob.rx") bytes arrived"
ovl_in rb iperf3 -s -1 -D -I "$work/iperf.pid" >/dev/null
for _ in $(seq 50); do [ -s "$work/iperf.pid" ] && ovl_in rb ss -ltn | grep -q ':5201' && break; sleep 0.1; done
OVL_PIDS+=("$(cat "$work/iperf.pid")")
ovl_in ra iperf3 -c 10.0.1.11 -t 2 -J >"$work/tcp.json" || fail "iperf3 TCP: $(cat "$work/tcp.json")"
echo "TCP: $(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$work/tcp.json") Mbit/s"
[ "$(jq '.end.sum_received.bytes' "$work/tcp.json")" -gt 0 ] || fail "iperf3 TCP moved nothing"

echo "== UDP"
ovl_in rb iperf3 -s -1 -D -p 5202 -I "$work/iperf-udp.pid" >/dev/null
for _ in $(seq 50); do [ -s "$work/iperf-udp.pid" ] && ovl_in rb ss -ltn | grep -q ':5202' && break; sleep 0.1; done
OVL_PIDS+=("$(cat "$work/iperf-udp.pid")")
ovl_in ra iperf3 -c 10.0.1.11 -p 5202 -u -b 20M -l 1200 -t 2 -J >"$work/udp.json" || fail "iperf3 UDP: $(cat "$work/udp.json")"
received=$(jq '.end.sum.packets - .end.sum.lost_packets' "$work/udp.json")
sent=$(jq '.end.sum.packets' "$work/udp.json")
echo "UDP: $received of $sent datagrams arrived"
# 20 Mbit/s is far below what the path carries: a loss of more than a few
# percent is a fault, not congestion.
[ "$sent" -gt 0 ] && [ $((received * 100)) -ge $((sent * 90)) ] || fail "UDP: only $received of $sent datagrams arrived"

echo "== isolation: blue, in the same range, reaches no red VM"
ovl_in ra ip neigh flush dev eth0
ovl_in rb ip neigh flush dev eth0
ovl_capture "${OVL_PREFIX}ra" eth0 "$work/leak-ra.txt" 'ether src 02:00:0b:00:01:14' || fail "tcpdump in red-a"
ovl_capture "${OVL_PREFIX}rb" eth0 "$work/leak-rb.txt" 'ether src 02:00:0b:00:01:14' || fail "tcpdump in red-b"
ovl_in ba ping -c 2 -i 0.2 -W 1 10.0.1.11 >/dev/null 2>&1 && fail "blue-a reached 10.0.1.11 (red-b's address)"
ovl_in ba ping -c 2 -i 0.2 -W 1 10.0.1.30 >/dev/null 2>&1 && fail "blue-a reached the kernel VTEP's red endpoint"
ovl_in ba ping -c 2 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "blue-a no longer reaches blue-b"
sleep 0.5
[ ! -s "$work/leak-ra.txt" ] || fail "a blue frame reached red-a: $(cat "$work/leak-ra.txt")"
[ ! -s "$work/leak-rb.txt" ] || fail "a blue frame reached red-b: $(cat "$work/leak-rb.txt")"

echo "== port security: spoofed source IP and MAC are dropped and counted"
# A static neighbor: every spoofed ping leaves at once, none waits on ARP.
ovl_in ra ip neigh replace 10.0.1.11 lladdr 02:00:0a:00:01:0b dev eth0
before=$(ovl_drops "$A" portsec_ip)
ovl_in ra ip addr add 10.0.1.99/32 dev eth0
ovl_in ra ping -c 3 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.11 >/dev/null 2>&1 && fail "a spoofed source IP got through"
ovl_in ra ip addr del 10.0.1.99/32 dev eth0
after=$(ovl_drops "$A" portsec_ip)
echo "portsec_ip: $before -> $after"
[ $((after - before)) -ge 3 ] || fail "portsec_ip counted $((after - before)) drops for 3 spoofed pings"
before=$(ovl_drops "$A" portsec_mac)
ovl_in ra ip link set eth0 address 02:00:0a:00:01:ff
ovl_in ra ip neigh replace 10.0.1.11 lladdr 02:00:0a:00:01:0b dev eth0  # a new MAC flushed it
ovl_in ra ping -c 3 -i 0.2 -W 1 10.0.1.11 >/dev/null 2>&1 && fail "a spoofed source MAC got through"
ovl_in ra ip link set eth0 address 02:00:0a:00:01:0a
after=$(ovl_drops "$A" portsec_mac)
echo "portsec_mac: $before -> $after"
[ $((after - before)) -ge 3 ] || fail "portsec_mac counted $((after - before)) drops for 3 spoofed pings"
ovl_wait_ping ra 10.0.1.11 10 || fail "red-a lost its connectivity after the spoofing"

echo "== interop: a Linux kernel VTEP"
ovl_wait_ping kv 10.0.1.10 30 || fail "the kernel VTEP never reached red-a: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
ovl_in kv ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "kernel VTEP -> red-a"
ovl_in ra ping -c 3 -i 0.2 -W 1 10.0.1.30 >/dev/null || fail "red-a -> kernel VTEP"
ovl_wait_ping kv 10.0.1.11 30 || fail "the kernel VTEP never reached red-b"
ovl_in rb ping -c 3 -i 0.2 -W 1 10.0.1.30 >/dev/null || fail "red-b -> kernel VTEP"

echo "== a forged tunnel packet is dropped and counted"
before=$(ovl_drops "$A" vxlan_unknown_vtep)
# Another kernel VTEP, at an address that is no node's, in red's VNI.
ovl_kernel_vtep fg 172.31.0.66/24 1001 10.0.1.66/24 02:00:0a:00:01:42 172.31.0.1
ovl_in fg ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null 2>&1 && fail "a forged tunnel reached red-a"
after=$(ovl_drops "$A" vxlan_unknown_vtep)
echo "vxlan_unknown_vtep: $before -> $after"
[ $((after - before)) -ge 1 ] || fail "no forged tunnel packet was counted"

echo "== a policy change takes effect on SIGHUP, an invalid one does not"
version() { ovl_stats "$1" | jq '.policy_version'; }
cp "$work/policy.yaml" "$work/policy.good"
echo "ports: [oops" >>"$work/policy.yaml"
kill -HUP "${OVL_PID[$A]}"
deadline=$((SECONDS + 10))
until grep -q "stays in force" "$work/$A.log"; do
  [ $SECONDS -lt $deadline ] || fail "no word on the invalid policy: $(tail -5 "$work/$A.log")"
  sleep 0.1
done
[ "$(version "$A")" -eq 1 ] || fail "an invalid policy replaced version 1"
# red-a may now also use 10.0.1.99.
sed 's/ip: 10.0.1.10, mac: "02:00:0a:00:01:0a"/&, allowed_addresses: [10.0.1.99]/' "$work/policy.good" >"$work/policy.yaml"
kill -HUP "${OVL_PID[$A]}"
deadline=$((SECONDS + 10))
until [ "$(version "$A")" -eq 2 ]; do
  [ $SECONDS -lt $deadline ] || fail "policy version 2 never took effect: $(tail -5 "$work/$A.log")"
  sleep 0.1
done
ovl_in ra ip addr add 10.0.1.99/32 dev eth0
ovl_wait_ping ra 10.0.1.11 10 || fail "red-a lost red-b across the reload"
ovl_in ra ping -c 2 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.11 >/dev/null || fail "the new allowed address does not pass"

echo "== counters"
for n in "$A" "$B"; do "$WEFTCTL" node stats --socket "${OVL_SOCK[$n]}" | sed "s/^/$n  /"; done
echo "PASS"
