// The af_xdp uplink's steering, without a netdev: which underlay devargs
// weft steers, where it finds its program, and what it refuses before DPDK
// ever sees the devargs. Attaching, filling and detaching run against a
// real netdev in tests/e2e/xdp_uplink.sh.

#include "dataplane/underlay/xdp_steering.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace weft::dp {
namespace {

TEST(XdpSteering, SteersOnlyAfXdpWithoutAProgramOfItsOwn) {
  EXPECT_EQ(steered_af_xdp_iface("net_af_xdp0,iface=eth1"), "eth1");
  EXPECT_EQ(steered_af_xdp_iface("net_af_xdp0,start_queue=0,iface=ul-a,queue_count=2"), "ul-a");
  // The operator's own program: the PMD loads it, weft keeps out.
  EXPECT_EQ(steered_af_xdp_iface("net_af_xdp0,iface=eth1,xdp_prog=/opt/mine.o"), "");
  EXPECT_EQ(steered_af_xdp_iface("net_af_packet0,iface=eth1"), "");
  EXPECT_EQ(steered_af_xdp_iface("0000:3b:00.0"), "");
  EXPECT_EQ(steered_af_xdp_iface("net_af_xdp0"), "");  // no netdev: the PMD says so
  // A key that merely ends in "iface" is not iface.
  EXPECT_EQ(steered_af_xdp_iface("net_af_xdp0,xiface=eth1"), "");
}

TEST(XdpSteering, ConfiguredProgramMustExist) {
  const std::string path = ::testing::TempDir() + "weft_uplink_test.bpf.o";
  std::ofstream(path) << "x";
  EXPECT_EQ(find_uplink_program(path), path);
  std::remove(path.c_str());
  EXPECT_EQ(find_uplink_program(path), "");
}

TEST(XdpSteering, OtherUnderlaysAreLeftAlone) {
  UnderlayConfig u;
  std::string devargs = "net_af_packet0,iface=eth1";
  std::string error = "stale";
  EXPECT_EQ(UplinkSteering::prepare(u, devargs, error), nullptr);
  EXPECT_EQ(error, "");
  EXPECT_EQ(devargs, "net_af_packet0,iface=eth1");
}

TEST(XdpSteering, RefusesAMissingProgramOrNetdev) {
  UnderlayConfig u;
  u.xdp_program = ::testing::TempDir() + "no_such_program.bpf.o";
  std::string devargs = "net_af_xdp0,iface=lo";
  std::string error;
  EXPECT_EQ(UplinkSteering::prepare(u, devargs, error), nullptr);
  EXPECT_EQ(error, "underlay.xdp_program " + u.xdp_program + ": no such file");
  EXPECT_EQ(devargs, "net_af_xdp0,iface=lo");

  const std::string program = ::testing::TempDir() + "weft_uplink_test2.bpf.o";
  std::ofstream(program) << "x";
  u.xdp_program = program;
  devargs = "net_af_xdp0,iface=weftnosuchif0";
  EXPECT_EQ(UplinkSteering::prepare(u, devargs, error), nullptr);
  EXPECT_NE(error.find("uplink weftnosuchif0: "), std::string::npos) << error;
  std::remove(program.c_str());
}

}  // namespace
}  // namespace weft::dp
