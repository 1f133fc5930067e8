#include "dataplane/acl/security_group_table.h"

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace weft::dp {
namespace {

enum Field : uint8_t { kProto, kRemote, kClass, kL4, kFieldCount };
RTE_ACL_RULE_DEF(SgAclRule, kFieldCount);

constexpr rte_acl_field_def kFields[kFieldCount] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), kProto, 0, offsetof(SgKey, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kRemote, 1, offsetof(SgKey, remote)},
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint16_t), kClass, 2, offsetof(SgKey, cls)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kL4, 2, offsetof(SgKey, l4)},
};

SgAclRule to_acl(const SgRule& r) {
  SgAclRule a{};
  a.data.category_mask = 1;
  // Earlier rules win ties, so that a trace names the first match.
  a.data.priority = static_cast<int32_t>(
      std::max<int64_t>(RTE_ACL_MIN_PRIORITY, int64_t{RTE_ACL_MAX_PRIORITY} - r.id));
  a.data.userdata = r.id;
  a.field[kProto].value.u8 = r.any_proto ? 0 : r.proto;
  a.field[kProto].mask_range.u8 = r.any_proto ? 0 : 0xff;
  a.field[kRemote].value.u32 = r.remote;
  a.field[kRemote].mask_range.u32 = std::min<uint32_t>(r.remote_len, 32);
  a.field[kClass].value.u16 = r.cls;
  a.field[kClass].mask_range.u16 = 0xffff;
  a.field[kL4].value.u16 = r.l4_lo;
  a.field[kL4].mask_range.u16 = r.l4_hi;
  return a;
}

}  // namespace

void SecurityGroupTable::AclDeleter::operator()(rte_acl_ctx* ctx) const noexcept {
  rte_acl_free(ctx);
}

SecurityGroupTable::SecurityGroupTable() = default;
SecurityGroupTable::~SecurityGroupTable() = default;
SecurityGroupTable::SecurityGroupTable(SecurityGroupTable&&) noexcept = default;
SecurityGroupTable& SecurityGroupTable::operator=(SecurityGroupTable&&) noexcept = default;

uint32_t SecurityGroupTable::add_ref(SgRuleRef ref) {
  refs_.push_back(std::move(ref));
  return static_cast<uint32_t>(refs_.size());
}

void SecurityGroupTable::add(const SgRule& rule) {
  if (rule.cls != kNoClass) pending_[static_cast<size_t>(rule.direction)].push_back(rule);
}

void SecurityGroupTable::bind_port(uint16_t port, uint16_t cls, bool egress_all) {
  if (port >= kMaxPorts) return;
  class_[port] = cls;
  egress_all_[port] = egress_all;
}

bool SecurityGroupTable::build(std::string& error) {
  // rte_acl names its contexts in a process-wide namespace: a serial
  // number keeps those of consecutive snapshots apart.
  static std::atomic<uint32_t> serial{0};
  for (size_t d = 0; d < 2; ++d) {
    std::vector<SgAclRule> rules;
    rules.reserve(pending_[d].size());
    for (const SgRule& r : pending_[d]) rules.push_back(to_acl(r));
    pending_[d].clear();
    acl_[d].reset();
    acl_rules_[d] = rules.size();
    if (rules.empty()) continue;  // nothing allowed that way: no trie to walk

    const char* dir = d == 0 ? "ingress" : "egress";
    char name[RTE_ACL_NAMESIZE];
    std::snprintf(name, sizeof name, "weft_sg_%s_%u", dir, serial.fetch_add(1));
    rte_acl_param param{};
    param.name = name;
    param.socket_id = SOCKET_ID_ANY;
    param.rule_size = RTE_ACL_RULE_SZ(kFieldCount);
    param.max_rule_num = static_cast<uint32_t>(rules.size());
    AclPtr ctx(rte_acl_create(&param));
    int rc = ctx ? 0 : -rte_errno;
    if (rc == 0)
      rc = rte_acl_add_rules(ctx.get(), reinterpret_cast<const rte_acl_rule*>(rules.data()),
                             static_cast<uint32_t>(rules.size()));
    if (rc == 0) {
      rte_acl_config cfg{};
      cfg.num_categories = 1;
      cfg.num_fields = kFieldCount;
      std::copy(std::begin(kFields), std::end(kFields), cfg.defs);
      rc = rte_acl_build(ctx.get(), &cfg);
    }
    if (rc != 0) {
      error = std::string("security groups: cannot build the ") + dir + " classifier of " +
              std::to_string(rules.size()) + " rules: " + rte_strerror(-rc);
      acl_ = {};
      acl_rules_ = {};
      return false;
    }
    acl_[d] = std::move(ctx);
  }
  return true;
}

void SecurityGroupTable::classify(SgDirection d, const SgKey* keys, uint32_t* results,
                                  uint32_t n) const noexcept {
  const rte_acl_ctx* ctx = acl_[static_cast<size_t>(d)].get();
  if (ctx == nullptr) {
    std::fill(results, results + n, kDenied);
    return;
  }
  const uint8_t* data[kMaxBurst];
  for (uint32_t i = 0; i < n; ++i) data[i] = reinterpret_cast<const uint8_t*>(&keys[i]);
  rte_acl_classify(ctx, data, results, n, 1);
}

const SgRuleRef* SecurityGroupTable::ref(uint32_t id) const {
  if (id == kDenied || id > refs_.size()) return nullptr;
  return &refs_[id - 1];
}

}  // namespace weft::dp
