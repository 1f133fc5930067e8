#pragma once
// A node's trace (dataplane/trace/trace_report.h JSON) as weftctl prints
// it: a header, one line per stage (stage, decision, the entries behind it
// with their policy FILE:LINE:COLUMN), the verdict last.
//
// Pure.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace weft::cli {

std::string trace_text(const nlohmann::json& trace);
// The verdict of one packet, as a phrase ("delivered to port db-1 on node-a").
std::string verdict_text(const nlohmann::json& verdict);
// The rules a trace's security-group steps name, one "entry (FILE:LINE:COL)" each.
std::vector<std::string> deciding_rules(const nlohmann::json& trace);

}  // namespace weft::cli
