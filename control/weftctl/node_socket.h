#pragma once
// weftctl's client of a running weftd's control socket
// (dataplane/control_socket/control_server.h): one request line out, one
// JSON line back; `weftctl node stats`, `node conns` and `trace --socket` use it.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace weft::cli {

// Sends `line` (ending in '\n') to the unix socket at `path` and returns the
// reply line; empty, with `error` set, on failure. Each wait is capped at
// 5 s.
std::string node_socket_request(const std::string& path, const std::string& line, std::string& error);

// Sends the JSON `request` and returns weftd's "result". On failure, says
// why on stderr ("`who`: ...") and sets `exit_code`: 2 when weftd could not
// be asked (no socket, not weftd's), 1 when it answered with an error.
std::optional<nlohmann::json> node_command(const std::string& path, const nlohmann::json& request,
                                           const char* who, int& exit_code);

}  // namespace weft::cli
