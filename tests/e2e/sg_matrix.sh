#!/usr/bin/env bash
# End-to-end test of stateful security groups: two standalone weftd nodes
# (overlay_lib.sh), six VMs in three groups and none (sg_tools.py holds the
# policy), real TCP between every pair of VMs on four ports:
#
#   - the matrix clients x servers x ports: each connection is made with a
#     line sent and echoed back (so replies flow) or refused, exactly as
#     SPEC.md's semantics of the policy say (sg_tools.py expect, an oracle
#     written from the spec); denials are counted per port and direction;
#   - `weftctl can-reach --matrix` (the trace engine, offline) answers every
#     pair and port as the traffic went;
#   - a policy change (SIGHUP) that removes tcp 80 from group web cuts an
#     established connection to port 80, while one to port 8080, which the
#     new policy still allows, keeps flowing without a lost line.
#
#   sg_matrix.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wts-<pid>-* ($SG_TAG-<pid>-* when set) and
# removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue "${SG_TAG:-wts}" python3 ethtool jq ss
work=$OVL_WORK
tools() { python3 "$here/sg_tools.py" "$@"; }

fail() { echo "FAIL: $*"; exit 1; }

A="${SG_TAG:-wts}$$a" B="${SG_TAG:-wts}$$b"
declare -A IP MAC
while read -r label _ ip mac; do
  IP[$label]=$ip MAC[$label]=$mac
done < <(tools vms)
LABELS=(c1 w1 d1 c2 w2 x2)
PORTS=(22 80 5432 8080)

echo "== topology: $A (${LABELS[*]:0:3}), $B (${LABELS[*]:3:3})"
tools policy "$A" "$B" >"$work/policy.yaml"
ovl_underlay
for l in "${LABELS[@]}"; do ovl_vm "$l" "${IP[$l]}/24" "${MAC[$l]}" 1450; done
ovl_weftd "$A" a 172.31.0.1/24 c1:c1 w1:w1 d1:d1 -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 c2:c2 w2:w2 x2:x2 -- "$work/policy.yaml"
for l in "${LABELS[@]}"; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" python3 "$here/sg_tools.py" echo-server "${PORTS[@]}"
done
for l in "${LABELS[@]}"; do
  deadline=$((SECONDS + 20))
  until [ "$(ovl_in "$l" ss -Hltn | grep -cE ':(22|80|5432|8080) ')" -eq 4 ]; do
    [ $SECONDS -lt $deadline ] || fail "$l: echo server not listening"
    sleep 0.1
  done
done
# The clients may ping the web servers: both nodes pass traffic.
ovl_wait_ping c1 "${IP[w2]}" 60 || fail "c1 never reached w2: $(ovl_stats "$A" | jq -c '[.drops[] | select(.count > 0)]')"
ovl_wait_ping c2 "${IP[w1]}" 60 || fail "c2 never reached w1"

denied_count() {  # node, port name, direction (ingress|egress)
  ovl_stats "$1" | jq -r --arg p "$2" --arg k "sg_$3_denied" '.ports[] | select(.name == $p) | .[$k]'
}
all_denials() {  # both nodes, every port, both directions
  { ovl_stats "$A"; ovl_stats "$B"; } | jq -s '[.[].ports[] | .sg_ingress_denied + .sg_egress_denied] | add'
}

echo "== the matrix: ${#LABELS[@]} clients x $((${#LABELS[@]} - 1)) servers x ${#PORTS[@]} ports"
jobs_pids=()
for c in "${LABELS[@]}"; do
  ovl_in "$c" python3 "$here/sg_tools.py" row "$c" 1.5 "${PORTS[@]}" >"$work/matrix-$c.txt" &
  jobs_pids+=($!)
done
wait "${jobs_pids[@]}"
cat "$work"/matrix-*.txt >"$work/matrix.txt"
printf '%-8s' "client"; for s in "${LABELS[@]}"; do printf '%-22s' "-> $s ${PORTS[*]}"; done; echo
for c in "${LABELS[@]}"; do
  printf '%-8s' "$c"
  for s in "${LABELS[@]}"; do
    row=""
    for p in "${PORTS[@]}"; do
      g=$(awk -v c="$c" -v s="$s" -v p="$p" '$1 == c && $2 == s && $3 == p {print $5}' "$work/matrix.txt")
      case $g in allow) row+="+ " ;; deny) row+=". " ;; *) row+="  " ;; esac
    done
    printf '%-22s' "   $row"
  done
  echo
done
mismatches=$(awk '$4 != $5' "$work/matrix.txt")
[ -z "$mismatches" ] || fail "against SPEC semantics (client server port want got):"$'\n'"$mismatches"
allowed=$(awk '$4 == "allow"' "$work/matrix.txt" | wc -l)
total=$(wc -l <"$work/matrix.txt")
echo "matrix: $allowed of $total connections allowed, all as the policy says"
[ "$allowed" -gt 0 ] && [ "$allowed" -lt "$total" ] || fail "a matrix that allows all or nothing tests nothing"

echo "== weftctl can-reach --matrix, the trace engine offline, agrees with the traffic"
for p in "${PORTS[@]}"; do
  "$WEFTCTL" can-reach "$work/policy.yaml" --matrix --proto "tcp/$p" --json |
    jq -r --arg p "$p" '.matrix | to_entries[] | .key as $c | .value | to_entries[]
                        | "\($c) \(.key) \($p) \(if .value then "allow" else "deny" end)"'
done | sort >"$work/can-reach.txt"
awk '{print $1, $2, $3, $5}' "$work/matrix.txt" | sort >"$work/traffic.txt"
[ "$(wc -l <"$work/can-reach.txt")" -eq "$total" ] || fail "can-reach answered $(wc -l <"$work/can-reach.txt") of $total pairs"
disagree=$(diff "$work/traffic.txt" "$work/can-reach.txt" || true)
[ -z "$disagree" ] || fail "can-reach and the traffic disagree (< traffic, > can-reach):"$'\n'"$disagree"
"$WEFTCTL" can-reach "$work/policy.yaml" --matrix --proto tcp/5432
echo "can-reach: all $total answers as the traffic went"

# Every refused connection was counted (its SYN, and the retries, on the
# port whose rules refused it), in both directions.
[ "$(all_denials)" -ge $((total - allowed)) ] || fail "$(all_denials) denials counted for $((total - allowed)) refused connections"
[ "$(denied_count "$A" w1 egress)" -ge 1 ] || fail "w1's egress denials are not counted"
[ "$(denied_count "$B" c2 ingress)" -ge 1 ] || fail "c2's ingress denials are not counted"

echo "== removing a rule cuts the connections it allowed, and only those"
for p in 80 8080; do
  ovl_spawn sh -c "exec ip netns exec ${OVL_PREFIX}c2 python3 '$here/sg_tools.py' chatter ${IP[w1]} $p >'$work/chat$p.txt' 2>&1"
done
echoes() { grep -c '^ok' "$1" 2>/dev/null || true; }
deadline=$((SECONDS + 20))
until [ "$(echoes "$work/chat80.txt")" -ge 20 ] && [ "$(echoes "$work/chat8080.txt")" -ge 20 ]; do
  [ $SECONDS -lt $deadline ] || fail "the long-lived connections never got going: $(tail -2 "$work"/chat*.txt)"
  sleep 0.1
done
before=$(denied_count "$A" w1 ingress)
tools policy "$A" "$B" --web-ports 8080 >"$work/policy.yaml"
kill -HUP "${OVL_PID[$A]}" "${OVL_PID[$B]}"
deadline=$((SECONDS + 10))
until [ "$(ovl_stats "$A" | jq .policy_version)" -eq 2 ] && [ "$(ovl_stats "$B" | jq .policy_version)" -eq 2 ]; do
  [ $SECONDS -lt $deadline ] || fail "the new policy never took effect: $(tail -3 "$work/$A.log")"
  sleep 0.1
done
deadline=$((SECONDS + 10))
until grep -q '^cut' "$work/chat80.txt"; do
  [ $SECONDS -lt $deadline ] || fail "the connection to port 80 survived the rule's removal ($(echoes "$work/chat80.txt") echoes)"
  sleep 0.1
done
kept=$(echoes "$work/chat8080.txt")
sleep 2
grep -q '^cut' "$work/chat8080.txt" && fail "the connection to port 8080 was cut, though the new policy allows it"
[ "$(echoes "$work/chat8080.txt")" -ge $((kept + 20)) ] || fail "port 8080 stalled: $kept -> $(echoes "$work/chat8080.txt") echoes"
after=$(denied_count "$A" w1 ingress)
echo "port 80: cut after $(echoes "$work/chat80.txt") echoes; port 8080: $(echoes "$work/chat8080.txt") echoes and counting; w1 ingress denials $before -> $after"
[ "$after" -gt "$before" ] || fail "the cut connection's packets were not counted as denied"
ovl_in c1 python3 "$here/sg_tools.py" probe "${IP[w1]}" 80 1.5 && fail "a new connection to port 80 passes"
ovl_in c1 python3 "$here/sg_tools.py" probe "${IP[w1]}" 8080 1.5 || fail "a new connection to port 8080 is refused"

echo "== counters"
for n in "$A" "$B"; do "$WEFTCTL" node stats --socket "${OVL_SOCK[$n]}" | sed "s/^/$n  /"; done
ovl_check_workers "$A" "$B" || fail "the workers did not share the traffic"
echo "PASS"
