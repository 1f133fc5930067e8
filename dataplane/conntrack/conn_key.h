#pragma once
// The key of a tracked connection, and what conntrack reads from a packet.
//
// A connection is (zone, protocol, two endpoints). The zone is the VNI, so
// two networks with the same addresses never share an entry. The endpoints
// are stored in a canonical order (the smaller (address, port) first), so
// both directions of a connection build the same key and hit the same
// entry; `PacketTuple::src_side` says which side the packet came from, and
// the entry remembers which side opened the connection.
//
//   PacketTuple t;
//   switch (extract_tuple(data, md.outer, md.vni, t)) { ... }
//   uint32_t h = conn_hash(t.key);
//
// Addresses and ports are kept as they are on the wire (network byte
// order): the key is built with loads and no byte swaps, and the security
// group classifier (acl/) wants network order too. Any total order serves
// for the canonical one.
//
// ICMP echo is tracked with the echo identifier as the port of both sides
// (a request and its reply carry the same one). An ICMP error (destination
// unreachable, time exceeded, parameter problem) yields the key of the
// packet quoted inside it, so it can be matched to that connection as
// RELATED. Every other ICMP message is judged on its own (kStateless).
//
// Pure functions over bytes; any thread.

#include <rte_hash_crc.h>

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/meta.h"

namespace weft::dp {

struct ConnKey {
  uint32_t addr[2];  // network byte order; (addr[0], port[0]) <= (addr[1], port[1])
  uint16_t port[2];  // network byte order; port[i] is addr[i]'s; ICMP echo: the identifier
  uint32_t zone;     // VNI << 8 | IP protocol

  friend bool operator==(const ConnKey& a, const ConnKey& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
};
static_assert(sizeof(ConnKey) == 16);

inline constexpr uint32_t conn_zone(uint32_t vni, uint8_t proto) {
  return vni << 8 | proto;
}
inline constexpr uint8_t conn_proto(const ConnKey& k) {
  return static_cast<uint8_t>(k.zone);
}
inline constexpr uint32_t conn_vni(const ConnKey& k) {
  return k.zone >> 8;
}

// CRC32-C over the 16 bytes: two crc32q instructions.
inline uint32_t conn_hash(const ConnKey& k) {
  uint64_t w[2];
  std::memcpy(w, &k, sizeof w);
  return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0x5eed5eed));
}

enum class TupleKind : uint8_t {
  kTracked,    // TCP, UDP, ICMP echo, any other IP protocol: key is the packet's connection
  kIcmpError,  // key is the connection of the quoted packet; src_side is its sender's side
  kStateless,  // ICMP other than echo and errors: no connection, judged per packet
  kFragment,   // an IPv4 fragment: no reassembly, so no ports
  kMalformed,  // an ICMP error whose quoted packet is cut short or not IPv4
  kNotIpv4,
};

struct PacketTuple {
  ConnKey key;
  uint8_t src_side = 0;  // key side (0 or 1) of the packet's source (kIcmpError: the quoted source)
  uint8_t tcp_flags = 0;  // TCP only
  uint8_t icmp_type = 0;  // ICMP only: the packet's own type and code
  uint8_t icmp_code = 0;
};

// RFC 792 errors, as Linux's icmp_is_err: they quote the IP header and the
// first 8 bytes of the packet that caused them.
inline bool icmp_is_error(uint8_t type) {
  switch (type) {
    case 3:   // destination unreachable
    case 4:   // source quench
    case 5:   // redirect
    case 11:  // time exceeded
    case 12:  // parameter problem
      return true;
    default:
      return false;
  }
}

// Fills `t` from an IPv4 packet the parser has checked (`f` its layers in
// `data`); bytes beyond the IP total length are never read.
TupleKind extract_tuple(const uint8_t* data, const FrameLayers& f, uint32_t vni,
                        PacketTuple& t) noexcept;

// The key of a connection from `src` to `dst` (network order), with the
// side `src` landed on.
inline ConnKey make_conn_key(uint32_t vni, uint8_t proto, uint32_t src, uint16_t sport,
                             uint32_t dst, uint16_t dport, uint8_t& src_side) {
  const bool swap = src != dst ? src > dst : sport > dport;
  src_side = swap ? 1 : 0;
  ConnKey k;
  k.addr[0] = swap ? dst : src;
  k.addr[1] = swap ? src : dst;
  k.port[0] = swap ? dport : sport;
  k.port[1] = swap ? sport : dport;
  k.zone = conn_zone(vni, proto);
  return k;
}

}  // namespace weft::dp
