#!/usr/bin/env bash
# End-to-end test of a node refusing the controller's tables (issue 17,
# item 9): weft-controller (dev CA, loopback) pushes a policy whose tables
# node-a's weftd cannot use (its node.yaml puts the underlay on another
# address than the policy's VTEP address), and `weftctl status` shows the
# builder's reason as the node's last error, the node connected but not in
# sync; weftd keeps running on what it had (no tables: policy_gate drops).
# Then a policy the node can use is applied and the node syncs, its last
# error cleared.
#
#   tables_refused.sh WEFTD WEFTCTL WEFT_CONTROLLER   (root; exits 77 otherwise)
#
# Everything it creates is named wtr-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
CONTROLLER=$3

here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue wtr jq openssl ethtool
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
N="wtr$$a"   # node-a's name: unique per run (DPDK file prefix, certificate)

policy() {  # node-a's VTEP address
  cat <<YAML
version: 1
nodes:
  - {name: $N, underlay_ip: $1}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
ports:
  - {name: red-1, network: red, subnet: s, node: $N, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a"}
YAML
}

echo "== weft-controller, and node-a's weftd on 172.31.0.1"
"$here/../../scripts/dev-ca" "$work/pki" "$N" >/dev/null
ovl_controller "$CONTROLLER" "$work/state" "$work/pki" "$work/controller.log"
api=(--controller "https://127.0.0.1:$OVL_API_PORT" --ca "$work/pki/ca.pem"
     --cert "$work/pki/client.pem" --key "$work/pki/client.key")
policy 172.31.0.9 >"$work/wrong.yaml"
"$WEFTCTL" apply "$work/wrong.yaml" "${api[@]}" >/dev/null
ovl_underlay
ovl_vm r1 10.0.1.10/24 02:00:0a:00:01:0a 1450
OVL_NODE_YAML="controller: {address: 127.0.0.1:$OVL_SB_PORT, ca: $work/pki/ca.pem, cert: $work/pki/$N.pem, key: $work/pki/$N.key}" \
  ovl_weftd "$N" a 172.31.0.1/24 r1:red-1 --

# weftctl status exits 1 while a node is out of sync: its JSON is all we want.
node_status() { { "$WEFTCTL" status "${api[@]}" --json || true; } | jq -c --arg n "$N" '.nodes[] | select(.name == $n)'; }
echo "== tables it cannot use: refused, and the reason is the node's last error"
deadline=$((SECONDS + 30))
until node_status | jq -e '.last_error != ""' >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "no last error after 30 s: $(node_status)"
  sleep 0.3
done
s=$(node_status)
echo "$s"
jq -e '.connected and (.in_sync | not)' <<<"$s" >/dev/null || fail "node-a should be connected and not in sync: $s"
jq -r '.last_error' <<<"$s" | grep -q "the policy gives node '$N' the VTEP address 172.31.0.9" ||
  fail "the last error is not the builder's reason: $s"
"$WEFTCTL" status "${api[@]}" >/dev/null && fail "weftctl status exits 0 with a node out of sync"
kill -0 "${OVL_PID[$N]}" || fail "weftd exited on refused tables"

echo "== tables it can use: applied, last error cleared"
policy 172.31.0.1 >"$work/right.yaml"
"$WEFTCTL" apply "$work/right.yaml" "${api[@]}" --wait 30 >/dev/null || fail "node-a did not sync: $(node_status)"
s=$(node_status)
echo "$s"
jq -e '.in_sync and .last_error == ""' <<<"$s" >/dev/null || fail "node-a in sync with no error expected: $s"
echo "PASS"
