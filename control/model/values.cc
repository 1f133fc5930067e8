#include "control/model/values.h"

#include <algorithm>

#include "common/units.h"
#include "common/yaml_doc.h"

namespace weft::policy {
namespace {

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// An unsigned integer in [Lo, Hi]; the message names the range.
template <class T, uint64_t Lo, uint64_t Hi>
bool parse_int(std::string_view text, T& out, std::string& why) {
  auto v = parse_decimal(text);
  if (!v) return false;
  if (*v < Lo || *v > Hi) {
    why = std::to_string(*v) + " is out of range " + std::to_string(Lo) + ".." + std::to_string(Hi);
    return false;
  }
  out = static_cast<T>(*v);
  return true;
}

bool parse_name(std::string_view text, std::string& out, std::string&) {
  if (text.empty() || text.size() > 63 || text.front() == '-') return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  out = text;
  return true;
}

bool parse_bool(std::string_view text, bool& out, std::string&) {
  if (text == "true") return out = true, true;
  if (text == "false") return out = false, true;
  return false;
}

bool parse_version(std::string_view text, uint32_t& out, std::string& why) {
  if (text == "1") return out = 1, true;
  why = "this is version 1 of the policy language; write 'version: 1'";
  return false;
}

bool parse_ip(std::string_view text, uint32_t& out, std::string&) {
  auto a = parse_ipv4(text);
  if (!a) return false;
  out = *a;
  return true;
}

bool parse_prefix(std::string_view text, Ipv4Prefix& out, std::string& why, bool allow_bare) {
  auto p = parse_ipv4_prefix(text, allow_bare);
  if (!p) return false;
  if (p->has_host_bits()) {
    why = "host bits are set; did you mean " + format_prefix({p->network(), p->len}) + "?";
    return false;
  }
  out = *p;
  return true;
}

bool parse_cidr(std::string_view text, Ipv4Prefix& out, std::string& why) {
  return parse_prefix(text, out, why, false);
}

bool parse_address_or_cidr(std::string_view text, Ipv4Prefix& out, std::string& why) {
  return parse_prefix(text, out, why, true);
}

bool parse_unicast_mac(std::string_view text, Mac& out, std::string& why) {
  auto m = parse_mac(text);
  if (!m) return false;
  if (mac_is_multicast(*m)) {
    why = "a multicast address; a port MAC must be unicast (even first octet)";
    return false;
  }
  if (*m == Mac{}) {
    why = "the all-zero address is not a port MAC";
    return false;
  }
  out = *m;
  return true;
}

// A keyword from a fixed table; a near miss gets a did-you-mean.
template <class E, size_t N>
bool parse_keyword(std::string_view text, E& out, std::string& why,
                   const std::pair<std::string_view, E> (&table)[N]) {
  std::string_view names[N];
  for (size_t i = 0; i < N; ++i) {
    if (table[i].first == text) return out = table[i].second, true;
    names[i] = table[i].first;
  }
  std::string hint = did_you_mean(text, std::span<const std::string_view>(names, N));
  if (!hint.empty()) why = "did you mean '" + hint + "'?";
  return false;
}

constexpr std::pair<std::string_view, Protocol> kRuleProtocols[] = {{"tcp", Protocol::kTcp},
                                                                    {"udp", Protocol::kUdp},
                                                                    {"icmp", Protocol::kIcmp},
                                                                    {"any", Protocol::kAny}};
constexpr std::pair<std::string_view, Protocol> kListenerProtocols[] = {{"tcp", Protocol::kTcp},
                                                                        {"udp", Protocol::kUdp}};
constexpr std::pair<std::string_view, HealthProtocol> kHealthProtocols[] = {
    {"tcp", HealthProtocol::kTcp}, {"icmp", HealthProtocol::kIcmp}, {"http", HealthProtocol::kHttp}};
constexpr std::pair<std::string_view, Priority> kPriorities[] = {
    {"high", Priority::kHigh}, {"normal", Priority::kNormal}, {"low", Priority::kLow}};

bool parse_rule_protocol(std::string_view t, Protocol& out, std::string& why) {
  return parse_keyword(t, out, why, kRuleProtocols);
}
bool parse_listener_protocol(std::string_view t, Protocol& out, std::string& why) {
  return parse_keyword(t, out, why, kListenerProtocols);
}
bool parse_health_protocol(std::string_view t, HealthProtocol& out, std::string& why) {
  return parse_keyword(t, out, why, kHealthProtocols);
}
// An HTTP request target as the probe sends it in one segment.
bool parse_http_path(std::string_view t, std::string& out, std::string& why) {
  if (t.empty() || t[0] != '/') return why = "it must start with '/'", false;
  if (t.size() > 200) return why = "it is longer than 200 characters", false;
  for (char c : t)
    if (c <= 0x20 || c >= 0x7f) return why = "it may hold no space or control character", false;
  out = std::string(t);
  return true;
}
bool parse_priority(std::string_view t, Priority& out, std::string& why) {
  return parse_keyword(t, out, why, kPriorities);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool parse_port_list(std::string_view text, PortRanges& out, std::string& why) {
  PortRanges ranges;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    size_t dash = item.find('-');
    std::string_view lo_text = dash == std::string_view::npos ? item : item.substr(0, dash);
    std::string_view hi_text = dash == std::string_view::npos ? item : item.substr(dash + 1);
    auto lo = parse_decimal(lo_text), hi = parse_decimal(hi_text);
    if (!lo || !hi) {
      if (!item.empty()) why.append("'").append(item).append("' is not a port or a range lo-hi");
      return false;
    }
    for (uint64_t p : {*lo, *hi}) {
      if (p < 1 || p > 65535) {
        why = "port " + std::to_string(p) + " is out of range 1..65535";
        return false;
      }
    }
    if (*lo > *hi) {
      why.append("range ").append(item).append(" runs backwards");
      return false;
    }
    ranges.push_back({static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi)});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  // Canonical form: sorted, overlapping and adjacent ranges merged.
  std::sort(ranges.begin(), ranges.end(),
            [](const PortRange& a, const PortRange& b) { return a.lo < b.lo; });
  out.clear();
  for (const PortRange& r : ranges) {
    if (!out.empty() && r.lo <= out.back().hi + 1u)
      out.back().hi = std::max(out.back().hi, r.hi);
    else
      out.push_back(r);
  }
  return true;
}

// Quantities: common/units.h does the parsing; the kinds add the spelling.
template <std::optional<uint64_t> (*Parse)(std::string_view)>
bool parse_quantity(std::string_view text, uint64_t& out, std::string&) {
  auto v = Parse(text);
  if (!v) return false;
  out = *v;
  return true;
}

}  // namespace

const ValueKind<std::string> kName{
    "a name of lower-case letters, digits and '-' (at most 63, not starting with '-')", parse_name};
const ValueKind<bool> kBool{"true or false", parse_bool};
const ValueKind<uint32_t> kVersion{"1", parse_version};
const ValueKind<uint32_t> kIpv4{"an IPv4 address (a.b.c.d)", parse_ip};
const ValueKind<Ipv4Prefix> kCidr{"an IPv4 prefix (a.b.c.d/len)", parse_cidr};
const ValueKind<Ipv4Prefix> kAddressOrCidr{"an IPv4 address or prefix (a.b.c.d[/len])",
                                           parse_address_or_cidr};
const ValueKind<Mac> kUnicastMac{"a MAC address (aa:bb:cc:dd:ee:ff)", parse_unicast_mac};
const ValueKind<uint32_t> kVni{"an integer in 1..16777215", parse_int<uint32_t, 1, 16777215>};
const ValueKind<uint32_t> kMtu{"an integer in 576..9000", parse_int<uint32_t, 576, 9000>};
const ValueKind<uint16_t> kL4Port{"a port number in 1..65535", parse_int<uint16_t, 1, 65535>};
const ValueKind<uint32_t> kWeight{"an integer in 1..255", parse_int<uint32_t, 1, 255>};
const ValueKind<uint32_t> kThreshold{"an integer in 1..100", parse_int<uint32_t, 1, 100>};
const ValueKind<uint8_t> kDscp{"a DSCP value in 0..63", parse_int<uint8_t, 0, 63>};
const ValueKind<uint8_t> kIcmpValue{"an integer in 0..255", parse_int<uint8_t, 0, 255>};
const ValueKind<Protocol> kRuleProtocol{"one of tcp, udp, icmp, any", parse_rule_protocol};
const ValueKind<Protocol> kListenerProtocol{"tcp or udp", parse_listener_protocol};
const ValueKind<HealthProtocol> kHealthProtocol{"one of tcp, icmp, http", parse_health_protocol};
const ValueKind<std::string> kHttpPath{"an HTTP path (e.g. /healthz)", parse_http_path};
const ValueKind<uint32_t> kHttpStatus{"an HTTP status in 100..599", parse_int<uint32_t, 100, 599>};
const ValueKind<Priority> kPriority{"one of high, normal, low", parse_priority};
const ValueKind<PortRanges> kPortList{
    "a port, a range lo-hi, or a comma list of them (e.g. \"80,443,8000-8080\")", parse_port_list};
const ValueKind<uint64_t> kRate{
    "a rate: an integer and bit, kbit, mbit, gbit or tbit (e.g. 100mbit)",
    parse_quantity<parse_rate_bps>};
const ValueKind<uint64_t> kSize{"a size: an integer and b, kb, mb or gb (e.g. 64kb)",
                                parse_quantity<parse_size_bytes>};
const ValueKind<uint64_t> kDuration{"a duration: an integer and ms, s, m or h (e.g. 500ms)",
                                    parse_quantity<parse_duration_ms>};

std::string_view protocol_name(Protocol p) {
  for (const auto& [name, value] : kRuleProtocols)
    if (value == p) return name;
  return "?";
}

std::string_view priority_name(Priority p) {
  for (const auto& [name, value] : kPriorities)
    if (value == p) return name;
  return "?";
}

std::string format_port_list(const PortRanges& ranges) {
  std::string out;
  for (const PortRange& r : ranges) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.lo);
    if (r.hi != r.lo) out += '-' + std::to_string(r.hi);
  }
  return out;
}

}  // namespace weft::policy
