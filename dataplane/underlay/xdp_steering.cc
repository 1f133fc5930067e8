#include "dataplane/underlay/xdp_steering.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace weft::dp {
namespace {

// Set by meson (dataplane/meson.build): where `meson install` puts the
// program, absolute and relative to the installed weftd.
#ifndef WEFT_BPF_DIR
#define WEFT_BPF_DIR "/usr/local/lib/weft"
#endif
#ifndef WEFT_BPF_DIR_FROM_BINDIR
#define WEFT_BPF_DIR_FROM_BINDIR "../lib/weft"
#endif

constexpr std::string_view kDriverPrefix = "net_af_xdp";

std::string errno_text(int rc) { return std::strerror(rc < 0 ? -rc : rc); }

// A kernel object's fd, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// The devargs' value of `key`, or nullopt when absent.
std::optional<std::string_view> devarg(std::string_view devargs, std::string_view key) {
  size_t pos = devargs.find(',');
  while (pos != std::string_view::npos) {
    const size_t start = pos + 1;
    const size_t end = devargs.find(',', start);
    const std::string_view kv = devargs.substr(start, end == std::string_view::npos ? end : end - start);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
    pos = end;
  }
  return std::nullopt;
}

struct Attached {
  uint32_t id = 0;    // 0: none
  uint32_t mode_flags = 0;  // XDP_FLAGS_*_MODE it was attached in
};

bool query_attached(int ifindex, Attached& out, std::string& error) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  const int rc = bpf_xdp_query(ifindex, 0, &q);
  if (rc != 0) {
    error = "cannot query its XDP program: " + errno_text(rc);
    return false;
  }
  switch (q.attach_mode) {
    case XDP_ATTACHED_DRV: out = {q.drv_prog_id, XDP_FLAGS_DRV_MODE}; break;
    case XDP_ATTACHED_SKB: out = {q.skb_prog_id, XDP_FLAGS_SKB_MODE}; break;
    case XDP_ATTACHED_HW: out = {q.hw_prog_id, XDP_FLAGS_HW_MODE}; break;
    case XDP_ATTACHED_MULTI:
      error = "has XDP programs attached in several modes: weftd will not guess which to replace";
      return false;
    default: out = {}; break;
  }
  return true;
}

// The program `id`'s name and the ids of the maps it uses.
bool program_info(uint32_t id, std::string& name, std::vector<uint32_t>& map_ids, std::string& error) {
  Fd prog(bpf_prog_get_fd_by_id(id));
  if (!prog.ok()) {
    error = "cannot open XDP program id " + std::to_string(id) + ": " + errno_text(errno) + " (needs CAP_SYS_ADMIN)";
    return false;
  }
  std::array<uint32_t, 16> ids{};
  bpf_prog_info info{};
  info.nr_map_ids = ids.size();
  info.map_ids = reinterpret_cast<uintptr_t>(ids.data());
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog.get(), &info, &len) != 0) {
    error = "cannot read XDP program id " + std::to_string(id) + ": " + errno_text(errno);
    return false;
  }
  name = info.name;
  map_ids.assign(ids.begin(), ids.begin() + std::min<size_t>(info.nr_map_ids, ids.size()));
  return true;
}

}  // namespace

std::string steered_af_xdp_iface(std::string_view devargs) {
  if (!devargs.starts_with(kDriverPrefix) || devarg(devargs, "xdp_prog")) return {};
  auto iface = devarg(devargs, "iface");
  return iface ? std::string(*iface) : std::string();
}

std::string find_uplink_program(const std::string& configured) {
  namespace fs = std::filesystem;
  if (!configured.empty()) return fs::exists(configured) ? configured : std::string();
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe_dir / kUplinkProgramFile);
    candidates.push_back(exe_dir / WEFT_BPF_DIR_FROM_BINDIR / kUplinkProgramFile);
  }
  candidates.push_back(fs::path(WEFT_BPF_DIR) / kUplinkProgramFile);
  for (const fs::path& p : candidates)
    if (fs::exists(p, ec)) return p.lexically_normal().string();
  return {};
}

bool detach_weft_program(int ifindex, std::string& error) {
  Attached attached;
  if (!query_attached(ifindex, attached, error)) return false;
  if (attached.id == 0) return true;
  std::string name;
  std::vector<uint32_t> maps;
  if (!program_info(attached.id, name, maps, error)) return false;
  if (name != kUplinkProgramName) {
    error = "has XDP program '" + name + "' (id " + std::to_string(attached.id) +
            ") attached, not weft's: detach it first (ip link set dev IFACE xdp off)";
    return false;
  }
  const int rc = bpf_xdp_detach(ifindex, attached.mode_flags, nullptr);
  if (rc != 0) {
    error = "cannot detach weft's stale XDP program id " + std::to_string(attached.id) + ": " + errno_text(rc);
    return false;
  }
  return true;
}

std::unique_ptr<UplinkSteering> UplinkSteering::prepare(const UnderlayConfig& underlay, std::string& devargs,
                                                        std::string& error) {
  error.clear();
  std::string iface = steered_af_xdp_iface(devargs);
  if (iface.empty()) return nullptr;
  const std::string program = find_uplink_program(underlay.xdp_program);
  if (program.empty()) {
    error = underlay.xdp_program.empty()
                ? "the uplink's XDP program " + std::string(kUplinkProgramFile) + " is neither beside weftd nor in " +
                      WEFT_BPF_DIR + " (install weft, or set underlay.xdp_program)"
                : "underlay.xdp_program " + underlay.xdp_program + ": no such file";
    return nullptr;
  }
  const int ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (ifindex == 0) {
    error = "uplink " + iface + ": " + errno_text(errno);
    return nullptr;
  }
  std::string why;
  if (!detach_weft_program(ifindex, why)) {
    error = "uplink " + iface + " " + why;
    return nullptr;
  }
  devargs += ",xdp_prog=" + program;
  return std::unique_ptr<UplinkSteering>(new UplinkSteering(std::move(iface), ifindex, program));
}

UplinkSteering::~UplinkSteering() {
  std::string ignored;  // a foreign program attached since is not ours to remove
  detach_weft_program(ifindex_, ignored);
}

bool UplinkSteering::fill(uint32_t vtep_ip, uint16_t udp_port, std::string& error) {
  const std::string where = "uplink " + iface_ + ": ";
  Attached attached;
  if (!query_attached(ifindex_, attached, error)) {
    error = where + error;
    return false;
  }
  std::string name;
  std::vector<uint32_t> map_ids;
  if (attached.id == 0 || !program_info(attached.id, name, map_ids, error) || name != kUplinkProgramName) {
    error = where + "weft's XDP program is not attached" + (error.empty() ? "" : ": " + error);
    return false;
  }
  for (uint32_t id : map_ids) {
    Fd map(bpf_map_get_fd_by_id(id));
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (!map.ok() || bpf_obj_get_info_by_fd(map.get(), &info, &len) != 0) continue;
    if (std::string_view(info.name) != "weft_vteps") continue;
    const uint32_t key = htonl(vtep_ip);
    const uint16_t value = htons(udp_port);
    if (bpf_map_update_elem(map.get(), &key, &value, BPF_ANY) != 0) {
      error = where + "cannot add the VTEP address to the XDP program's map: " + errno_text(errno);
      return false;
    }
    return true;
  }
  error = where + "the XDP program " + program_ + " has no map weft_vteps";
  return false;
}

}  // namespace weft::dp
