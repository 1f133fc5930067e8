#include "tests/packet/pipeline_fixture.h"

#include <rte_mempool.h>

#include <algorithm>
#include <cstring>

#include "tests/packet/dissect.h"
#include "tests/packet/pcap.h"

namespace weft::test {

namespace {
constexpr uint8_t kPoison = 0xa5;
}  // namespace

std::ostream& operator<<(std::ostream& os, const Verdict& v) {
  if (v.dropped) return os << "drop(" << dp::drop_reason_name(v.reason) << ")";
  return os << "tx(port " << v.port << ")";
}

uint16_t CaptureOutput::transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  const uint16_t take = room ? std::min(n, *room) : n;
  for (uint16_t i = 0; i < take; ++i) {
    captured.push_back({port, from_mbuf(pkts[i]), *dp::meta(pkts[i])});
    rte_pktmbuf_free(pkts[i]);
  }
  return take;
}

::testing::AssertionResult same_packet(const Bytes& actual, const Bytes& expected) {
  const std::string diff = packet_diff(actual, expected);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "packets differ:\n"
                                       << diff << "got:\n"
                                       << describe(actual) << "want:\n"
                                       << describe(expected);
}

void SendToPort::process(dp::StageCtx& /*ctx*/, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    dp::meta(pkts[i])->out_port = port_;
    send(pkts[i], SendToPortNext::kTx);
  }
}

PipelineFixture::PipelineFixture() : stats_(std::make_unique<dp::WorkerStats>()) {
  ctx_.stats = stats_.get();
  ctx_.pool = packet_pool();
  if (ctx_.pool != nullptr) pool_available_ = rte_mempool_avail_count(ctx_.pool);
}

void PipelineFixture::TearDown() {
  if (ctx_.pool != nullptr) {
    EXPECT_EQ(rte_mempool_avail_count(ctx_.pool), pool_available_) << "the test leaked mbufs";
  }
}

void PipelineFixture::run(std::span<const Bytes> frames, const RunOptions& opts) {
  std::vector<rte_mbuf*> pkts;
  for (const Bytes& f : frames) {
    rte_mbuf* m = to_mbuf(ctx_.pool, f);
    ASSERT_NE(m, nullptr) << "cannot make an mbuf of " << f.size() << " bytes";
    pkts.push_back(m);
  }
  run_mbufs(pkts, opts);
}

void PipelineFixture::run_mbufs(std::span<rte_mbuf* const> pkts, const RunOptions& opts) {
  for (size_t done = 0; done < pkts.size();) {
    rte_mbuf* burst[dp::Pipeline::kNodeCapacity];
    const uint16_t n = static_cast<uint16_t>(
        std::min<size_t>(pkts.size() - done, dp::Pipeline::kNodeCapacity));
    for (uint16_t i = 0; i < n; ++i) {
      burst[i] = pkts[done + i];
      dp::PktMeta* md = dp::meta(burst[i]);
      std::memset(static_cast<void*>(md), kPoison, sizeof *md);
      md->in_port = opts.in_port;
      md->trace = 0;
      if (opts.prepare) opts.prepare(*md);
    }
    pipeline_.run(ctx_, opts.entry, burst, n, out_);
    done += n;
  }
}

void PipelineFixture::run_pcap(const std::string& path, const RunOptions& opts) {
  const PcapFile file = read_pcap(path);
  ASSERT_EQ(file.error, "") << path;
  std::vector<Bytes> frames;
  frames.reserve(file.packets.size());
  for (const PcapPacket& p : file.packets) frames.push_back(p.data);
  run(frames, opts);
}

std::vector<Bytes> PipelineFixture::sent_frames() const {
  std::vector<Bytes> frames;
  frames.reserve(out_.captured.size());
  for (const Captured& c : out_.captured) frames.push_back(c.bytes);
  return frames;
}

uint64_t PipelineFixture::drops(dp::DropReason reason) const {
  return stats_->drops_of(reason);
}

uint64_t PipelineFixture::drops_at(dp::NodeId node, dp::DropReason reason) const {
  return stats_->drops[static_cast<size_t>(node)][static_cast<size_t>(reason)].get();
}

uint64_t PipelineFixture::total_drops() const {
  uint64_t sum = 0;
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) sum += stats_->drops_of(static_cast<dp::DropReason>(r));
  return sum;
}

std::string PipelineFixture::drop_summary() const {
  std::string s;
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
    if (const uint64_t n = stats_->drops_of(static_cast<dp::DropReason>(r)); n != 0) {
      if (!s.empty()) s += ' ';
      s += std::string(dp::kDropReasonNames[r]) + "=" + std::to_string(n);
    }
  }
  return s.empty() ? "none" : s;
}

void PipelineFixture::clear() {
  out_.captured.clear();
  stats_ = std::make_unique<dp::WorkerStats>();
  ctx_.stats = stats_.get();
}

void PipelineFixture::expect_case(const PacketCase& c) {
  SCOPED_TRACE("case: " + c.what);
  clear();
  run(c.input, {.in_port = c.in_port});
  if (c.expect.dropped) {
    EXPECT_TRUE(sent().empty()) << "sent on port " << sent().front().port << ", want " << c.expect;
    EXPECT_EQ(drops(c.expect.reason), 1u) << "want " << c.expect << ", drops: " << drop_summary();
    EXPECT_EQ(total_drops(), 1u) << "drops: " << drop_summary();
    return;
  }
  ASSERT_EQ(sent().size(), 1u) << "want " << c.expect << ", drops: " << drop_summary();
  const Captured& got = sent().front();
  EXPECT_EQ(got.port, c.expect.port);
  if (c.output) {
    EXPECT_TRUE(same_packet(got.bytes, *c.output));
  }
  if (c.check) c.check(got);
}

void PipelineFixture::expect_cases(std::span<const PacketCase> cases) {
  for (const PacketCase& c : cases) expect_case(c);
}

}  // namespace weft::test
