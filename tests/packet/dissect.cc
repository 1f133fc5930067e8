#include "tests/packet/dissect.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rte_ether.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace weft::test {

namespace {

std::string hex(std::span<const uint8_t> b) {
  std::string s;
  char buf[3];
  for (uint8_t c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

class Dissector {
 public:
  explicit Dissector(std::span<const uint8_t> f) : f_(f) {}

  std::vector<Field> run() {
    frame(0, "");
    return std::move(out_);
  }

 private:
  bool have(size_t at, size_t n) const { return at + n <= f_.size(); }
  uint16_t u16(size_t at) const { return static_cast<uint16_t>((f_[at] << 8) | f_[at + 1]); }
  uint32_t u32(size_t at) const { return (uint32_t{u16(at)} << 16) | u16(at + 2); }

  void add(const std::string& name, std::string value, size_t at) {
    out_.push_back({prefix_ + name, std::move(value), at});
  }
  void num(const std::string& name, uint64_t v, size_t at) { add(name, std::to_string(v), at); }
  void mac(const std::string& name, size_t at) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", f_[at], f_[at + 1], f_[at + 2],
                  f_[at + 3], f_[at + 4], f_[at + 5]);
    add(name, buf, at);
  }
  void addr(const std::string& name, size_t at, int family) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family, f_.data() + at, buf, sizeof buf);
    add(name, buf, at);
  }
  // The rest of the frame from `at` up to `end`, then what lies beyond.
  void rest(size_t at, size_t end) {
    end = std::min(end, f_.size());
    if (at < end) add("payload", std::to_string(end - at) + " bytes: " + hex(f_.subspan(at, end - at)), at);
    if (prefix_.empty() && end < f_.size()) num("padding", f_.size() - end, end);
  }
  void truncated(size_t at) { add("truncated", "at " + std::to_string(at), at); }

  void frame(size_t at, const std::string& prefix) {
    prefix_ = prefix;
    if (!have(at, 14)) return truncated(at);
    mac("eth.dst", at);
    mac("eth.src", at + 6);
    add("eth.type", hex16(u16(at + 12)), at + 12);
    uint16_t type = u16(at + 12);
    at += 14;
    for (int tag = 0; type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ; ++tag) {
      if (!have(at, 4)) return truncated(at);
      const std::string v = "vlan" + std::to_string(tag) + ".";
      num(v + "pcp", f_[at] >> 5, at);
      num(v + "dei", (f_[at] >> 4) & 1, at);
      num(v + "vid", u16(at) & 0x0fff, at);
      add(v + "type", hex16(u16(at + 2)), at + 2);
      type = u16(at + 2);
      at += 4;
    }
    switch (type) {
      case RTE_ETHER_TYPE_ARP: return arp(at);
      case RTE_ETHER_TYPE_IPV4: return ipv4(at);
      case RTE_ETHER_TYPE_IPV6: return ipv6(at);
      default: return rest(at, f_.size());
    }
  }

  void arp(size_t at) {
    if (!have(at, 28)) return truncated(at);
    num("arp.htype", u16(at), at);
    add("arp.ptype", hex16(u16(at + 2)), at + 2);
    num("arp.hlen", f_[at + 4], at + 4);
    num("arp.plen", f_[at + 5], at + 5);
    num("arp.op", u16(at + 6), at + 6);
    mac("arp.sha", at + 8);
    addr("arp.spa", at + 14, AF_INET);
    mac("arp.tha", at + 18);
    addr("arp.tpa", at + 24, AF_INET);
    rest(at + 28, f_.size());
  }

  void ipv4(size_t at) {
    if (!have(at, 20)) return truncated(at);
    const size_t hl = (f_[at] & 0x0f) * 4u;
    num("ipv4.version", f_[at] >> 4, at);
    num("ipv4.ihl", f_[at] & 0x0f, at);
    num("ipv4.tos", f_[at + 1], at + 1);
    num("ipv4.total_length", u16(at + 2), at + 2);
    num("ipv4.id", u16(at + 4), at + 4);
    num("ipv4.df", (u16(at + 6) >> 14) & 1, at + 6);
    num("ipv4.mf", (u16(at + 6) >> 13) & 1, at + 6);
    num("ipv4.frag_offset", u16(at + 6) & 0x1fff, at + 6);
    num("ipv4.ttl", f_[at + 8], at + 8);
    num("ipv4.proto", f_[at + 9], at + 9);
    add("ipv4.checksum", hex16(u16(at + 10)), at + 10);
    addr("ipv4.src", at + 12, AF_INET);
    addr("ipv4.dst", at + 16, AF_INET);
    if (hl > 20 && have(at, hl)) add("ipv4.options", hex(f_.subspan(at + 20, hl - 20)), at + 20);
    const size_t end = at + u16(at + 2);
    if (hl < 20 || !have(at, hl)) return rest(at + 20, end);
    if ((u16(at + 6) & 0x1fff) != 0) return rest(at + hl, end);  // a later fragment
    l4(f_[at + 9], at + hl, end, false);
  }

  void ipv6(size_t at) {
    if (!have(at, 40)) return truncated(at);
    num("ipv6.version", f_[at] >> 4, at);
    num("ipv6.traffic_class", (u32(at) >> 20) & 0xff, at);
    num("ipv6.flow_label", u32(at) & 0xfffff, at + 1);
    num("ipv6.payload_length", u16(at + 4), at + 4);
    num("ipv6.next_header", f_[at + 6], at + 6);
    num("ipv6.hop_limit", f_[at + 7], at + 7);
    addr("ipv6.src", at + 8, AF_INET6);
    addr("ipv6.dst", at + 24, AF_INET6);
    const size_t end = at + 40 + u16(at + 4);
    uint8_t next = f_[at + 6];
    at += 40;
    for (int n = 0;; ++n) {
      const std::string e = "ipv6.ext" + std::to_string(n) + ".";
      if (next == IPPROTO_FRAGMENT) {
        if (!have(at, 8)) return truncated(at);
        const uint16_t frag_offset = u16(at + 2) >> 3;
        num(e + "next_header", f_[at], at);
        num(e + "frag_offset", frag_offset, at + 2);
        num(e + "more", u16(at + 2) & 1, at + 2);
        num(e + "id", u32(at + 4), at + 4);
        next = f_[at];
        at += 8;
        if (frag_offset != 0) return rest(at, end);  // a later fragment
      } else if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
        if (!have(at, 2)) return truncated(at);
        const size_t len = (f_[at + 1] + 1) * 8u;
        if (!have(at, len)) return truncated(at);
        num(e + "next_header", f_[at], at);
        num(e + "length", len, at + 1);
        add(e + "body", hex(f_.subspan(at + 2, len - 2)), at + 2);
        next = f_[at];
        at += len;
      } else {
        break;
      }
    }
    l4(next, at, end, true);
  }

  void l4(uint8_t proto, size_t at, size_t end, bool v6) {
    switch (proto) {
      case IPPROTO_UDP: {
        if (!have(at, 8)) return truncated(at);
        num("udp.sport", u16(at), at);
        num("udp.dport", u16(at + 2), at + 2);
        num("udp.length", u16(at + 4), at + 4);
        add("udp.checksum", hex16(u16(at + 6)), at + 6);
        if (u16(at + 2) == 4789 && prefix_.empty() && have(at + 8, 8)) return vxlan(at + 8, end);
        return rest(at + 8, end);
      }
      case IPPROTO_TCP: {
        if (!have(at, 20)) return truncated(at);
        const size_t hl = (f_[at + 12] >> 4) * 4u;
        num("tcp.sport", u16(at), at);
        num("tcp.dport", u16(at + 2), at + 2);
        num("tcp.seq", u32(at + 4), at + 4);
        num("tcp.ack", u32(at + 8), at + 8);
        num("tcp.data_offset", f_[at + 12] >> 4, at + 12);
        add("tcp.flags", hex16(f_[at + 13]), at + 13);
        num("tcp.window", u16(at + 14), at + 14);
        add("tcp.checksum", hex16(u16(at + 16)), at + 16);
        num("tcp.urgent", u16(at + 18), at + 18);
        if (hl > 20 && have(at, hl)) add("tcp.options", hex(f_.subspan(at + 20, hl - 20)), at + 20);
        return rest(at + std::max<size_t>(hl, 20), end);
      }
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6: {
        if (!have(at, 8)) return truncated(at);
        const std::string p = v6 ? "icmp6." : "icmp.";
        num(p + "type", f_[at], at);
        num(p + "code", f_[at + 1], at + 1);
        add(p + "checksum", hex16(u16(at + 2)), at + 2);
        num(p + "id", u16(at + 4), at + 4);
        num(p + "seq", u16(at + 6), at + 6);
        return rest(at + 8, end);
      }
      default:
        return rest(at, end);
    }
  }

  void vxlan(size_t at, size_t ip_end) {
    add("vxlan.flags", hex16(f_[at]), at);
    add("vxlan.reserved", hex(f_.subspan(at + 1, 3)) + "/" + hex(f_.subspan(at + 7, 1)), at + 1);
    num("vxlan.vni", u32(at + 4) >> 8, at + 4);
    const std::string outer = prefix_;
    frame(at + 8, "inner.");
    prefix_ = outer;
    if (ip_end < f_.size()) num("padding", f_.size() - ip_end, ip_end);
  }

  std::span<const uint8_t> f_;
  std::vector<Field> out_;
  std::string prefix_;
};

}  // namespace

std::vector<Field> dissect(std::span<const uint8_t> frame) { return Dissector(frame).run(); }

std::string packet_diff(std::span<const uint8_t> actual, std::span<const uint8_t> expected) {
  if (actual.size() == expected.size() && std::equal(actual.begin(), actual.end(), expected.begin()))
    return "";
  std::string out;
  const std::vector<Field> a = dissect(actual), e = dissect(expected);
  std::map<std::string, const Field*> by_name;
  for (const Field& f : a) by_name[f.name] = &f;
  std::set<std::string> seen;
  for (const Field& want : e) {
    seen.insert(want.name);
    auto it = by_name.find(want.name);
    if (it == by_name.end()) {
      out += "  " + want.name + ": missing, want " + want.value + "\n";
    } else if (it->second->value != want.value) {
      out += "  " + want.name + ": got " + it->second->value + ", want " + want.value + "\n";
    }
  }
  for (const Field& got : a)
    if (!seen.count(got.name)) out += "  " + got.name + ": unexpected " + got.value + "\n";
  if (actual.size() != expected.size())
    out += "  length: got " + std::to_string(actual.size()) + ", want " +
           std::to_string(expected.size()) + "\n";
  const size_t n = std::min(actual.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    if (actual[i] != expected[i]) {
      out += "  first differing byte at offset " + std::to_string(i) + "\n";
      break;
    }
  }
  return out;
}

std::string describe(std::span<const uint8_t> frame) {
  std::string out;
  for (const Field& f : dissect(frame)) out += "  " + f.name + " = " + f.value + "\n";
  return out;
}

}  // namespace weft::test
