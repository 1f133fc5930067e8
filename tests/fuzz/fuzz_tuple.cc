// libFuzzer target for conntrack's view of a packet, extract_tuple
// (dataplane/conntrack/conn_key.h), behind the real parser: any bytes the
// parser accepts as IPv4 (plain, or VXLAN's inner frame) give a tuple
// without reading past the IP total length (ASan: the input is an exactly
// sized heap copy), and a tracked packet's key is canonical (its two
// endpoints in order) and the same key its reply would build.

#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dataplane/conntrack/conn_key.h"
#include "dataplane/pipeline/parse.h"

namespace {

using namespace weft::dp;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

void check_tuple(const uint8_t* d, const FrameLayers& f, uint32_t vni) {
  PacketTuple t;
  const TupleKind k = extract_tuple(d, f, vni, t);
  if (f.l3_type != L3Type::kIpv4) {
    FUZZ_CHECK(k == TupleKind::kNotIpv4);
    return;
  }
  if (k != TupleKind::kTracked && k != TupleKind::kIcmpError) return;
  FUZZ_CHECK(t.src_side <= 1);
  FUZZ_CHECK(conn_vni(t.key) == (vni & 0xffffffu));
  FUZZ_CHECK(t.key.addr[0] != t.key.addr[1] ? t.key.addr[0] < t.key.addr[1] : t.key.port[0] <= t.key.port[1]);
  // The reply's key is the same.
  uint8_t side;
  const uint8_t s = t.src_side;
  const ConnKey back = make_conn_key(vni & 0xffffffu, conn_proto(t.key), t.key.addr[s ^ 1], t.key.port[s ^ 1],
                                     t.key.addr[s], t.key.port[s], side);
  FUZZ_CHECK(back == t.key);
  FUZZ_CHECK(side == (s ^ 1) || t.key.addr[0] == t.key.addr[1]);
  (void)conn_hash(t.key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0xffff) return 0;
  for (const bool vxlan : {false, true}) {
    PktMeta md{};
    if (parse_packet(data, static_cast<uint32_t>(size), md, vxlan) != DropReason::kNone) continue;
    check_tuple(data, md.outer, 5001);
    if (md.outer.flags & kFlagVxlan) check_tuple(data, md.inner, md.vni);
  }
  return 0;
}
