#!/usr/bin/env bash
# End-to-end test of QoS (dataplane/qos/, docs/policy.md): two standalone
# weftd nodes (overlay_lib.sh), VM sa on node A under policy `lim`, VM sb on
# node B under none, real iperf3 and ping between them:
#
#   - egress: TCP sa -> sb within the 100 Mbit/s limit's band, a 500 Mbit/s
#     UDP blast held to it;
#   - ingress: TCP sb -> sa the same;
#   - priority: under a saturating TCP flow, a DSCP 46 ping loses nothing and
#     its p99 latency stays within 2 ms of the idle port's;
#   - a capped class (tcp/873 at 10 Mbit/s) held to its cap, the rest of the
#     port's rate still usable beside it;
#   - the counters of `weftctl node stats` per port and class.
#
# Rates are asserted in wide bands (a shared machine); the figures measured
# are printed, for the notes.
#
#   qos.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# QS_MODE=shape (the default: rte_sched where packets leave) or police
# (rte_meter) sets the nodes' qos.mode (docs/policy.md).
#
# Everything it creates is named qs-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
OVL_DUMP=("qs*.log" "*.txt")
OVL_DUMP_LINES=20
ovl_prologue qs iperf3 ping ethtool jq ss
work=$OVL_WORK

fail() {
  echo "FAIL: $*"
  # What node A's QoS and drops counted, for the note.
  ovl_stats "$A" 2>/dev/null | jq -c '.qos[] | select(.sent_packets + .policed_packets + .queued_packets > 0)' || true
  ovl_nonzero_drops "$A" 2>/dev/null || true
  exit 1
}
# in_band LABEL VALUE LO HI: LO <= VALUE <= HI (Mbit/s), else fail.
in_band() {
  awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
    fail "$1: $2 Mbit/s, want $3-$4"
  echo "  $1: $2 Mbit/s (band $3-$4)"
}
# TCP through the 100 Mbit/s limit: the issue's target is 90-102 (measured
# 90-96 on an idle machine); the floor here is lower, for a machine whose
# load stalls the VMs' senders, and still catches a policer that makes TCP
# collapse. Delivered UDP only has a ceiling: what a loaded machine loses
# before weftd is not QoS's doing.
readonly TCP_LO=80
# The capped class (10 Mbit/s), steady state: shaped, TCP holds 9.1-9.2
# (the most it can, with the rate counting VXLAN-encapsulated frames, is
# 9.26); policed, TCP's sawtooth against the meter gives 7.6-8.9.
[ "${QS_MODE:-shape}" = police ] && readonly CAP_LO=7 || readonly CAP_LO=8.5
mbits() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

# The limit's burst: TCP through a policer needs one that covers a round of
# its window (docs/policy.md); QS_BURST overrides it to measure others.
readonly BURST=${QS_BURST:-2mb}
readonly MODE=${QS_MODE:-shape}
export OVL_NODE_YAML="qos: {mode: $MODE}"
echo "== qos.mode $MODE, burst $BURST"
A="qs$$a" B="qs$$b"
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - {name: red, vni: 3101, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
qos_policies:
  - name: lim
    egress: {rate: 100mbit, burst: $BURST}
    ingress: {rate: 100mbit, burst: $BURST}
    classes:
      - {name: voice, match: {dscp: [46]}, priority: high}
      - {name: bulk, match: {protocol: tcp, ports: "873"}, priority: low, rate: 10mbit}
ports:
  - {name: sa, network: red, subnet: s, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a",
     security_groups: [open], qos: lim}
  - {name: sb, network: red, subnet: s, node: $B, ip: 10.0.1.20, mac: "02:00:0a:00:01:14",
     security_groups: [open]}
YAML

echo "== topology"
ovl_underlay
ovl_vm sa 10.0.1.10/24 02:00:0a:00:01:0a 1450
ovl_vm sb 10.0.1.20/24 02:00:0a:00:01:14 1450
ovl_weftd "$A" a 172.31.0.1/24 sa:sa -- "$work/policy.yaml"
# Each node's worker on a core of its own, as an operator pins them: two
# busy workers time-sliced on one core hold packets for a slice (~3 ms) and
# the priority class's latency would measure the kernel's scheduler.
OVL_LCORES=1,0 ovl_weftd "$B" b 172.31.0.2/24 sb:sb -- "$work/policy.yaml"
for l in sa sb; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" iperf3 -s -p 5201 --logfile "$work/iperf-$l-5201.log"
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" iperf3 -s -p 873 --logfile "$work/iperf-$l-873.log"
done
for l in sa sb; do
  deadline=$((SECONDS + 20))
  until ovl_in "$l" ss -Hltn | grep -q ':873 '; do
    [ $SECONDS -lt $deadline ] || fail "$l: iperf3 not listening"
    sleep 0.1
  done
done
ovl_wait_ping sa 10.0.1.20 60 || fail "sa never reached sb"

# iperf3 from VM $1 to $2: TCP goodput (or, with -u, UDP delivered) in Mbit/s.
iperf() {
  local from=$1 to=$2; shift 2
  ovl_in "$from" iperf3 -c "$to" -J "$@" >"$work/iperf.json" || { cat "$work/iperf.json" >&2; fail "iperf3 $from -> $to $*"; }
  mbits "$(jq '.end.sum_received.bits_per_second' "$work/iperf.json")"
}

echo "== egress limit (sa's traffic)"
in_band "TCP sa -> sb" "$(iperf sa 10.0.1.20 -t 8)" "$TCP_LO" 102
in_band "UDP 500M sa -> sb, delivered" "$(iperf sa 10.0.1.20 -u -b 500M -l 1398 -t 5)" 20 102

echo "== ingress limit (traffic to sa)"
in_band "TCP sb -> sa" "$(iperf sb 10.0.1.10 -t 8)" "$TCP_LO" 102
in_band "UDP 500M sb -> sa, delivered" "$(iperf sb 10.0.1.10 -u -b 500M -l 1398 -t 5)" 20 102

echo "== priority: DSCP 46 ping under a saturating TCP flow"
# ping lines "time=0.123 ms"; loss and p99 of the RTTs.
ping_stats() {  # label
  ovl_in sa ping -Q 184 -c 300 -i 0.01 -W 1 10.0.1.20 >"$work/ping-$1.txt" || true
  local sent got p99
  got=$(grep -c 'time=' "$work/ping-$1.txt" || true)
  p99=$(sed -n 's/.*time=\([0-9.]*\) ms/\1/p' "$work/ping-$1.txt" | sort -g |
        awk '{v[NR] = $1} END { if (NR == 0) print "inf"; else print v[int(NR * 0.99 + 0.999)] }')
  echo "$got $p99"
}
read -r idle_got idle_p99 < <(ping_stats idle)
[ "$idle_got" -eq 300 ] || fail "idle ping: $idle_got of 300 answered"
ovl_in sa iperf3 -c 10.0.1.20 -t 12 -J >"$work/iperf-load.json" &
load=$!
sleep 2
read -r load_got load_p99 < <(ping_stats load)
wait "$load" || fail "iperf3 under the ping"
load_mbits=$(mbits "$(jq '.end.sum_received.bits_per_second' "$work/iperf-load.json")")
echo "  idle p99 $idle_p99 ms; under TCP at $load_mbits Mbit/s: $load_got of 300 answered, p99 $load_p99 ms"
[ "$load_got" -eq 300 ] || fail "DSCP 46 ping under load: $load_got of 300 answered"
awk -v a="$load_p99" -v b="$idle_p99" 'BEGIN { exit !(a <= b + 2) }' ||
  fail "DSCP 46 ping p99 $load_p99 ms under load, idle $idle_p99 ms: more than 2 ms apart"
voice=$(ovl_stats "$A" | jq '[.qos[] | select(.port == "sa" and .class == "voice") | .sent_packets] | add')
[ "$voice" -ge 600 ] || fail "voice class counted $voice packets, want at least the 600 echo requests and replies"

echo "== capped class: tcp/873 at 10 Mbit/s, the rest of the port beside it"
# The first 2 s are omitted from the figure: they spend the limit's burst
# (2 MB is 1.6 Mbit/s over 10 s), and the cap is a steady-state rate.
ovl_in sa iperf3 -c 10.0.1.20 -p 873 -t 8 -O 2 -J >"$work/iperf-873.json" &
bulk=$!
sleep 1
rest=$(iperf sa 10.0.1.20 -t 6)
wait "$bulk" || fail "iperf3 to port 873"
in_band "TCP sa -> sb:873 (bulk)" "$(mbits "$(jq '.end.sum_received.bits_per_second' "$work/iperf-873.json")")" "$CAP_LO" 10.5
in_band "TCP sa -> sb:5201 beside it" "$rest" 70 97

echo "== counters"
"$WEFTCTL" node stats --socket "${OVL_SOCK[$A]}" | sed -n '/^QOS PORT/,/^$/p' | tee "$work/qos-table.txt"
ovl_stats "$A" | jq -c '.qos[]' >"$work/qos.txt"
# sum FIELD DIRECTION [CLASS]: sa's counter summed over its classes (or one).
sum() {
  jq -s --arg f "$1" --arg d "$2" --arg c "${3:-}" \
    '[.[] | select(.port == "sa" and .direction == $d and ($c == "" or .class == $c)) | .[$f]] | add' "$work/qos.txt"
}
if [ "$MODE" = police ]; then
  [ "$(sum policed_packets egress)" -gt 0 ] || fail "sa's egress policed nothing"
  [ "$(sum policed_packets egress bulk)" -gt 0 ] || fail "bulk's cap policed nothing"
  [ "$(ovl_drops "$A" qos_policed)" -gt 0 ] || fail "no qos_policed drops counted"
else
  # Shaped: every packet of both limits queued, the UDP blasts overflowed
  # the queues, and nothing was policed.
  for d in egress ingress; do
    [ "$(sum queued_packets $d)" -gt 0 ] || fail "sa's $d queued nothing"
    [ "$(sum queue_full_packets $d)" -gt 0 ] || fail "sa's $d queue never overflowed under a UDP blast"
  done
  [ "$(sum queued_packets egress bulk)" -gt 0 ] || fail "bulk queued nothing"
  [ "$(ovl_drops "$A" qos_queue_full)" -gt 0 ] || fail "no qos_queue_full drops counted"
  [ "$(ovl_drops "$A" qos_policed)" -eq 0 ] || fail "a shaped node policed"
fi
[ "$(ovl_drops "$B" qos_policed)" -eq 0 ] || fail "node B, which has no QoS port, policed"
[ "$(ovl_drops "$B" qos_queue_full)" -eq 0 ] || fail "node B, which has no QoS port, queued"
echo "PASS"
