#!/usr/bin/env bash
# End-to-end test of the connection table under a SYN flood: two standalone
# weftd nodes (overlay_lib.sh) whose tables hold 1024 connections each, the
# VMs and policy of sg_matrix.sh (sg_tools.py). While c1 (node A) keeps an
# established connection to w2 (node B) busy, x2 (node B) sends 30,000
# SYNs from random ports to w1 (node A), a port its rules allow: thirty
# times both tables. The established connection must not lose one echoed
# line, and neither table may have given up an assured connection; both
# must have evicted embryonic ones (the flood did overflow them).
#
#   sg_flood.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wts-<pid>-* ($SG_TAG-<pid>-* when set) and
# removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue "${SG_TAG:-wts}" python3 ethtool jq ss
OVL_DUMP=("*.log" "*.txt")
OVL_DUMP_LINES=20
work=$OVL_WORK
tools() { python3 "$here/sg_tools.py" "$@"; }

fail() { echo "FAIL: $*"; exit 1; }

A="${SG_TAG:-wts}$$a" B="${SG_TAG:-wts}$$b"
declare -A IP MAC
while read -r label _ ip mac; do
  IP[$label]=$ip MAC[$label]=$mac
done < <(tools vms)
readonly TABLE=1024 SYNS=30000

echo "== topology: tables of $TABLE connections"
tools policy "$A" "$B" >"$work/policy.yaml"
ovl_underlay
for l in c1 w1 d1 c2 w2 x2; do ovl_vm "$l" "${IP[$l]}/24" "${MAC[$l]}" 1450; done
OVL_NODE_YAML="conntrack: {max_connections: $TABLE}"
ovl_weftd "$A" a 172.31.0.1/24 c1:c1 w1:w1 d1:d1 -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 c2:c2 w2:w2 x2:x2 -- "$work/policy.yaml"
for l in w1 w2; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" python3 "$here/sg_tools.py" echo-server 80 8080
  deadline=$((SECONDS + 20))
  until [ "$(ovl_in "$l" ss -Hltn | grep -cE ':(80|8080) ')" -eq 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "$l: echo server not listening"
    sleep 0.1
  done
done
ovl_wait_ping c1 "${IP[w2]}" 60 || fail "c1 never reached w2"
ovl_wait_ping c2 "${IP[w1]}" 60 || fail "c2 never reached w1"
# x2 must reach w1's MAC without ARP: the flood is raw frames.
ovl_in x2 python3 "$here/sg_tools.py" probe "${IP[w1]}" 80 2 || fail "x2 cannot reach w1:80 before the flood"

# The node's connection tables, summed over its workers.
conntrack() {
  ovl_stats "$1" | jq -c '[.workers[].conntrack] | {assured: (map(.assured) | add),
    connections: (map(.connections) | add),
    evicted: {assured: (map(.evicted.assured) | add), embryonic: (map(.evicted.embryonic) | add),
              closing: (map(.evicted.closing) | add)}}'
}

echo "== an established connection, then the flood"
ovl_spawn sh -c "exec ip netns exec ${OVL_PREFIX}c1 python3 '$here/sg_tools.py' chatter ${IP[w2]} 8080 >'$work/chat.txt' 2>&1"
echoes() { grep -c '^ok' "$work/chat.txt" 2>/dev/null || true; }
deadline=$((SECONDS + 20))
until [ "$(echoes)" -ge 20 ]; do
  [ $SECONDS -lt $deadline ] || fail "the established connection never got going: $(tail -2 "$work/chat.txt")"
  sleep 0.1
done
for n in "$A" "$B"; do echo "$n before: $(conntrack "$n")"; done
before=$(echoes)
ovl_in x2 python3 "$here/sg_tools.py" synflood eth0 "${MAC[x2]}" "${MAC[w1]}" "${IP[x2]}" "${IP[w1]}" 80 $SYNS \
  || fail "the flood could not be sent"
during=$(echoes)
sleep 1
after=$(echoes)
for n in "$A" "$B"; do echo "$n after:  $(conntrack "$n")"; done
echo "echoes: $before before the flood, $during when it ended, $after a second later"

grep -q '^cut' "$work/chat.txt" && fail "the established connection lost a line during the flood"
[ "$during" -gt "$before" ] || fail "the established connection stalled during the flood"
[ "$after" -gt "$during" ] || fail "the established connection stalled after the flood"
for n in "$A" "$B"; do
  c=$(conntrack "$n")
  [ "$(jq '.evicted.assured' <<<"$c")" -eq 0 ] || fail "$n evicted an assured connection: $c"
  [ "$(jq '.evicted.embryonic + .evicted.closing' <<<"$c")" -gt 0 ] || fail "$n's table never overflowed: $c"
  [ "$(jq '.assured' <<<"$c")" -ge 1 ] || fail "$n lost the established connection: $c"
done
echo "== counters"
for n in "$A" "$B"; do "$WEFTCTL" node stats --socket "${OVL_SOCK[$n]}" | sed "s/^/$n  /"; done
ovl_check_workers "$A" "$B" || fail "the workers did not share the traffic"
echo "PASS"
