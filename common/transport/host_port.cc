#include "common/transport/host_port.h"

#include <charconv>

namespace weft::ctl {

Expected<HostPort> parse_host_port(std::string_view text, uint16_t default_port) {
  const auto bad = [&](std::string_view why) {
    // Appended piecewise: g++ 12 -O3 warns falsely (-Wrestrict, PR 105329)
    // on "literal" + std::string here.
    std::string msg(1, '\'');
    msg.append(text).append("': ").append(why);
    return Unexpected{std::move(msg)};
  };
  HostPort hp;
  std::string_view port;
  if (text.starts_with("[")) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    hp.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (rest.starts_with(":")) port = rest.substr(1);
    else if (!rest.empty()) return bad("expected ':PORT' after ']'");
  } else {
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon)
      return bad("an IPv6 address needs brackets: [ADDRESS]:PORT");
    hp.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return bad("expected HOST:PORT");
  if (port.empty() && text.ends_with(":")) return bad("empty port");
  if (port.empty()) {
    if (default_port == 0) return bad("expected HOST:PORT");
    hp.port = default_port;
    return hp;
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535)
    return bad("port must be a number in 0..65535");
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

}  // namespace weft::ctl
