#include <map>

#include "dataplane/qos/qos_table.h"
#include "dataplane/tables/build_support.h"

namespace weft::dp {
namespace {

QosLimit limit_of(const proto::RateLimit& r, const std::string& where) {
  if (r.rate_bps() != 0 && r.burst_bytes() == 0) build_fail(where + " has a rate and no burst");
  return {r.rate_bps(), r.burst_bytes()};
}

QosClass class_of(const proto::QosClass& c, const std::string& where) {
  QosClass out;
  out.name = c.name();
  out.priority = c.priority() == proto::QosClass::HIGH  ? QosPriority::kHigh
                 : c.priority() == proto::QosClass::LOW ? QosPriority::kLow
                                                        : QosPriority::kNormal;
  for (uint32_t d : c.dscp()) {
    if (d > 63) build_fail(where + ": DSCP " + std::to_string(d) + " is out of range");
    out.dscp |= uint64_t{1} << d;
  }
  out.protocol = static_cast<uint8_t>(c.protocol());
  for (const proto::PortRange& r : c.ports()) {
    if (r.lo() > r.hi() || r.hi() > UINT16_MAX)
      build_fail(where + ": bad port range " + std::to_string(r.lo()) + "-" + std::to_string(r.hi()));
    out.ports.push_back({static_cast<uint16_t>(r.lo()), static_cast<uint16_t>(r.hi())});
  }
  out.rate_bps = c.rate_bps();
  return out;
}

}  // namespace

void build_qos(const BuildContext& ctx, QosTable& t) {
  std::map<std::string, uint8_t> by_name;
  for (const proto::QosPolicy& q : ctx.in.qos_policies()) {
    const std::string where = "QoS policy '" + q.name() + "'";
    if (t.policies.size() >= kNoQosPolicy) build_fail("more than 254 QoS policies");
    if (q.classes_size() > static_cast<int>(kQosMaxClasses))
      build_fail(where + " has " + std::to_string(q.classes_size()) + " classes; at most " +
                 std::to_string(kQosMaxClasses));
    QosPolicy p;
    p.name = q.name();
    p.limit[static_cast<size_t>(QosDir::kEgress)] = limit_of(q.egress(), where + " egress");
    p.limit[static_cast<size_t>(QosDir::kIngress)] = limit_of(q.ingress(), where + " ingress");
    for (const proto::QosClass& c : q.classes()) p.classes.push_back(class_of(c, where + " class '" + c.name() + "'"));
    if (!by_name.emplace(p.name, static_cast<uint8_t>(t.policies.size())).second)
      build_fail("duplicate " + where);
    t.policies.push_back(std::move(p));
  }
  for (const proto::Port& p : ctx.in.ports()) {
    if (p.qos_policy().empty()) continue;
    auto it = by_name.find(p.qos_policy());
    if (it == by_name.end())
      build_fail("port '" + p.name() + "' names QoS policy '" + p.qos_policy() + "', which the tables lack");
    if (const auto port = ctx.bound_port(p.name())) t.by_port[*port] = it->second;
  }
}

}  // namespace weft::dp
