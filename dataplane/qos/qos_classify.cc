#include "dataplane/qos/qos_classify.h"

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstring>

namespace weft::dp {

uint8_t qos_class_slot(const QosPolicy& policy, uint8_t dscp, uint8_t protocol, uint16_t dst_port) noexcept {
  for (size_t i = 0; i < policy.classes.size(); ++i) {
    const QosClass& c = policy.classes[i];
    if (c.dscp != 0 && !(c.dscp & (uint64_t{1} << (dscp & 63)))) continue;
    if (c.protocol != 0 && c.protocol != protocol) continue;
    if (!c.ports.empty()) {
      bool in = false;
      for (const QosRange& r : c.ports) in = in || (dst_port >= r.lo && dst_port <= r.hi);
      if (!in) continue;
    }
    return static_cast<uint8_t>(2 + i);
  }
  return 1;
}

uint8_t qos_classify(const QosTable& t, const rte_mbuf* m) noexcept {
  const PktMeta* md = meta(m);
  const QosPolicy* egress = t.of(md->in_port);
  const QosPolicy* ingress = t.of(md->out_port);
  if (egress != nullptr && !egress->active(QosDir::kEgress)) egress = nullptr;
  if (ingress != nullptr && !ingress->active(QosDir::kIngress)) ingress = nullptr;
  if (egress == nullptr && ingress == nullptr) return 0;

  // Header fields; a frame that is not IPv4 matches only classes that ask
  // for none of them.
  uint8_t dscp = 0, protocol = 0;
  uint16_t dst_port = 0;
  const FrameLayers& f = md->outer;
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  if (f.l3_type == L3Type::kIpv4) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(data + f.l3);
    dscp = static_cast<uint8_t>(ip->type_of_service >> 2);
    protocol = f.l4_proto;
    if (f.l4 != 0 && (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP)) {
      uint16_t be;  // tcp and udp: the destination port at offset 2
      std::memcpy(&be, data + f.l4 + 2, sizeof be);
      dst_port = rte_be_to_cpu_16(be);
    }
  }
  const uint8_t e = egress != nullptr ? qos_class_slot(*egress, dscp, protocol, dst_port) : 0;
  const uint8_t i = ingress != nullptr ? qos_class_slot(*ingress, dscp, protocol, dst_port) : 0;
  return qos_mark(e, i);
}

}  // namespace weft::dp
