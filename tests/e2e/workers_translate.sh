#!/usr/bin/env bash
# End-to-end test of what several workers cannot do yet: translate. A
# translated connection's replies carry another tuple, which hashes to
# another worker than the one holding the connection (dataplane/handoff/
# owner.h), so weftd with two workers refuses tables that would translate
# (a load balancer; a gateway it hosts) with the reason, instead of
# forwarding them wrong:
#
#   - at start, a policy with a load balancer: weftd exits, saying why;
#   - running on a policy without one, a SIGHUP to a policy with one: the
#     new tables are refused (the reason logged), the old ones stay in
#     force and traffic still flows.
#
#   workers_translate.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wwt-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue wwt jq ethtool
work=$OVL_WORK
export OVL_LCORES="0,0-1"
export OVL_UNDERLAY_DEVARGS=",qpairs=2"

fail() { echo "FAIL: $*"; exit 1; }
N="wwt$$a"
load_balancer() {
  cat <<YAML
load_balancers:
  - name: web
    network: red
    vip: 10.0.1.100
    listeners: [{protocol: tcp, port: 80}]
    backends: [{port: vm-b}]
YAML
}

ovl_one_node "$N"
ovl_wait_ping va 10.0.1.11 30 || fail "two workers, no load balancer: va never reached vb"
cp "$work/policy.yaml" "$work/plain.yaml"

echo "== SIGHUP to a policy with a load balancer: refused, the tables in force stay"
load_balancer >>"$work/policy.yaml"
kill -HUP "${OVL_PID[$N]}"
deadline=$((SECONDS + 15))
until grep -q "need one worker" "$work/$N.log"; do
  [ $SECONDS -lt $deadline ] || fail "no refusal logged: $(tail -5 "$work/$N.log")"
  sleep 0.2
done
grep "need one worker" "$work/$N.log"
[ "$(ovl_stats "$N" | jq .policy_version)" -eq 1 ] || fail "the refused policy took effect"
kill -0 "${OVL_PID[$N]}" || fail "weftd exited on a refused policy"
ovl_wait_ping va 10.0.1.11 10 || fail "traffic stopped after the refused policy"

echo "== starting on a policy with a load balancer: weftd refuses to start"
kill "${OVL_PID[$N]}"
wait "${OVL_PID[$N]}" 2>/dev/null || true
if ovl_weftd "$N" a 172.31.0.1/24 va:vm-a vb:vm-b -- "$work/policy.yaml" 2>/dev/null; then
  fail "weftd started with two workers and a load balancer"
fi
grep "need one worker" "$work/$N.log" || fail "weftd exited without the reason: $(tail -5 "$work/$N.log")"
echo "PASS"
