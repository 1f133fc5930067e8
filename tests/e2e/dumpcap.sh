#!/usr/bin/env bash
# End-to-end test of dpdk-dumpcap on weftd: a standalone weftd (a DPDK
# primary process on hugepages, file prefix weft-NODE, rte_pdump_init) with
# two VMs; `dpdk-dumpcap --file-prefix=weft-NODE -i PORT` attaches as a
# secondary process and captures vm-b's vNIC while vm-a pings it, and the
# pcap holds the echo requests and replies with the VMs' addresses.
#
#   dumpcap.sh WEFTD WEFTCTL       (root; exits 77 = skipped otherwise)
#
# Everything it creates is named trd-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue trd jq tcpdump ethtool dpdk-dumpcap
work=$OVL_WORK
OVL_DUMP+=("dumpcap.txt")

fail() { echo "FAIL: $*"; exit 1; }

A="trd$$a"
ovl_one_node "$A" || fail "weftd did not start"
grep -q "hugepages" "$work/$A.log" && ! grep -q "no hugepages\|hugepages is false" "$work/$A.log" ||
  { echo "SKIP: weftd runs without hugepages: no secondary process can attach"; exit 77; }
ovl_wait_ping va 10.0.1.11 60 || fail "vm-a never reached vm-b"

port=$(ovl_stats "$A" | jq -r '.ports[] | select(.name == "vm-b") | .port_id')
[ -n "$port" ] || fail "node stats names no DPDK port for vm-b: $(ovl_stats "$A" | jq -c .ports)"
echo "== dpdk-dumpcap on vm-b's vNIC (DPDK port $port) while vm-a pings it"
stdbuf -oL -eL dpdk-dumpcap --file-prefix="weft-$A" -i "$port" -w "$work/vb.pcap" -P -a duration:8 >"$work/dumpcap.txt" 2>&1 &
cap=$!
OVL_PIDS+=("$cap")
deadline=$((SECONDS + 10))
until grep -q "Capturing on" "$work/dumpcap.txt"; do
  kill -0 "$cap" 2>/dev/null || fail "dpdk-dumpcap exited: $(cat "$work/dumpcap.txt")"
  [ $SECONDS -lt $deadline ] || fail "dpdk-dumpcap did not start capturing: $(cat "$work/dumpcap.txt")"
  sleep 0.1
done
ovl_in va ping -c 5 -i 0.2 -W 1 10.0.1.11 >/dev/null || fail "vm-a -> vm-b while capturing"
wait "$cap" || fail "dpdk-dumpcap failed: $(cat "$work/dumpcap.txt")"
tcpdump -nn -r "$work/vb.pcap" icmp >"$work/decoded.txt" 2>/dev/null || fail "the capture is no pcap file"
cat "$work/decoded.txt"
requests=$(grep -c "10.0.1.10 > 10.0.1.11: ICMP echo request" "$work/decoded.txt" || true)
replies=$(grep -c "10.0.1.11 > 10.0.1.10: ICMP echo reply" "$work/decoded.txt" || true)
[ "$requests" -ge 5 ] && [ "$replies" -ge 5 ] || fail "captured $requests echo requests and $replies replies, want 5 each"
echo "PASS: $requests requests, $replies replies captured on vm-b's vNIC"
