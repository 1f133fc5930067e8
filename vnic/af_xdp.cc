// af_xdp: a kernel netdev through an AF_XDP socket (net_af_xdp, libbpf).
// Faster than af_packet and zero-copy on drivers that support it; on veth it
// runs in generic (skb) mode. The PMD loads its default XDP redirect program
// on the queues it binds.

#include <string>

#include "vnic/drivers.h"

namespace weft::dp {
namespace {

class AfXdpDriver final : public VnicDriver {
 public:
  VnicKind kind() const override { return VnicKind::kAfXdp; }
  std::string devargs(const VnicBinding& b, unsigned instance, uint16_t queues) const override {
    return "net_af_xdp_vnic" + std::to_string(instance) + ",iface=" + b.iface +
           ",start_queue=0,queue_count=" + std::to_string(queues);
  }
};

}  // namespace

const VnicDriver& af_xdp_driver() {
  static const AfXdpDriver driver;
  return driver;
}

}  // namespace weft::dp
