#pragma once
// The QoS classifier: which class of its port's policy a packet falls in,
// in each direction (the marking, qos_table.h). Matches on the frame the
// VM sent or receives (after decap, before encap: the inner packet): the
// IPv4 DSCP, the protocol and the destination port; the first class of the
// policy that matches wins, and a packet no class matches is in the
// default class.
//
// Called once per connection direction, by the stage that records it in
// the flow entry (kFlowCommit), and for the rare packets that are not
// cached (flood replicas); a flow-cache hit takes the recorded marking.
//
// Pure function of the packet and the table; any thread.

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/pipeline/meta.h"
#include "dataplane/qos/qos_table.h"

namespace weft::dp {

// The slot (qos_table.h) `policy` gives a packet with these header fields.
uint8_t qos_class_slot(const QosPolicy& policy, uint8_t dscp, uint8_t protocol, uint16_t dst_port) noexcept;

// The marking of `m`, whose in_port and out_port are set; 0 when neither
// port has QoS in the packet's direction.
uint8_t qos_classify(const QosTable& t, const rte_mbuf* m) noexcept;

}  // namespace weft::dp
