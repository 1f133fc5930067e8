// Splits a pcap of the underlay's traffic into one pcap per rx queue, as a
// port with several queues would deliver it, for perf/run --workers:
//
//   split_pcap --in F.pcap --queues N --by tunnel|owner --out PREFIX
//
// writes PREFIX0.pcap .. PREFIX<N-1>.pcap.
//   tunnel  by the outer UDP source port modulo N: RSS on the underlay's
//           headers (the peer derives the port from the inner flow, so a
//           connection stays on one queue, unrelated to its owner worker:
//           the packets of N-1 of N connections are handed over)
//   owner   by the worker that owns the packet's connection
//           (dataplane/handoff/owner.h, on the inner frame): steering that
//           hashes the inner tuple the way weftd does, so nothing is handed
//           over (what symmetric inner-header RSS would give at best)
// A packet the owner function gives no owner goes to queue 0.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/handoff/owner.h"
#include "dataplane/pipeline/parse.h"
#include "tests/packet/pcap.h"

namespace {

constexpr const char* kUsage = "usage: split_pcap --in FILE --queues N --by tunnel|owner --out PREFIX\n";

unsigned queue_of(const weft::test::Bytes& pkt, unsigned queues, bool by_owner) {
  weft::dp::PktMeta md{};
  const auto len = static_cast<uint32_t>(pkt.size());
  if (weft::dp::parse_packet(pkt.data(), len, md, true) != weft::dp::DropReason::kNone ||
      !(md.outer.flags & weft::dp::kFlagVxlan))
    return 0;
  if (!by_owner) {
    const uint16_t sport = static_cast<uint16_t>(pkt[md.outer.l4] << 8 | pkt[md.outer.l4 + 1]);
    return sport % queues;
  }
  const unsigned w = weft::dp::packet_owner(pkt.data(), md.inner, md.vni, queues);
  return w == weft::dp::kAnyWorker ? 0 : w;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, by;
  unsigned queues = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--in") in = argv[i + 1];
    else if (a == "--out") out = argv[i + 1];
    else if (a == "--by") by = argv[i + 1];
    else if (a == "--queues") queues = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (in.empty() || out.empty() || queues == 0 || (by != "tunnel" && by != "owner")) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const weft::test::PcapFile file = weft::test::read_pcap(in);
  if (!file.error.empty()) {
    std::fprintf(stderr, "split_pcap: %s: %s\n", in.c_str(), file.error.c_str());
    return 1;
  }
  std::vector<std::vector<weft::test::PcapPacket>> split(queues);
  for (const weft::test::PcapPacket& p : file.packets) split[queue_of(p.data, queues, by == "owner")].push_back(p);
  for (unsigned q = 0; q < queues; ++q) {
    std::string error;
    if (!weft::test::write_pcap(out + std::to_string(q) + ".pcap", split[q], &error)) {
      std::fprintf(stderr, "split_pcap: %s\n", error.c_str());
      return 1;
    }
  }
  return 0;
}
