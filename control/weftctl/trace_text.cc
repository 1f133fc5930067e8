#include "control/weftctl/trace_text.h"

#include <algorithm>
#include <cstdio>

#include "common/str_cat.h"

namespace weft::cli {

using nlohmann::json;

namespace {

std::string pad(std::string s, size_t width) {
  s.resize(std::max(width, s.size() + 1), ' ');
  return s;
}

std::string ref_text(const json& r) {
  std::string s = r.value("entry", "");
  if (r.contains("source")) s += str_cat({" (", r["source"].get<std::string>(), ")"});
  return s;
}

}  // namespace

std::string verdict_text(const json& v) {
  if (v.value("delivered", false)) {
    if (v.contains("vtep"))
      return str_cat({"delivered to VTEP ", v.value("vtep", ""), " (node ", v.value("node", ""), ")"});
    return str_cat({"delivered to port ", v.value("port", ""), " on ", v.value("node", "")});
  }
  return str_cat({"dropped by ", v.value("stage", ""), ": ", v.value("reason", "")});
}

std::vector<std::string> deciding_rules(const json& trace) {
  std::vector<std::string> out;
  for (const json& s : trace.value("steps", json::array())) {
    const std::string stage = s.value("stage", "");
    if (stage != "security_group" && stage != "security_group_flood") continue;
    if (s.contains("refs"))
      for (const json& r : s["refs"]) out.push_back(ref_text(r));
    else if (s.contains("detail"))
      out.push_back(s["detail"].get<std::string>());
  }
  return out;
}

std::string trace_text(const json& t) {
  std::string out = str_cat({t.value("node", ""), ": ", t.value("packet", ""), ", sent by ", t.value("sender", ""),
                             t.value("reply", false) ? " (the reply of an established connection)" : "", "\n"});
  bool several = false;
  for (const json& s : t.value("steps", json::array())) several |= s.value("packet", 0) != 0;
  for (const json& s : t.value("steps", json::array())) {
    std::string line = "  ";
    if (several) line += pad(str_cat({"#", std::to_string(s.value("packet", 0))}), 4);
    line += pad(s.value("stage", ""), 21);
    std::string decision = s.value("decision", "");
    if (s.contains("reason")) decision += str_cat({" ", s["reason"].get<std::string>()});
    line += pad(decision, 14);
    std::vector<std::string> parts;
    if (s.contains("detail")) parts.push_back(s["detail"]);
    if (s.contains("refs"))
      for (const json& r : s["refs"]) parts.push_back(ref_text(r));
    for (size_t i = 0; i < parts.size(); ++i) line += (i ? "; " : "") + parts[i];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  for (const json& v : t.value("verdict", json::array())) {
    out += "  verdict";
    if (several) out += str_cat({" #", std::to_string(v.value("packet", 0))});
    out += str_cat({": ", verdict_text(v), "\n"});
  }
  return out;
}

}  // namespace weft::cli
