"""Open vSwitch's DPDK datapath on a perf/run scenario's traffic (--compare ovs).

OVS (Debian's openvswitch-switch-dpdk: ovs-vswitchd-dpdk, DPDK 22.11 like
weftd's) runs on the same pcap and null vdevs as weftd and testpmd, with one
PMD thread on the worker core, configured for the same job:

    l2         in_port=in -> out: the patch panel of parse-and-forward
    vxlan      the tunnel terminated on br-phy (native tunneling: tnl_pop,
               recirculation), then a flow per VNI on br-int -> out
    vxlan-ct   the same, then conntrack: ct(zone) on each packet, an allow
               rule committing new connections, established ones to out

Everything OVS makes lives in a network namespace of its own (its tap
devices, the tunnel endpoint's address) and a work directory (database,
sockets, logs); its two processes are ended by PID and the namespace
deleted, whatever happens. Its figures come from OVS itself: the sink's tx
counter (dpctl/show -s) and the PMD's processing cycles per received
packet (dpif-netdev/pmd-stats-show), read over the same windows as weftd's.
"""

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
VTEP_IP = "192.0.2.1/24"           # perf/run's node: the outer destination of every tunnel packet
VTEP_MAC = "02:00:00:00:ff:01"     # and its underlay MAC (gen_pcap)


@dataclasses.dataclass
class OvsJob:
    kind: str                      # l2, vxlan, vxlan-ct
    vnis: tuple = ()               # the scenario's VNIs: one flow each on br-int


def ensure_installed(log):
    """Installs OVS-DPDK with apt-get (only --compare ovs asks for it), without starting its services."""
    if os.access(VSWITCHD, os.X_OK) and shutil.which("ovsdb-server"):
        return
    log("perf/run: installing openvswitch-switch-dpdk (apt-get) for --compare ovs")
    # Debian's way to install a daemon without starting it: policy-rc.d
    # answering 101, unless the machine already has one.
    policy = Path("/usr/sbin/policy-rc.d")
    made = not policy.exists()
    if made:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        subprocess.run(["apt-get", "install", "-y", "-q", "openvswitch-switch-dpdk"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
    finally:
        if made:
            policy.unlink()


class Ovs:
    """ovsdb-server and ovs-vswitchd-dpdk in a namespace of their own, on one scenario's vdevs."""

    def __init__(self, workdir, pcap, socket_mem_mib, job, flows):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ns = f"weft-perf-ovs-{os.getpid()}"
        self.db_sock = self.dir / "db.sock"
        self.ctl = self.dir / "vswitchd.ctl"
        self.env = dict(os.environ, OVS_RUNDIR=str(self.dir), OVS_DBDIR=str(self.dir), OVS_LOGDIR=str(self.dir))
        self.procs = []
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        try:
            self._start(pcap, socket_mem_mib)
            self._configure(job, flows)
        except BaseException:
            self.stop()
            raise

    # --- processes ------------------------------------------------------------

    def _spawn(self, name, cmd):
        log = open(self.dir / f"{name}.out", "w")
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], env=self.env,
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def _start(self, pcap, socket_mem_mib):
        db = self.dir / "conf.db"
        subprocess.run(["ovsdb-tool", "create", str(db), SCHEMA], check=True)
        self._spawn("ovsdb", ["ovsdb-server", f"--remote=punix:{self.db_sock}", f"--unixctl={self.dir}/ovsdb.ctl",
                              "--no-chdir", f"--log-file={self.dir}/ovsdb.log", str(db)])
        self._wait_for(self.db_sock, "ovsdb-server")
        self.vsctl("--no-wait", "init")
        extra = (f"--no-pci --file-prefix=weft-perf-ovs --log-level=lib.eal:notice "
                 f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1 --vdev=net_null0,no-rx=1")
        # Core 0 for OVS's main thread, core 1 for the one PMD: as weftd's
        # lcores 0,1 and testpmd's -l 0,1.
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x2",
                   f"other_config:dpdk-socket-mem={socket_mem_mib}", f"other_config:dpdk-extra={extra}")
        self._spawn("vswitchd", [VSWITCHD, f"unix:{self.db_sock}", f"--unixctl={self.ctl}", "--no-chdir",
                                 f"--log-file={self.dir}/vswitchd.log"])
        self._wait_for(self.ctl, "ovs-vswitchd")

    def _wait_for(self, path, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not path.exists():
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{what}: a process exited with {p.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not up after {timeout} s:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        text = ""
        for f in ("ovsdb.log", "vswitchd.log"):
            p = self.dir / f
            if p.exists():
                text += f"--- {f}\n" + p.read_text()[-2000:]
        return text

    def stop(self):
        """Ends OVS's processes by PID (vswitchd first), deletes its namespace."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs = []
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)

    # --- configuration --------------------------------------------------------

    def vsctl(self, *args):
        return subprocess.run(["ovs-vsctl", f"--db=unix:{self.db_sock}", "--timeout=120", *args], env=self.env,
                              check=True, capture_output=True, text=True).stdout

    def ofctl(self, bridge, *flows):
        subprocess.run(["ovs-ofctl", "del-flows", bridge], env=self.env, check=True)
        for f in flows:
            subprocess.run(["ovs-ofctl", "add-flow", bridge, f], env=self.env, check=True)

    def appctl(self, *args):
        return subprocess.run(["ovs-appctl", "-t", str(self.ctl), *args], env=self.env,
                              check=True, capture_output=True, text=True).stdout

    def _bridge(self, name, *settings):
        self.vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev", *settings)

    def _dpdk_port(self, bridge, name, devargs):
        self.vsctl("add-port", bridge, name, "--", "set", "Interface", name, "type=dpdk",
                   f"options:dpdk-devargs={devargs}")

    def _configure(self, job, flows):
        if job.kind == "l2":
            self._bridge("br0")
            self._dpdk_port("br0", "in", "net_pcap0")
            self._dpdk_port("br0", "out", "net_null0")
            self.ofctl("br0", "in_port=in,actions=output:out")
            return
        # The tunnel ends on br-phy's own address: OVS pops VXLAN sent to
        # an address of a bridge's LOCAL port (its tap, in our namespace).
        self._bridge("br-phy", f"other-config:hwaddr=\"{VTEP_MAC}\"")
        self._dpdk_port("br-phy", "in", "net_pcap0")
        subprocess.run(["ip", "-n", self.ns, "addr", "add", VTEP_IP, "dev", "br-phy"], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "br-phy", "up"], check=True)
        self._bridge("br-int")
        self.vsctl("add-port", "br-int", "vx", "--", "set", "Interface", "vx", "type=vxlan",
                   "options:remote_ip=flow", "options:key=flow", f"options:local_ip={VTEP_IP.split('/')[0]}")
        self._dpdk_port("br-int", "out", "net_null0")
        self.ofctl("br-phy", "actions=NORMAL")
        if job.kind == "vxlan":
            self.ofctl("br-int", *(f"in_port=vx,tun_id={v},actions=output:out" for v in job.vnis))
        else:  # vxlan-ct: one zone per VNI, an allow rule
            self.appctl("dpctl/ct-set-maxconns", str(max(3_000_000, 2 * flows)))
            rules = [f"table=0,in_port=vx,tun_id={v},ip,actions=ct(zone={z},table=1)"
                     for z, v in enumerate(job.vnis, 1)]
            for z, _ in enumerate(job.vnis, 1):
                rules += [f"table=1,ct_state=+trk+new,ct_zone={z},ip,actions=ct(commit,zone={z}),output:out",
                          f"table=1,ct_state=+trk+est,ct_zone={z},ip,actions=output:out"]
            self.ofctl("br-int", *rules)

    # --- measuring ------------------------------------------------------------

    def sink_tx(self):
        """The null port's transmitted packets, from the datapath (not the 5 s database stats)."""
        text = self.appctl("dpctl/show", "-s", "netdev@ovs-netdev")
        m = re.search(r"port \d+: out \(.*?\)\n(?:.*\n)*?\s+TX packets:(\d+)", text)
        if not m:
            raise RuntimeError(f"no tx counter for port out in:\n{text}")
        return int(m.group(1))

    def pmd(self):
        """(packets received, processing cycles) of the PMD thread."""
        text = self.appctl("dpif-netdev/pmd-stats-show")
        block = text.split("main thread:")[0]
        rx = re.search(r"packets received: (\d+)", block)
        busy = re.search(r"processing cycles: (\d+)", block)
        if not rx or not busy:
            raise RuntimeError(f"no PMD statistics in:\n{text}")
        return int(rx.group(1)), int(busy.group(1))

    def sample(self):
        rx, busy = self.pmd()
        return time.monotonic(), self.sink_tx(), rx, busy


def measure_ovs(workdir, pcap, socket_mem_mib, job, packets, flows, args, log):
    """OVS's Mpps and cycles per packet over perf/run's windows, like measure_weftd's."""
    ovs = Ovs(workdir, pcap, socket_mem_mib, job, flows)
    try:
        # Every connection made once (a pass of the pcap) before the
        # warm-up proper, as weftd's table is full by its windows.
        deadline = time.monotonic() + 120
        while ovs.sink_tx() < packets and time.monotonic() < deadline:
            time.sleep(0.5)
        if ovs.sink_tx() == 0:
            raise RuntimeError(f"OVS forwards nothing on this job:\n{ovs.output()}")
        time.sleep(args.warmup)
        mpps, cpp = [], []
        prev = ovs.sample()
        for _ in range(args.windows):
            time.sleep(args.window_seconds)
            cur = ovs.sample()
            dt, dtx, drx, dbusy = (c - p for c, p in zip(cur, prev))
            mpps.append(dtx / dt / 1e6)
            cpp.append(dbusy / drx if drx else float("nan"))
            prev = cur
        if job.kind == "vxlan-ct":
            log(f"perf/run: ovs conntrack: {ovs.appctl('dpctl/ct-stats-show').splitlines()[0:3]}")
    finally:
        ovs.stop()
    return mpps, cpp
