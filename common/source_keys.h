#pragma once
// The keys of NodeSources (common/proto/tables.proto): which entry of a
// node's tables a policy position belongs to. The compiler writes them
// (control/compile, compile_sources) and the trace engine looks them up
// (dataplane/trace/), so both spell them here, once.
//
// Pure functions; any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/net.h"

namespace weft {

// A rule of a security group as compiled for `network`: its index in the
// group's ingress or egress list of the compiled tables.
inline std::string sg_rule_source_key(std::string_view network, std::string_view group, bool egress,
                                      uint32_t index) {
  std::string k = "sg/";
  k.append(network).append("/").append(group).append(egress ? "/egress/" : "/ingress/");
  return k + std::to_string(index);
}

// A security group's ingress or egress list as a whole (where a denial,
// which no rule names, points).
inline std::string sg_list_source_key(std::string_view network, std::string_view group, bool egress) {
  std::string k = "sg/";
  k.append(network).append("/").append(group).append(egress ? "/egress" : "/ingress");
  return k;
}

// A route of `network`'s router (connected subnet or static route).
inline std::string route_source_key(std::string_view network, uint32_t addr, uint32_t len) {
  std::string k = "route/";
  k.append(network).append("/");
  return k + format_ipv4(addr) + "/" + std::to_string(len);
}

}  // namespace weft
