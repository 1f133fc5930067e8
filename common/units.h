#pragma once
// Quantities with units, as written in policies and configs: rates, sizes and
// durations. Parsing is strict (an integer, then a lower-case unit, nothing
// else) so that "100Mb" or "1.5s" is an error the operator sees, never a
// silent guess; formatting picks the largest unit that divides the value, so
// format(parse(x)) is the canonical spelling of x.
//
//   rates      bit, kbit, mbit, gbit, tbit        (x1000, as in tc(8))  -> bits/s
//   sizes      b, kb, mb, gb                      (x1024, as in tc(8))  -> bytes
//   durations  ms, s, m, h                                              -> milliseconds
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

std::optional<uint64_t> parse_rate_bps(std::string_view text);
std::optional<uint64_t> parse_size_bytes(std::string_view text);
std::optional<uint64_t> parse_duration_ms(std::string_view text);

std::string format_rate_bps(uint64_t bps);
std::string format_size_bytes(uint64_t bytes);
std::string format_duration_ms(uint64_t ms);

}  // namespace weft
