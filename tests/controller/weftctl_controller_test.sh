#!/usr/bin/env bash
# weft-controller and weftctl as processes, on 127.0.0.1: start, apply (one
# file, several files, invalid, wrong credentials), status and its exit
# codes, a failed apply on a node, SIGTERM, restart with the persisted version;
# a node certificate never changes the policy (on a fresh controller, and
# after the policy dropped its node); GET /metrics (--metrics) passes
# `promtool check metrics` and counts the nodes, their versions and applies.
#
#   weftctl_controller_test.sh WEFT_CONTROLLER WEFTCTL FAKE_NODE DEV_CA
set -uo pipefail
ctl_bin=$1 weftctl=$2 fake_node=$3 dev_ca=$4

tmp=$(mktemp -d /tmp/weft-ctl-cli-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
check() {  # description, expected exit, actual exit
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1 (exit $3, expected $2)"; failures=$((failures + 1)); fi
}
contains() {  # description, file, pattern
  if grep -q -- "$3" "$2"; then echo "ok   $1"; else echo "FAIL $1: no '$3' in $2:"; sed 's/^/     /' "$2"; failures=$((failures + 1)); fi
}
wait_for() {  # file, pattern: poll, 20 s at most
  for _ in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for '$2' in $1"; cat "$1"; return 1
}

"$dev_ca" "$tmp/pki" node-a node-b >/dev/null || exit 1
pki=$tmp/pki
echo "tok-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > "$tmp/token"
chmod 600 "$tmp/token"

start_controller() {  # log file; ports from $sb_port/$api_port (0 = any)
  "$ctl_bin" --state-dir "$tmp/state" --listen "127.0.0.1:${sb_port:-0}" --api "127.0.0.1:${api_port:-0}" \
    --tls-ca "$pki/ca.pem" --tls-cert "$pki/controller.pem" --tls-key "$pki/controller.key" \
    --api-token-file "$tmp/token" --metrics "127.0.0.1:${metrics_port:-0}" 2>"$1" &
  ctl_pid=$!
  pids+=("$ctl_pid")
  wait_for "$1" "serving policy version" || exit 1
  sb_port=$(sed -n 's/.*southbound 127.0.0.1:\([0-9]*\),.*/\1/p' "$1")
  api_port=$(sed -n 's/.*API 127.0.0.1:\([0-9]*\),.*/\1/p' "$1")
  metrics_port=$(sed -n 's/.*metrics 127.0.0.1:\([0-9]*\).*/\1/p' "$1")
}
start_controller "$tmp/ctl1.log"
api=(--controller "https://127.0.0.1:$api_port" --ca "$pki/ca.pem")
cert=(--cert "$pki/client.pem" --key "$pki/client.key")

cat > "$tmp/v1.yaml" <<'YAML'
version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - name: blue
    vni: 5001
    subnets:
      - {name: web, cidr: 10.1.1.0/24}
ports:
  - {name: web-1, network: blue, subnet: web, node: node-a, ip: 10.1.1.10}
  - {name: web-2, network: blue, subnet: web, node: node-b, ip: 10.1.1.11}
YAML

"$weftctl" status "${api[@]}" "${cert[@]}" >"$tmp/out" 2>&1
check "status before any policy: not converged" 1 $?

# A PUT with node $1's certificate is refused (403, weftctl exits 2) and the
# policy stays at version $2; $3 says when.
node_put_refused() {  # node, version, when
  "$weftctl" apply "$tmp/v1.yaml" "${api[@]}" --cert "$pki/$1.pem" --key "$pki/$1.key" >"$tmp/out" 2>&1
  check "PUT with $1's certificate $3: exit 2" 2 $?
  contains "PUT with $1's certificate $3: 403" "$tmp/out" "403"
  "$weftctl" status "${api[@]}" "${cert[@]}" --json >"$tmp/out" 2>&1
  contains "$3: the policy stays at version $2" "$tmp/out" "\"desired_version\":$2"
}

# No policy names node-a yet: its certificate is still no admin's.
node_put_refused node-a 0 "on a fresh controller"

"$weftctl" apply "$tmp/v1.yaml" "${api[@]}" "${cert[@]}" >"$tmp/out" 2>&1
check "apply v1" 0 $?
contains "apply prints the version" "$tmp/out" "applied version 1; 2 nodes updated"

for n in node-a node-b; do
  "$fake_node" --node $n --controller "127.0.0.1:$sb_port" --ca "$pki/ca.pem" \
    --cert "$pki/$n.pem" --key "$pki/$n.key" --fail-version 3 >"$tmp/$n.out" 2>"$tmp/$n.err" &
  pids+=($!)
done
wait_for "$tmp/node-a.out" "applied version 1: node node-a, 1 ports" || exit 1
wait_for "$tmp/node-b.out" "applied version 1: node node-b, 1 ports" || exit 1

# v2: web-2 moves to node-a; split over two files to exercise the merge.
mkdir "$tmp/v2"
sed -n '1,4p' "$tmp/v1.yaml" > "$tmp/v2/10-nodes.yaml"
{ echo "version: 1"; sed -n '5,$p' "$tmp/v1.yaml" | sed 's/node: node-b, ip: 10.1.1.11/node: node-a, ip: 10.1.1.11/'; } > "$tmp/v2/20-net.yaml"
"$weftctl" apply "$tmp/v2" "${api[@]}" --token-file "$tmp/token" --wait 20 >"$tmp/out" 2>&1
check "apply v2 (directory, token) and wait for convergence" 0 $?
contains "both nodes at v2" "$tmp/out" "node-b .* 2 .* 2 .*in sync"
"$weftctl" status "${api[@]}" "${cert[@]}" --json >"$tmp/out" 2>&1
check "status: converged" 0 $?
contains "status json" "$tmp/out" '"desired_version":2'

# The controller's /metrics: valid, both nodes connected at version 2, the
# applies observed (PUT to every changed node's ack).
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics.txt"
check "GET /metrics" 0 $?
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/metrics.txt" >"$tmp/out" 2>&1
  check "promtool check metrics accepts the controller's /metrics" 0 $?
else
  echo "FAIL promtool is not installed (scripts/bootstrap installs package prometheus)"
  failures=$((failures + 1))
fi
contains "metrics: policy version" "$tmp/metrics.txt" '^weft_controller_policy_version 2$'
contains "metrics: nodes connected" "$tmp/metrics.txt" '^weft_controller_nodes_connected 2$'
contains "metrics: node-b's applied version" "$tmp/metrics.txt" '^weft_controller_node_applied_version{node="node-b"} 2$'
contains "metrics: two applies observed" "$tmp/metrics.txt" '^weft_controller_apply_seconds_count 2$'
contains "metrics: compile time observed" "$tmp/metrics.txt" '^weft_controller_compile_seconds_count 2$'
grep -E '^weft_controller_(nodes|policy_version|node_applied|apply_seconds_(sum|count))' "$tmp/metrics.txt" | sed 's/^/     /'
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/v1/policy" >"$tmp/out"
contains "metrics port serves nothing else: 404" "$tmp/out" '^404$'

sed 's/vni: 5001/vni: 0/; s/node: node-a, ip: 10.1.1.10/node: node-q, ip: 10.1.1.10/' "$tmp/v1.yaml" > "$tmp/bad.yaml"
"$weftctl" apply "$tmp/bad.yaml" "${api[@]}" "${cert[@]}" >"$tmp/out" 2>&1
check "invalid policy: exit 1" 1 $?
contains "errors carry the real file name" "$tmp/out" "$tmp/bad.yaml:[0-9]*:[0-9]*: error:"

"$weftctl" apply "$tmp/v1.yaml" "${api[@]}" --token wrong-token >"$tmp/out" 2>&1
check "wrong token: exit 2" 2 $?
contains "wrong token: 401" "$tmp/out" "401"
"$weftctl" status "${api[@]}" --cert "$pki/node-a.pem" --key "$pki/node-a.key" >"$tmp/out" 2>&1
check "node certificate on the API: exit 2" 2 $?
contains "node certificate: 403" "$tmp/out" "403"

# v3 is refused by both (fake) nodes: status shows the error, not converged.
"$weftctl" apply "$tmp/v1.yaml" "${api[@]}" "${cert[@]}" --wait 2 >"$tmp/out" 2>&1
check "apply v3 that the nodes refuse: not converged" 1 $?
contains "the node's error is shown" "$tmp/out" "refusing version 3"

kill -TERM "$ctl_pid"
wait "$ctl_pid"
check "SIGTERM: clean exit" 0 $?
contains "stopped log line" "$tmp/ctl1.log" "stopped"

start_controller "$tmp/ctl2.log"
contains "restart serves the persisted version" "$tmp/ctl2.log" "serving policy version 3"
"$weftctl" status "${api[@]}" "${cert[@]}" >"$tmp/out" 2>&1
contains "status after restart" "$tmp/out" "desired version 3"

# v4 drops node-b: its certificate names no node of the policy any more, and
# still has no authority on the API.
sed '/node-b/d' "$tmp/v1.yaml" > "$tmp/v4.yaml"
"$weftctl" apply "$tmp/v4.yaml" "${api[@]}" "${cert[@]}" >"$tmp/out" 2>&1
check "apply v4 without node-b" 0 $?
node_put_refused node-b 4 "after node-b left the policy"

echo
[ $failures -eq 0 ] && echo "all passed" || echo "$failures failed"
[ $failures -eq 0 ]
