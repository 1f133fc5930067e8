#pragma once
// weftctl's client of a running weftd's control socket
// (dataplane/control_socket/control_server.h): one request line out, one
// JSON line back; `weftctl node stats` and `weftctl node conns` use it.

#include <string>

namespace weft::cli {

// Sends `line` (ending in '\n') to the unix socket at `path` and returns the
// reply line; empty, with `error` set, on failure. Each wait is capped at
// 5 s.
std::string node_socket_request(const std::string& path, const std::string& line, std::string& error);

}  // namespace weft::cli
