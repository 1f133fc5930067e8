#!/usr/bin/env python3
"""A steady UDP flow with sequence numbers, to prove an update is hitless.

  seq_udp.py recv PORT OUT.json        until an END datagram; then the summary
  seq_udp.py send HOST PORT PPS STOP   until the file STOP exists; then END

Each datagram carries an 8-byte sequence number (from 0). The receiver
counts what arrived, what never did, what came out of order and twice, and
writes it as JSON. Run each side inside its VM's namespace.
"""
import json
import os
import socket
import struct
import sys
import time

END = 0xFFFFFFFFFFFFFFFF


def recv(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A receiver the scheduler sets aside for a moment must not lose what
    # the network delivered: a buffer for seconds of the flow, past
    # net.core.rmem_max when we may (root).
    so_rcvbufforce = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; Python lacks the name
    try:
        s.setsockopt(socket.SOL_SOCKET, so_rcvbufforce, 16 << 20)
    except PermissionError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("0.0.0.0", port))
    seen, reordered, duplicates, highest, sent = set(), 0, 0, -1, None
    while True:
        data, _ = s.recvfrom(2048)
        if len(data) < 8:
            continue
        (seq,) = struct.unpack("!Q", data[:8])
        if seq == END:
            (sent,) = struct.unpack("!Q", data[8:16])
            break
        if seq in seen:
            duplicates += 1
            continue
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
        seen.add(seq)
    lost = sorted(set(range(sent)) - seen)
    with open(out, "w") as f:
        json.dump({"sent": sent, "received": len(seen), "lost": len(lost),
                   "first_lost": lost[:20], "reordered": reordered,
                   "duplicates": duplicates}, f)


def send(host, port, pps, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    period = 1.0 / pps
    seq, start = 0, time.monotonic()
    payload = b"\0" * 56
    sent_at = 0
    while not os.path.exists(stop):
        s.sendto(struct.pack("!Q", seq) + payload, (host, port))
        seq += 1
        sent_at += 1
        delay = start + sent_at * period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.01:
            # Set aside by the scheduler: resume the fixed rate from now
            # rather than catch up in a burst the flow never had.
            start, sent_at = time.monotonic(), 0
    # The END marker may itself be lost; send it a few times.
    for _ in range(5):
        s.sendto(struct.pack("!QQ", END, seq), (host, port))
        time.sleep(0.05)
    print(seq)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        sys.exit("usage: seq_udp.py recv PORT OUT | send HOST PORT PPS STOP")
