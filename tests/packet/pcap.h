#pragma once
// Classic libpcap files (not pcapng) of Ethernet frames: write the packets a
// test built, read a capture back, or generate replay traffic for perf/.
//
//   write_pcap("out.pcap", {syn, ack});
//   PcapFile f = read_pcap("in.pcap");   // f.error empty on success
//
// Reads both byte orders and both microsecond and nanosecond timestamp
// variants; writes little-endian microsecond files (what dpdk-dumpcap,
// tcpdump and net_pcap all read). Test and tool code; any thread.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tests/packet/packet_builder.h"

namespace weft::test {

struct PcapPacket {
  Bytes data;
  uint64_t ts_ns = 0;
  uint32_t orig_len = 0;  // the length on the wire; data may be cut to the snap length
};

struct PcapFile {
  std::vector<PcapPacket> packets;
  std::string error;  // empty when the whole file was read
};

// Timestamps are i microseconds for the i-th packet: stable files that
// compare byte for byte. Returns false (and sets *error) on an I/O error.
bool write_pcap(const std::string& path, std::span<const Bytes> frames, std::string* error = nullptr);
bool write_pcap(const std::string& path, std::span<const PcapPacket> packets,
                std::string* error = nullptr);

// Reads every packet up to the end or the first malformed record.
PcapFile read_pcap(const std::string& path);

}  // namespace weft::test
