// weftctl validate POLICY...
//
// Loads and validates a policy (files and directories of *.yaml, merged).
// Valid: one summary line on stdout, exit 0. Invalid: every error on stderr
// as FILE:LINE:COLUMN: error: MESSAGE, exit 1. Usage or I/O error: exit 2.

#include <cstdio>
#include <string>

#include "control/model/model.h"
#include "control/weftctl/commands.h"
#include "control/weftctl/policy_cli.h"

namespace weft::cli {
namespace {

constexpr const char* kValidateUsage = "usage: weftctl validate POLICY...\n";

std::string count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string summary(const policy::Model& m) {
  size_t subnets = 0, routes = 0, rules = 0;
  for (const auto& n : m.networks) {
    subnets += n.subnets.size();
    routes += n.routes.size();
  }
  for (const auto& g : m.security_groups) rules += g.ingress.size() + g.egress.size();
  return "valid: " + count(m.files.size(), "file", "files") + ", " +
         count(m.nodes.size(), "node", "nodes") + ", " +
         count(m.networks.size(), "network", "networks") + ", " +
         count(subnets, "subnet", "subnets") + ", " + count(routes, "route", "routes") + ", " +
         count(m.ports.size(), "port", "ports") + ", " +
         count(m.security_groups.size(), "security group", "security groups") + ", " +
         count(rules, "rule", "rules") + ", " +
         count(m.qos_policies.size(), "QoS policy", "QoS policies") + ", " +
         count(m.load_balancers.size(), "load balancer", "load balancers") + ", " +
         count(m.gateways.size(), "gateway", "gateways");
}

}  // namespace

int cmd_validate(int argc, char** argv) {
  auto args = parse_args(argc, argv, "validate", {}, {});
  if (args && args->help) {
    std::fputs(kValidateUsage, stdout);
    return kExitOk;
  }
  if (!args || args->positional.empty()) {
    std::fputs(kValidateUsage, stderr);
    return kExitUsage;
  }
  std::optional<policy::Model> model;
  if (int rc = load_policy_for_cli(args->positional, model); rc != kExitOk) return rc;
  std::printf("%s\n", summary(*model).c_str());
  return kExitOk;
}

}  // namespace weft::cli
