#include "dataplane/tables/build_support.h"

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace weft::dp {
namespace {
constexpr uint32_t kMinHashEntries = 64;
}  // namespace

void build_fail(std::string why) { throw BuildError{std::move(why)}; }

// rte_hash names are global to the process (they name memzones): a serial
// number keeps the tables of consecutive snapshots apart.
HashPtr make_hash(const char* what, uint32_t key_len, size_t entries) {
  static std::atomic<uint32_t> serial{0};
  char name[RTE_HASH_NAMESIZE];
  std::snprintf(name, sizeof name, "weft_%s_%u", what, serial.fetch_add(1));
  rte_hash_parameters p{};
  p.name = name;
  // Twice the keys keeps buckets short; the extendable table takes any
  // collision overflow, so an insert never fails for want of a slot.
  p.entries = static_cast<uint32_t>(std::max<size_t>(entries * 2, kMinHashEntries));
  p.key_len = key_len;
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr)
    build_fail(std::string("cannot create the ") + what + " table of " + std::to_string(entries) +
               " entries: " + rte_strerror(rte_errno));
  return HashPtr(h);
}

bool add_unique(rte_hash* h, const void* key, void* data) {
  if (rte_hash_lookup(h, key) >= 0) return false;
  const int rc = rte_hash_add_key_data(h, key, data);
  if (rc < 0) build_fail(std::string("cannot add a table entry: ") + rte_strerror(-rc));
  return true;
}

std::string ip_text(uint32_t ip) { return format_ipv4(ip); }
std::string mac_text(uint64_t mac) { return format_mac(mac_from_u64(mac)); }

}  // namespace weft::dp
