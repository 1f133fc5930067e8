// af_packet: a kernel netdev through net_af_packet's PACKET_MMAP rings. The
// slowest kind (a copy each way and a sendto per tx burst) but it works on
// any netdev, veth included, with no kernel support beyond AF_PACKET.

#include <string>

#include "vnic/drivers.h"

namespace weft::dp {
namespace {

// One ring frame holds one packet: 2 KiB fits a 1500-byte underlay MTU plus
// the tpacket header. 1024 frames per queue is ~2 MiB of ring.
constexpr unsigned kBlockSize = 4096;
constexpr unsigned kFrameSize = 2048;
constexpr unsigned kFrameCount = 1024;

class AfPacketDriver final : public VnicDriver {
 public:
  VnicKind kind() const override { return VnicKind::kAfPacket; }
  std::string devargs(const VnicBinding& b, unsigned instance, uint16_t queues) const override {
    return "net_af_packet_vnic" + std::to_string(instance) + ",iface=" + b.iface +
           ",qpairs=" + std::to_string(queues) + ",blocksz=" + std::to_string(kBlockSize) +
           ",framesz=" + std::to_string(kFrameSize) + ",framecnt=" + std::to_string(kFrameCount);
  }
};

}  // namespace

const VnicDriver& af_packet_driver() {
  static const AfPacketDriver driver;
  return driver;
}

}  // namespace weft::dp
