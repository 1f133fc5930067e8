#!/usr/bin/env bash
# The af_xdp uplink on a NIC shared with the host (issue 18). A "host"
# namespace owns the uplink netdev with its own address, runs a TCP server
# and a kernel vxlan device on it, and runs weftd with the uplink as
# `net_af_xdp` (weftd's XDP program steers) and a VM on a vNIC of kind
# $VNIC (default af_xdp). Checks, with real traffic from a Linux kernel VTEP
# on the same underlay:
#
#   - the overlay works over the uplink: the VM and the kernel VTEP's
#     endpoint ping each other and move TCP data;
#   - at the same time the host answers ping and serves TCP on the uplink's
#     own address, and weftd never sees that traffic (its underlay rx count);
#   - VXLAN to the host's address (its own vxlan device) is not stolen;
#   - after SIGKILL the stale program passes everything to the host, the
#     next weftd replaces it and forwards again; SIGTERM detaches it;
#   - a foreign XDP program on the uplink refuses the start.
#
#   xdp_uplink.sh WEFTD WEFTCTL    (root; exits 77 = skipped otherwise)
#   VNIC=af_packet xdp_uplink.sh ...    the VM on an af_packet vNIC
#   HX_MEASURE=1 xdp_uplink.sh ...      also print ping RTT and iperf3 rates
#
# Everything it creates is named hx-<pid>-* / hx<pid>* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
VNIC=${VNIC:-af_xdp}
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue hx nc jq ethtool bridge clang
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

A="hx$$a" K="hx$$k"
H="${OVL_PREFIX}h"    # the host that shares its uplink with weftd
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.11}
  - {name: $K, underlay_ip: 172.31.0.2}    # the kernel VTEP
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-a, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: red-k, network: red, subnet: s, node: $K, ip: 10.0.1.30, mac: "02:00:0a:00:01:1e", security_groups: [open]}
YAML

echo "== topology"
ovl_underlay
ovl_netns "$H"
# The host's uplink: ul0 in the host, its peer a port of the underlay bridge.
ip -n "$OVL_UL" link add hostul type veth peer name ul0 netns "$H"
ip -n "$OVL_UL" link set dev hostul master br0 up
ip -n "$H" link set ul0 up
ip -n "$H" addr add 172.31.0.1/24 dev ul0
# The VM, its vNIC's end moved from the root namespace into the host.
ovl_vm ra 10.0.1.10/24 02:00:0a:00:01:0a 1450
ip link set dev "${OVL_PREFIX}ra" netns "$H"
ip -n "$H" link set dev "${OVL_PREFIX}ra" up
ovl_kernel_vtep kv 172.31.0.2/24 1001 10.0.1.30/24 02:00:0a:00:01:1e 172.31.0.11
# The host's own VXLAN on its own address, and the kernel VTEP's side of it.
ip -n "$H" link add vxh type vxlan id 2002 local 172.31.0.1 remote 172.31.0.2 dstport 4789 dev ul0
ip -n "$H" addr add 10.99.0.1/24 dev vxh
ip -n "$H" link set vxh up
ovl_in kv ip link add vxk type vxlan id 2002 local 172.31.0.2 remote 172.31.0.1 dstport 4789 dev eth0
ovl_in kv ip addr add 10.99.0.2/24 dev vxk
ovl_in kv ip link set vxk up

sock="$work/$A.sock"
cat >"$work/$A.yaml" <<YAML
node: $A
underlay: {device: "net_af_xdp0,iface=ul0", ip: 172.31.0.11/24}
ports:
  red-a: {type: $VNIC, iface: ${OVL_PREFIX}ra}
dpdk: {lcores: "0,1", hugepages: true, memory_mb: 512}
control_socket: $sock
YAML
OVL_SOCK[$A]=$sock
pid=""
start_weftd() {
  ip netns exec "$H" "$WEFTD" --config "$work/$A.yaml" --policy "$work/policy.yaml" >>"$work/$A.log" 2>&1 &
  pid=$!
  OVL_PIDS+=("$pid")
  local deadline=$((SECONDS + 60))
  until "$WEFTCTL" node stats --socket "$sock" --json >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail "weftd exited: $(tail -20 "$work/$A.log")"
    [ $SECONDS -lt $deadline ] || fail "weftd: no control socket after 60 s"
    sleep 0.2
  done
}
xdp_on_uplink() { ip -n "$H" -d link show dev ul0 | grep "prog/xdp" >/dev/null; }
underlay_rx() { ovl_stats "$A" | jq '.ports[] | select(.name == "underlay") | .rx_packets'; }

start_weftd
xdp_on_uplink || fail "no XDP program on the uplink: $(ip -n "$H" -d link show dev ul0)"

echo "== the overlay works over the af_xdp uplink ($VNIC vNIC)"
ovl_wait_ping ra 10.0.1.30 60 || fail "VM cannot ping the kernel VTEP's endpoint"
ovl_in kv ping -c 3 -W 2 10.0.1.10 >/dev/null || fail "the kernel VTEP's endpoint cannot ping the VM"
head -c 1000000 /dev/urandom >"$work/blob"
ovl_in ra timeout 20 nc -l -p 5001 -N >"$work/got" &
OVL_PIDS+=($!)
sleep 0.5
ovl_in kv timeout 20 nc -N 10.0.1.10 5001 <"$work/blob" || fail "TCP into the VM failed"
wait $! 2>/dev/null || true
cmp -s "$work/blob" "$work/got" || fail "TCP data over the overlay differs ($(stat -c %s "$work/got") bytes)"

if [ "${HX_MEASURE:-0}" = 1 ]; then
  ovl_in ra ping -q -c 50 -i 0.05 10.0.1.30 | tail -1 | sed "s/^/MEASURE $VNIC vNIC, af_xdp uplink: ping /"
  ovl_in kv iperf3 -s -1 -D -B 10.0.1.30 >/dev/null
  sleep 0.5
  ovl_in ra iperf3 -c 10.0.1.30 -t 5 -f m | grep -E "sender|receiver" | sed "s/^/MEASURE $VNIC vNIC: iperf3 /"
fi

echo "== the host keeps its own ping and TCP on the uplink's address; weftd sees none of it"
before=$(underlay_rx)
ip netns exec "$H" timeout 20 nc -l -s 172.31.0.1 -p 22 -N >"$work/host_got" &
OVL_PIDS+=($!)
sleep 0.5
ovl_in kv ping -q -c 200 -i 0.005 -W 1 172.31.0.1 >"$work/host_ping" || fail "host does not answer ping: $(cat "$work/host_ping")"
grep -q " 0% packet loss" "$work/host_ping" || fail "host ping lost packets: $(tail -2 "$work/host_ping")"
ovl_in kv timeout 20 nc -N 172.31.0.1 22 <"$work/blob" || fail "TCP to the host failed"
wait $! 2>/dev/null || true
cmp -s "$work/blob" "$work/host_got" || fail "TCP data to the host differs"
after=$(underlay_rx)
# 200 pings and ~700 TCP segments reached the host; weftd may see its own
# neighbor probe's ARP reply meanwhile, nothing more.
[ $((after - before)) -le 4 ] || fail "weftd's underlay received $((after - before)) packets of the host's traffic"
echo "host traffic: weftd underlay rx $before -> $after"

echo "== VXLAN to the host's address is the host's"
before=$(underlay_rx)
ovl_in kv ping -q -c 20 -i 0.02 -W 1 10.99.0.1 >"$work/vx_ping" || fail "the host's own VXLAN was stolen: $(cat "$work/vx_ping")"
after=$(underlay_rx)
[ $((after - before)) -le 2 ] || fail "weftd received $((after - before)) packets of the host's VXLAN"

echo "== SIGKILL leaves a program that passes everything; the next weftd replaces it"
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
xdp_on_uplink || fail "expected the killed weftd's program still attached"
ovl_in kv ping -c 3 -W 1 172.31.0.1 >/dev/null || fail "the stale program blackholes the host"
ovl_in kv ping -c 3 -W 1 10.99.0.1 >/dev/null || fail "the stale program blackholes the host's VXLAN"
start_weftd
ovl_wait_ping ra 10.0.1.30 60 || fail "no overlay after the restart over a stale program"

echo "== SIGTERM detaches the program"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "weftd exited $rc on SIGTERM"
if xdp_on_uplink; then fail "weftd left its XDP program on the uplink"; fi

echo "== a foreign XDP program on the uplink refuses the start"
cat >"$work/foreign.c" <<'C'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int someone_elses(struct xdp_md* ctx) { return XDP_PASS; }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch)" -c "$work/foreign.c" -o "$work/foreign.o"
ip -n "$H" link set dev ul0 xdp obj "$work/foreign.o" sec xdp
rc=0
ip netns exec "$H" "$WEFTD" --config "$work/$A.yaml" --policy "$work/policy.yaml" >"$work/foreign.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "weftd started over a foreign XDP program (exit $rc): $(cat "$work/foreign.log")"
grep -q "has XDP program 'someone_elses'" "$work/foreign.log" || fail "no clear refusal: $(cat "$work/foreign.log")"
xdp_on_uplink || fail "weftd removed someone else's XDP program"
ip -n "$H" link set dev ul0 xdp off
echo PASS
