#include "tests/packet/pcap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace weft::test {

namespace {

constexpr uint32_t kMagicUsec = 0xa1b2c3d4;
constexpr uint32_t kMagicNsec = 0xa1b23c4d;
constexpr uint32_t kLinkTypeEthernet = 1;
constexpr uint32_t kSnapLen = 65535;
// A record longer than this is a corrupt file, not a packet.
constexpr uint32_t kMaxRecord = 256 * 1024;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_le16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

uint32_t get32(const uint8_t* p, bool swapped) {
  uint32_t le = uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  return swapped ? __builtin_bswap32(le) : le;
}

bool fail(std::string* error, const std::string& what) {
  if (error != nullptr) *error = what + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool write_pcap(const std::string& path, std::span<const PcapPacket> packets, std::string* error) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) return fail(error, "cannot create " + path);
  uint8_t hdr[24] = {};
  put_le32(hdr, kMagicUsec);
  put_le16(hdr + 4, 2);  // version 2.4
  put_le16(hdr + 6, 4);
  put_le32(hdr + 16, kSnapLen);
  put_le32(hdr + 20, kLinkTypeEthernet);
  if (std::fwrite(hdr, sizeof hdr, 1, f.get()) != 1) return fail(error, "cannot write " + path);
  for (const PcapPacket& p : packets) {
    uint8_t rec[16];
    put_le32(rec, static_cast<uint32_t>(p.ts_ns / 1000000000));
    put_le32(rec + 4, static_cast<uint32_t>(p.ts_ns % 1000000000 / 1000));
    put_le32(rec + 8, static_cast<uint32_t>(p.data.size()));
    put_le32(rec + 12, p.orig_len != 0 ? p.orig_len : static_cast<uint32_t>(p.data.size()));
    if (std::fwrite(rec, sizeof rec, 1, f.get()) != 1 ||
        (!p.data.empty() && std::fwrite(p.data.data(), p.data.size(), 1, f.get()) != 1))
      return fail(error, "cannot write " + path);
  }
  if (std::fclose(f.release()) != 0) return fail(error, "cannot write " + path);
  return true;
}

bool write_pcap(const std::string& path, std::span<const Bytes> frames, std::string* error) {
  std::vector<PcapPacket> packets;
  packets.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) packets.push_back({frames[i], i * 1000, 0});
  return write_pcap(path, packets, error);
}

PcapFile read_pcap(const std::string& path) {
  PcapFile out;
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    out.error = "cannot open " + path + ": " + std::strerror(errno);
    return out;
  }
  uint8_t hdr[24];
  if (std::fread(hdr, sizeof hdr, 1, f.get()) != 1) {
    out.error = path + ": no pcap file header";
    return out;
  }
  const uint32_t magic = get32(hdr, false);
  bool swapped = false, nsec = false;
  if (magic == kMagicUsec || magic == kMagicNsec) {
    nsec = magic == kMagicNsec;
  } else if (magic == __builtin_bswap32(kMagicUsec) || magic == __builtin_bswap32(kMagicNsec)) {
    swapped = true;
    nsec = magic == __builtin_bswap32(kMagicNsec);
  } else {
    out.error = path + ": not a classic pcap file (pcapng is not supported)";
    return out;
  }
  if (const uint32_t link = get32(hdr + 20, swapped) & 0xffff; link != kLinkTypeEthernet) {
    out.error = path + ": link type " + std::to_string(link) + " is not Ethernet";
    return out;
  }
  for (;;) {
    uint8_t rec[16];
    const size_t got = std::fread(rec, 1, sizeof rec, f.get());
    if (got == 0) break;
    const uint32_t incl = got == sizeof rec ? get32(rec + 8, swapped) : 0;
    if (got != sizeof rec || incl > kMaxRecord) {
      out.error = path + ": malformed record " + std::to_string(out.packets.size());
      break;
    }
    PcapPacket p;
    p.ts_ns = uint64_t{get32(rec, swapped)} * 1000000000 +
              uint64_t{get32(rec + 4, swapped)} * (nsec ? 1 : 1000);
    p.orig_len = get32(rec + 12, swapped);
    p.data.resize(incl);
    if (incl != 0 && std::fread(p.data.data(), incl, 1, f.get()) != 1) {
      out.error = path + ": record " + std::to_string(out.packets.size()) + " is cut short";
      break;
    }
    out.packets.push_back(std::move(p));
  }
  return out;
}

}  // namespace weft::test
