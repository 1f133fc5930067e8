#!/usr/bin/env bash
# End-to-end test of a gateway (issue 14): two standalone weftd nodes
# (overlay_lib.sh), the gateway on node A with its external port on a veth
# into an "internet" namespace whose eth0 is the next hop (203.0.113.1)
# and runs the server:
#
#   - private VMs on node B and on node A reach the server, which sees the
#     SNAT address 203.0.113.2 as the source; ping and traceroute -I pass
#     through the NAT;
#   - two tenants with the same private address and source port each get
#     their own mapping;
#   - the server cannot open a connection to the SNAT address;
#   - a public VM on node B with floating IP 203.0.113.10 is reachable from
#     the internet on the port its group allows and refused on another; its
#     own connections out are seen as the floating IP;
#   - the internet namespace is a router too: behind it, on a link of MTU
#     1300, a second server (198.51.100.7); traceroute (UDP and -I) from a
#     private VM shows the hops beyond the gateway, their errors translated
#     back through the NAT, and the router's fragmentation needed reaches
#     the VM, which learns the path MTU; a traceroute from the internet to
#     the floating IP shows the gateway's external IP as the hop before it,
#     and the public VM's own port unreachable reaches the internet as
#     from its floating IP;
#   - a burst of forged frames (unallocated ports, an unknown address, a
#     martian source) is dropped and counted under named reasons, and
#     changes nothing (fragments: tests/packet/gateway_test.cc; af_packet
#     reassembles them before weftd sees them).
#
#   gateway.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
#
# Everything it creates is named gi-<pid>-* and removed on any exit.
set -euo pipefail

WEFTD=$1
WEFTCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/overlay_lib.sh"
ovl_prologue gi python3 ethtool jq ss traceroute ping
work=$OVL_WORK

fail() { echo "FAIL: $*"; exit 1; }
nonzero_drops() { ovl_nonzero_drops "$1"; }
tools() { local l=$1; shift; ovl_in "$l" python3 "$here/gateway_tools.py" "$@"; }

A="gi$$a" B="gi$$b"
cat >"$work/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $A, underlay_ip: 172.31.0.1}
  - {name: $B, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 3101
    subnets:
      - {name: priv, cidr: 10.0.1.0/24}
      - {name: pub, cidr: 10.0.2.0/24, public: true}
  - {name: blue, vni: 3102, subnets: [{name: priv, cidr: 10.0.1.0/24}]}
security_groups:
  - name: web
    ingress: [{protocol: tcp, ports: 7000, from: 0.0.0.0/0}, {protocol: icmp, from: 0.0.0.0/0},
              {protocol: udp, ports: 7002, from: 0.0.0.0/0}]
ports:
  - {name: ra, network: red, subnet: priv, node: $A, ip: 10.0.1.20, mac: "02:00:0a:00:01:14"}
  - {name: rb, network: red, subnet: priv, node: $B, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a"}
  - {name: bb, network: blue, subnet: priv, node: $B, ip: 10.0.1.10, mac: "02:00:0b:00:01:0a"}
  - {name: pb, network: red, subnet: pub, node: $B, ip: 10.0.2.10, mac: "02:00:0a:00:02:0a", security_groups: [web]}
gateways:
  - name: edge
    node: $A
    external_cidr: 203.0.113.0/24
    external_ip: 203.0.113.2
    external_next_hop: 203.0.113.1
    networks: [red, blue]
    floating_ips:
      - {ip: 203.0.113.10, port: pb}
YAML

echo "== topology"
ovl_underlay
ovl_vm ra 10.0.1.20/24 02:00:0a:00:01:14 1450 10.0.1.1
ovl_vm rb 10.0.1.10/24 02:00:0a:00:01:0a 1450 10.0.1.1
ovl_vm bb 10.0.1.10/24 02:00:0b:00:01:0a 1450 10.0.1.1
ovl_vm pb 10.0.2.10/24 02:00:0a:00:02:0a 1450 10.0.2.1
# The internet: eth0 at the next hop, the server on it.
ovl_netns "${OVL_PREFIX}inet"
ovl_veth "${OVL_PREFIX}x" "${OVL_PREFIX}inet" eth0
ip -n "${OVL_PREFIX}inet" addr add 203.0.113.1/24 dev eth0
ip netns exec "${OVL_PREFIX}inet" ethtool -K eth0 tx off >/dev/null
ext_mac=$(cat "/sys/class/net/${OVL_PREFIX}x/address")
# Beyond it, on a narrower link: the far server.
ovl_netns "${OVL_PREFIX}far"
ip -n "${OVL_PREFIX}inet" link add eth1 mtu 1300 type veth peer name eth0 netns "${OVL_PREFIX}far"
ip -n "${OVL_PREFIX}far" link set eth0 mtu 1300 up
ip -n "${OVL_PREFIX}inet" link set eth1 up
ip -n "${OVL_PREFIX}inet" addr add 198.51.100.1/24 dev eth1
ip -n "${OVL_PREFIX}far" addr add 198.51.100.7/24 dev eth0
ip -n "${OVL_PREFIX}far" route add default via 198.51.100.1
ip netns exec "${OVL_PREFIX}inet" sysctl -qw net.ipv4.ip_forward=1
for l in inet far; do ip netns exec "${OVL_PREFIX}$l" sysctl -qw net.ipv4.icmp_ratelimit=0; done
for l in inet:eth1 far:eth0; do ip netns exec "${OVL_PREFIX}${l%:*}" ethtool -K "${l#*:}" tx off >/dev/null; done
OVL_NODE_YAML="external: {device: \"net_af_packet1,iface=${OVL_PREFIX}x\"}" \
  ovl_weftd "$A" a 172.31.0.1/24 ra:ra -- "$work/policy.yaml"
ovl_weftd "$B" b 172.31.0.2/24 rb:rb bb:bb pb:pb -- "$work/policy.yaml"
ovl_spawn ip netns exec "${OVL_PREFIX}inet" python3 "$here/gateway_tools.py" whoami 7100
for l in pb; do
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" python3 "$here/gateway_tools.py" whoami 7000
  ovl_spawn ip netns exec "${OVL_PREFIX}$l" python3 "$here/gateway_tools.py" whoami 7001
done
for l in inet pb; do
  deadline=$((SECONDS + 20))
  until ovl_in "$l" ss -Hltn | grep -q ':7[01]00 '; do
    [ $SECONDS -lt $deadline ] || fail "$l: TCP server not listening"
    sleep 0.1
  done
done

echo "== private VMs reach the internet behind the SNAT address"
for l in rb ra bb; do
  ovl_wait_ping "$l" 203.0.113.1 60 || fail "$l never reached 203.0.113.1: A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
done
for l in rb ra bb; do
  seen=$(tools "$l" ask 203.0.113.1 7100) || fail "$l -> server: no TCP answer: A $(nonzero_drops "$A")"
  echo "  $l is seen as $seen"
  [ "${seen%:*}" = 203.0.113.2 ] || fail "$l was seen as $seen, not the SNAT address"
done
hops=$(ovl_in rb traceroute -n -I -q 1 -w 1 -m 5 203.0.113.1 | awk 'NR > 1 {print $2}' | paste -sd' ')
[ "$hops" = "10.0.1.1 203.0.113.1" ] || fail "traceroute -I rb -> 203.0.113.1: hops '$hops'"

echo "== ICMP errors from beyond the gateway come back through the NAT"
for mode in "" -I; do
  hops=$(ovl_in rb traceroute -n $mode -q 1 -w 2 -m 5 198.51.100.7 | awk 'NR > 1 {print $2}' | paste -sd' ')
  echo "  traceroute $mode rb -> 198.51.100.7: $hops"
  [ "$hops" = "10.0.1.1 203.0.113.1 198.51.100.7" ] ||
    fail "traceroute $mode rb -> 198.51.100.7: hops '$hops': A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
done
# 1428 bytes fit the VM's network (1450), not the far link (1300): the
# router's fragmentation needed, translated, teaches rb the path MTU.
out=$(ovl_in rb ping -M do -s 1400 -c 2 -i 0.5 -W 2 198.51.100.7 2>&1 || true)
echo "$out" | grep -Eq 'mtu ?= ?1300' || fail "no fragmentation needed (mtu 1300) reached rb: $out; A $(nonzero_drops "$A")"
ovl_in rb ip route get 198.51.100.7 | grep -q 'mtu 1300' ||
  fail "rb did not learn the path MTU: $(ovl_in rb ip route get 198.51.100.7)"
ovl_in rb ping -M do -s 1200 -c 1 -W 2 198.51.100.7 >/dev/null || fail "rb cannot ping the far server within the path MTU"
echo "  rb learned: $(ovl_in rb ip route get 198.51.100.7 | grep -o 'mtu [0-9]*')"

echo "== two tenants, one address and source port: a mapping each"
red=$(tools rb ask 203.0.113.1 7100 40000) || fail "red's rb from port 40000"
blue=$(tools bb ask 203.0.113.1 7100 40000) || fail "blue's bb from port 40000"
echo "  red rb:40000 -> $red, blue bb:40000 -> $blue"
[ "${red%:*}" = 203.0.113.2 ] && [ "${blue%:*}" = 203.0.113.2 ] || fail "not both behind the SNAT address"
[ "$red" != "$blue" ] || fail "two tenants got the one mapping $red"

echo "== the internet cannot open a connection to the SNAT address"
before=$(ovl_drops "$A" gw_no_mapping)
for port in 7000 "${red#*:}" 22; do
  ovl_in inet timeout 3 bash -c "exec 3<>/dev/tcp/203.0.113.2/$port" 2>/dev/null && fail "the server opened a connection to 203.0.113.2:$port"
done
after=$(ovl_drops "$A" gw_no_mapping)
echo "  gw_no_mapping on $A: $before -> $after"
[ $((after - before)) -ge 3 ] || fail "the refused SYNs were not counted as gw_no_mapping"

echo "== the floating IP: in on the allowed port only, out as itself"
ovl_in inet ping -c 1 -W 2 203.0.113.10 >/dev/null 2>&1 || ovl_in inet ping -c 3 -i 0.3 -W 2 203.0.113.10 >/dev/null ||
  fail "the internet cannot ping the floating IP: A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
# The gateway is the one hop in front of it, answering from its external IP.
hops=$(ovl_in inet traceroute -n -I -q 1 -w 2 -m 4 203.0.113.10 | awk 'NR > 1 {print $2}' | paste -sd' ')
echo "  traceroute -I internet -> 203.0.113.10: $hops"
[ "$hops" = "203.0.113.2 203.0.113.10" ] || fail "traceroute -I to the floating IP: hops '$hops': A $(nonzero_drops "$A")"
# pb's own port unreachable (nothing listens on UDP 7002) leaves as the
# floating IP, quoting what the internet sent: its socket hears "refused".
tools inet refused 203.0.113.10 7002 || fail "pb's port unreachable did not reach the internet as from 203.0.113.10"
seen=$(tools inet ask 203.0.113.10 7000) || fail "internet -> 203.0.113.10:7000: no answer: A $(nonzero_drops "$A") B $(nonzero_drops "$B")"
echo "  pb sees the internet as $seen"
[ "${seen%:*}" = 203.0.113.1 ] || fail "pb saw $seen, not the outside address"
denied_before=$(ovl_stats "$B" | jq '.ports[] | select(.name == "pb") | .sg_ingress_denied')
tools inet ask 203.0.113.10 7001 2>/dev/null && fail "the internet reached pb on 7001, which its group does not open"
denied_after=$(ovl_stats "$B" | jq '.ports[] | select(.name == "pb") | .sg_ingress_denied')
[ "$denied_after" -gt "$denied_before" ] || fail "the refused SYN was not counted at pb's port"
seen=$(tools pb ask 203.0.113.1 7100) || fail "pb -> server: no answer"
echo "  pb is seen as $seen"
[ "${seen%:*}" = 203.0.113.10 ] || fail "pb's connection was seen from $seen, not its floating IP"

echo "== a burst of forged frames is counted and changes nothing"
declare -A before=()
reasons="gw_no_mapping gw_unknown_destination gw_martian_source"
for r in $reasons; do before[$r]=$(ovl_drops "$A" "$r"); done
tools inet forge eth0 "$ext_mac" 100
sleep 1
for r in $reasons; do
  now=$(ovl_drops "$A" "$r")
  echo "  $r: ${before[$r]} -> $now"
  [ $((now - before[$r])) -ge 100 ] || fail "forged frames not counted as $r: A $(nonzero_drops "$A")"
done
seen=$(tools rb ask 203.0.113.1 7100) && [ "${seen%:*}" = 203.0.113.2 ] || fail "SNAT broken after the forged burst"
tools inet ask 203.0.113.10 7000 >/dev/null || fail "the floating IP broken after the forged burst"

echo "== counters"
for n in "$A" "$B"; do "$WEFTCTL" node stats --socket "${OVL_SOCK[$n]}" | sed "s/^/$n  /"; done
echo "PASS"
