#!/usr/bin/env bash
# Installing Weft as a service: `meson install` into a DESTDIR puts weftd,
# weft-controller, weftctl, the uplink's XDP program and the systemd units
# where they belong; the units pass `systemd-analyze verify`; every
# installed program answers --help; the installed weftd, run from its
# installed path, finds the installed XDP program by itself, attaches it to
# an af_xdp uplink on a veth, and detaches it again on SIGTERM.
#
#   install.sh BUILD_DIR        (root; exits 77 = skipped otherwise)
#
# Everything it creates is named hxi<pid>* / wti-<pid>-* and removed on any exit.
set -euo pipefail

BUILD=$1
source "$(dirname "$0")/overlay_lib.sh"
ovl_prologue wti meson systemd-analyze readelf ip
OVL_DUMP=(weftd.log install.log verify.log)
OVL_DUMP_LINES=+1
work=$OVL_WORK
dest="$work/root"

fail() { echo "FAIL: $*"; exit 1; }

echo "== meson install into a DESTDIR"
meson install -C "$BUILD" --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1 ||
  fail "meson install: $(tail -5 "$work/install.log")"
prefix=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
libdir=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "libdir") | .value')
root="$dest$prefix"
for f in bin/weftd bin/weft-controller bin/weftctl; do
  [ -x "$root/$f" ] || fail "$f not installed"
done
bpf="$root/$libdir/weft/weft_uplink.bpf.o"
[ -f "$bpf" ] || fail "the XDP program is not installed at $libdir/weft"
readelf -h "$bpf" | grep "Linux BPF" >/dev/null || fail "$bpf is not a BPF object: $(readelf -h "$bpf" | grep Machine)"
units="$root/lib/systemd/system"
for u in "weftd@.service" weft-controller.service; do
  [ -f "$units/$u" ] || fail "unit $u not installed"
  grep -q "ExecStart=$prefix/bin/" "$units/$u" || fail "$u does not run the installed binary"
done
[ -f "$root/share/doc/weft/operations.md" ] || fail "docs not installed"
[ -f "$root/share/doc/weft/node.yaml.example" ] || fail "no example node.yaml installed"

echo "== systemd-analyze verify"
# verify reads units under --root as systemd would after the install, with
# this system's own units (sysinit.target, ...) and tools (/bin/kill) beside
# ours; a template is verified through an instance of it.
# (Copies: under --root, an absolute symlink points into the root.)
mkdir -p "$dest/usr/lib/systemd" "$dest/usr/bin"
cp -a /usr/lib/systemd/system "$dest/usr/lib/systemd/"
cp /usr/bin/kill "$dest/usr/bin/"
ln -s usr/bin "$dest/bin"
cp "$units/weftd@.service" "$units/weftd@node-a.service"
for u in "weftd@node-a.service" weft-controller.service; do
  if ! systemd-analyze verify --root="$dest" "$units/$u" >"$work/verify.log" 2>&1; then
    fail "systemd-analyze verify $u: $(cat "$work/verify.log")"
  fi
  # verify prints warnings without failing: an unknown key, a bad value.
  if grep -v "^$" "$work/verify.log" | grep . >/dev/null; then fail "systemd-analyze verify $u: $(cat "$work/verify.log")"; fi
done
rm "$units/weftd@node-a.service"
# The units only grant what they list: weftd a few capabilities, the
# controller none.
grep -q "^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" "$units/weftd@.service" || fail "weftd@ has no capability bounding set"
grep -q "^CapabilityBoundingSet=$" "$units/weft-controller.service" || fail "weft-controller keeps capabilities"

echo "== the installed programs answer --help"
for p in weftd weft-controller weftctl; do
  "$root/bin/$p" --help >"$work/help.txt" 2>&1 || fail "$p --help: exit $?: $(cat "$work/help.txt")"
  grep -qi "usage" "$work/help.txt" || fail "$p --help printed no usage"
done

echo "== the installed weftd runs an af_xdp uplink with the installed XDP program"
id=$$
ul="hxi${id}u" vm="hxi${id}v"
ip link add "$ul" type veth peer name "${ul}p"; OVL_LINKS+=("$ul")
ip link add "$vm" type veth peer name "${vm}p"; OVL_LINKS+=("$vm")
for l in "$ul" "${ul}p" "$vm" "${vm}p"; do ip link set "$l" up; done
sock="$work/weftd.sock"
cat >"$work/node.yaml" <<YAML
node: wti$id
underlay: {device: "net_af_xdp0,iface=$ul", ip: 172.31.0.11/24}
ports:
  vm: {type: af_packet, iface: $vm}
dpdk: {lcores: "0,1", hugepages: false, memory_mb: 512}
control_socket: $sock
YAML
"$root/bin/weftd" --config "$work/node.yaml" >"$work/weftd.log" 2>&1 &
pid=$!
OVL_PIDS+=("$pid")
deadline=$((SECONDS + 60))
until "$root/bin/weftctl" node stats --socket "$sock" --json >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || fail "installed weftd exited: $(cat "$work/weftd.log")"
  [ $SECONDS -lt $deadline ] || fail "installed weftd: no control socket after 60 s"
  sleep 0.2
done
ip -d link show dev "$ul" | grep "prog/xdp" >/dev/null || fail "no XDP program on $ul: $(ip -d link show dev "$ul")"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "weftd exited $rc on SIGTERM"
if ip -d link show dev "$ul" | grep "prog/xdp" >/dev/null; then fail "weftd left its XDP program on $ul"; fi
echo "PASS"
