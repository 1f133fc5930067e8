// The QoS shaper (dataplane/qos/qos_shaper.h): DPDK's rte_sched under the
// policy's pipes and classes, fed by a real Pipeline. rte_sched reads the
// TSC itself (no time argument in DPDK 22.11), so these tests check what
// does not depend on time: which queue a class takes, strict priority, a
// class cap's credit for one tc_period (set to 10 s here, far longer than
// a test), queue full, and queued packets across a policy change. Rates
// over time are tests/e2e/qos.sh's.
//
// vNIC port 1 under the policy, its egress shaped on port 0 (the underlay).

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <map>
#include <set>
#include <vector>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/qos/qos_shaper.h"
#include "tests/packet/eal_env.h"

namespace weft::test {
namespace {

constexpr uint16_t kUnderlay = 0, kVnic = 1;
constexpr uint32_t kFrame = 500;
// Slots (qos_table.h): 1 the default class, 2 + i class i.
constexpr uint8_t kDefault = 1, kVoice = 2, kBulk = 3, kScavenger = 4;

dp::QosTable table(uint64_t bulk_bps = 8'000, bool with_bulk = true) {
  dp::QosPolicy p;
  p.name = "lim";
  p.limit[static_cast<size_t>(dp::QosDir::kEgress)] = {8'000'000'000, 1 << 20};  // never binds here
  dp::QosClass voice, bulk, scavenger;
  voice.name = "voice";
  voice.priority = dp::QosPriority::kHigh;
  voice.dscp = uint64_t{1} << 46;
  bulk.name = "bulk";
  bulk.protocol = 6;
  bulk.ports = {{873, 873}};
  bulk.rate_bps = bulk_bps;
  scavenger.name = "scavenger";
  scavenger.priority = dp::QosPriority::kLow;
  scavenger.dscp = uint64_t{1} << 8;
  p.classes.push_back(voice);
  if (with_bulk) p.classes.push_back(bulk);
  p.classes.push_back(scavenger);
  dp::QosTable t;
  t.policies.push_back(p);
  t.by_port[kVnic] = 0;
  return t;
}

dp::QosShaper::Config config(uint16_t queue_packets = 256) {
  dp::QosShaper::Config c;
  c.queue_packets = queue_packets;
  c.tc_period_ms = 10'000;  // a class cap's credit lasts the whole test
  return c;
}

// A frame of vNIC 1's egress to the underlay in `slot`, numbered `seq`.
rte_mbuf* frame(uint8_t slot, uint8_t seq) {
  rte_mbuf* m = rte_pktmbuf_alloc(packet_pool());
  char* data = rte_pktmbuf_append(m, kFrame);
  std::fill(data, data + kFrame, static_cast<char>(seq));
  dp::PktMeta* md = dp::meta(m);
  *md = dp::PktMeta{};
  md->in_port = kVnic;
  md->out_port = kUnderlay;
  md->qos = dp::qos_mark(slot, 0);
  return m;
}

uint8_t slot_of(const rte_mbuf* m) { return dp::qos_slot(dp::meta(m)->qos, dp::QosDir::kEgress); }

// What leaves: the slots of the packets in order.
class Capture final : public dp::PacketOutput {
 public:
  uint16_t transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      ports.push_back(port);
      slots.push_back(slot_of(pkts[i]));
    }
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
  }
  std::vector<uint16_t> ports;
  std::vector<uint8_t> slots;
  size_t count(uint8_t slot) const { return static_cast<size_t>(std::count(slots.begin(), slots.end(), slot)); }
};

// The kQos stage's part, alone: marks every packet for its egress pipe.
enum class MarkNext : uint8_t { kOut, kCount };
class MarkStage final : public dp::StageWith<MarkNext> {
 public:
  explicit MarkStage(dp::QosShaper& s) : StageWith({"out"}), shaper_(s) { wire(MarkNext::kOut, dp::NodeId::kTx); }
  std::string_view name() const override { return "mark"; }
  void process(dp::StageCtx&, rte_mbuf** pkts, uint16_t n) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      shaper_.mark(pkts[i], kVnic, dp::QosDir::kEgress, slot_of(pkts[i]));
      send(pkts[i], MarkNext::kOut);
    }
  }

 private:
  dp::QosShaper& shaper_;
};

class QosShaperTest : public ::testing::Test {
 protected:
  void make(dp::QosShaper::Config c = config()) {
    shaper_ = std::make_unique<dp::QosShaper>(c);
    shaper_->configure(table());
    stage_ = std::make_unique<MarkStage>(*shaper_);
    pipeline_.set_stage(dp::NodeId::kQos, stage_.get());
    pipeline_.set_shaper(shaper_.get());
    ctx_.stats = &stats_;
  }
  void SetUp() override { make(); }
  void TearDown() override {
    pipeline_.set_shaper(nullptr);
    shaper_.reset();
  }
  // Runs `slots` (one frame each) through the pipeline as one burst.
  void offer(const std::vector<uint8_t>& slots) {
    std::vector<rte_mbuf*> pkts;
    for (size_t i = 0; i < slots.size(); ++i) pkts.push_back(frame(slots[i], static_cast<uint8_t>(i)));
    pipeline_.run(ctx_, dp::NodeId::kQos, pkts.data(), static_cast<uint16_t>(pkts.size()), out_);
  }
  // Worker polls until the shaper releases nothing more for a while.
  void drain() {
    for (int idle = 0; idle < 2000;) idle = pipeline_.service(ctx_, out_) == 0 ? idle + 1 : 0;
  }
  const dp::QosCounters& counters(uint8_t slot) const {
    return stats_.qos[kVnic][static_cast<size_t>(dp::QosDir::kEgress)][slot - 1];
  }

  std::unique_ptr<dp::QosShaper> shaper_;
  std::unique_ptr<MarkStage> stage_;
  dp::Pipeline pipeline_;
  dp::WorkerStats stats_;
  dp::StageCtx ctx_;
  Capture out_;
};

TEST_F(QosShaperTest, ClassesTakeTheirTrafficClasses) {
  using Q = std::pair<uint8_t, uint8_t>;
  EXPECT_EQ(shaper_->slot_queue(kVnic, dp::QosDir::kEgress, kVoice), Q(0, 0));      // strict, first
  EXPECT_EQ(shaper_->slot_queue(kVnic, dp::QosDir::kEgress, kBulk), Q(1, 0));       // capped
  EXPECT_EQ(shaper_->slot_queue(kVnic, dp::QosDir::kEgress, kDefault), Q(12, 0));   // best effort
  EXPECT_EQ(shaper_->slot_queue(kVnic, dp::QosDir::kEgress, kScavenger), Q(12, 1)); // best effort, low
  const rte_sched_pipe_params* p = shaper_->pipe_params(kVnic, dp::QosDir::kEgress);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->tb_rate, 1'000'000'000u);  // 8 Gbit/s in bytes
  EXPECT_EQ(p->tb_size, 1u << 20);
  EXPECT_EQ(p->tc_rate[1], 1000u);        // bulk: 8 kbit/s
  EXPECT_EQ(p->tc_rate[0], p->tb_rate);   // voice: no cap of its own
  // Ingress has no limit, only bulk's cap: a pipe at the port's rate.
  const rte_sched_pipe_params* in = shaper_->pipe_params(kVnic, dp::QosDir::kIngress);
  ASSERT_NE(in, nullptr);
  EXPECT_GT(in->tb_rate, p->tb_rate);
  EXPECT_EQ(in->tc_rate[1], 1000u);
  shaper_->configure(table(0, false));  // and without the cap, no pipe
  EXPECT_EQ(shaper_->pipe_params(kVnic, dp::QosDir::kIngress), nullptr);
  shaper_->configure(table());
  // The queue DPDK would pick for that class is the one the shaper marks.
  rte_mbuf* m = frame(kBulk, 0);
  shaper_->mark(m, kVnic, dp::QosDir::kEgress, kBulk);
  EXPECT_EQ(rte_mbuf_sched_queue_get(m), dp::QosShaper::pipe_id(kVnic, dp::QosDir::kEgress) * 16 + 1);
  EXPECT_EQ(dp::meta(m)->qos_shaped, 1);
  rte_pktmbuf_free(m);
}

// rte_sched's grinders work a group of 4 pipes each: the pipes of 16
// vNICs' egress (or ingress) limits are in 16 different groups, and every
// (vNIC, direction) has a pipe of its own.
TEST(QosShaperPipes, ConsecutiveVnicsAreInDifferentPipeGroups) {
  std::set<uint32_t> pipes, groups;
  for (uint16_t vnic = 0; vnic < 16; ++vnic) groups.insert(dp::QosShaper::pipe_id(vnic, dp::QosDir::kEgress) / 4);
  EXPECT_EQ(groups.size(), 16u);
  for (uint16_t vnic = 0; vnic < dp::kMaxPorts; ++vnic)
    for (dp::QosDir d : {dp::QosDir::kEgress, dp::QosDir::kIngress}) {
      const uint32_t pipe = dp::QosShaper::pipe_id(vnic, d);
      EXPECT_LT(pipe, dp::QosShaper::kPipes);
      pipes.insert(pipe);
    }
  EXPECT_EQ(pipes.size(), dp::QosShaper::kPipes);
}

TEST_F(QosShaperTest, PacketsWaitInTheShaperUntilTheWorkerServesIt) {
  offer({kDefault, kDefault, kDefault});
  EXPECT_TRUE(out_.slots.empty());
  EXPECT_TRUE(pipeline_.holds_packets());
  EXPECT_EQ(counters(kDefault).queued_packets.get(), 3u);
  EXPECT_EQ(counters(kDefault).queued_bytes.get(), 3u * kFrame);
  drain();
  EXPECT_EQ(out_.slots.size(), 3u);
  EXPECT_EQ(out_.ports, std::vector<uint16_t>(3, kUnderlay));
  EXPECT_FALSE(pipeline_.holds_packets());
  EXPECT_EQ(counters(kDefault).sent_packets.get(), 3u);
  EXPECT_EQ(stats_.ports[kUnderlay].tx_packets.get(), 3u);
}

TEST_F(QosShaperTest, HighPriorityIsServedBeforeBestEffort) {
  std::vector<uint8_t> burst(32, kVoice);
  std::fill(burst.begin(), burst.begin() + 16, kDefault);  // queued before the voice
  offer(burst);
  drain();
  ASSERT_EQ(out_.slots.size(), 32u);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(out_.slots[i], kVoice) << "packet " << i << " out";
  EXPECT_EQ(counters(kVoice).sent_packets.get(), 16u);
  EXPECT_EQ(counters(kDefault).sent_packets.get(), 16u);
}

TEST_F(QosShaperTest, AClassCapHoldsItsClassAndNotTheRest) {
  // bulk: 8 kbit/s = 1000 B/s, 10 000 B per 10 s period: 20 frames.
  offer(std::vector<uint8_t>(40, kBulk));
  offer(std::vector<uint8_t>(40, kDefault));
  drain();
  EXPECT_EQ(out_.count(kBulk), 20u);
  EXPECT_EQ(out_.count(kDefault), 40u);
  EXPECT_EQ(counters(kBulk).queued_packets.get(), 40u);
  EXPECT_EQ(counters(kBulk).sent_packets.get(), 20u);
  EXPECT_EQ(shaper_->backlog(), 20u);
}

TEST_F(QosShaperTest, AFullQueueDropsAndCountsPerClass) {
  make(config(16));
  offer(std::vector<uint8_t>(20, kDefault));
  EXPECT_EQ(stats_.drops_of(dp::DropReason::qos_queue_full), 4u);
  EXPECT_EQ(counters(kDefault).queued_packets.get(), 16u);
  EXPECT_EQ(counters(kDefault).queue_full_packets.get(), 4u);
  EXPECT_EQ(counters(kDefault).queue_full_bytes.get(), 4u * kFrame);
  // Another class has a queue of its own.
  offer({kVoice});
  EXPECT_EQ(counters(kVoice).queued_packets.get(), 1u);
  drain();
  EXPECT_EQ(out_.slots.size(), 17u);
  // Room again once the queue drained.
  offer(std::vector<uint8_t>(16, kDefault));
  EXPECT_EQ(stats_.drops_of(dp::DropReason::qos_queue_full), 4u);
  drain();
  EXPECT_EQ(out_.slots.size(), 33u);
}

TEST_F(QosShaperTest, APolicyChangeKeepsQueuedPacketsAndTakesEffect) {
  offer(std::vector<uint8_t>(40, kBulk));
  drain();
  ASSERT_EQ(out_.count(kBulk), 20u);  // 20 wait for the cap's next period
  // The cap doubled: the pipe gets a new profile, its queue stays.
  shaper_->configure(table(16'000));
  EXPECT_EQ(shaper_->pipe_params(kVnic, dp::QosDir::kEgress)->tc_rate[1], 2000u);
  EXPECT_EQ(shaper_->backlog(), 20u);
  drain();
  EXPECT_EQ(out_.count(kBulk), 40u);  // none lost, the new credit let them out
  // The class removed: what it had queued still leaves.
  offer(std::vector<uint8_t>(50, kBulk));
  drain();
  const size_t before = out_.count(kBulk);
  shaper_->configure(table(0, false));
  drain();
  EXPECT_EQ(out_.count(kBulk), 90u) << "before the change: " << before;
  EXPECT_EQ(shaper_->backlog(), 0u);
  EXPECT_EQ(shaper_->profile_exhausted(), 0u);
}

}  // namespace
}  // namespace weft::test
