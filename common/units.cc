#include "common/units.h"

#include <span>

namespace weft {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t scale;
};

// Largest scale first: formatting walks the table in this order.
constexpr Unit kRateUnits[] = {{"tbit", 1'000'000'000'000},
                               {"gbit", 1'000'000'000},
                               {"mbit", 1'000'000},
                               {"kbit", 1'000},
                               {"bit", 1}};
constexpr Unit kSizeUnits[] = {
    {"gb", 1ull << 30}, {"mb", 1ull << 20}, {"kb", 1ull << 10}, {"b", 1}};
constexpr Unit kDurationUnits[] = {{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}};

std::optional<uint64_t> parse_with_units(std::string_view text, std::span<const Unit> units) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) return std::nullopt;
  std::string_view suffix = text.substr(digits);
  for (const Unit& u : units) {
    if (suffix != u.suffix) continue;
    uint64_t value = 0;
    for (size_t i = 0; i < digits; ++i) {
      uint64_t d = static_cast<uint64_t>(text[i] - '0');
      if (value > (UINT64_MAX - d) / 10) return std::nullopt;
      value = value * 10 + d;
    }
    if (value > UINT64_MAX / u.scale) return std::nullopt;
    return value * u.scale;
  }
  return std::nullopt;
}

std::string format_with_units(uint64_t value, std::span<const Unit> units) {
  for (const Unit& u : units)
    if (value != 0 && value % u.scale == 0) return std::to_string(value / u.scale).append(u.suffix);
  return std::string("0").append(units.back().suffix);
}

}  // namespace

std::optional<uint64_t> parse_rate_bps(std::string_view text) {
  return parse_with_units(text, kRateUnits);
}
std::optional<uint64_t> parse_size_bytes(std::string_view text) {
  return parse_with_units(text, kSizeUnits);
}
std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  return parse_with_units(text, kDurationUnits);
}

std::string format_rate_bps(uint64_t bps) {
  return format_with_units(bps, kRateUnits);
}
std::string format_size_bytes(uint64_t bytes) {
  return format_with_units(bytes, kSizeUnits);
}
std::string format_duration_ms(uint64_t ms) {
  return format_with_units(ms, kDurationUnits);
}

}  // namespace weft
