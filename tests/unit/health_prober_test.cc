// The load balancers' health checker (dataplane/lb/health_prober.h) on a
// fake clock: probes every interval, one in flight, thresholds both ways,
// timeouts and refusals as failures, forged replies ignored and counted,
// state kept across a new set of targets.

#include "dataplane/lb/health_prober.h"

#include "dataplane/lb/probe_frame.h"

#include <gtest/gtest.h>
#include <rte_tcp.h>

namespace weft::dp {
namespace {

constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kRstAck = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;

LbProbeTarget target(const std::string& port = "web-1", uint32_t ip = 0x0a01010a, uint16_t dpdk_port = 1) {
  // interval 1 s, timeout 500 ms, down after 3 failures, up after 2 successes
  return LbProbeTarget{"web-lb", port, dpdk_port, 5001, 0x0a010101, 0x0a0000001389, ip, 0x02000a01010a, 8080,
                       1000, 500, 3, 2, "", 0};
}

class HealthProberTest : public ::testing::Test {
 protected:
  void SetUp() override { prober_.set_targets({target()}); }

  // The reply the backend gives probe `syn`.
  ProbeReply reply(const ProbeSyn& syn, uint8_t flags, uint32_t ack_delta = 1) const {
    const LbProbeTarget& t = prober_.targets()[syn.target];
    return ProbeReply{t.dpdk_port, t.dst_ip, t.src_ip, t.dst_port, syn.sport, 777, syn.seq + ack_delta, flags, 0};
  }
  // One probe round at `now`: the SYN, answered with `flags` (0: no answer).
  void round(uint64_t now, uint8_t flags) {
    auto syns = prober_.poll(now);
    ASSERT_EQ(syns.size(), 1u) << "one probe per interval at " << now;
    if (flags != 0) prober_.on_reply(reply(syns[0], flags), now + 1);
  }
  bool up() const { return prober_.states()[0].up; }

  HealthProber prober_{42};
};

TEST_F(HealthProberTest, ProbesAtOnceThenEveryIntervalOneInFlight) {
  auto first = prober_.poll(0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_GE(first[0].sport, HealthProber::kProbePortLo);
  EXPECT_LE(first[0].sport, HealthProber::kProbePortHi);
  EXPECT_TRUE(prober_.poll(100).empty()) << "in flight, not due";
  EXPECT_EQ(prober_.on_reply(reply(first[0], kSynAck), 100), ProbeVerdict::kSuccess);
  EXPECT_TRUE(prober_.poll(999).empty()) << "answered, next one due at 1000";
  auto second = prober_.poll(1000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].sport, first[0].sport) << "a fresh source port per probe";
  EXPECT_EQ(prober_.states()[0].sent, 2u);
  EXPECT_EQ(prober_.next_event_ms(), 1500u) << "the deadline of the one in flight";
}

TEST_F(HealthProberTest, DownAfterUnhealthyThresholdTimeoutsUpAfterHealthyThresholdSuccesses) {
  round(0, 0);
  round(1000, 0);  // the first one timed out at 500: 1 failure
  EXPECT_TRUE(up());
  round(2000, 0);  // 2 failures
  EXPECT_TRUE(up());
  EXPECT_FALSE(prober_.take_changed());
  EXPECT_TRUE(prober_.poll(2499).empty());
  EXPECT_TRUE(prober_.poll(2500).empty()) << "times out the third: down, nothing due yet";
  EXPECT_FALSE(up());
  EXPECT_TRUE(prober_.take_changed());
  EXPECT_FALSE(prober_.take_changed()) << "reported once";
  EXPECT_EQ(prober_.down(), (std::set<std::pair<std::string, std::string>>{{"web-lb", "web-1"}}));
  EXPECT_EQ(prober_.states()[0].failed, 3u);

  round(3000, kSynAck);
  EXPECT_FALSE(up()) << "one success is not healthy_threshold";
  round(4000, kSynAck);
  EXPECT_TRUE(up());
  EXPECT_TRUE(prober_.take_changed());
  EXPECT_TRUE(prober_.down().empty());
}

TEST_F(HealthProberTest, RstIsAFailureAndASuccessResetsTheCount) {
  round(0, kRstAck);
  round(1000, kRstAck);
  round(2000, kSynAck);  // resets the run of failures
  round(3000, kRstAck);
  round(4000, kRstAck);
  EXPECT_TRUE(up()) << "two failures in a row since the success";
  round(5000, kRstAck);
  EXPECT_FALSE(up());
  EXPECT_EQ(prober_.states()[0].failed, 5u);
}

TEST_F(HealthProberTest, ForgedRepliesAreIgnoredAndCounted) {
  auto syn = prober_.poll(0);
  ASSERT_EQ(syn.size(), 1u);
  ProbeReply wrong_ack = reply(syn[0], kRstAck, 2);
  EXPECT_EQ(prober_.on_reply(wrong_ack, 10), ProbeVerdict::kForged);
  ProbeReply wrong_port = reply(syn[0], kSynAck);
  wrong_port.dport = static_cast<uint16_t>(syn[0].sport + 1);
  EXPECT_EQ(prober_.on_reply(wrong_port, 10), ProbeVerdict::kForged);
  ProbeReply wrong_service = reply(syn[0], kSynAck);
  wrong_service.sport = 22;
  EXPECT_EQ(prober_.on_reply(wrong_service, 10), ProbeVerdict::kForged);
  ProbeReply other_vnic = reply(syn[0], kSynAck);
  other_vnic.in_port = 7;
  EXPECT_EQ(prober_.on_reply(other_vnic, 10), ProbeVerdict::kForged);
  ProbeReply no_flags = reply(syn[0], RTE_TCP_ACK_FLAG);
  EXPECT_EQ(prober_.on_reply(no_flags, 10), ProbeVerdict::kForged);
  EXPECT_EQ(prober_.states()[0].forged, 4u);
  EXPECT_EQ(prober_.unmatched(), 1u) << "the other vNIC's";
  EXPECT_EQ(prober_.states()[0].failed, 0u) << "forged replies settle nothing";

  // The probe is still in flight and the real answer counts.
  EXPECT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 20), ProbeVerdict::kSuccess);
  EXPECT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 21), ProbeVerdict::kForged) << "answered twice";
}

TEST_F(HealthProberTest, ALateAnswerIsForgedNotASuccess) {
  auto syn = prober_.poll(0);
  ASSERT_EQ(syn.size(), 1u);
  EXPECT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 500), ProbeVerdict::kForged) << "at the deadline";
  prober_.poll(600);
  EXPECT_EQ(prober_.states()[0].failed, 1u) << "timed out";
  EXPECT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 700), ProbeVerdict::kForged) << "after it timed out";
}

TEST_F(HealthProberTest, NewTargetsKeepTheStateOfThoseThatStay) {
  round(0, kRstAck);
  round(1000, kRstAck);
  round(2000, kRstAck);
  ASSERT_FALSE(up());
  prober_.take_changed();
  EXPECT_FALSE(prober_.set_targets({target("web-2", 0x0a01010b, 2), target()}));
  EXPECT_FALSE(prober_.states()[1].up) << "web-1 stays down";
  EXPECT_TRUE(prober_.states()[0].up) << "web-2 starts up";
  EXPECT_TRUE(prober_.set_targets({target("web-2", 0x0a01010b, 2)})) << "a down backend left: health changed";
  EXPECT_TRUE(prober_.down().empty());
  EXPECT_TRUE(prober_.take_changed());
}

// --- HTTP GET ----------------------------------------------------------------

class HttpProberTest : public HealthProberTest {
 protected:
  void SetUp() override {
    LbProbeTarget t = target();
    t.http_request = http_probe_request("/healthz", t.dst_ip);
    t.http_status = 200;
    prober_.set_targets({t});
  }
  // The server's segment after its SYN-ACK (seq 777): acknowledging the
  // request, with a status line (0: none).
  ProbeReply answer(const ProbeSyn& syn, uint16_t status, uint8_t flags = RTE_TCP_ACK_FLAG) const {
    ProbeReply r = reply(syn, flags, 1 + static_cast<uint32_t>(prober_.targets()[0].http_request.size()));
    r.seq = 778;
    r.http_status = status;
    return r;
  }
};

TEST_F(HttpProberTest, TheRequestIsOneGetAndTheStatusLineIsRead) {
  const std::string& req = prober_.targets()[0].http_request;
  EXPECT_EQ(req, "GET /healthz HTTP/1.0\r\nHost: 10.1.1.10\r\nUser-Agent: weft-health-check\r\nConnection: close\r\n\r\n");
  auto status = [](std::string_view s) { return http_status_of(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(status("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(status("HTTP/1.0 503 Service Unavailable\r\n"), 503);
  EXPECT_EQ(status("HTTP/1.1 20"), 0) << "cut short";
  EXPECT_EQ(status("HTTP/2 200 OK"), 0);
  EXPECT_EQ(status("SSH-2.0-OpenSSH"), 0);
  EXPECT_EQ(status("HTTP/1.1 999 ?"), 0);
}

TEST_F(HttpProberTest, TheExpectedStatusIsASuccessAnotherAFailure) {
  auto syn = prober_.poll(0);
  ASSERT_EQ(syn.size(), 1u);
  EXPECT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 5), ProbeVerdict::kConnected) << "connected is not healthy yet";
  EXPECT_TRUE(prober_.states()[0].in_flight);
  EXPECT_EQ(prober_.on_reply(answer(syn[0], 0), 6), ProbeVerdict::kPending) << "a bare ACK";
  EXPECT_EQ(prober_.on_reply(answer(syn[0], 200), 7), ProbeVerdict::kSuccess);
  EXPECT_EQ(prober_.states()[0].failed, 0u);

  for (uint64_t now : {1000, 2000, 3000}) {
    syn = prober_.poll(now);
    ASSERT_EQ(syn.size(), 1u);
    ASSERT_EQ(prober_.on_reply(reply(syn[0], kSynAck), now + 1), ProbeVerdict::kConnected);
    EXPECT_EQ(prober_.on_reply(answer(syn[0], 500), now + 2), ProbeVerdict::kBadStatus);
  }
  EXPECT_FALSE(up()) << "three 500s in a row: down although it accepts connections";
}

TEST_F(HttpProberTest, ConnectedButSilentTimesOutAndForgedAnswersAreCounted) {
  auto syn = prober_.poll(0);
  ASSERT_EQ(syn.size(), 1u);
  ASSERT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 5), ProbeVerdict::kConnected);
  ProbeReply wrong_ack = answer(syn[0], 200);
  wrong_ack.ack += 1;
  EXPECT_EQ(prober_.on_reply(wrong_ack, 6), ProbeVerdict::kForged);
  ProbeReply wrong_seq = answer(syn[0], 200);
  wrong_seq.seq = 5;
  EXPECT_EQ(prober_.on_reply(wrong_seq, 6), ProbeVerdict::kForged);
  EXPECT_EQ(prober_.states()[0].forged, 2u);
  prober_.poll(500);
  EXPECT_EQ(prober_.states()[0].failed, 1u) << "no status line within the timeout";

  syn = prober_.poll(1000);
  ASSERT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 1001), ProbeVerdict::kConnected);
  EXPECT_EQ(prober_.on_reply(answer(syn[0], 0, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG), 1002), ProbeVerdict::kRefused);
  syn = prober_.poll(2000);
  ASSERT_EQ(prober_.on_reply(reply(syn[0], kSynAck), 2001), ProbeVerdict::kConnected);
  EXPECT_EQ(prober_.on_reply(answer(syn[0], 0, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG), 2002), ProbeVerdict::kBadStatus)
      << "closed without a status line";
  EXPECT_EQ(prober_.states()[0].failed, 3u);
  EXPECT_FALSE(up());
}

}  // namespace
}  // namespace weft::dp
