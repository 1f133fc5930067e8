#!/usr/bin/env bash
# End-to-end test of the distributed router and the DHCP server: two
# standalone weftd nodes (overlay_lib.sh), two tenants with the same
# addresses, several subnets each, real traffic between network namespaces:
#
#   - routed ping and TCP (a transfer checked by digest) between subnets of
#     one network, on one node and across nodes;
#   - traceroute (ICMP and UDP) across subnets: one hop, the gateway of the
#     sender's subnet, then the destination; the TTL drops counted;
#   - a tenant with the same addresses reaches its own VMs only; no route or
#     no port behind an address answers unreachable, counted;
#   - a static route: 192.168.50.0/24 via an appliance VM (ip_forward, a
#     network namespace behind it) reaches a VM of another subnet;
#   - a real DHCP client (busybox udhcpc) on a bare eth0 gets its policy
#     address, mask, router, DNS, MTU and a lease, then pings through the
#     router.
#
#   routing.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named wtr-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue wtr python3 ethtool jq ss traceroute udhcpc
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
tcp() { ovl_in "$1" python3 "$here/routing_tools.py" probe "$2" 7000 "${3:-100000}" "${4:-5}"; }
nonzero_drops() { ovl_nonzero_drops "$1"; }

A="wtr$$a" B="wtr$$b"   # node names: unique per run (DPDK file prefixes)
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 3001
    mtu: 1400
    subnets:
      - {name: s1, cidr: 10.0.1.0/24}
      - {name: s2, cidr: 10.0.2.0/24, dhcp: false}
      - {name: s3, cidr: 10.0.3.0/24, gateway: 10.0.3.254, dns: [10.0.1.53, 10.0.1.54]}
      - {name: s4, cidr: 10.0.4.0/24}
    routes:
      - {prefix: 192.168.50.0/24, next_hop: 10.0.4.5}
  - name: blue                 # red's addresses again
    vni: 3002
    subnets:
      - {name: s1, cidr: 10.0.1.0/24}
      - {name: s2, cidr: 10.0.2.0/24}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
  - name: from-s1              # r2a's: TCP from red's s1 only
    ingress: [{protocol: icmp, from: 0.0.0.0/0}, {protocol: tcp, ports: 7000, from: 10.0.1.0/24}]
ports:
  - {name: r1a, network: red, subnet: s1, node: $A, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: r2a, network: red, subnet: s2, node: $A, ip: 10.0.2.10, mac: "02:00:0a:00:02:0a", security_groups: [from-s1]}
  - {name: r2b, network: red, subnet: s2, node: $B, ip: 10.0.2.20, mac: "02:00:0a:00:02:14", security_groups: [open]}
  - {name: rd, network: red, subnet: s3, node: $B, ip: 10.0.3.30, mac: "02:00:0a:00:03:1e", security_groups: [open]}
  - {name: ap, network: red, subnet: s4, node: $B, ip: 10.0.4.5, mac: "02:00:0a:00:04:05", security_groups: [open],
     allowed_addresses: [192.168.50.0/24]}
  - {name: b1a, network: blue, subnet: s1, node: $A, ip: 10.0.1.10, mac: "02:00:0b:00:01:0a", security_groups: [open]}
  - {name: b2b, network: blue, subnet: s2, node: $B, ip: 10.0.2.20, mac: "02:00:0b:00:02:14", security_groups: [open]}
YAML

echo "== topology"
ovl_underlay
ovl_vm r1a 10.0.1.10/24 02:00:0a:00:01:0a 1400 10.0.1.1
ovl_vm r2a 10.0.2.10/24 02:00:0a:00:02:0a 1400 10.0.2.1
ovl_vm r2b 10.0.2.20/24 02:00:0a:00:02:14 1400 10.0.2.1
ovl_vm rd "" 02:00:0a:00:03:1e 1500                       # DHCP configures it
ovl_vm ap 10.0.4.5/24 02:00:0a:00:04:05 1400 10.0.4.1
ovl_vm b1a 10.0.1.10/24 02:00:0b:00:01:0a 1450 10.0.1.1
ovl_vm b2b 10.0.2.20/24 02:00:0b:00:02:14 1450 10.0.2.1
# The appliance routes 192.168.50.0/24 to a namespace behind it.
ovl_netns "${OVL_PREFIX}bh"
ip -n "${OVL_PREFIX}ap" link add in0 type veth peer name eth0 netns "${OVL_PREFIX}bh"
ip -n "${OVL_PREFIX}ap" addr add 192.168.50.1/24 dev in0
ip -n "${OVL_PREFIX}ap" link set in0 up
ovl_in ap sysctl -qw net.ipv4.ip_forward=1
ip -n "${OVL_PREFIX}bh" addr add 192.168.50.5/24 dev eth0
ip -n "${OVL_PREFIX}bh" link set eth0 up
ip -n "${OVL_PREFIX}bh" route add default via 192.168.50.1
ovl_weftd "$A" a 172.31.0.1/24 r1a:r1a r2a:r2a b1a:b1a -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 r2b:r2b rd:rd ap:ap b2b:b2b -- "$work/policy.yaml"
for l in r1a r2a r2b ap b1a b2b bh; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" python3 "$here/routing_tools.py" server "$l" 7000
done
for l in r1a r2a r2b ap b1a b2b bh; do
  deadline=$((SECONDS + 20))
  until ovl_in "$l" ss -Hltn | grep -q ':7000 '; do
    [ $SECONDS -lt $deadline ] || fail "$l: TCP server not listening"
    sleep 0.1
  done
done

echo "== ping to the gateways, then routed ping on one node and across nodes"
# Each vNIC passes traffic a few seconds after its weftd started.
for pair in "r1a 10.0.1.1" "r2a 10.0.2.1" "b1a 10.0.1.1" "r2b 10.0.2.1" "ap 10.0.4.1" "b2b 10.0.2.1"; do
  set -- $pair
  ovl_wait_ping "$1" "$2" 60 || fail "$1 never got an answer from its gateway $2: $(nonzero_drops "$A") $(nonzero_drops "$B")"
done
ovl_in r1a ping -c 3 -i 0.2 -W 1 10.0.2.10 >/dev/null || fail "r1a -> r2a (same node, routed): $(nonzero_drops "$A")"
ovl_in r2a ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "r2a -> r1a (same node, routed)"
ovl_wait_ping r1a 10.0.2.20 20 || fail "r1a -> r2b (across nodes, routed): A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
ovl_in r1a ping -c 3 -i 0.2 -W 1 10.0.2.20 >/dev/null || fail "r1a -> r2b (across nodes, routed)"
ovl_in r2b ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "r2b -> r1a (across nodes, routed)"
ovl_wait_ping b1a 10.0.2.20 20 || fail "b1a -> b2b (blue, across nodes, routed)"
# The TTL arrives decremented once: 64 sent, 63 at the far VM, its reply 63 back.
ttl=$(ovl_in r1a ping -c 1 -W 1 10.0.2.20 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
[ "$ttl" = 63 ] || fail "r1a's ping reply from r2b arrived with TTL $ttl, want 63 (one router hop)"

echo "== routed TCP: a transfer checked by digest, on one node and across nodes"
for c in "r1a 10.0.2.10 r2a" "r2a 10.0.1.10 r1a" "r1a 10.0.2.20 r2b" "r2b 10.0.1.10 r1a" "b1a 10.0.2.20 b2b" "b2b 10.0.1.10 b1a"; do
  set -- $c
  got=$(tcp "$1" "$2" 2000000 10) || fail "$1 -> $2: TCP transfer"
  [ "$got" = "$3" ] || fail "$1 -> $2: answered by $got, want $3"
  echo "  $1 -> $2: 2 MB to $got, intact"
done

echo "== traceroute across subnets: one hop, the sender's gateway"
# ICMP mode on one node, UDP mode across nodes; numeric, one probe a hop.
trace() {  # label, mode flags..., destination
  local l=$1; shift
  ovl_in "$l" traceroute -n -q 1 -w 1 -m 5 "$@" | tee "$work/trace.txt" >&2
  awk 'NR > 1 {print $2}' "$work/trace.txt" | paste -sd' '
}
ttl_before=$(ovl_drops "$A" l3_ttl_exceeded)
hops=$(trace r1a -I 10.0.2.10)
[ "$hops" = "10.0.1.1 10.0.2.10" ] || fail "traceroute -I r1a -> r2a: hops '$hops', want '10.0.1.1 10.0.2.10'"
hops=$(trace r1a -U 10.0.2.20)
[ "$hops" = "10.0.1.1 10.0.2.20" ] || fail "traceroute -U r1a -> r2b: hops '$hops', want '10.0.1.1 10.0.2.20'"
hops=$(trace r2b -I 10.0.1.10)
[ "$hops" = "10.0.2.1 10.0.1.10" ] || fail "traceroute -I r2b -> r1a: hops '$hops', want '10.0.2.1 10.0.1.10'"
ttl_after=$(ovl_drops "$A" l3_ttl_exceeded)
echo "l3_ttl_exceeded on $A: $ttl_before -> $ttl_after"
[ $((ttl_after - ttl_before)) -ge 2 ] || fail "the TTL-1 probes were not counted as l3_ttl_exceeded"
[ "$(ovl_stats "$A" | jq '.drops[] | select(.reason == "l3_ttl_exceeded") | .stages.icmp_error // 0')" -ge 1 ] ||
  fail "l3_ttl_exceeded not counted under the icmp_error stage (which answers and drops): $(nonzero_drops "$A")"

echo "== tenants: the same addresses, each reaches its own VMs only"
got=$(tcp r1a 10.0.2.20 1000) && [ "$got" = r2b ] || fail "red's 10.0.2.20 is not r2b ($got)"
got=$(tcp b1a 10.0.2.20 1000) && [ "$got" = b2b ] || fail "blue's 10.0.2.20 is not b2b ($got)"
before_host=$(ovl_drops "$A" l3_host_unknown) before_route=$(ovl_drops "$A" no_route)
# 10.0.2.10 is r2a's, in red: in blue's 10.0.2.0/24 no port holds it.
out=$(ovl_in b1a ping -c 2 -i 0.3 -W 1 10.0.2.10 2>&1) && fail "b1a reached 10.0.2.10, a red VM's address"
grep -q "From 10.0.1.1 .*Destination Host Unreachable" <<<"$out" || fail "b1a -> 10.0.2.10: no host unreachable from its gateway: $out"
# red's other subnets and its static route are not blue's.
for ip in 10.0.3.30 10.0.4.5 192.168.50.5; do
  out=$(ovl_in b1a ping -c 1 -W 1 "$ip" 2>&1) && fail "b1a reached $ip, a red address"
  grep -q "From 10.0.1.1 .*Destination Net Unreachable" <<<"$out" || fail "b1a -> $ip: no net unreachable from its gateway: $out"
done
tcp b1a 10.0.4.5 1000 2 >/dev/null 2>&1 && fail "b1a opened a TCP connection to red's appliance"
# Another subnet's broadcast address: not forwarded, and no ICMP error
# about it (RFC 1812 4.3.2.7), but counted.
out=$(ovl_in r1a ping -b -c 1 -W 1 10.0.2.255 2>&1) && fail "a directed broadcast to 10.0.2.255 was answered"
grep -q "Unreachable" <<<"$out" && fail "an ICMP error about a packet to a broadcast address: $out"
after_host=$(ovl_drops "$A" l3_host_unknown) after_route=$(ovl_drops "$A" no_route)
echo "on $A: l3_host_unknown $before_host -> $after_host, no_route $before_route -> $after_route"
[ $((after_host - before_host)) -ge 3 ] || fail "host unreachable and the broadcast not counted as l3_host_unknown"
[ $((after_route - before_route)) -ge 3 ] || fail "net unreachable not counted as no_route"

echo "== a static route: 192.168.50.0/24 via the appliance 10.0.4.5"
ovl_wait_ping r1a 192.168.50.5 20 || fail "r1a never reached 192.168.50.5 behind the appliance: A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
ovl_in r1a ping -c 3 -i 0.2 -W 1 192.168.50.5 >/dev/null || fail "r1a -> 192.168.50.5"
ovl_in r2b ping -c 3 -i 0.2 -W 1 192.168.50.5 >/dev/null || fail "r2b -> 192.168.50.5 (same node as the appliance)"
got=$(tcp r1a 192.168.50.5 500000) && [ "$got" = bh ] || fail "TCP r1a -> 192.168.50.5: answered by '$got', want bh"
hops=$(trace r1a -I 192.168.50.5)
[ "$hops" = "10.0.1.1 10.0.4.5 192.168.50.5" ] || fail "traceroute r1a -> 192.168.50.5: hops '$hops', want '10.0.1.1 10.0.4.5 192.168.50.5'"

echo "== ICMP errors from the router: fragmentation needed, and on a flow the cache holds"
# r2a's eth0 above its network's MTU (1400): the kernel sends 1450 bytes with DF.
ovl_in r2a ip link set eth0 mtu 1500
before_mtu=$(ovl_drops "$A" l3_mtu_exceeded)
# On a flow's first packet: the router's walk.
out=$(ovl_in r2a ping -c 1 -W 1 -M do -s 1422 10.0.4.5 2>&1) && fail "a 1450-byte ping with DF crossed a 1400-byte network"
grep -q "From 10.0.2.1 .*Frag needed and DF set (mtu = 1400)" <<<"$out" || fail "r2a -> 10.0.4.5: no fragmentation needed from 10.0.2.1: $out"
# On a flow already in the cache: its recorded rewrite checks TTL and MTU.
errors=$(ovl_in r2a python3 "$here/routing_tools.py" icmp-errors 10.0.1.10 7001)
echo "$errors"
want_errors=$'ttl64 3/3 from 10.0.1.10\nttl1 11/0 from 10.0.2.1\ndf1450 3/4 from 10.0.2.1 mtu 1400'
[ "$errors" = "$want_errors" ] || fail "ICMP errors on one UDP flow r2a -> r1a: want"$'\n'"$want_errors"
ovl_in r2a ip link set eth0 mtu 1400
after_mtu=$(ovl_drops "$A" l3_mtu_exceeded)
echo "l3_mtu_exceeded on $A: $before_mtu -> $after_mtu"
[ $((after_mtu - before_mtu)) -ge 2 ] || fail "fragmentation needed not counted as l3_mtu_exceeded"

echo "== DHCP: a subnet with dhcp: false does not answer"
before=$(ovl_drops "$A" dhcp_disabled)
ovl_in r2a udhcpc -i eth0 -f -q -n -t 2 -T 1 -s /bin/true >/dev/null 2>&1 && fail "r2a got a lease in a subnet with dhcp: false"
after=$(ovl_drops "$A" dhcp_disabled)
echo "dhcp_disabled on $A: $before -> $after"
[ $((after - before)) -ge 2 ] || fail "the DISCOVERs of a dhcp: false subnet were not counted as dhcp_disabled"

echo "== DHCP: udhcpc on a bare eth0"
cat >"$work/udhcpc.sh" <<'SH'
#!/bin/sh
# udhcpc's script: records what it was given, configures eth0 from it.
env | grep -E '^(interface|ip|subnet|mask|router|dns|mtu|lease|serverid|hostname)=' | sort >"$DHCP_OUT.$1"
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    [ -z "$mtu" ] || ip link set "$interface" mtu "$mtu"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    for d in $dns; do echo "nameserver $d"; done >"$DHCP_OUT.resolv.conf" ;;
esac
SH
chmod +x "$work/udhcpc.sh"
# In the foreground of its own (ip netns exec and env exec it: its pid is
# udhcpc's), kept running to renew.
ovl_spawn ip netns exec "${OVL_PREFIX}rd" env DHCP_OUT="$work/dhcp" udhcpc -i eth0 -f -t 20 -T 1 -A 1 -O mtu \
  -s "$work/udhcpc.sh" >"$work/udhcpc.log" 2>&1
udhcpc_pid=$!
deadline=$((SECONDS + 30))
until [ -s "$work/dhcp.bound" ]; do
  [ $SECONDS -lt $deadline ] || fail "udhcpc got no lease: $(cat "$work/udhcpc.log") $(nonzero_drops "$B")"
  sleep 0.1
done
echo "lease:"; sed 's/^/  /' "$work/dhcp.bound"
want() { grep -qx "$1" "$work/dhcp.bound" || fail "DHCP: no '$1' in the lease: $(tr '\n' ' ' <"$work/dhcp.bound")"; }
want "ip=10.0.3.30"
want "subnet=255.255.255.0"
want "mask=24"
want "router=10.0.3.254"
want "serverid=10.0.3.254"
want "dns=10.0.1.53 10.0.1.54"
want "mtu=1400"
want "hostname=rd"
grep -qE '^lease=[1-9][0-9]*$' "$work/dhcp.bound" || fail "DHCP: no lease time"
[ "$(cat "$work/dhcp.resolv.conf")" = $'nameserver 10.0.1.53\nnameserver 10.0.1.54' ] || fail "resolv.conf: $(cat "$work/dhcp.resolv.conf")"
ovl_in rd ip -4 -br addr show dev eth0 | grep -q "10.0.3.30/24" || fail "eth0 has no 10.0.3.30/24"
[ "$(ovl_in rd cat /sys/class/net/eth0/mtu)" = 1400 ] || fail "eth0's MTU is not 1400"
ovl_in rd ip route show default | grep -q "via 10.0.3.254" || fail "no default route via 10.0.3.254"
ovl_wait_ping rd 10.0.3.254 10 || fail "the DHCP client cannot ping its gateway"
ovl_in rd ping -c 3 -i 0.2 -W 1 10.0.2.20 >/dev/null || fail "the DHCP client -> r2b (same node, routed)"
ovl_in rd ping -c 3 -i 0.2 -W 1 10.0.1.10 >/dev/null || fail "the DHCP client -> r1a (across nodes, routed)"
# Security groups apply to routed traffic as to bridged: r2a takes TCP
# from 10.0.1.0/24 only, so 10.0.3.30 is refused at r2a's port.
denied() { ovl_stats "$A" | jq '.ports[] | select(.name == "r2a") | .sg_ingress_denied'; }
before=$(denied)
tcp rd 10.0.2.10 1000 2 >/dev/null 2>&1 && fail "the DHCP client opened a TCP connection to r2a, whose group refuses it"
after=$(denied)
echo "r2a's ingress denials: $before -> $after"
[ "$after" -gt "$before" ] || fail "the refused routed SYN was not counted at r2a's port"
# A renewal: a REQUEST from 10.0.3.30, unicast to the server.
kill -USR1 "$udhcpc_pid"
deadline=$((SECONDS + 10))
until [ -s "$work/dhcp.renew" ]; do
  [ $SECONDS -lt $deadline ] || fail "udhcpc could not renew: $(cat "$work/udhcpc.log") $(nonzero_drops "$B")"
  sleep 0.1
done
cat "$work/udhcpc.log"
grep -qx "ip=10.0.3.30" "$work/dhcp.renew" || fail "the renewal changed the address: $(cat "$work/dhcp.renew")"
[ "$(ovl_drops "$B" dhcp_refused)" -eq 0 ] || fail "$B refused DHCP from udhcpc: $(nonzero_drops "$B")"

echo "== counters"
for n in "$A" "$B"; do "$WEFTCTL" node stats --socket "${OVL_SOCK[$n]}" | sed "s/^/$n  /"; done
echo "PASS"
