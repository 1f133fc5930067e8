#include "dataplane/handoff/owner.h"

namespace weft::dp {

bool owner_key(const uint8_t* data, const FrameLayers& f, uint32_t vni, ConnKey& key) noexcept {
  PacketTuple t;
  switch (extract_tuple(data, f, vni, t)) {
    case TupleKind::kTracked:
    case TupleKind::kIcmpError:  // the quoted packet's connection
      key = t.key;
      return true;
    case TupleKind::kStateless:
    case TupleKind::kFragment:
    case TupleKind::kMalformed:
    case TupleKind::kNotIpv4:
      break;
  }
  return false;
}

unsigned packet_owner(const uint8_t* data, const FrameLayers& f, uint32_t vni, unsigned workers) noexcept {
  ConnKey key;
  return owner_key(data, f, vni, key) ? key_owner(key, workers) : kAnyWorker;
}

}  // namespace weft::dp
