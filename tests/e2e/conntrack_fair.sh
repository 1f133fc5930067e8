#!/usr/bin/env bash
# End-to-end test of the connection table's fair share (issue 17, item 2):
# one standalone weftd (overlay_lib.sh) whose table holds 1024 connections
# (the least node.yaml allows).
# Two VMs of tenant red, r1 and r2, open new UDP flows to red's server as
# fast as they can (raw frames from random source ports: thousands of
# connections, many times the table); while they do, a VM of tenant blue
# opens new TCP connections to blue's server, and every one must succeed.
# The table must have been full (entries evicted from the heaviest ports).
#
#   conntrack_fair.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wtc-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2

here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
OVL_DUMP=("*.log" "*.txt")
OVL_DUMP_LINES=20
ovl_prologue wtc python3 ethtool jq ss
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }

A="wtc$$a"
readonly TABLE=1024 SECONDS_OF_FLOOD=12 PROBES=10
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
  - {name: blue, vni: 1002, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: r1, network: red, subnet: s, node: $A, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [open]}
  - {name: r2, network: red, subnet: s, node: $A, ip: 10.0.1.12, mac: "02:00:0a:00:01:0c", security_groups: [open]}
  - {name: rs, network: red, subnet: s, node: $A, ip: 10.0.1.20, mac: "02:00:0a:00:01:14", security_groups: [open]}
  - {name: b1, network: blue, subnet: s, node: $A, ip: 10.0.1.11, mac: "02:00:0b:00:01:0b", security_groups: [open]}
  - {name: bs, network: blue, subnet: s, node: $A, ip: 10.0.1.20, mac: "02:00:0b:00:01:14", security_groups: [open]}
YAML

echo "== topology: one node, a table of $TABLE connections"
ovl_underlay
ovl_vm r1 10.0.1.11/24 02:00:0a:00:01:0b 1450
ovl_vm r2 10.0.1.12/24 02:00:0a:00:01:0c 1450
ovl_vm rs 10.0.1.20/24 02:00:0a:00:01:14 1450
ovl_vm b1 10.0.1.11/24 02:00:0b:00:01:0b 1450
ovl_vm bs 10.0.1.20/24 02:00:0b:00:01:14 1450
OVL_NODE_YAML="conntrack: {max_connections: $TABLE}"
ovl_weftd "$A" a 172.31.0.1/24 r1:r1 r2:r2 rs:rs b1:b1 bs:bs -- "$work/policy.yaml"
ovl_spawn ip netns exec "${OVL_PREFIX}bs" python3 "$here/sg_tools.py" echo-server 80
deadline=$((SECONDS + 20))
until ovl_in bs ss -Hltn | grep -q ':80 '; do
  [ $SECONDS -lt $deadline ] || fail "bs: echo server not listening"
  sleep 0.1
done
ovl_wait_ping b1 10.0.1.20 60 || fail "b1 never reached bs"
ovl_wait_ping r1 10.0.1.20 60 || fail "r1 never reached rs"
ovl_wait_ping r2 10.0.1.20 60 || fail "r2 never reached rs"
ovl_in b1 python3 "$here/sg_tools.py" probe 10.0.1.20 80 2 || fail "b1 cannot reach bs:80 before the flood"

ct() { ovl_stats "$A" | jq -c '[.workers[].conntrack] | {full: (map(.full) | add), evicted: (map(.evicted | to_entries | map(.value) | add) | add)}'; }
echo "before: $(ct)"

# New UDP flows from random source ports, as raw frames (no socket per
# flow, no ARP): each frame a new connection for red's server.
cat >"$work/udp_flood.py" <<'PY'
import random, socket, struct, sys, time
src_mac, src_ip, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
dst_mac, dst_ip = "02:00:0a:00:01:14", "10.0.1.20"
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind(("eth0", 0))
mac = lambda m: bytes.fromhex(m.replace(":", ""))
src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
eth = mac(dst_mac) + mac(src_mac) + b"\x08\x00"
def csum(d):
    s = sum(struct.unpack(f"!{len(d) // 2}H", d))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
end = time.monotonic() + seconds
i = 0
while time.monotonic() < end:
    sport = 1024 + random.randrange(64000)
    udp = struct.pack("!HHHH", sport, 9, 8 + 4, 0) + b"fill"  # UDP checksum 0: none
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    sock.send(eth + ip + udp)
    i += 1
    if i % 200 == 0:
        time.sleep(0.01)  # several thousand flows a second: the table is 1024
PY
udp_flood() {  # label src_mac src_ip
  ovl_spawn ip netns exec "${OVL_PREFIX}$1" python3 "$work/udp_flood.py" "$2" "$3" "$SECONDS_OF_FLOOD"
}
echo "== r1 and r2 fill the table; b1 connects meanwhile"
start=$SECONDS
udp_flood r1 02:00:0a:00:01:0b 10.0.1.11
udp_flood r2 02:00:0a:00:01:0c 10.0.1.12
sleep 2
# b1's new connections, one process (a python start per probe is slow on
# a busy host): each connects, echoes a line and closes, 0.3 s apart.
cat >"$work/probes.py" <<'PY'
import socket, sys, time
ip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = 0
for _ in range(count):
    try:
        with socket.create_connection((ip, port), timeout=2) as s:
            s.settimeout(2)
            s.sendall(b"probe\n")
            ok += s.makefile("rb").readline() == b"probe\n"
    except OSError:
        pass
    time.sleep(0.3)
print(ok)
PY
ok=$(ovl_in b1 python3 "$work/probes.py" 10.0.1.20 80 $PROBES)
[ $((SECONDS - start)) -lt "$SECONDS_OF_FLOOD" ] || fail "the probes outlasted the flood: the host is too slow for this test"
tries=$PROBES
during=$(ct)
echo "during: $during; b1's new connections: $ok of $tries"
[ "$ok" -eq "$tries" ] || fail "b1 (blue) lost $((tries - ok)) of $tries new connections while red filled the table"
[ "$(jq '.evicted' <<<"$during")" -gt 0 ] || fail "the table never filled: $during"
echo "== drops"
ovl_stats "$A" | jq -r '.drops[] | select(.count > 0) | "  \(.reason) \(.count)"'
echo "PASS"
