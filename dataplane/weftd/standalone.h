#pragma once
// weftd --policy: standalone mode, without a controller. The node compiles
// the policy files itself, with the very loader and compiler the controller
// uses (control/model, control/compile), and publishes the result through
// build_snapshot, as the controller agent's apply does: one code path from
// YAML to forwarding tables.
//
//   std::string error;
//   auto tables = compile_local_policy(paths, cfg.node, error);   // before the EAL
//   if (!tables) { fputs(error); exit(2); }                       // refuse to start
//   ...
//   if (!publish_tables(dp, *tables, 1, error)) { ...; exit(2); }
//   PolicyReloader reload(io, dp, paths, cfg.node);              // SIGHUP: reload
//
// Main lcore only (the thread that runs the io_context).

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

// Loads the policy files (or directories) and compiles them for `node`.
// nullopt when the policy is invalid or does not name the node; `error`
// then holds every diagnostic (FILE:LINE:COLUMN lines) and a last line
// "weftd: why", without a newline.
// With `sources`, also where each entry was written (compile_sources).
std::optional<proto::NodeTables> compile_local_policy(const std::vector<std::string>& paths,
                                                      const std::string& node, std::string& error,
                                                      proto::NodeSources* sources = nullptr);

// Builds a snapshot of `tables` and publishes it as policy `version`;
// warnings go to stderr. False, with the reason, when the tables cannot be
// used: the tables in force stay. The snapshot keeps a copy of `tables`
// and `sources` (when given) for live traces.
bool publish_tables(Dataplane& dp, const proto::NodeTables& tables, uint64_t version,
                    std::string& error, const proto::NodeSources* sources = nullptr);

// Reloads the policy on SIGHUP: a valid one takes effect at once (the next
// version), an invalid one is reported and the running one stays.
class PolicyReloader {
 public:
  PolicyReloader(boost::asio::io_context& io, Dataplane& dp, std::vector<std::string> paths,
                 std::string node, uint64_t version);

 private:
  void arm();
  void reload();

  boost::asio::signal_set hup_;
  Dataplane& dp_;
  const std::vector<std::string> paths_;
  const std::string node_;
  uint64_t version_;
};

}  // namespace weft::dp
