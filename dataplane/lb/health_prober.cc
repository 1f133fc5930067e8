#include "dataplane/lb/health_prober.h"

#include <rte_tcp.h>

#include <algorithm>

namespace weft::dp {

bool HealthProber::set_targets(std::vector<LbProbeTarget> targets) {
  std::vector<State> states(targets.size());
  std::vector<bool> kept(targets_.size(), false);
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto it = std::find(targets_.begin(), targets_.end(), targets[i]);
    if (it == targets_.end()) continue;
    const auto old = static_cast<size_t>(it - targets_.begin());
    states[i] = states_[old];
    kept[old] = true;
  }
  bool changed = false;
  for (size_t old = 0; old < targets_.size(); ++old)
    if (!kept[old] && !states_[old].up) changed = true;
  targets_ = std::move(targets);
  states_ = std::move(states);
  changed_ = changed_ || changed;
  return changed;
}

void HealthProber::settle(size_t i, bool ok) {
  State& s = states_[i];
  s.in_flight = false;
  s.connected = false;
  if (ok) {
    s.fails_in_row = 0;
    ++s.oks_in_row;
    if (!s.up && s.oks_in_row >= targets_[i].healthy_threshold) {
      s.up = true;
      changed_ = true;
    }
    return;
  }
  ++s.failed;
  s.oks_in_row = 0;
  ++s.fails_in_row;
  if (s.up && s.fails_in_row >= targets_[i].unhealthy_threshold) {
    s.up = false;
    changed_ = true;
  }
}

std::vector<ProbeSyn> HealthProber::poll(uint64_t now_ms) {
  std::vector<ProbeSyn> out;
  for (size_t i = 0; i < targets_.size(); ++i) {
    State& s = states_[i];
    if (s.in_flight && now_ms >= s.deadline_ms) settle(i, false);
    if (s.in_flight || now_ms < s.next_ms) continue;
    s.in_flight = true;
    s.connected = false;
    s.sport = next_sport_;
    next_sport_ = next_sport_ == kProbePortHi ? kProbePortLo : static_cast<uint16_t>(next_sport_ + 1);
    s.isn = static_cast<uint32_t>(rng_());
    s.deadline_ms = now_ms + targets_[i].timeout_ms;
    s.next_ms = now_ms + targets_[i].interval_ms;
    ++s.sent;
    out.push_back({i, s.sport, s.isn});
  }
  return out;
}

ProbeVerdict HealthProber::on_reply(const ProbeReply& r, uint64_t now_ms) {
  bool known = false;
  for (size_t i = 0; i < targets_.size(); ++i) {
    const LbProbeTarget& t = targets_[i];
    if (t.dpdk_port != r.in_port || t.dst_ip != r.src_ip || t.src_ip != r.dst_ip) continue;
    known = true;
    State& s = states_[i];
    if (!s.in_flight || r.sport != t.dst_port || r.dport != s.sport) continue;
    if (s.connected && now_ms < s.deadline_ms) return http_reply(i, r);
    // The probe in flight: the answer must acknowledge our SYN, and come
    // before the deadline (poll() may not have timed it out yet).
    if (s.connected || r.ack != s.isn + 1 || now_ms >= s.deadline_ms) {
      ++s.forged;
      return ProbeVerdict::kForged;
    }
    if ((r.flags & RTE_TCP_RST_FLAG) != 0) {
      settle(i, false);
      return ProbeVerdict::kRefused;
    }
    if ((r.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
      if (!t.http_request.empty()) {
        s.connected = true;
        s.server_isn = r.seq;
        return ProbeVerdict::kConnected;
      }
      settle(i, true);
      return ProbeVerdict::kSuccess;
    }
    ++s.forged;
    return ProbeVerdict::kForged;
  }
  // No probe in flight matches: counted against the first target on that
  // vNIC and address when there is one, else as unmatched.
  if (known) {
    for (size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i].dpdk_port == r.in_port && targets_[i].dst_ip == r.src_ip && targets_[i].src_ip == r.dst_ip) {
        ++states_[i].forged;
        break;
      }
  } else {
    ++unmatched_;
  }
  return ProbeVerdict::kForged;
}

// After the SYN-ACK: the server's segments must acknowledge the request
// and follow its SYN.
ProbeVerdict HealthProber::http_reply(size_t i, const ProbeReply& r) {
  State& s = states_[i];
  const LbProbeTarget& t = targets_[i];
  const auto request = static_cast<uint32_t>(t.http_request.size());
  const bool rst = (r.flags & RTE_TCP_RST_FLAG) != 0;
  // An RST may come before the server read the request (ack = ISN + 1).
  const bool acked = r.ack == s.isn + 1 + request || (rst && r.ack == s.isn + 1);
  if (r.seq != s.server_isn + 1 || !acked || (r.flags & RTE_TCP_SYN_FLAG) != 0) {
    ++s.forged;
    return ProbeVerdict::kForged;
  }
  if (rst) {
    settle(i, false);
    return ProbeVerdict::kRefused;
  }
  if (r.http_status != 0) {
    const bool ok = r.http_status == t.http_status;
    settle(i, ok);
    return ok ? ProbeVerdict::kSuccess : ProbeVerdict::kBadStatus;
  }
  if ((r.flags & RTE_TCP_FIN_FLAG) != 0) {  // closed without a status line
    settle(i, false);
    return ProbeVerdict::kBadStatus;
  }
  return ProbeVerdict::kPending;
}

std::set<std::pair<std::string, std::string>> HealthProber::down() const {
  std::set<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < targets_.size(); ++i)
    if (!states_[i].up) out.emplace(targets_[i].lb, targets_[i].port);
  return out;
}

uint64_t HealthProber::next_event_ms() const {
  uint64_t t = UINT64_MAX;
  for (const State& s : states_) t = std::min(t, s.in_flight ? s.deadline_ms : s.next_ms);
  return t;
}

}  // namespace weft::dp
