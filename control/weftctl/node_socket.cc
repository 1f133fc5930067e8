#include "control/weftctl/node_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weft::cli {
namespace {

constexpr int kTimeoutSeconds = 5;

}  // namespace

std::string node_socket_request(const std::string& path, const std::string& line, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "socket path too long";
    return {};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return {};
  }
  timeval tv{kTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    error = std::strerror(errno);
  } else {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        reply.append(buf, static_cast<size_t>(n));
        if (reply.back() == '\n') break;
        continue;
      }
      error = n == 0 ? "connection closed before a reply" : std::strerror(errno);
      reply.clear();
      break;
    }
  }
  ::close(fd);
  return reply;
}

std::optional<nlohmann::json> node_command(const std::string& path, const nlohmann::json& request,
                                           const char* who, int& exit_code) {
  std::string error;
  const std::string reply = node_socket_request(path, request.dump() + "\n", error);
  if (reply.empty()) {
    std::fprintf(stderr, "%s: %s: %s\n", who, path.c_str(), error.c_str());
    exit_code = 2;
    return std::nullopt;
  }
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (r.is_discarded() || !r.is_object()) {
    std::fprintf(stderr, "%s: %s: not a weftd control socket (bad reply)\n", who, path.c_str());
    exit_code = 2;
    return std::nullopt;
  }
  if (!r.value("ok", false)) {
    std::fprintf(stderr, "%s: weftd: %s\n", who, r.value("error", "request failed").c_str());
    exit_code = 1;
    return std::nullopt;
  }
  return std::move(r["result"]);
}

}  // namespace weft::cli
