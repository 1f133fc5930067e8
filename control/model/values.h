#pragma once
// The scalar syntaxes of the policy language, one ValueKind each: names,
// addresses, prefixes, MACs, numbers in a range, protocols, port lists, rates,
// sizes and durations. The loader reads every scalar through one of these, so
// a given syntax is accepted (and explained when it is not) the same way
// everywhere.
//
// Constants; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"
#include "control/model/model.h"
#include "control/model/yaml_reader.h"

namespace weft::policy {

// Names of every kind: [a-z0-9][a-z0-9-]{0,62}.
extern const ValueKind<std::string> kName;
extern const ValueKind<bool> kBool;
extern const ValueKind<uint32_t> kVersion;  // only 1

extern const ValueKind<uint32_t> kIpv4;
extern const ValueKind<Ipv4Prefix> kCidr;           // a.b.c.d/len, no host bits
extern const ValueKind<Ipv4Prefix> kAddressOrCidr;  // also a bare address, as /32
extern const ValueKind<Mac> kUnicastMac;

extern const ValueKind<uint32_t> kVni;        // 1..16777215
extern const ValueKind<uint32_t> kMtu;        // 576..9000
extern const ValueKind<uint16_t> kL4Port;     // 1..65535
extern const ValueKind<uint32_t> kWeight;     // 1..255: a backend's share of its Maglev turns
extern const ValueKind<uint32_t> kThreshold;  // 1..100
extern const ValueKind<uint8_t> kDscp;        // 0..63
extern const ValueKind<uint8_t> kIcmpValue;   // 0..255

extern const ValueKind<Protocol> kRuleProtocol;      // tcp, udp, icmp, any
extern const ValueKind<Protocol> kListenerProtocol;  // tcp, udp
extern const ValueKind<HealthProtocol> kHealthProtocol;  // tcp, icmp, http
extern const ValueKind<std::string> kHttpPath;    // /..., visible ASCII, at most 200
extern const ValueKind<uint32_t> kHttpStatus;     // 100..599
extern const ValueKind<Priority> kPriority;          // high, normal, low

// "80", "8000-8080" or a comma list of those, sorted and merged.
extern const ValueKind<PortRanges> kPortList;

extern const ValueKind<uint64_t> kRate;      // bits/s, from 500kbit, 100mbit, 10gbit
extern const ValueKind<uint64_t> kSize;      // bytes, from 1500b, 64kb, 1mb
extern const ValueKind<uint64_t> kDuration;  // milliseconds, from 500ms, 2s

// Spellings for text output and messages.
std::string_view protocol_name(Protocol p);
std::string_view priority_name(Priority p);
std::string format_port_list(const PortRanges& ranges);

}  // namespace weft::policy
