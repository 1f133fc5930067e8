#include "common/prometheus/text_format.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace weft::prom {
namespace {

bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

}  // namespace

std::string_view metric_type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kUntyped: return "untyped";
  }
  return "untyped";
}

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Fixed notation where it stays short ("0.0001", not "1e-04"), the
  // shortest round-trip form either way.
  const double mag = std::fabs(v);
  const auto fmt = v == 0 || (mag >= 1e-5 && mag < 1e21) ? std::chars_format::fixed : std::chars_format::scientific;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, fmt);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buf, end);
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }),
                bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

std::vector<double> Histogram::exponential(double start, double factor, size_t count) {
  std::vector<double> out;
  double b = start;
  for (size_t i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // first bound >= v
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += v;
}

void TextWriter::family(std::string_view name, std::string_view help, MetricType type) {
  assert(valid_metric_name(name));
  out_.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(metric_type_name(type)).append("\n");
}

void TextWriter::write_sample(std::string_view name, std::span<const Label> labels, std::string_view value,
                              const Label* extra) {
  assert(valid_metric_name(name));
  out_.append(name);
  if (!labels.empty() || extra != nullptr) {
    out_ += '{';
    bool first = true;
    auto put = [&](const Label& l) {
      assert(valid_label_name(l.name));
      if (!first) out_ += ',';
      first = false;
      out_.append(l.name).append("=\"").append(escape_label_value(l.value)).append("\"");
    };
    for (const Label& l : labels) put(l);
    if (extra) put(*extra);
    out_ += '}';
  }
  out_.append(" ").append(value).append("\n");
}

void TextWriter::histogram(std::string_view name, Labels labels, const Histogram& h) {
  const std::span<const Label> ls(labels.begin(), labels.size());
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  const auto counts = h.counts();
  for (size_t i = 0; i <= h.bounds().size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
    const Label l{"le", le};
    write_sample(bucket, ls, std::to_string(cumulative), &l);
  }
  write_sample(std::string(name) + "_sum", ls, format_value(h.sum()));
  write_sample(std::string(name) + "_count", ls, std::to_string(h.count()));
}

}  // namespace weft::prom
