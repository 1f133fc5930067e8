#include "control/model/mac.h"

namespace weft::policy {
namespace {

uint8_t network_byte(std::string_view network) {
  uint32_t h = 2166136261u;  // FNV-1a, 32 bit
  for (char c : network) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return static_cast<uint8_t>(h ^ h >> 8 ^ h >> 16 ^ h >> 24);
}

}  // namespace

Mac derived_port_mac(std::string_view network, uint32_t ip) {
  return {0x02,
          network_byte(network),
          static_cast<uint8_t>(ip >> 24),
          static_cast<uint8_t>(ip >> 16),
          static_cast<uint8_t>(ip >> 8),
          static_cast<uint8_t>(ip)};
}

Mac router_mac(uint32_t vni) {
  return {0x0a,
          0x00,
          0x00,
          static_cast<uint8_t>(vni >> 16),
          static_cast<uint8_t>(vni >> 8),
          static_cast<uint8_t>(vni)};
}

}  // namespace weft::policy
