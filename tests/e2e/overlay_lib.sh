# Shared by the overlay end-to-end tests and scripts/demo (source it): a
# two-node Weft overlay on one machine, built from network namespaces.
#
#   VM        a namespace with eth0, one end of a veth whose other end (in the
#             root namespace) a weftd binds as an af_packet vNIC
#   underlay  a namespace holding a Linux bridge; each weftd's underlay is a
#             veth whose root end it binds and whose other end is a bridge port
#   weftd     one process per node, standalone (--policy), its control socket
#             and DPDK file prefix its own, so several run side by side
#
# Everything is named "$OVL_PREFIX..." (callers use a wto- prefix), recorded
# as it is made, and removed by ovl_cleanup, which callers run from an EXIT
# trap: processes are ended by PID, namespaces and root veths deleted.
#
#   source tests/e2e/overlay_lib.sh
#   ovl_init wto-42- /tmp/work
#   trap ovl_cleanup EXIT
#   ovl_underlay
#   ovl_vm ra 10.0.1.10/24 02:00:0a:00:01:0a 1450     # namespace wto-42-ra
#   ovl_weftd node-a a 172.31.0.1/24 "ra:red-a" -- policy.yaml
#   ovl_wait_ping ra 10.0.1.11 60

# An end-to-end test starts with ovl_prologue instead of the ovl_init and
# trap above (see it below):
#
#   source "$(dirname "$0")/overlay_lib.sh"
#   ovl_prologue wto tcpdump jq      # root and tools, or exit 77; work dir; traps
#   work=$OVL_WORK

OVL_PREFIX=""
OVL_WORK=""
OVL_UL=""                  # the underlay namespace
OVL_NETNS=()               # namespaces made
OVL_LINKS=()               # root-namespace veth ends made
OVL_PIDS=()                # processes started
declare -A OVL_SOCK=()     # node -> control socket
declare -A OVL_PID=()      # node -> weftd pid

ovl_init() {
  OVL_PREFIX=$1
  OVL_WORK=$2
  OVL_UL="${OVL_PREFIX}ul"
}

ovl_log() { echo "$*" >&2; }

# The prologue every end-to-end script shares. Skips the test (exit 77)
# unless it runs as root and every TOOL is on PATH; then makes the work
# directory /tmp/TAG-e2e-XXXXXX (OVL_WORK), names everything "TAG-<pid>-"
# (ovl_init), and traps EXIT to ovl_finish and INT/TERM to exit 130.
ovl_prologue() {  # TAG [TOOL...]
  local tag=$1; shift
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, DPDK)"; exit 77; }
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/bootstrap installs it)"; exit 77; }
  done
  ovl_init "$tag-$$-" "$(mktemp -d "/tmp/$tag-e2e-XXXXXX")"
  trap ovl_finish EXIT
  trap 'exit 130' INT TERM
}

# Files of OVL_WORK whose tail a failed test shows (globs), and how much
# (tail -n: "+1" is all of it).
OVL_DUMP=("*.log")
OVL_DUMP_LINES=30

# The EXIT trap of ovl_prologue: everything made is removed (ovl_cleanup);
# on failure the tail of each OVL_DUMP file first; the work directory goes;
# the script's exit status is kept.
ovl_finish() {
  local rc=$?
  ovl_cleanup
  if [ $rc -ne 0 ] && [ -n "$OVL_WORK" ]; then
    local glob f
    for glob in "${OVL_DUMP[@]}"; do
      for f in "$OVL_WORK"/$glob; do [ -f "$f" ] && { echo "--- $f"; tail -n "$OVL_DUMP_LINES" "$f"; }; done
    done
  fi
  [ -z "$OVL_WORK" ] || rm -rf "$OVL_WORK"
  exit $rc
}

# Runs in namespace $1 (a label, as given to ovl_vm).
ovl_in() {
  local label=$1; shift
  ip netns exec "${OVL_PREFIX}${label}" "$@"
}

ovl_netns() {
  ip netns add "$1"
  OVL_NETNS+=("$1")
  ip -n "$1" link set lo up
  # No IPv6 chatter (router solicitations, MLD): only the test's traffic.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# A veth whose end `root` stays in the root namespace (for weftd) and whose
# other end goes into namespace `ns` as `inside`.
ovl_veth() {
  local root=$1 ns=$2 inside=$3
  ip link add "$root" type veth peer name "${root}p"
  OVL_LINKS+=("$root")
  sysctl -qw "net.ipv6.conf.$root.disable_ipv6=1"
  ip link set dev "${root}p" netns "$ns"
  ip -n "$ns" link set dev "${root}p" name "$inside"
  ip link set dev "$root" up
  ip -n "$ns" link set dev "$inside" up
}

# The underlay: a bridge in its own namespace (away from the host's firewall).
ovl_underlay() {
  ovl_netns "$OVL_UL"
  ip -n "$OVL_UL" link add br0 type bridge
  ip -n "$OVL_UL" link set br0 up
}

# A port on the underlay bridge: the root end `${OVL_PREFIX}u$1`, for a weftd.
ovl_uplink() {
  local root="${OVL_PREFIX}u$1"
  ovl_veth "$root" "$OVL_UL" "$1"
  ip -n "$OVL_UL" link set dev "$1" master br0
  echo "$root"
}

# A VM: namespace and root veth end both "${OVL_PREFIX}$1", eth0 inside with
# the address, MAC and MTU its port has in the policy; optional gateway.
# An empty address leaves eth0 without one (for a DHCP client).
ovl_vm() {
  local label=$1 cidr=$2 mac=$3 mtu=$4 gw=${5:-}
  local ns="${OVL_PREFIX}${label}"
  ovl_netns "$ns"
  ovl_veth "$ns" "$ns" eth0
  ip -n "$ns" link set eth0 down
  ip -n "$ns" link set eth0 address "$mac" mtu "$mtu"
  [ -z "$cidr" ] || ip -n "$ns" addr add "$cidr" dev eth0
  ip -n "$ns" link set eth0 up
  [ -z "$gw" ] || ip -n "$ns" route add default via "$gw"
  # af_packet hands weftd the VM's frames as sent: no checksum left to a NIC.
  ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
}

# A Linux kernel VTEP, as a foreign node: namespace "${OVL_PREFIX}$1" on the
# underlay at `ul_cidr`, a vxlan device for `vni` whose endpoint has `cidr`
# and `mac`, flooding to each of the `remotes` (head-end replication).
ovl_kernel_vtep() {
  local label=$1 ul_cidr=$2 vni=$3 cidr=$4 mac=$5; shift 5
  local ns="${OVL_PREFIX}${label}"
  ovl_netns "$ns"
  # Both ends in namespaces: the bridge port, and eth0 of the kernel VTEP.
  ip -n "$OVL_UL" link add "$label" type veth peer name eth0 netns "$ns"
  ip -n "$OVL_UL" link set dev "$label" master br0 up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$ul_cidr" dev eth0
  ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
  ip -n "$ns" link add vx0 type vxlan id "$vni" local "${ul_cidr%/*}" dstport 4789 dev eth0
  local remote
  for remote in "$@"; do
    bridge -n "$ns" fdb append 00:00:00:00:00:00 dev vx0 dst "$remote"
  done
  ip -n "$ns" link set vx0 address "$mac"
  ip -n "$ns" addr add "$cidr" dev vx0
  ip -n "$ns" link set vx0 up
  ip netns exec "$ns" ethtool -K vx0 tx off >/dev/null
}

# Starts weftd for `node` with its underlay at `ul_cidr` on a new uplink
# (labelled `ul_label`: interface names are short), the vNICs "label:port"
# (VM label -> policy port name), standalone on the policy files after "--".
# Waits for its control socket.
ovl_weftd() {
  local node=$1 ul_label=$2 ul_cidr=$3; shift 3
  local ports=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do ports+=("$1"); shift; done
  shift
  local uplink sock="$OVL_WORK/$node.sock" cfg="$OVL_WORK/$node.yaml"
  uplink=$(ovl_uplink "$ul_label")
  {
    echo "node: $node"
    # OVL_UNDERLAY_DEVARGS=",qpairs=2": a queue pair per worker on the underlay.
    echo "underlay: {device: \"net_af_packet0,iface=$uplink${OVL_UNDERLAY_DEVARGS:-}\", ip: $ul_cidr}"
    echo "ports:"
    local p
    # OVL_VNIC_KIND=af_xdp runs a test's VMs on af_xdp vNICs instead.
    for p in "${ports[@]}"; do echo "  ${p#*:}: {type: ${OVL_VNIC_KIND:-af_packet}, iface: ${OVL_PREFIX}${p%%:*}}"; done
    # OVL_LCORES="0,0-1" runs two workers (the main lcore shares CPU 0).
    echo "dpdk: {lcores: \"${OVL_LCORES:-0,1}\", hugepages: true, memory_mb: 512}"
    echo "control_socket: $sock"
    # More node.yaml, e.g. "conntrack: {max_connections: 1024}".
    [ -z "${OVL_NODE_YAML:-}" ] || echo "$OVL_NODE_YAML"
  } >"$cfg"
  local policy_args=() f
  for f in "$@"; do policy_args+=(--policy "$f"); done
  OVL_SOCK[$node]=$sock
  # DPDK's af_packet PMD names its PACKET_FANOUT group (pid ^ ifindex), and
  # the kernel refuses a group id another process's socket on another
  # interface of this namespace already holds: two weftd here collide now
  # and then. A new process has a new pid.
  local attempt
  for attempt in 1 2 3; do
    "$WEFTD" --config "$cfg" "${policy_args[@]}" >"$OVL_WORK/$node.log" 2>&1 &
    OVL_PID[$node]=$!
    OVL_PIDS+=($!)
    local deadline=$((SECONDS + 60))
    until "$WEFTCTL" node stats --socket "$sock" --json >/dev/null 2>&1; do
      if ! kill -0 "${OVL_PID[$node]}" 2>/dev/null; then
        if [ $attempt -lt 3 ] && grep -q "could not set PACKET_FANOUT" "$OVL_WORK/$node.log"; then
          ovl_log "weftd $node: af_packet fanout group id taken (pid ^ ifindex), starting again"
          continue 2
        fi
        ovl_log "weftd $node exited:"; cat "$OVL_WORK/$node.log" >&2; return 1
      fi
      [ $SECONDS -lt $deadline ] || { ovl_log "weftd $node: no control socket after 60 s"; return 1; }
      sleep 0.2
    done
    return 0
  done
}

# Starts tcpdump in namespace $1 (a full name) on interface $2 writing
# decoded packets to $3, with the rest as tcpdump arguments (filter last);
# returns once its filter is in place ("listening on" on stderr), so no
# packet sent afterwards is missed. Its pid: OVL_CAPTURE_PID.
ovl_capture() {
  local ns=$1 iface=$2 out=$3; shift 3
  ip netns exec "$ns" tcpdump -i "$iface" -nn -l "$@" >"$out" 2>"$out.err" &
  OVL_CAPTURE_PID=$!
  OVL_PIDS+=("$OVL_CAPTURE_PID")
  local deadline=$((SECONDS + 10))
  until grep -q "listening on" "$out.err" 2>/dev/null; do
    kill -0 "$OVL_CAPTURE_PID" 2>/dev/null || { ovl_log "tcpdump on $ns/$iface: $(cat "$out.err")"; return 1; }
    [ $SECONDS -lt $deadline ] || { ovl_log "tcpdump on $ns/$iface: not listening after 10 s"; return 1; }
    sleep 0.05
  done
}

# Starts weft-controller ($1) with state under $2, TLS material from the
# dev CA in $3 (scripts/dev-ca), stderr to $4, on 127.0.0.1: southbound port
# $5 and API port $6 (0, the default: any free one). Returns once it serves;
# then OVL_CTL_PID, OVL_SB_PORT and OVL_API_PORT say where.
ovl_controller() {
  local exe=$1 state=$2 pki=$3 log=$4 sb=${5:-0} api=${6:-0}
  "$exe" --state-dir "$state" --listen "127.0.0.1:$sb" --api "127.0.0.1:$api" \
    --tls-ca "$pki/ca.pem" --tls-cert "$pki/controller.pem" --tls-key "$pki/controller.key" 2>"$log" &
  OVL_CTL_PID=$!
  OVL_PIDS+=("$OVL_CTL_PID")
  local deadline=$((SECONDS + 20))
  until grep -q "serving policy version" "$log"; do
    kill -0 "$OVL_CTL_PID" 2>/dev/null || { ovl_log "weft-controller exited: $(cat "$log")"; return 1; }
    [ $SECONDS -lt $deadline ] || { ovl_log "weft-controller: not serving after 20 s: $(cat "$log")"; return 1; }
    sleep 0.2
  done
  OVL_SB_PORT=$(sed -n 's/.*southbound 127.0.0.1:\([0-9]*\),.*/\1/p' "$log")
  OVL_API_PORT=$(sed -n 's/.*API 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
}

# One node, weftd NODE on 172.31.0.1, with two VMs of network red in an
# open group: vm-a (namespace va, 10.0.1.10) and vm-b (vb, 10.0.1.11); the
# policy in $OVL_WORK/policy.yaml. For tests of what weftd shows of its
# ports (metrics, capture); OVL_NODE_YAML adds to its node.yaml.
ovl_one_node() {  # NODE
  local node=$1
  cat >"$OVL_WORK/policy.yaml" <<YAML
version: 1
nodes:
  - {name: $node, underlay_ip: 172.31.0.1}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: vm-a, network: red, subnet: s, node: $node, ip: 10.0.1.10, mac: "02:00:0a:00:01:0a", security_groups: [open]}
  - {name: vm-b, network: red, subnet: s, node: $node, ip: 10.0.1.11, mac: "02:00:0a:00:01:0b", security_groups: [open]}
YAML
  ovl_underlay
  ovl_vm va 10.0.1.10/24 02:00:0a:00:01:0a 1450
  ovl_vm vb 10.0.1.11/24 02:00:0a:00:01:0b 1450
  ovl_weftd "$node" a 172.31.0.1/24 va:vm-a vb:vm-b -- "$OVL_WORK/policy.yaml"
}

ovl_stats() { "$WEFTCTL" node stats --socket "${OVL_SOCK[$1]}" --json; }
# A drop counter of node $1.
ovl_drops() { ovl_stats "$1" | jq -r --arg r "$2" '.drops[] | select(.reason == $r) | .count'; }
# Node $1's drop reasons that counted anything, by stage: for failure messages.
ovl_nonzero_drops() { ovl_stats "$1" | jq -c '[.drops[] | select(.count > 0) | {(.reason): .stages}] | add'; }

# Pings `ip` from VM `label` until one answer comes (a port passes traffic a
# few seconds after start, a next hop resolves on first use); gives up after
# `timeout` seconds.
ovl_wait_ping() {
  local label=$1 ip=$2 timeout=${3:-60}
  local deadline=$((SECONDS + timeout))
  until ovl_in "$label" ping -c 1 -W 1 "$ip" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
  done
}

# Starts a background process whose PID ovl_cleanup ends.
ovl_spawn() {
  "$@" &
  OVL_PIDS+=($!)
}

ovl_cleanup() {
  local pid ns link
  for pid in "${OVL_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${OVL_PIDS[@]}"; do
    # weftd stops within a second of SIGTERM; anything slower is killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  OVL_PIDS=()
  for ns in "${OVL_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  OVL_NETNS=()
  for link in "${OVL_LINKS[@]}"; do [ -z "$link" ] || ip link del "$link" 2>/dev/null || true; done
  OVL_LINKS=()
}

# With several workers per node (OVL_LCORES), checks that the test's
# traffic really spread over them: every worker of each node received
# packets from its own queues, and packets were handed to their
# connection's owner (dataplane/handoff/). With one worker there is
# nothing to check.
ovl_check_workers() {  # NODE...
  local n w
  for n in "$@"; do
    w=$(ovl_stats "$n" | jq -c '[.workers[] | {index, rx_packets, handoff_sent, handoff_received}]')
    echo "$n workers: $w"
    [ "$(jq length <<<"$w")" -gt 1 ] || continue
    [ "$(jq '[.[] | select(.rx_packets == 0)] | length' <<<"$w")" -eq 0 ] ||
      { ovl_log "$n: a worker received nothing: $w"; return 1; }
    [ "$(jq '[.[].handoff_sent] | add' <<<"$w")" -gt 0 ] ||
      { ovl_log "$n: no packet was handed to its connection's owner: $w"; return 1; }
    [ "$(jq '([.[].handoff_sent] | add) >= ([.[].handoff_received] | add)' <<<"$w")" = true ] ||
      { ovl_log "$n: more packets received by handoff than sent: $w"; return 1; }
  done
}
