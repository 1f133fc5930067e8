// vhost_user: a QEMU VM's virtio-net device over a vhost-user unix socket
// (net_vhost). By default weftd is the socket server and QEMU connects
// (`-chardev socket,path=...`); with `client: true` weftd connects to a
// socket QEMU serves (`server=on`), which lets either side restart.

#include <string>

#include "vnic/drivers.h"

namespace weft::dp {
namespace {

class VhostUserDriver final : public VnicDriver {
 public:
  VnicKind kind() const override { return VnicKind::kVhostUser; }
  std::string devargs(const VnicBinding& b, unsigned instance, uint16_t queues) const override {
    return "net_vhost_vnic" + std::to_string(instance) + ",iface=" + b.socket +
           ",queues=" + std::to_string(queues) + ",client=" + (b.client ? "1" : "0");
  }
};

}  // namespace

const VnicDriver& vhost_user_driver() {
  static const VhostUserDriver driver;
  return driver;
}

}  // namespace weft::dp
