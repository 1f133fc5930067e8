#!/usr/bin/env bash
# The README's main command, as a test: scripts/demo in both modes
# (standalone, and through weft-controller) with this build's binaries.
# Each run must find every pair as the policy says, north-south through the
# gateway as well, and leave nothing behind.
#
#   demo_test.sh WEFTD WEFTCTL WEFT_CONTROLLER     (root; exits 77 otherwise)
set -euo pipefail

source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue wtm
# Absolute: scripts/demo runs from the source tree, meson from the build tree.
WEFTD=$(realpath "$1") WEFTCTL=$(realpath "$2") WEFT_CONTROLLER=$(realpath "$3")
export WEFTD WEFTCTL WEFT_CONTROLLER
demo=$(cd "$(dirname "$0")/../.." && pwd)/scripts/demo
out=$OVL_WORK/demo.out

fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
for mode in "" --controller; do
  echo "== scripts/demo $mode"
  "$demo" $mode >"$out" 2>&1 </dev/null || fail "scripts/demo $mode exited $?"
  grep -E "^  [0-9]+ pairs as expected, 0 not" "$out" || fail "the matrix is not what the policy says"
  grep -qE "^red-web-1 .* routed" "$out" || fail "no routed pair in the matrix"
  grep -E "^  north-south: [0-9]+ checks as expected, 0 not" "$out" || fail "north-south is not what the policy says"
  grep -qE "red-db-1 .* 203\.0\.113\.2 +as expected" "$out" || fail "the private VM was not seen as the SNAT address"
  if [ -n "$mode" ]; then
    grep -qE "node-a +yes .* in sync" "$out" && grep -qE "node-b +yes .* in sync" "$out" ||
      fail "the nodes did not sync with the controller"
  fi
  left=$(ip netns list | grep -c '^wto-' || true)
  [ "$left" -eq 0 ] || fail "$left wto- namespaces left behind"
done
echo PASS
