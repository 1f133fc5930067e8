#!/usr/bin/env python3
"""TCP helpers of the routing end-to-end test (routing.sh), run inside the
VMs' network namespaces.

    routing_tools.py server LABEL PORT        -> serves forever: reads what a
                                                 client sends until it shuts
                                                 its side, answers
                                                 "LABEL BYTES SHA256"
    routing_tools.py probe IP PORT BYTES [TIMEOUT]
                                              -> sends BYTES random bytes,
                                                 prints the server's LABEL
                                                 when it got them intact;
                                                 exit 1 otherwise
    routing_tools.py icmp-errors IP PORT      -> on one connected UDP socket
                                                 (one flow): a datagram, one
                                                 with TTL 1, one of 1450
                                                 bytes with DF; prints the
                                                 ICMP error each one drew
                                                 (IP_RECVERR), one a line:
                                                 "STEP TYPE/CODE from ADDR
                                                 [mtu N]" or "STEP none"

The label says which VM answered: tenants share addresses, so a reply from
the right address is not yet a reply from the right VM.
"""

import hashlib
import os
import socket
import struct
import sys
import threading
import time

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)


def handle(conn, label):
    with conn:
        conn.settimeout(20)
        digest = hashlib.sha256()
        count = 0
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                digest.update(chunk)
                count += len(chunk)
            conn.sendall(f"{label} {count} {digest.hexdigest()}\n".encode())
        except OSError:
            pass


def server(label, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn, label), daemon=True).start()


def probe(ip, port, nbytes, timeout):
    data = os.urandom(nbytes)
    try:
        with socket.create_connection((ip, port), timeout=timeout) as c:
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError as e:
        print(f"{ip}:{port}: {e}", file=sys.stderr)
        return 1
    fields = reply.decode(errors="replace").split()
    if len(fields) != 3:
        print(f"{ip}:{port}: answered {reply!r}", file=sys.stderr)
        return 1
    label, count, digest = fields
    if int(count) != nbytes or digest != hashlib.sha256(data).hexdigest():
        print(f"{ip}:{port}: {label} got {count} of {nbytes} bytes, or other bytes", file=sys.stderr)
        return 1
    print(label)
    return 0


def icmp_error(sock):
    """The ICMP error queued on `sock`, if any: (type, code, offender, info)."""
    try:
        _, anc, _, _ = sock.recvmsg(2048, 512, socket.MSG_ERRQUEUE)
    except BlockingIOError:
        return None
    for level, kind, data in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR:
            # struct sock_extended_err (16 bytes), then the offender's sockaddr_in
            _errno, _origin, etype, ecode, _pad, info, _data = struct.unpack_from("=IBBBBII", data)
            offender = socket.inet_ntoa(data[16 + 4:16 + 8])
            return etype, ecode, offender, info
    return None


def icmp_errors(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    s.connect((ip, port))
    s.setblocking(False)
    steps = [("ttl64", 64, 100), ("ttl1", 1, 100), ("df1450", 64, 1450 - 28)]
    for name, ttl, size in steps:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        err = None
        for _ in range(3):  # a datagram or its answer may be lost; ask again
            try:
                s.send(b"x" * size)
            except OSError:
                pass  # the error of an earlier datagram, reported on send
            for _ in range(20):  # up to a second
                time.sleep(0.05)
                err = icmp_error(s)
                if err is not None:
                    break
            if err is not None:
                break
        if err is None:
            print(f"{name} none")
        else:
            etype, ecode, offender, info = err
            mtu = f" mtu {info}" if (etype, ecode) == (3, 4) else ""
            print(f"{name} {etype}/{ecode} from {offender}{mtu}")
        sys.stdout.flush()
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "server":
        server(argv[2], int(argv[3]))
        return 0
    if len(argv) in (5, 6) and argv[1] == "probe":
        timeout = float(argv[5]) if len(argv) == 6 else 5.0
        return probe(argv[2], int(argv[3]), int(argv[4]), timeout)
    if len(argv) == 4 and argv[1] == "icmp-errors":
        return icmp_errors(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
