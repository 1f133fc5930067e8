// dpdk: devargs exactly as the operator wrote them, for a physical NIC (a PCI
// address) and for the pcap/null/ring vdevs of tests and benchmarks. The
// queue count is the caller's to match (e.g. one rx_pcap per queue).

#include <string>

#include "vnic/drivers.h"

namespace weft::dp {
namespace {

class DpdkDevargsDriver final : public VnicDriver {
 public:
  VnicKind kind() const override { return VnicKind::kDpdk; }
  std::string devargs(const VnicBinding& b, unsigned, uint16_t) const override { return b.devargs; }
};

}  // namespace

const VnicDriver& dpdk_devargs_driver() {
  static const DpdkDevargsDriver driver;
  return driver;
}

}  // namespace weft::dp
