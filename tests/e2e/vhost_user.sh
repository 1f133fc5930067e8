#!/usr/bin/env bash
# A real QEMU guest on a vhost-user vNIC (issue 18). The guest (Debian's
# kernel, a busybox initramfs: tests/e2e/guest_lib.sh; KVM when /dev/kvm is
# there, TCG otherwise) sits on node A's vhost_user port, its memory a shared
# memfd; a namespace VM sits on an af_packet port of the same weftd; another
# namespace VM sits on node B, a second weftd across the VXLAN overlay.
# Checks:
#
#   - the guest takes its policy address by DHCP from weftd;
#   - it pings, and takes TCP data from, node B's VM across the overlay
#     (byte count checked);
#   - the guest resets its virtio-net device (virtio_net reloaded, as a
#     reboot does) and is answered again;
#   - QEMU killed mid-stream: weftd keeps forwarding for its other port;
#   - QEMU started again on the same socket: the guest comes back;
#   - a port in client mode: QEMU serves the socket, weftd connects to it.
#
#   vhost_user.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named hxv-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
source "$(dirname "$0")/overlay_lib.sh"
source "$(dirname "$0")/guest_lib.sh"
ovl_prologue hxv qemu-system-x86_64 cpio nc jq ethtool bridge
OVL_DUMP=("*.log" "console.*")
OVL_DUMP_LINES=60
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

guest_build "$work/guest" || { echo "SKIP: $GUEST_WHY"; exit 77; }

A="hxv$$a" B="hxv$$b"
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-a, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: red-g, network: red, subnet: s, node: $A, ip: 10.0.1.12, mac: "02:00:0a:00:01:0c", security_groups: [open]}
  - {name: red-h, network: red, subnet: s, node: $A, ip: 10.0.1.13, mac: "02:00:0a:00:01:0d", security_groups: [open]}
  - {name: red-b, network: red, subnet: s, node: $B, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [open]}
YAML

echo "== topology"
ovl_underlay
ovl_vm ra 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm rb 10.0.1.11/24 02:00:0a:00:01:0b 1450
ovl_weftd "$B" b 172.31.0.2/24 rb:red-b -- "$work/policy.yaml"
uplink=$(ovl_uplink a)
vsock="$work/red-g.sock"
hsock="$work/red-h.sock"   # QEMU's, in client mode
sock="$work/$A.sock"
cat >"$work/$A.yaml" <<YAML
node: $A
underlay: {device: "net_af_packet0,iface=$uplink", ip: 172.31.0.1/24}
ports:
  red-a: {type: af_packet, iface: ${OVL_PREFIX}ra}
  red-g: {type: vhost_user, socket: $vsock}
  red-h: {type: vhost_user, socket: $hsock, client: true}
dpdk: {lcores: "0,1", hugepages: true, memory_mb: 512}
control_socket: $sock
YAML
OVL_SOCK[$A]=$sock
"$WEFTD" --config "$work/$A.yaml" --policy "$work/policy.yaml" >"$work/$A.log" 2>&1 &
wpid=$!
OVL_PIDS+=("$wpid")
deadline=$((SECONDS + 60))
until "$WEFTCTL" node stats --socket "$sock" --json >/dev/null 2>&1; do
  kill -0 "$wpid" 2>/dev/null || fail "weftd exited: $(cat "$work/$A.log")"
  [ $SECONDS -lt $deadline ] || fail "weftd: no control socket after 60 s"
  sleep 0.2
done
[ -S "$vsock" ] || fail "weftd did not create the vhost-user socket $vsock"
ovl_wait_ping ra 10.0.1.11 60 || fail "the namespace VM on A cannot reach the one on B"

echo "== the guest boots on the vhost-user port and pings across the overlay"
guest_start "$work/guest" "$vsock" 02:00:0a:00:01:0c dhcp 10.0.1.11 "$work/console.1"
OVL_PIDS+=("$GUEST_PID")
guest_wait "$work/console.1" WEFT-GUEST-UP 600 || fail "the guest did not come up"
grep -q "^WEFT-GUEST-UP 10.0.1.12/24" "$work/console.1" ||
  fail "the guest's DHCP lease is not its policy address: $(grep WEFT-GUEST-UP "$work/console.1")"
grep "^WEFT-GUEST-UP" "$work/console.1" | tr -d '\r'
guest_wait "$work/console.1" WEFT-GUEST-PING-OK 120 || fail "the guest gets no answer from 10.0.1.11"
guest_wait "$work/console.1" WEFT-GUEST-RTT 60 || fail "no RTT line"
grep "^WEFT-GUEST-RTT" "$work/console.1" | tr -d '\r'

echo "== TCP into the guest"
guest_wait "$work/console.1" WEFT-GUEST-LISTENING 60 || fail "the guest does not listen"
head -c 2000000 /dev/urandom >"$work/blob"
start=$(date +%s.%N)
deadline=$((SECONDS + 60))
until ovl_in rb timeout 60 nc -N 10.0.1.12 5001 <"$work/blob" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "cannot connect to the guest"
  sleep 0.5
  start=$(date +%s.%N)
done
end=$(date +%s.%N)
guest_wait "$work/console.1" WEFT-GUEST-TCP-BYTES 60 || fail "the guest did not finish receiving"
got=$(sed -n 's/^WEFT-GUEST-TCP-BYTES \([0-9]*\).*/\1/p' "$work/console.1")
[ "$got" = 2000000 ] || fail "the guest received $got bytes of 2000000"
awk -v s="$start" -v e="$end" 'BEGIN { printf "guest TCP: 2000000 bytes in %.2f s, %.1f Mbit/s\n", e - s, 16 / (e - s) }'

guest_wait "$work/console.1" WEFT-GUEST-RESET-PING-OK 120 || fail "no answer after the guest reset its device"

echo "== QEMU killed mid-stream: weftd keeps forwarding for its other port"
guest_wait "$work/console.1" WEFT-GUEST-STREAM 60 || fail "the guest does not stream"
deadline=$((SECONDS + 60))
until [ "$(grep -c "bytes from 10.0.1.11" "$work/console.1")" -ge 3 ]; do
  [ $SECONDS -lt $deadline ] || fail "the guest's stream gets no answers"
  sleep 0.5
done
kill -KILL "$GUEST_PID"; wait "$GUEST_PID" 2>/dev/null || true
ovl_in ra ping -c 5 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "weftd stopped forwarding for the namespace VM"
kill -0 "$wpid" || fail "weftd died with QEMU"

echo "== QEMU started again on the same socket: the guest comes back"
guest_start "$work/guest" "$vsock" 02:00:0a:00:01:0c dhcp 10.0.1.11 "$work/console.2"
OVL_PIDS+=("$GUEST_PID")
guest_wait "$work/console.2" WEFT-GUEST-PING-OK 600 || fail "the restarted guest gets no answer"
ovl_in ra ping -c 3 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "the namespace VM lost the overlay"
kill -KILL "$GUEST_PID"; wait "$GUEST_PID" 2>/dev/null || true

echo "== client mode: QEMU serves the socket, weftd connects"
guest_start "$work/guest" "$hsock" 02:00:0a:00:01:0d 10.0.1.13/24 10.0.1.11 "$work/console.3" server
OVL_PIDS+=("$GUEST_PID")
guest_wait "$work/console.3" WEFT-GUEST-PING-OK 600 || fail "the guest on the client-mode port gets no answer"
echo PASS
