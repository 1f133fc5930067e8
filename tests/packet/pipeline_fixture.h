#pragma once
// A GoogleTest fixture that runs packets through the real Pipeline with the
// stages (and tables) a test gives it, captures what is transmitted, and
// exposes the drop counters. Packet tests are tables of cases, as in
// Katran's test fixtures:
//
//   class XconnectTest : public weft::test::PipelineFixture {
//    protected:
//     void SetUp() override {
//       xconnect_.connect(1, 2);
//       parse_.wire(ParseNext::kParsed, NodeId::kXconnect);
//       xconnect_.wire(XconnectNext::kOut, NodeId::kTx);
//       set_stage(NodeId::kParse, parse_);
//       set_stage(NodeId::kXconnect, xconnect_);
//       // set_snapshot(&snapshot_) for stages that read tables
//     }
//     ParseStage parse_;
//     XconnectStage xconnect_;
//   };
//
//   TEST_F(XconnectTest, PatchesPortOneToTwo) {
//     const Bytes syn = Frame().eth(a, b).ipv4(x, y).tcp(1, 80, {.flags = RTE_TCP_SYN_FLAG}).bytes();
//     const PacketCase cases[] = {
//         {"port 1 to port 2, untouched", syn, Verdict::tx(2), syn, {}, /*in_port=*/1},
//         {"runt", Bytes(10), Verdict::drop(DropReason::truncated_eth), {}, {}, 1},
//         {"port 3 has no peer", syn, Verdict::drop(DropReason::no_route), {}, {}, 3},
//     };
//     expect_cases(cases);
//   }
//
// A case may also check fields of the sent packet and its metadata:
// `check = [](const Captured& c) { EXPECT_EQ(c.meta.vni, 5001u); }`.
//
// Each case runs alone; a transmitted packet is compared with the expected
// bytes field by field (dissect.h). The fixture fails a test that leaks
// mbufs. Stages are borrowed and must outlive the fixture's use of them.
// Runs on the EAL main lcore (eal_env.h).

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/meta.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/pipeline/worker_stats.h"
#include "tests/packet/eal_env.h"
#include "tests/packet/packet_builder.h"

namespace weft::dp {
// Drop reasons by name in GoogleTest messages.
inline void PrintTo(DropReason r, std::ostream* os) { *os << drop_reason_name(r); }
}  // namespace weft::dp

namespace weft::test {

// A packet the pipeline transmitted, with its metadata as it left.
struct Captured {
  uint16_t port;
  Bytes bytes;
  dp::PktMeta meta;
};

// Where a packet should end up.
struct Verdict {
  static Verdict tx(uint16_t port) { return {false, port, dp::DropReason::kNone}; }
  static Verdict drop(dp::DropReason reason) { return {true, 0, reason}; }

  bool dropped;
  uint16_t port;
  dp::DropReason reason;
};
std::ostream& operator<<(std::ostream& os, const Verdict& v);

struct PacketCase {
  std::string what;
  Bytes input;
  Verdict expect;
  std::optional<Bytes> output = {};                 // the transmitted bytes, when it is sent
  std::function<void(const Captured&)> check = {};  // more checks on the sent packet
  uint16_t in_port = 0;
};

// Captures transmitted packets instead of sending them. Takes at most
// `room` packets per call when set (to exercise tx_full).
class CaptureOutput final : public dp::PacketOutput {
 public:
  uint16_t transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override;

  std::vector<Captured> captured;
  std::optional<uint16_t> room;
};

// GoogleTest's printer for packet bytes in assertion messages.
::testing::AssertionResult same_packet(const Bytes& actual, const Bytes& expected);

// A stage that sends everything to kTx on one port: stands in for the rest
// of the pipeline in tests of a single stage.
enum class SendToPortNext : uint8_t { kTx, kCount };

class SendToPort final : public dp::StageWith<SendToPortNext> {
 public:
  explicit SendToPort(uint16_t port) : StageWith({"tx"}), port_(port) { wire(SendToPortNext::kTx, dp::NodeId::kTx); }
  std::string_view name() const override { return "send-to-port"; }
  void process(dp::StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  uint16_t port_;
};

struct RunOptions {
  uint16_t in_port = 0;
  dp::NodeId entry = dp::NodeId::kParse;
  // Runs on each packet's metadata after rx would have set it: tests that
  // enter after kParse fill in what the parser would have.
  std::function<void(dp::PktMeta&)> prepare = {};
};

class PipelineFixture : public ::testing::Test {
 protected:
  PipelineFixture();
  void TearDown() override;

  void set_stage(dp::NodeId id, dp::Stage& stage) { pipeline_.set_stage(id, &stage); }
  void set_snapshot(const dp::Snapshot* snap) { ctx_.snap = snap; }
  void set_now(uint64_t tsc) { ctx_.now_tsc = tsc; }

  // Runs `frames` as one burst. As on rx, only in_port (and trace = 0) is
  // set; the rest of PktMeta is poisoned, so a stage that reads a field no
  // earlier stage wrote fails visibly. Output accumulates in sent() and the
  // counters until clear().
  void run(std::span<const Bytes> frames, const RunOptions& opts = {});
  void run(const Bytes& frame, const RunOptions& opts = {}) { run(std::span(&frame, 1), opts); }
  // The same over mbufs the test made (chains, odd headroom); takes them.
  void run_mbufs(std::span<rte_mbuf* const> pkts, const RunOptions& opts = {});
  // Every packet of a pcap file (pcap.h), in bursts; fails the test if the
  // file cannot be read whole. sent_frames() gives what came out, for
  // write_pcap.
  void run_pcap(const std::string& path, const RunOptions& opts = {});
  std::vector<Bytes> sent_frames() const;

  const std::vector<Captured>& sent() const { return out_.captured; }
  uint64_t drops_at(dp::NodeId node, dp::DropReason reason) const;  // one stage's
  uint64_t drops(dp::DropReason reason) const;
  uint64_t total_drops() const;
  std::string drop_summary() const;  // "bad_ipv4_ihl=1 no_route=2", for messages
  const dp::WorkerStats& stats() const { return *stats_; }
  CaptureOutput& output() { return out_; }
  void clear();

  // Runs each case alone and checks its verdict, its output bytes and its
  // own checks; failures name the case.
  void expect_case(const PacketCase& c);
  void expect_cases(std::span<const PacketCase> cases);

 private:
  dp::Pipeline pipeline_;
  dp::StageCtx ctx_;
  std::unique_ptr<dp::WorkerStats> stats_;
  CaptureOutput out_;
  unsigned pool_available_ = 0;
};

}  // namespace weft::test
