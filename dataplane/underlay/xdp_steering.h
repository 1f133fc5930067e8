#pragma once
// The af_xdp uplink on a NIC the host shares: weftd's XDP program
// (dataplane/underlay/xdp/weft_uplink.bpf.c) steers only VXLAN to this
// node's VTEP address and the ARP for it into weftd's AF_XDP socket and
// passes everything else to the kernel.
//
// DPDK's af_xdp PMD loads the program (devargs `xdp_prog=`, through libbpf)
// and binds its sockets into the program's xsks_map; weftd does the rest
// through libbpf: it detaches a stale program a killed weftd left on the
// netdev before the PMD attaches a new one, fills the program's map of VTEP
// addresses from node.yaml once the port is up, and detaches the program
// when it stops (the PMD does too on close; this is for a port that failed
// half way).
//
//   auto steering = UplinkSteering::prepare(cfg.underlay, devargs, error);  // adds xdp_prog=
//   if (!steering && !error.empty()) fail(error);
//   ... open_port(devargs ...) ...
//   if (steering && !steering->fill(vtep_ip, kVxlanPort, error)) fail(error);
//   steering.reset();  // after close_port: nothing of weft's left on the netdev
//
// Main thread only. Needs CAP_NET_ADMIN (attach, detach) and CAP_SYS_ADMIN
// (kernel objects by id: the attached program and its maps).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dataplane/config/node_config.h"

namespace weft::dp {

// The program's name in the kernel (its function name in weft_uplink.bpf.c):
// how weftd knows a program on a netdev for its own.
inline constexpr std::string_view kUplinkProgramName = "weft_uplink";
inline constexpr std::string_view kUplinkProgramFile = "weft_uplink.bpf.o";

// The netdev of af_xdp devargs that weft steers: "net_af_xdp...,iface=X"
// without an `xdp_prog=` of the operator's own. Empty otherwise.
std::string steered_af_xdp_iface(std::string_view devargs);

// The steering program's file: `configured` (node.yaml underlay.xdp_program)
// when set, else the first that exists of: beside the weftd executable (the
// build tree), the install's libdir/weft relative to it, the install's
// absolute libdir/weft. Empty when none exists.
std::string find_uplink_program(const std::string& configured);

class UplinkSteering {
 public:
  // For an af_xdp underlay that weft steers: detaches a stale weft program
  // from its netdev, appends `xdp_prog=` to `devargs`. nullptr with an empty
  // `error` for any other underlay; nullptr with `error` set on failure (no
  // such netdev, no program file, a foreign XDP program attached).
  static std::unique_ptr<UplinkSteering> prepare(const UnderlayConfig& underlay, std::string& devargs,
                                                 std::string& error);
  ~UplinkSteering();
  UplinkSteering(const UplinkSteering&) = delete;
  UplinkSteering& operator=(const UplinkSteering&) = delete;

  // After the PMD attached the program: steer VXLAN to `vtep_ip` (host
  // order) on UDP `udp_port` and ARP for `vtep_ip` to weftd.
  bool fill(uint32_t vtep_ip, uint16_t udp_port, std::string& error);

  const std::string& iface() const { return iface_; }
  const std::string& program() const { return program_; }

 private:
  UplinkSteering(std::string iface, int ifindex, std::string program)
      : iface_(std::move(iface)), ifindex_(ifindex), program_(std::move(program)) {}

  std::string iface_;
  int ifindex_;
  std::string program_;
};

// Detaches the XDP program on `ifindex` when it is weft's; true when none of
// weft's is left there. A foreign program stays, with `error` saying whose.
bool detach_weft_program(int ifindex, std::string& error);

}  // namespace weft::dp
