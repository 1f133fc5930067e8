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
// The version advances only once the new state is durable: a commit that
// fails anywhere (write, fsync, rename, the directory's fsync) leaves
// current() as it was and is an error for the caller, so nothing is pushed
// and no client is told of a version that a crash could take back.
//
// Thread-compatible: the controller calls it from its io_context thread.

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/expected.h"

namespace weft::ctl {

struct DesiredState {
  uint64_t version = 0;  // 0: no policy was ever accepted
  std::string policy;    // YAML exactly as accepted
};

// The system calls whose failure decides durability, replaceable so that
// tests can make them fail (as root, permission bits provoke nothing).
struct StoreIo {
  std::function<int(int fd)> fsync = [](int fd) { return ::fsync(fd); };
};

class StateStore {
 public:
  static constexpr std::string_view kStateFile = "policy.yaml";

  static Expected<std::unique_ptr<StateStore>> open(const std::string& dir, StoreIo io = {});
  ~StateStore();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const DesiredState& current() const { return current_; }
  const std::string& dir() const { return dir_; }

  // Durably stores `policy` as version current().version + 1 and returns
  // that version. On failure current() does not change and the disk holds
  // the old state, except in one case: the new file is in place but the
  // directory fsync failed, so whether it survives a crash is unknown. Then
  // the error says so, current() stays at the old version (the one the
  // nodes run), and every later commit fails until a restart re-reads the
  // file.
  Expected<uint64_t> commit(std::string policy);

 private:
  StateStore(std::string dir, int lock_fd, StoreIo io)
      : dir_(std::move(dir)), lock_fd_(lock_fd), io_(std::move(io)) {}

  std::string dir_;
  int lock_fd_;
  StoreIo io_;
  DesiredState current_;
  std::string broken_;  // set once durability is unknown
};

// The state file's text for `state`, and its inverse; exposed for tests.
std::string encode_state(const DesiredState& state);
Expected<DesiredState> decode_state(std::string_view text);

}  // namespace weft::ctl
