#include "dataplane/weftd/standalone.h"

#include <csignal>
#include <cstdio>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/tables/snapshot_builder.h"

namespace weft::dp {

std::optional<proto::NodeTables> compile_local_policy(const std::vector<std::string>& paths,
                                                      const std::string& node, std::string& error,
                                                      proto::NodeSources* sources) {
  Diagnostics diags;
  auto model = policy::load_policy(paths, diags);
  if (!model) {
    error = diags.format() + "weftd: the policy is not valid";
    return std::nullopt;
  }
  proto::NodeTables tables = policy::compile_node(*model, node);
  if (tables.vtep_ip() == 0) {
    error = "weftd: the policy does not name node '" + node + "' (node.yaml's node)";
    return std::nullopt;
  }
  if (sources != nullptr) *sources = policy::compile_sources(*model, node);
  return tables;
}

bool publish_tables(Dataplane& dp, const proto::NodeTables& tables, uint64_t version,
                    std::string& error, const proto::NodeSources* sources) {
  std::vector<std::string> warnings;
  auto snap = build_snapshot(tables, dp.make_snapshot(), error, &warnings);
  for (const std::string& w : warnings) std::fprintf(stderr, "weftd: warning: %s\n", w.c_str());
  if (!snap) return false;
  // With several workers, load balancers and gateways need nothing here:
  // each worker owns the connections whose key its rules name
  // (handoff/conn_owner.h), and those rules, with the SNAT port a worker
  // picks (gateway/nat.h), name one worker for both directions of a
  // translated connection.
  snap->policy_version = version;
  snap->compiled = std::make_shared<const proto::NodeTables>(tables);
  if (sources != nullptr) snap->sources = std::make_shared<const proto::NodeSources>(*sources);
  const uint32_t generation = dp.publish(std::move(snap));
  std::fprintf(stderr, "weftd: policy version %llu in force (generation %u): %d network(s), %d port(s), %d peer(s)\n",
               static_cast<unsigned long long>(version), generation, tables.networks_size(),
               tables.ports_size(), tables.peers_size());
  return true;
}

PolicyReloader::PolicyReloader(boost::asio::io_context& io, Dataplane& dp,
                               std::vector<std::string> paths, std::string node, uint64_t version)
    : hup_(io, SIGHUP), dp_(dp), paths_(std::move(paths)), node_(std::move(node)), version_(version) {
  arm();
}

void PolicyReloader::arm() {
  hup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reload();
    arm();
  });
}

void PolicyReloader::reload() {
  std::fprintf(stderr, "weftd: SIGHUP: reloading the policy\n");
  std::string error;
  proto::NodeSources sources;
  auto tables = compile_local_policy(paths_, node_, error, &sources);
  if (tables) {
    if (publish_tables(dp_, *tables, version_ + 1, error, &sources)) {
      ++version_;
      return;
    }
    error = "weftd: " + error;
  }
  std::fprintf(stderr, "%s: policy version %llu stays in force\n", error.c_str(),
               static_cast<unsigned long long>(version_));
}

}  // namespace weft::dp
