#pragma once
// What the northbound API serves: the controller's desired state and node
// status, behind an interface so the HTTP layer (api_server.h) knows nothing
// of stores, compilers or sockets, and tests can drive either side alone.
//
// Threads: called on the controller's io_context thread only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"
#include "control/api/api_types.h"

namespace weft::ctl::api {

struct PolicyDocument {
  uint64_t version = 0;  // 0: no policy yet
  std::string yaml;
};

struct ApplyOutcome {
  enum class Kind {
    kApplied,  // `result` holds the new (or unchanged) version
    kInvalid,  // `errors` holds every problem; nothing changed
    kFailed,   // `failure` says why (e.g. the store could not persist)
  };
  Kind kind = Kind::kFailed;
  ApplyResult result;
  std::vector<Diagnostic> errors;
  std::string failure;
};

class PolicyService {
 public:
  // All-or-nothing: validates, compiles, persists, then pushes.
  virtual ApplyOutcome apply_policy(std::string yaml) = 0;
  // Every problem of `yaml`, empty when valid. Changes nothing.
  virtual std::vector<Diagnostic> validate_policy(std::string_view yaml) = 0;
  virtual PolicyDocument current_policy() const = 0;
  virtual StatusReport status() const = 0;

 protected:
  ~PolicyService() = default;
};

}  // namespace weft::ctl::api
