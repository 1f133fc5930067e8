#pragma once
// Prometheus text exposition format 0.0.4: what weftd's and
// weft-controller's `GET /metrics` answer, written by one small writer so
// both follow the same rules (HELP and TYPE before a family's samples, a
// family's samples together, label values and help text escaped, +Inf and
// NaN spelled as Prometheus parses them, histogram buckets cumulative with
// a closing le="+Inf").
//
//   TextWriter w;
//   w.family("weft_port_rx_packets_total", "Packets received.", MetricType::kCounter);
//   w.sample("weft_port_rx_packets_total", {{"port", "vm-1"}, {"kind", "af_packet"}}, 42);
//   Histogram h(Histogram::exponential(0.001, 2, 12));
//   h.observe(0.004);
//   w.family("weft_controller_apply_seconds", "...", MetricType::kHistogram);
//   w.histogram("weft_controller_apply_seconds", {}, h);
//   std::string body = w.take();          // served as kContentType
//
// Names are ours, not input: a metric or label name that breaks the format's
// rules is a programming error (asserted in debug builds). Label values and
// help text may hold anything and are escaped.
//
// Plain values; thread-compatible.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace weft::prom {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram, kSummary, kUntyped };
std::string_view metric_type_name(MetricType t);

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::initializer_list<Label>;

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
bool valid_label_name(std::string_view name);

// A label value: backslash, double quote and line feed as \\, \" and \n.
std::string escape_label_value(std::string_view v);
// Help text: backslash and line feed as \\ and \n.
std::string escape_help(std::string_view v);
// A sample value as Prometheus parses it: shortest round-trip decimal,
// "+Inf", "-Inf", "NaN".
std::string format_value(double v);

// Cumulative-on-output buckets over fixed upper bounds (ascending, finite);
// +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  // `count` bounds: start, start*factor, ...
  static std::vector<double> exponential(double start, double factor, size_t count);

  void observe(double v);

  std::span<const double> bounds() const { return bounds_; }
  // Observations <= bounds()[i] and above the bound before: not cumulative.
  std::span<const uint64_t> counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // one per bound, plus the +Inf bucket
  uint64_t count_ = 0;
  double sum_ = 0;
};

class TextWriter {
 public:
  // Starts a family: its HELP and TYPE lines. Every sample of `name`
  // follows before the next family.
  void family(std::string_view name, std::string_view help, MetricType type);
  void sample(std::string_view name, Labels labels, double value) {
    write_sample(name, std::span<const Label>(labels.begin(), labels.size()), format_value(value));
  }
  void sample(std::string_view name, Labels labels, uint64_t value) {
    write_sample(name, std::span<const Label>(labels.begin(), labels.size()), std::to_string(value));
  }
  // Any other integer type, so that sample(..., 1) is not ambiguous.
  template <typename Int>
    requires(std::is_integral_v<Int> && !std::is_same_v<Int, uint64_t>)
  void sample(std::string_view name, Labels labels, Int value) {
    sample(name, labels, static_cast<uint64_t>(value));
  }
  // NAME_bucket{..., le="B"} for each bound and +Inf (cumulative), NAME_sum
  // and NAME_count, under a family of type kHistogram named NAME.
  void histogram(std::string_view name, Labels labels, const Histogram& h);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void write_sample(std::string_view name, std::span<const Label> labels, std::string_view value,
                    const Label* extra = nullptr);

  std::string out_;
};

}  // namespace weft::prom
