#pragma once
// The owner of a connection (owner.h) on a node whose snapshot translates:
// the load balancer's DNAT, the gateway's floating IPs and SNAT. A
// translated connection carries one tuple out and another back, so
// owner.h's hash of the packet's key would name two workers; these rules
// make both directions name one, with no state shared between workers
// (docs/architecture.md, "Several workers"):
//
//   a protocol without ports (not TCP, UDP,   one worker for all of them:
//     ICMP) on a node hosting a gateway        SNAT translates them by
//                                              address alone, so nothing
//                                              of the tuple survives both
//                                              ways but the protocol
//   a key in the external network (VNI 0)     hashed as the key of the
//     with a floating IP as an end             port behind it (its VNI
//                                              and address): the 1:1
//                                              translation undone
//   TCP or UDP with exactly one end a load    the other end alone (VNI,
//     balancer's service end (a listener,      protocol, address, port):
//     or a backend at its target port:         the client's, the same to
//     LbTable::service_ends)                   and from the VIP and the
//                                              backend; in a hairpin the
//                                              client is the backend and
//                                              the backend's replies go to
//                                              the VIP, which then stands
//                                              for the backend's address
//   anything else                             owner.h's key_owner
//
// SNAT needs no rule: the worker that binds a connection picks an SNAT
// port whose reply key it owns by these rules (gateway/nat.h).
//
// Every rule reads only the key and the snapshot, and names the same
// worker for a key whichever direction it was built from, so an ICMP error
// quoting a packet (whose key is the quoted connection's) goes to the
// connection's owner too. A connection whose ends become service ends or
// floating IPs under a new snapshot may change owner: its next packets
// meet a table that does not hold it, as after a restart.
//
//   const ConnOwner owners(snap, workers);
//   unsigned w = owners.plain() ? packet_owner(...) : owners.of_packet(...);
//
// Worker lcores; reads the snapshot.

#include <cstdint>

#include "dataplane/conntrack/conn_key.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

struct Snapshot;
struct LbTable;
struct GatewayTable;

class ConnOwner {
 public:
  ConnOwner(const Snapshot& snap, unsigned workers) noexcept;

  // Whether nothing translates: owner.h's functions are the owners.
  bool plain() const noexcept { return lbs_ == nullptr && floating_ == nullptr && !gateway_; }
  unsigned workers() const noexcept { return workers_; }

  unsigned of_key(const ConnKey& key) const noexcept;
  // owner.h's packet_owner under these rules: kAnyWorker for a packet of
  // no connection.
  unsigned of_packet(const uint8_t* data, const FrameLayers& f, uint32_t vni) const noexcept;

 private:
  const LbTable* lbs_ = nullptr;            // null: no listener
  const GatewayTable* floating_ = nullptr;  // null: no floating IP
  bool gateway_ = false;                    // the node hosts a gateway
  unsigned workers_;
};

}  // namespace weft::dp
