// SPDX-License-Identifier: Apache-2.0
// The uplink's XDP steering program. The uplink NIC is shared with the host
// (SSH, storage, the controller): only what weftd's underlay needs goes to
// weftd's AF_XDP socket, everything else to the kernel as if no program ran.
//
//   to weftd   IPv4 UDP to a VTEP address and its port (VXLAN), and ARP
//              whose target address is a VTEP address (requests weftd
//              answers, replies to its own neighbor probes)
//   to kernel  everything else, and those too while no socket is bound on
//              the queue (weftd stopped or killed: nothing is blackholed)
//
// Loaded by DPDK's af_xdp PMD (devargs xdp_prog=, which wants the map of
// sockets named xsks_map); weftd fills weft_vteps from node.yaml
// (dataplane/underlay/xdp_steering.cc). IP fragments pass: VXLAN is never
// fragmented by a conforming VTEP.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// One rx queue per weftd worker; 64 is DPDK's af_xdp queue_count bound
// well above what a node runs.
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

// VTEP address (network order) -> its VXLAN UDP port (network order).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u16);
} weft_vteps SEC(".maps");

// ARP for Ethernet/IPv4 (linux/if_arp.h pulls in libc, which -target bpf
// has no headers for).
#define WEFT_ARPHRD_ETHER 1
struct arp_ipv4 {
  __be16 ar_hrd;
  __be16 ar_pro;
  __u8 ar_hln;
  __u8 ar_pln;
  __be16 ar_op;
  unsigned char sha[ETH_ALEN];
  __be32 spa;
  unsigned char tha[ETH_ALEN];
  __be32 tpa;
} __attribute__((packed));

static __always_inline int to_weftd(struct xdp_md* ctx) {
  // Flags: the action when the queue has no socket.
  return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline int steer_arp(struct xdp_md* ctx, void* l3, void* end) {
  struct arp_ipv4* arp = l3;
  if ((void*)(arp + 1) > end) return XDP_PASS;
  if (arp->ar_hrd != bpf_htons(WEFT_ARPHRD_ETHER) || arp->ar_pro != bpf_htons(ETH_P_IP) ||
      arp->ar_hln != ETH_ALEN || arp->ar_pln != 4)
    return XDP_PASS;
  __be32 tpa = arp->tpa;
  if (bpf_map_lookup_elem(&weft_vteps, &tpa) == 0) return XDP_PASS;
  return to_weftd(ctx);
}

static __always_inline int steer_ipv4(struct xdp_md* ctx, void* l3, void* end) {
  struct iphdr* ip = l3;
  if ((void*)(ip + 1) > end) return XDP_PASS;
  if (ip->protocol != IPPROTO_UDP || ip->ihl < 5) return XDP_PASS;
  // A fragment's UDP header (if any) is in the first one only.
  if (ip->frag_off & bpf_htons(0x3fff)) return XDP_PASS;
  __be32 daddr = ip->daddr;
  __u16* port = bpf_map_lookup_elem(&weft_vteps, &daddr);
  if (port == 0) return XDP_PASS;
  struct udphdr* udp = (void*)ip + ip->ihl * 4;
  if ((void*)(udp + 1) > end) return XDP_PASS;
  if (udp->dest != *port) return XDP_PASS;
  return to_weftd(ctx);
}

SEC("xdp")
int weft_uplink(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return XDP_PASS;
  if (eth->h_proto == bpf_htons(ETH_P_IP)) return steer_ipv4(ctx, eth + 1, end);
  if (eth->h_proto == bpf_htons(ETH_P_ARP)) return steer_arp(ctx, eth + 1, end);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
