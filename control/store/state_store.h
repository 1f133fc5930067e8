#pragma once
// The controller's desired state on disk: the policy YAML last accepted by
// `PUT /v1/policy` and its version, in one file under --state-dir, so that a
// restarted controller serves the very same version to its nodes.
//
// A commit is atomic (write a temporary file, fsync it, rename it over the
// old one, fsync the directory): after a crash the file holds either the old
// or the new state, never a mix. The file opens with one comment line carrying
// the version, the length and a SHA-256 of the policy, so a truncated or
// hand-edited file is refused rather than served:
//
//   # weft-controller desired state: version=7 bytes=1234 sha256=9f86d08...
//   version: 1
//   nodes: ...
//
// An exclusive lock on DIR/lock keeps a second controller off the same
// directory. One controller on one machine is the default deployment; the
// interface is small so that a distributed store (etcd) can replace it.
//
//   auto store = StateStore::open(dir);          // creates DIR if absent
//   if (!store) die(store.error());
//   auto v = (*store)->commit(yaml);              // version + 1, or an error
//
// Thread-compatible: the controller calls it from its io_context thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "control/base/expected.h"

namespace weft::ctl {

struct DesiredState {
  uint64_t version = 0;  // 0: no policy was ever accepted
  std::string policy;    // YAML exactly as accepted
};

class StateStore {
 public:
  static constexpr std::string_view kStateFile = "policy.yaml";

  static Expected<std::unique_ptr<StateStore>> open(const std::string& dir);
  ~StateStore();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const DesiredState& current() const { return current_; }
  const std::string& dir() const { return dir_; }

  // Durably stores `policy` as version current().version + 1 and returns
  // that version. On failure neither the disk nor current() changes, except
  // in one case: the new file is in place but the directory fsync failed.
  // Then current() has advanced (it matches the file), the outcome is
  // reported as an error, and every later commit fails until a restart.
  Expected<uint64_t> commit(std::string policy);

 private:
  StateStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

  std::string dir_;
  int lock_fd_;
  DesiredState current_;
  std::string broken_;  // set once durability is unknown
};

// The state file's text for `state`, and its inverse; exposed for tests.
std::string encode_state(const DesiredState& state);
Expected<DesiredState> decode_state(std::string_view text);

}  // namespace weft::ctl
