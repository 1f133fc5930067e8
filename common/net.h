#pragma once
// Textual network addresses shared by the policy loader, the node config and
// the CLI: IPv4 addresses and prefixes, MAC addresses. Addresses are kept in
// host byte order in the control plane; the dataplane converts once when it
// builds its tables.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

using Mac = std::array<uint8_t, 6>;

struct Ipv4Prefix {
  uint32_t addr = 0;  // host byte order
  uint8_t len = 0;

  uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  bool has_host_bits() const { return (addr & ~mask()) != 0; }
  bool contains(uint32_t ip) const { return (ip & mask()) == (addr & mask()); }
  bool overlaps(const Ipv4Prefix& o) const {
    uint8_t l = len < o.len ? len : o.len;
    uint32_t m = l == 0 ? 0 : ~uint32_t{0} << (32 - l);
    return (addr & m) == (o.addr & m);
  }
  uint32_t network() const { return addr & mask(); }
  uint32_t broadcast() const { return addr | ~mask(); }
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

// Dotted quad, exactly four decimal octets, no leading junk or trailing text.
std::optional<uint32_t> parse_ipv4(std::string_view text);
// `a.b.c.d/len`; a bare address is accepted as /32 only when `allow_bare`.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, bool allow_bare = false);
// `aa:bb:cc:dd:ee:ff` (also `-` separated), hex, case-insensitive.
std::optional<Mac> parse_mac(std::string_view text);

std::string format_ipv4(uint32_t addr);
std::string format_prefix(const Ipv4Prefix& p);
std::string format_mac(const Mac& mac);

inline bool mac_is_multicast(const Mac& m) { return (m[0] & 1) != 0; }

// The 48-bit address in the low bits of a uint64, first octet most
// significant: the form the compiled tables (NodeTables) carry, written by
// the compiler and read by weftd's table builders.
constexpr uint64_t mac_to_u64(const Mac& mac) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = v << 8 | b;
  return v;
}
constexpr Mac mac_from_u64(uint64_t v) {
  Mac mac{};
  for (int i = 5; i >= 0; --i, v >>= 8) mac[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  return mac;
}

}  // namespace weft
