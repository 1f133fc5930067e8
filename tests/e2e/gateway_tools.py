#!/usr/bin/env python3
"""Helpers of the gateway end-to-end test (gateway.sh), run inside the
VMs' and the internet's network namespaces.

    gateway_tools.py whoami PORT             -> serves TCP forever: answers
                                                each client "IP:PORT" as it
                                                sees the client, then closes
    gateway_tools.py ask IP PORT [SPORT]     -> connects (from SPORT if
                                                given), prints the answer;
                                                exit 1 on no answer
    gateway_tools.py refused IP PORT         -> sends a UDP datagram from a
                                                connected socket; exit 0 when
                                                an ICMP port unreachable
                                                about it comes back
                                                (ECONNREFUSED), 1 otherwise
    gateway_tools.py forge IFACE DST_MAC N   -> sends N of each forged frame
                                                kind from IFACE to DST_MAC
                                                (AF_PACKET, no scapy): UDP to
                                                203.0.113.2 on ports nobody
                                                holds, UDP to 203.0.113.99,
                                                and from the martian
                                                127.0.0.1. (No fragments: the
                                                af_packet PMD's fanout group
                                                has the kernel reassemble
                                                them first, and a lone one
                                                never arrives; the packet
                                                tests send weftd those.)
"""

import socket
import struct
import sys


def whoami(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        conn, peer = s.accept()
        with conn:
            try:
                conn.sendall(f"{peer[0]}:{peer[1]}\n".encode())
            except OSError:
                pass


def ask(ip, port, sport):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    if sport:
        s.bind(("0.0.0.0", sport))
    try:
        s.connect((ip, port))
        line = s.makefile().readline().strip()
    except OSError as e:
        print(f"no answer: {e}", file=sys.stderr)
        return 1
    if not line:
        return 1
    print(line)
    return 0


def refused(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((ip, port))
    for _ in range(3):  # a datagram or an error may be lost; the error is remembered
        s.send(b"anyone?")
        try:
            s.recv(64)
        except ConnectionRefusedError:
            return 0
        except socket.timeout:
            continue
    print(f"no port unreachable from {ip}:{port}", file=sys.stderr)
    return 1


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def udp(sport, dport, data=b"forged!!"):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def forge(iface, dst_mac, n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    eth = bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00"
    server = "203.0.113.1"
    for i in range(n):
        s.send(eth + ipv4(server, "203.0.113.2", 17, udp(53, 20000 + i)))
        s.send(eth + ipv4(server, "203.0.113.99", 17, udp(53, 7000)))
        s.send(eth + ipv4("127.0.0.1", "203.0.113.10", 17, udp(53, 7000)))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "whoami":
        whoami(int(argv[2]))
        return 0
    if len(argv) in (4, 5) and argv[1] == "ask":
        return ask(argv[2], int(argv[3]), int(argv[4]) if len(argv) == 5 else 0)
    if len(argv) == 4 and argv[1] == "refused":
        return refused(argv[2], int(argv[3]))
    if len(argv) == 5 and argv[1] == "forge":
        return forge(argv[2], argv[3], int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
