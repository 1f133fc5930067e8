# A QEMU guest for the vhost-user end-to-end tests (source it): Debian's own
# kernel (its package, kept by scripts/bootstrap in WEFT_GUEST_CACHE) and a
# busybox initramfs built here from Debian's busybox-static with the virtio
# modules the kernel package ships. The guest brings eth0 up and takes its
# address by DHCP (busybox udhcpc; from weftd's DHCP server), or a static one
# when given, then runs a fixed script whose progress it prints on its
# serial console as "WEFT-GUEST-..." lines:
#
#   WEFT-GUEST-UP <address/len>   eth0 has its address
#   WEFT-GUEST-PING-OK            a first answer from the peer
#   WEFT-GUEST-RTT <ping summary> ten pings to the peer
#   WEFT-GUEST-LISTENING          nc listens on TCP 5001; the test connects
#   WEFT-GUEST-TCP-BYTES <n>      what one connection brought
#   WEFT-GUEST-RESET-PING-OK      virtio_net unloaded and loaded again (the
#                                 device reset a reboot does), and an answer
#   WEFT-GUEST-STREAM             then pings the peer every 0.2 s forever
#
#   source tests/e2e/guest_lib.sh
#   guest_build "$work/guest" || exit 77          # kernel + initramfs, or why not
#   guest_start "$work/guest" SOCK MAC dhcp 10.0.1.11 "$work/console.1"   # or 10.0.1.12/24
#   guest_wait "$work/console.1" WEFT-GUEST-PING-OK 300
#   kill "$GUEST_PID"

WEFT_GUEST_CACHE=${WEFT_GUEST_CACHE:-/var/cache/weft/guest}
GUEST_WHY=""
GUEST_PID=""

# The modules virtio-net needs, in load order (the package has no modules.dep).
GUEST_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
               failover net_failover virtio_net)

# Builds DIR/vmlinuz and DIR/initrd.gz; returns 1 with GUEST_WHY set when a
# piece is missing.
guest_build() {
  local dir=$1
  local deb
  deb=$(ls "$WEFT_GUEST_CACHE"/linux-image-*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { GUEST_WHY="no guest kernel package in $WEFT_GUEST_CACHE (scripts/bootstrap keeps one)"; return 1; }
  # (grep reads it all: with -q, busybox may die of SIGPIPE under pipefail)
  [ -x /bin/busybox ] && /bin/busybox --list | grep -x nc >/dev/null ||
    { GUEST_WHY="no busybox with nc (busybox-static)"; return 1; }
  mkdir -p "$dir/pkg" "$dir/root"/{bin,dev,proc,sys,lib/modules}
  dpkg-deb -x "$deb" "$dir/pkg"
  cp "$dir"/pkg/boot/vmlinuz-* "$dir/vmlinuz"
  local m f
  for m in "${GUEST_MODULES[@]}"; do
    f=$(find "$dir/pkg/lib/modules" -name "$m.ko" | head -1)
    [ -n "$f" ] || { GUEST_WHY="the kernel package has no $m.ko"; return 1; }
    cp "$f" "$dir/root/lib/modules/"
  done
  rm -rf "$dir/pkg"
  cp /bin/busybox "$dir/root/bin/busybox"
  # udhcpc's script: configure eth0 from the lease.
  cat >"$dir/root/bin/lease" <<'LEASE'
#!/bin/busybox sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr flush dev "$interface"
ip addr add "$ip/$mask" dev "$interface"
[ -z "$mtu" ] || ip link set dev "$interface" mtu "$mtu"
LEASE
  chmod +x "$dir/root/bin/lease"
  cat >"$dir/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${GUEST_MODULES[*]}; do insmod /lib/modules/\$m.ko; done
for arg in \$(cat /proc/cmdline); do
  case \$arg in weft.ip=*) ip=\${arg#weft.ip=} ;; weft.peer=*) peer=\${arg#weft.peer=} ;; esac
done
ip link set lo up
ip link set eth0 up
if [ "\$ip" = dhcp ]; then
  udhcpc -i eth0 -q -n -t 30 -T 1 -O mtu -s /bin/lease >/dev/null 2>&1 || echo WEFT-GUEST-NO-LEASE
else
  ip addr add \$ip dev eth0
fi
echo "WEFT-GUEST-UP \$(ip -o -4 addr show dev eth0 | awk '{print \$4}')"
until ping -c 1 -W 1 \$peer >/dev/null 2>&1; do :; done
echo WEFT-GUEST-PING-OK
echo "WEFT-GUEST-RTT \$(ping -c 10 -i 0.2 \$peer | tail -1)"
echo WEFT-GUEST-LISTENING
echo "WEFT-GUEST-TCP-BYTES \$(nc -l -p 5001 | wc -c)"
rmmod virtio_net
insmod /lib/modules/virtio_net.ko
ip link set eth0 up
if [ "\$ip" = dhcp ]; then udhcpc -i eth0 -q -n -t 30 -T 1 -O mtu -s /bin/lease >/dev/null 2>&1; else ip addr add \$ip dev eth0; fi
until ping -c 1 -W 1 \$peer >/dev/null 2>&1; do :; done
echo WEFT-GUEST-RESET-PING-OK
echo WEFT-GUEST-STREAM
exec ping -i 0.2 \$peer
INIT
  chmod +x "$dir/root/init"
  (cd "$dir/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.gz"
}

# Boots the guest with its virtio-net on vhost-user socket SOCK, MAC,
# address CIDR ("dhcp": a DHCP lease) and peer PEER; console to CONSOLE. QEMU connects to SOCK
# (weftd serves it), or with a 7th argument "server" serves it (weftd's
# client mode). Its memory is a shared memfd, as vhost-user requires.
# GUEST_PID: QEMU's pid.
guest_start() {
  local dir=$1 sock=$2 mac=$3 cidr=$4 peer=$5 console=$6 role=${7:-client}
  local chardev="socket,id=vu0,path=$sock"
  [ "$role" != server ] || chardev+=",server=on,wait=off"
  local accel=tcg msix=""
  # Under TCG, QEMU 7.2 crashes setting up a vhost device's MSI-X vector
  # notifiers (msix_set_vector_notifiers from vhost_net_start, seen here):
  # without KVM the guest's virtio-net runs on INTx (vectors=0).
  if [ -w /dev/kvm ]; then accel=kvm; else msix=",vectors=0"; fi
  qemu-system-x86_64 -machine q35,accel=$accel -m 256M -smp 1 -nodefaults -no-user-config \
    -display none -no-reboot \
    -object memory-backend-memfd,id=mem0,size=256M,share=on -numa node,memdev=mem0 \
    -chardev "$chardev" \
    -netdev vhost-user,id=net0,chardev=vu0 \
    -device virtio-net-pci,netdev=net0,mac="$mac"$msix \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 weft.ip=$cidr weft.peer=$peer" \
    -serial file:"$console" >"$console.qemu" 2>&1 &
  GUEST_PID=$!
}

# Waits until CONSOLE has a line starting with MARKER; 1 after TIMEOUT
# seconds or when QEMU is gone.
guest_wait() {
  local console=$1 marker=$2 timeout=$3
  local deadline=$((SECONDS + timeout))
  until grep -q "^$marker" "$console" 2>/dev/null; do
    kill -0 "$GUEST_PID" 2>/dev/null || return 1
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
