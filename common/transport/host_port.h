#pragma once
// "host:port" and "[v6]:port" as written in node.yaml (controller.address),
// on weft-controller's command line (--listen, --api) and inside weftctl's
// --controller URL. Pure parsing; thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/base/expected.h"

namespace weft::ctl {

struct HostPort {
  std::string host;  // a name or an address, without brackets
  uint16_t port = 0;
};

// The port is required unless `default_port` is non-zero.
Expected<HostPort> parse_host_port(std::string_view text, uint16_t default_port = 0);

}  // namespace weft::ctl
