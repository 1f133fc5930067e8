#pragma once
// Semantic checks of a whole (merged) policy: unique names, VNIs, underlay
// and port addresses and MACs; every reference resolved; address plans that
// hold together (subnets, gateways, routes, VIPs, floating IPs); rules whose
// parts fit their protocol. Fills model.index for the compiler.
//
// load_policy() calls it; call it yourself only on a Model you assembled with
// read_policy_document(). Every problem is added to `diags` at the position of
// the offending YAML node; returns true when there was none. Fields the
// loader could not parse are skipped (see Loc), so no error cascades.
//
// Thread-compatible.

#include "common/diag.h"
#include "control/model/model.h"

namespace weft::policy {

bool validate(Model& model, Diagnostics& diags);

}  // namespace weft::policy
