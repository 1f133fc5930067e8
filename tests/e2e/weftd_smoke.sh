#!/usr/bin/env bash
# End-to-end smoke test of weftd on real interfaces: a network namespace as a
# VM behind an af_packet vNIC on a veth, a second veth pair as the underlay.
# With no policy applied, every packet the VM sends must be received and
# dropped as no_policy; the counters must account for every packet; an idle
# weftd must stay under 5% of a core; SIGTERM must end it with status 0.
# A bad config must be refused with exit 2 and a message naming the key.
#
#   weftd_smoke.sh WEFTD WEFTCTL        (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wtd-<pid>* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue wtd
# On failure: the whole weftd log.
OVL_DUMP=(weftd.log)
OVL_DUMP_LINES=+1
work=$OVL_WORK

id=$$
ns="wtd-$id-vm"
vm_host="wtd${id}v"     # the vNIC: host end of the VM's veth
ul="wtd${id}u"          # the underlay device
ul_peer="wtd${id}p"
sock="$work/weftd.sock"
pid=""

fail() { echo "FAIL: $*"; exit 1; }
# Running and not yet a zombie (kill -0 succeeds on an unreaped child).
alive() { [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ]; }
stats() { "$WEFTCTL" node stats --socket "$sock" --json; }
# jq over one stats snapshot.
q() { jq -r "$1" <<<"$snapshot"; }

# Waits until a command succeeds, polling; gives up after $1 seconds.
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    alive || fail "weftd exited while we waited for: $*"
    sleep 0.1
  done
}

echo "== a bad config is refused, naming the key"
cat >"$work/bad.yaml" <<YAML
node: wtd-e2e
underlay: {device: "net_null0", ip: 172.31.0.1/24}
ports:
  vm-1: {type: af_packet, ifase: $vm_host}
YAML
set +e
"$WEFTD" --config "$work/bad.yaml" >"$work/bad.log" 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "bad config: exit $rc, want 2"
grep -q "bad.yaml:4:27: error: unknown key 'ifase' in ports.vm-1; did you mean 'iface'?" "$work/bad.log" ||
  fail "bad config message: $(cat "$work/bad.log")"

echo "== interfaces"
ip netns add "$ns"
OVL_NETNS+=("$ns")
ip link add "$vm_host" type veth peer name "wtd${id}n"
OVL_LINKS+=("$vm_host")
ip link set "wtd${id}n" netns "$ns"
ip -n "$ns" link set "wtd${id}n" name eth0
ip link add "$ul" type veth peer name "$ul_peer"
OVL_LINKS+=("$ul")
# No IPv6 chatter (router solicitations, MLD): the only traffic is ours.
for dev in "$vm_host" "$ul" "$ul_peer"; do
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip link set "$dev" up
done
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$ns" addr add 10.99.0.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up
ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
# A static neighbour: ping sends its echo requests straight away, no ARP.
ip -n "$ns" neigh add 10.99.0.1 lladdr 02:00:00:00:99:01 dev eth0

echo "== weftd"
cat >"$work/node.yaml" <<YAML
node: wtd-e2e-$id
underlay:
  device: "net_af_packet0,iface=$ul"
  ip: 172.31.0.1/24
ports:
  vm-1: {type: af_packet, iface: $vm_host}
dpdk: {lcores: "0,1", hugepages: false}
control_socket: $sock
YAML
"$WEFTD" --config "$work/node.yaml" >"$work/weftd.log" 2>&1 &
pid=$!
OVL_PIDS+=("$pid")
wait_for 60 stats || fail "weftd did not answer on its control socket"
snapshot=$(stats)
[ "$(q '.ports | length')" -eq 2 ] || fail "want 2 ports: $snapshot"
[ "$(q '.ports[] | select(.name == "vm-1") | .kind')" = af_packet ] || fail "vm-1 kind: $snapshot"
[ "$(q '.policy_version')" -eq 0 ] || fail "a policy is applied: $snapshot"

echo "== traffic from the VM is received and dropped as no_policy"
vm_rx() { stats | jq -e '.ports[] | select(.name == "vm-1") | .rx_packets >= 5'; }
ping_some() { ip netns exec "$ns" ping -q -c 2 -i 0.2 -W 0.2 10.99.0.1 >/dev/null 2>&1 || true; vm_rx; }
# The port passes traffic a few seconds after start: keep pinging until it counts.
wait_for 60 ping_some || fail "vm-1 never counted 5 received packets: $(stats)"

# Packet counters settle once the last burst is through (poll counters
# never do).
prev=""
settled() {
  snapshot=$(stats)
  local now
  now=$(jq -c '[.ports[] | [.rx_packets, .tx_packets, .drops]], [.drops[].count]' <<<"$snapshot")
  [ "$now" = "$prev" ] && return 0
  prev=$now
  return 1
}
wait_for 10 settled || fail "counters keep moving without traffic"
rx=$(q '[.ports[].rx_packets] | add')
tx=$(q '[.ports[].tx_packets] | add')
dropped=$(q '[.drops[].count] | add')
no_policy=$(q '.drops[] | select(.reason == "no_policy") | .count')
vm_rx=$(q '.ports[] | select(.name == "vm-1") | .rx_packets')
vm_drops=$(q '.ports[] | select(.name == "vm-1") | .drops')
echo "rx $rx, tx $tx, dropped $dropped (no_policy $no_policy); vm-1 rx $vm_rx, drops $vm_drops"
[ "$tx" -eq 0 ] || fail "transmitted $tx packets with no policy"
[ "$rx" -eq "$dropped" ] || fail "received $rx but dropped $dropped: $snapshot"
[ "$vm_drops" -eq "$vm_rx" ] || fail "vm-1 received $vm_rx but dropped $vm_drops"
[ "$no_policy" -ge "$vm_rx" ] || fail "no_policy $no_policy < vm-1 rx $vm_rx: $snapshot"
"$WEFTCTL" node stats --socket "$sock" | grep -Eq '^no_policy +[0-9]+' || fail "table view lacks no_policy"

echo "== idle weftd uses under 5% of a core"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep 3   # a measurement window, not a wait for readiness
t1=$(ticks); s1=$(date +%s.%N)
cpu=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.1f", 100 * t / hz / (s1 - s0) }')
echo "idle CPU: $cpu% of a core"
awk -v c="$cpu" 'BEGIN { exit !(c < 5) }' || fail "idle weftd used $cpu% of a core"
stats | jq -e '.workers[0].sleeps > 0' >/dev/null || fail "the worker never slept"

echo "== SIGTERM stops weftd cleanly"
kill -TERM "$pid"
deadline=$((SECONDS + 30))
while alive; do [ $SECONDS -lt $deadline ] || fail "weftd still running 30 s after SIGTERM"; sleep 0.1; done
set +e
wait "$pid"
rc=$?
set -e
OVL_PIDS=()
pid=""
[ $rc -eq 0 ] || fail "weftd exited with $rc after SIGTERM"
[ ! -e "$sock" ] || fail "control socket left behind"
grep -q "SIGTERM: stopping" "$work/weftd.log" || fail "no stop message"
echo "PASS"
