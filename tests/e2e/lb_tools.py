#!/usr/bin/env python3
"""Helpers of lb.sh, run inside the VM namespaces.

  lb_tools.py server NAME PORT        a backend: each connection gets NAME and a
                                      newline at once, then NAME again for every
                                      line it sends, until it closes
  lb_tools.py spread IP PORT N SPORT  N connections one after the other, from
                                      source ports SPORT, SPORT+1, ... (so the
                                      spread is the same on every run); prints
                                      {"NAME": count, ..., "failed": count} (JSON)
  lb_tools.py hold IP PORT SECONDS    one connection: prints its first answer at
                                      once, then sends a line every 0.2 s for
                                      SECONDS and prints each distinct answer
                                      seen ("b1", or "b1 closed", ...)
"""
import json
import socket
import sys
import threading
import time


def serve(name, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(256)
    answer = (name + "\n").encode()

    def client(c):
        try:
            c.sendall(answer)
            f = c.makefile("rb")
            for _ in f:
                c.sendall(answer)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=client, args=(c,), daemon=True).start()


def first_line(ip, port, sport, timeout=3.0):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("0.0.0.0", sport))
        c.settimeout(timeout)
        c.connect((ip, port))
        return c.makefile("rb").readline().decode().strip()


def spread(ip, port, n, sport):
    counts = {"failed": 0}
    for i in range(n):
        try:
            name = first_line(ip, port, sport + i)
            counts[name or "empty"] = counts.get(name or "empty", 0) + 1
        except OSError:
            counts["failed"] += 1
    print(json.dumps(counts))


def hold(ip, port, seconds):
    seen = []
    with socket.create_connection((ip, port), timeout=2.0) as c:
        c.settimeout(2.0)
        f = c.makefile("rb")
        deadline = time.monotonic() + seconds
        while True:
            name = f.readline().decode().strip()
            if not name:
                seen.append("closed")
                break
            if not seen:
                print(name, flush=True)
            if name not in seen:
                seen.append(name)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
            c.sendall(b"again\n")
    print(" ".join(seen))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "server":
        serve(sys.argv[2], int(sys.argv[3]))
    elif cmd == "spread":
        spread(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)
