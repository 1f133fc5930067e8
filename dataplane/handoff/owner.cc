#include "dataplane/handoff/owner.h"

namespace weft::dp {

unsigned packet_owner(const uint8_t* data, const FrameLayers& f, uint32_t vni, unsigned workers) noexcept {
  PacketTuple t;
  switch (extract_tuple(data, f, vni, t)) {
    case TupleKind::kTracked:
    case TupleKind::kIcmpError:  // the quoted packet's connection
      return key_owner(t.key, workers);
    case TupleKind::kStateless:
    case TupleKind::kFragment:
    case TupleKind::kMalformed:
    case TupleKind::kNotIpv4:
      break;
  }
  return kAnyWorker;
}

}  // namespace weft::dp
