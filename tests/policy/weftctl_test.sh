#!/usr/bin/env bash
# weftctl validate / compile / diff as a user runs them: exit codes (0 ok,
# 1 invalid policy or differing tables, 2 usage or I/O error), where output
# goes, and byte-identical output from identical input.
#
#   tests/policy/weftctl_test.sh WEFTCTL SOURCE_ROOT
set -u
weftctl=$1
root=$2
ex=$root/policies/examples
bad=$root/tests/policy/bad
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, stdout in $tmp/out,
# stderr in $tmp/err, and checks its exit code.
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"
    sed 's/^/  stdout: /' "$tmp/out" | head -5
    sed 's/^/  stderr: /' "$tmp/err" | head -5
    failures=$((failures + 1))
  fi
}
# check DESCRIPTION -- COMMAND...: COMMAND must succeed.
check() {
  local what=$1
  shift 2
  if ! "$@"; then
    echo "FAIL: $what"
    failures=$((failures + 1))
  fi
}

# validate
for e in "$ex/two-tenants.yaml" "$ex/public-private.yaml" "$ex/web-app"; do
  expect 0 "validate $e" -- "$weftctl" validate "$e"
  check "validate $e prints one summary line" -- grep -qx 'valid: .* nodes, .* ports, .* rules, .*' "$tmp/out"
  check "validate $e is silent on stderr" -- test ! -s "$tmp/err"
done
expect 1 "validate an invalid policy" -- "$weftctl" validate "$bad/missing-references.yaml"
check "errors are FILE:LINE:COLUMN: error: MESSAGE" -- \
  grep -q "^$bad/missing-references.yaml:11:28: error: no network named 'bleu'; did you mean 'blue'?\$" "$tmp/err"
check "every error is reported" -- test "$(grep -c ': error: ' "$tmp/err")" -eq 10
check "nothing on stdout when invalid" -- test ! -s "$tmp/out"
expect 2 "validate a missing file" -- "$weftctl" validate "$tmp/nope.yaml"
expect 2 "validate without arguments" -- "$weftctl" validate
expect 2 "validate with an unknown option" -- "$weftctl" validate --frobnicate "$ex/web-app"
expect 0 "validate --help" -- "$weftctl" validate --help

# compile
expect 0 "compile --node" -- "$weftctl" compile "$ex/two-tenants.yaml" --node node-a
check "compile prints the node's sections" -- grep -qx 'node node-a' "$tmp/out"
check "compile prints its networks" -- grep -qx 'network red' "$tmp/out"
cp "$tmp/out" "$tmp/first"
expect 0 "compile again" -- "$weftctl" compile --node=node-a "$ex/two-tenants.yaml"
check "compile is deterministic" -- cmp -s "$tmp/first" "$tmp/out"
expect 0 "compile --json" -- "$weftctl" compile "$ex/public-private.yaml" --node gw-1 --json
check "--json is JSON with the NodeTables keys" -- python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert t["node"] == "gw-1" and t["gateways"][0]["name"] == "edge", t
assert all(k in t for k in ("vtep_ip", "peers", "networks", "ports", "load_balancers"))
' "$tmp/out"
expect 2 "compile an unknown node" -- "$weftctl" compile "$ex/two-tenants.yaml" --node node-c
check "compile suggests a node" -- grep -q "did you mean 'node-a'" "$tmp/err"
expect 2 "compile without --node" -- "$weftctl" compile "$ex/two-tenants.yaml"
expect 1 "compile an invalid policy" -- "$weftctl" compile "$bad/routes.yaml" --node node-a

# diff
expect 0 "diff of a policy with itself" -- "$weftctl" diff "$ex/web-app" "$ex/web-app"
check "no output when identical" -- test ! -s "$tmp/out"
cp -r "$ex/web-app" "$tmp/web-app"
sed -i 's/ip: 10.1.1.13,/ip: 10.1.1.14,/' "$tmp/web-app/10-network.yaml"
expect 1 "diff after moving a port" -- "$weftctl" diff "$ex/web-app" "$tmp/web-app"
check "diff removes the old ARP entry" -- grep -q '^  - arp  *10\.1\.1\.13 ' "$tmp/out"
check "diff adds the new ARP entry" -- grep -q '^  + arp  *10\.1\.1\.14 ' "$tmp/out"
check "diff names every node" -- test "$(grep -c '^node hv-' "$tmp/out")" -eq 3
check "diff ends with a summary" -- grep -q '^3 nodes changed: ' "$tmp/out"
expect 2 "diff with an invalid side" -- "$weftctl" diff "$ex/web-app" "$bad/units.yaml"
expect 2 "diff with one argument" -- "$weftctl" diff "$ex/web-app"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all weftctl policy checks passed"
