#pragma once
// Logging for the control plane and the node agent: a sink that each component
// takes as an option, so weft-controller writes lines to stderr (journald adds
// the time), weftd can route them into its own log, and tests and benchmarks
// with many agents in one process can silence or capture them.
//
//   Log log = Log::to_stderr("weft-controller");
//   log.warn("node node-a refused: " + why);
//
// A Log is copied into each component; calls into one sink may come from any
// thread that runs a component, so a sink must be thread-safe (to_stderr is:
// one fwrite per line).

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace weft::ctl {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

inline std::string_view log_level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

class Log {
 public:
  using Sink = std::function<void(LogLevel, std::string_view)>;

  // Discards everything.
  Log() = default;
  explicit Log(Sink sink, LogLevel min = LogLevel::kInfo)
      : sink_(std::make_shared<Sink>(std::move(sink))), min_(min) {}

  // "PROGRAM: LEVEL: MESSAGE" lines on stderr.
  static Log to_stderr(std::string program, LogLevel min = LogLevel::kInfo) {
    return Log(
        [program = std::move(program)](LogLevel level, std::string_view msg) {
          std::string line = program;
          line += ": ";
          line += log_level_name(level);
          line += ": ";
          line += msg;
          line += '\n';
          std::fwrite(line.data(), 1, line.size(), stderr);
        },
        min);
  }

  void write(LogLevel level, std::string_view msg) const {
    if (sink_ && level >= min_) (*sink_)(level, msg);
  }
  void debug(std::string_view msg) const { write(LogLevel::kDebug, msg); }
  void info(std::string_view msg) const { write(LogLevel::kInfo, msg); }
  void warn(std::string_view msg) const { write(LogLevel::kWarning, msg); }
  void error(std::string_view msg) const { write(LogLevel::kError, msg); }

 private:
  std::shared_ptr<const Sink> sink_;
  LogLevel min_ = LogLevel::kInfo;
};

}  // namespace weft::ctl
