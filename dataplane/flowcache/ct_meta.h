#pragma once
// What kFlowLookup found out about a packet, carried in PktMeta::ct to the
// flow cache's later stages (kSecurityGroup, kFlowCommit) across the full
// pipeline walk in between. Only IPv4 packets carry it: every IPv4 packet
// of the overlay passes kFlowLookup; anything else reaching those stages
// is forwarded untouched.
//
// Any thread; plain bits.

#include <cstdint>

#include "dataplane/conntrack/conn_entry.h"

namespace weft::dp {

enum class CtDisposition : uint8_t {
  kUntracked = 0,  // not a connection (ARP): forwarded as the walk says
  kNew,            // no connection yet: the security groups decide, commit records one
  kStale,          // a connection decided under an older snapshot: decide again, re-record
  kPath,           // a current connection whose direction has no recorded result yet
  kRelated,        // an ICMP error about a tracked connection: passes, records nothing
  kStateless,      // ICMP neither echo nor error: the security groups judge it alone
  // A recorded direction's packet from another peer than the one recorded:
  // dropped (ct_port_mismatch) by kTunnelSource once the inner source
  // checks, which come first, have passed it.
  kWrongIngress,
};

inline constexpr uint8_t kCtReply = 0x80;  // the packet goes the connection's reply way

inline uint8_t ct_meta(CtDisposition d, ConnDir dir = ConnDir::kOriginal) {
  return static_cast<uint8_t>(static_cast<uint8_t>(d) | (dir == ConnDir::kReply ? kCtReply : 0));
}
inline CtDisposition ct_disposition(uint8_t ct) {
  return static_cast<CtDisposition>(ct & ~kCtReply);
}
inline ConnDir ct_dir(uint8_t ct) {
  return (ct & kCtReply) ? ConnDir::kReply : ConnDir::kOriginal;
}

}  // namespace weft::dp
