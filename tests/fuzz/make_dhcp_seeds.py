#!/usr/bin/python3
"""Writes the seeds of fuzz_dhcp (tests/fuzz/corpus/dhcp): one client message
of every kind the server answers or consumes, as a VM sends it. Made with
scapy, an implementation of DHCP independent of ours; run it again only to
change the seeds:  /usr/bin/python3 tests/fuzz/make_dhcp_seeds.py tests/fuzz/corpus/dhcp
"""
import os
import sys

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, mac2str

VM_MAC = "02:00:0a:01:01:0a"
VM_IP = "10.1.1.10"
GATEWAY = "10.1.1.1"


def client(options, ciaddr="0.0.0.0", src="0.0.0.0", dst="255.255.255.255", flags=0):
    return (Ether(src=VM_MAC, dst="ff:ff:ff:ff:ff:ff" if dst.endswith("255") else "02:fe:00:00:00:01")
            / IP(src=src, dst=dst)
            / UDP(sport=68, dport=67)
            / BOOTP(op=1, chaddr=mac2str(VM_MAC), xid=0x1234abcd, ciaddr=ciaddr, flags=flags)
            / DHCP(options=options + ["end"]))


SEEDS = {
    "discover": client([("message-type", "discover"), ("param_req_list", [1, 3, 6, 12, 15, 26, 28])]),
    "discover-broadcast": client([("message-type", "discover")], flags=0x8000),
    "request-selecting": client([("message-type", "request"), ("server_id", GATEWAY),
                                 ("requested_addr", VM_IP), ("hostname", b"web-1")]),
    "request-init-reboot": client([("message-type", "request"), ("requested_addr", VM_IP)]),
    "request-renewing": client([("message-type", "request")], ciaddr=VM_IP, src=VM_IP, dst=GATEWAY),
    "inform": client([("message-type", "inform")], ciaddr=VM_IP, src=VM_IP),
    "release": client([("message-type", "release"), ("server_id", GATEWAY)], ciaddr=VM_IP, src=VM_IP,
                      dst=GATEWAY),
    "decline": client([("message-type", "decline"), ("server_id", GATEWAY), ("requested_addr", VM_IP)]),
}

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
for name, pkt in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(pkt))
