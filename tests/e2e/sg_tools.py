#!/usr/bin/env python3
"""Helpers of the security-group end-to-end tests (sg_*.sh), run inside the
VMs' network namespaces or beside the test.

The test policy lives here once, as data: `policy` writes it as YAML for the
test's node names, and `expect` says what SPEC.md's security-group semantics
make of a connection under it (an oracle written from the spec, not from
the dataplane). The rest is traffic:

    sg_tools.py policy NODE_A NODE_B [--web-ports 80,8080]
    sg_tools.py expect CLIENT SERVER PORT [--web-ports ...]  -> allow | deny
    sg_tools.py vms                            -> label node ip mac, per line
    sg_tools.py echo-server PORT...            -> echoes lines on every port
    sg_tools.py probe IP PORT [TIMEOUT]        -> exit 0 iff a line comes back
    sg_tools.py row CLIENT TIMEOUT PORT... [--web-ports ...]
                                               -> probes every other VM on
                                                  every PORT at once, from
                                                  CLIENT's namespace; prints
                                                  "client server port want
                                                  got" per probe
    sg_tools.py chatter IP PORT                -> a line every 50 ms, each
                                                  echoed; prints "ok N" per
                                                  echo and "cut" on the first
                                                  missing one (1 s), then exits
    sg_tools.py synflood IFACE SRC_MAC DST_MAC SRC_IP DST_IP DPORT COUNT
                                               -> COUNT TCP SYNs from random
                                                  source ports, raw, fast
"""

import ipaddress
import os
import random
import socket
import socketserver
import struct
import sys
import threading
import time

VNI = 2001
CIDR = "10.0.1.0/24"

# label: (node, ip, mac, groups). Node "a" or "b".
VMS = {
    "c1": ("a", "10.0.1.21", "02:00:0a:00:01:15", ["client"]),
    "w1": ("a", "10.0.1.11", "02:00:0a:00:01:0b", ["web"]),
    "d1": ("a", "10.0.1.31", "02:00:0a:00:01:1f", ["db"]),
    "c2": ("b", "10.0.1.22", "02:00:0a:00:01:16", ["client"]),
    "w2": ("b", "10.0.1.12", "02:00:0a:00:01:0c", ["web"]),
    "x2": ("b", "10.0.1.40", "02:00:0a:00:01:28", []),
}


def groups(web_ports):
    """Security groups: name -> {ingress: [...], egress: [...] or absent}.
    A rule: (protocol, ports "a,b-c" or None, {"cidr": ...} or {"group": ...})."""
    return {
        "web": {
            "ingress": [("tcp", web_ports, {"cidr": "0.0.0.0/0"}),
                        ("icmp", None, {"cidr": "10.0.1.0/24"})],
            "egress": [("tcp", "5432", {"group": "db"})],
        },
        "db": {
            "ingress": [("tcp", "5432", {"group": "web"}),
                        ("tcp", "22", {"cidr": "10.0.1.20/30"})],  # the clients, as admins
        },
        "client": {
            "ingress": [],
            "egress": [("tcp", "22,80,8080", {"cidr": "0.0.0.0/0"}),
                       ("icmp", None, {"cidr": "0.0.0.0/0"})],
        },
    }


def policy_yaml(node_a, node_b, web_ports):
    out = ["version: 1", "nodes:",
           f"  - {{name: {node_a}, underlay_ip: 172.31.0.1}}",
           f"  - {{name: {node_b}, underlay_ip: 172.31.0.2}}",
           "networks:",
           f"  - {{name: shop, vni: {VNI}, subnets: [{{name: s, cidr: {CIDR}}}]}}",
           "ports:"]
    for label, (node, ip, mac, gs) in VMS.items():
        node_name = node_a if node == "a" else node_b
        out.append(f"  - {{name: {label}, network: shop, subnet: s, node: {node_name}, ip: {ip}, "
                   f"mac: \"{mac}\", security_groups: [{', '.join(gs)}]}}")
    out.append("security_groups:")
    for name, g in groups(web_ports).items():
        out.append(f"  - name: {name}")
        for direction, remote_key in (("ingress", "from"), ("egress", "to")):
            if direction not in g:
                continue
            if not g[direction]:
                out.append(f"    {direction}: []")
                continue
            out.append(f"    {direction}:")
            for proto, ports, remote in g[direction]:
                fields = [f"protocol: {proto}"]
                if ports:
                    fields.append(f"ports: \"{ports}\"")
                if "cidr" in remote:
                    fields.append(f"{remote_key}: {remote['cidr']}")
                else:
                    fields.append(f"{remote_key}_group: {remote['group']}")
                out.append(f"      - {{{', '.join(fields)}}}")
    return "\n".join(out) + "\n"


def port_set(spec):
    ports = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        ports.update(range(int(lo), int(hi or lo) + 1))
    return ports


def rule_matches(rule, proto, port, remote_ip):
    r_proto, r_ports, remote = rule
    if r_proto not in ("any", proto):
        return False
    if r_ports and port not in port_set(r_ports):
        return False
    if "cidr" in remote:
        return ipaddress.ip_address(remote_ip) in ipaddress.ip_network(remote["cidr"])
    return any(VMS[m][1] == remote_ip for m in VMS if remote["group"] in VMS[m][3])


def expect(client, server, port, web_ports):
    """SPEC.md: a new connection passes when the source port's egress allows
    it (no group, or a group without an egress list: all) and the
    destination port's ingress allows it (no rule: none)."""
    g = groups(web_ports)
    c_groups, s_groups = VMS[client][3], VMS[server][3]
    c_ip, s_ip = VMS[client][1], VMS[server][1]
    egress_all = not c_groups or any("egress" not in g[n] for n in c_groups)
    egress = egress_all or any(rule_matches(r, "tcp", port, s_ip) for n in c_groups for r in g[n]["egress"])
    ingress = any(rule_matches(r, "tcp", port, c_ip) for n in s_groups for r in g[n]["ingress"])
    return egress and ingress


# --- traffic --------------------------------------------------------------------

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def echo_server(ports):
    servers = [Server(("0.0.0.0", p), Echo) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def probe(ip, port, timeout):
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"probe\n")
            return s.makefile("rb").readline() == b"probe\n"
    except OSError:
        return False


def row(client, timeout, ports, web_ports):
    """One client's row of the matrix. The probes run at once, so the row
    takes one timeout however many of them are refused."""
    probes = [(s, p) for s in VMS if s != client for p in ports]
    got = {}

    def run(server, port):
        got[server, port] = probe(VMS[server][1], port, timeout)

    threads = [threading.Thread(target=run, args=sp) for sp in probes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for server, port in probes:
        want = expect(client, server, port, web_ports)
        print(client, server, port, "allow" if want else "deny", "allow" if got[server, port] else "deny")


def chatter(ip, port):
    s = socket.create_connection((ip, port), timeout=5)
    s.settimeout(1.0)
    f = s.makefile("rb")
    n = 0
    while True:
        n += 1
        line = f"{n}\n".encode()
        try:
            s.sendall(line)
            if f.readline() != line:
                raise OSError("bad echo")
        except OSError:
            print("cut", flush=True)
            return 1
        print(f"ok {n}", flush=True)
        time.sleep(0.05)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def synflood(iface, src_mac, dst_mac, src_ip, dst_ip, dport, count):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    eth = mac(dst_mac) + mac(src_mac) + b"\x08\x00"
    rng = random.Random(os.getpid())
    for i in range(count):
        sport = 1024 + rng.randrange(64000)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        sock.send(eth + ip + tcp)
    return 0


def main(argv):
    cmd, args = argv[1], argv[2:]
    web_ports = "80,8080"  # group web's ingress ports
    if "--web-ports" in args:
        i = args.index("--web-ports")
        web_ports = args[i + 1]
        args = args[:i] + args[i + 2:]
    if cmd == "policy":
        sys.stdout.write(policy_yaml(args[0], args[1], web_ports))
    elif cmd == "expect":
        print("allow" if expect(args[0], args[1], int(args[2]), web_ports) else "deny")
    elif cmd == "vms":
        for label, (node, ip, mac, _) in VMS.items():
            print(label, node, ip, mac)
    elif cmd == "echo-server":
        echo_server([int(p) for p in args])
    elif cmd == "probe":
        return 0 if probe(args[0], int(args[1]), float(args[2]) if len(args) > 2 else 2.0) else 1
    elif cmd == "row":
        row(args[0], float(args[1]), [int(p) for p in args[2:]], web_ports)
    elif cmd == "chatter":
        return chatter(args[0], int(args[1]))
    elif cmd == "synflood":
        return synflood(args[0], args[1], args[2], args[3], args[4], int(args[5]), int(args[6]))
    else:
        sys.exit(f"sg_tools.py: unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
