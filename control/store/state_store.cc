#include "control/store/state_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace weft::ctl {
namespace {

constexpr std::string_view kHeaderPrefix = "# weft-controller desired state: ";
constexpr std::string_view kTempSuffix = ".tmp";
// Far above any sane policy; bounds what a corrupt length field makes us read.
constexpr size_t kMaxStateBytes = 256u << 20;

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// Finds `key=VALUE` in the header line; VALUE ends at a space or the end.
std::string_view header_field(std::string_view header, std::string_view key) {
  size_t at = 0;
  while ((at = header.find(key, at)) != std::string_view::npos) {
    bool starts_word = at == 0 || header[at - 1] == ' ';
    if (starts_word && at + key.size() < header.size() && header[at + key.size()] == '=') {
      auto v = header.substr(at + key.size() + 1);
      return v.substr(0, v.find(' '));
    }
    at += key.size();
  }
  return {};
}

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unexpected{errno_text("write", path)};
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Expected<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected{errno_text("open", path)};
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = errno_text("read", path);
      ::close(fd);
      return Unexpected{err};
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxStateBytes) {
      ::close(fd);
      return Unexpected{path + ": larger than " + std::to_string(kMaxStateBytes) + " bytes"};
    }
  }
  ::close(fd);
  return out;
}

Status fsync_path(const std::string& path, int flags, const StoreIo& io) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Unexpected{errno_text("open", path)};
  int rc = io.fsync(fd);
  auto err = rc != 0 ? errno_text("fsync", path) : std::string();
  ::close(fd);
  if (rc != 0) return Unexpected{err};
  return ok();
}

}  // namespace

std::string encode_state(const DesiredState& state) {
  std::string out(kHeaderPrefix);
  out += "version=" + std::to_string(state.version);
  out += " bytes=" + std::to_string(state.policy.size());
  out += " sha256=" + sha256_hex(state.policy);
  out += '\n';
  out += state.policy;
  return out;
}

Expected<DesiredState> decode_state(std::string_view text) {
  size_t eol = text.find('\n');
  if (!text.starts_with(kHeaderPrefix) || eol == std::string_view::npos)
    return Unexpected{"not a weft-controller state file (no header line)"};
  std::string_view header = text.substr(0, eol);
  std::string_view body = text.substr(eol + 1);

  DesiredState state;
  uint64_t bytes = 0;
  if (!parse_u64(header_field(header, "version"), state.version) ||
      !parse_u64(header_field(header, "bytes"), bytes))
    return Unexpected{"malformed header line"};
  if (bytes != body.size())
    return Unexpected{"truncated or modified: header says " + std::to_string(bytes) +
                      " bytes, file holds " + std::to_string(body.size())};
  if (header_field(header, "sha256") != sha256_hex(body))
    return Unexpected{"modified or corrupt: SHA-256 does not match the header"};
  state.policy = std::string(body);
  return state;
}

Expected<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir, StoreIo io) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Unexpected{errno_text("cannot create state dir", dir)};

  const std::string lock_path = dir + "/lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Unexpected{errno_text("open", lock_path)};
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    auto err = errno == EWOULDBLOCK ? "state dir " + dir + " is in use by another weft-controller"
                                    : errno_text("lock", lock_path);
    ::close(lock_fd);
    return Unexpected{err};
  }
  std::unique_ptr<StateStore> store(new StateStore(dir, lock_fd, std::move(io)));

  const std::string path = dir + "/" + std::string(kStateFile);
  // A temporary file is what a crash between write and rename leaves behind.
  ::unlink((path + std::string(kTempSuffix)).c_str());

  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return store;  // a fresh controller: version 0
    return Unexpected{errno_text("stat", path)};
  }
  auto text = read_file(path);
  if (!text) return Unexpected{text.error()};
  auto state = decode_state(*text);
  if (!state) return Unexpected{path + ": " + state.error()};
  store->current_ = std::move(*state);
  return store;
}

StateStore::~StateStore() { ::close(lock_fd_); }

Expected<uint64_t> StateStore::commit(std::string policy) {
  if (!broken_.empty()) return Unexpected{broken_};
  DesiredState next{current_.version + 1, std::move(policy)};
  const std::string path = dir_ + "/" + std::string(kStateFile);
  const std::string temp = path + std::string(kTempSuffix);

  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected{errno_text("open", temp)};
  Status s = write_all(fd, encode_state(next), temp);
  if (s && io_.fsync(fd) != 0) s = Unexpected{errno_text("fsync", temp)};
  if (::close(fd) != 0 && s) s = Unexpected{errno_text("close", temp)};
  if (s && ::rename(temp.c_str(), path.c_str()) != 0) s = Unexpected{errno_text("rename", temp)};
  if (!s) {
    ::unlink(temp.c_str());
    return Unexpected{s.error()};
  }
  // The rename is durable only once the directory entry is. If that fails
  // the new file is in place but maybe not on disk: the outcome is unknown,
  // so we stop accepting commits until a restart re-reads the truth. The
  // version stays where it was: no node may be sent, and no client told
  // of, a version that a crash could take back.
  if (auto d = fsync_path(dir_, O_RDONLY | O_DIRECTORY, io_); !d) {
    broken_ = d.error() + " (version " + std::to_string(next.version) +
              " may or may not be durable; restart the controller)";
    return Unexpected{broken_};
  }
  current_ = std::move(next);
  return current_.version;
}

}  // namespace weft::ctl
