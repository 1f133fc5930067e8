#!/usr/bin/env bash
# End-to-end test of several workers in policy mode: sg_matrix.sh and
# sg_flood.sh again, with two workers per node (dpdk.lcores "0,0-1": the
# main lcore shares CPU 0 with the first worker). Every af_packet port
# then has two queue pairs, which the kernel's fanout spreads by flow: a
# VM's frames by the inner headers, the underlay's by the tunnel's, so the
# two directions of a connection reach different workers and are handed
# to the connection's owner (dataplane/handoff/). The security group
# matrix, the connection cut by a policy change and the SYN flood must
# come out exactly as with one worker, and both tests check that each
# worker of each node received traffic and that packets were handed over
# (overlay_lib.sh ovl_check_workers).
#
#   workers.sh WEFTD WEFTCTL     (root; exits 77 = skipped otherwise)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OVL_LCORES="0,0-1"
export OVL_UNDERLAY_DEVARGS=",qpairs=2"  # the underlay is raw devargs: its queues are ours to ask for
export SG_TAG=mw  # names of its own: mw-<pid>-*
echo "== sg_matrix.sh with two workers per node"
"$here/sg_matrix.sh" "$@"
echo "== sg_flood.sh with two workers per node"
"$here/sg_flood.sh" "$@"
