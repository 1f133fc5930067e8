#include "dataplane/control_socket/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>

namespace weft::dp {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;

namespace {

// Requests and command names arrive from anyone who may connect: a byte
// that is not UTF-8 is replaced, never a reason for dump() to throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string error_line(const std::string& message) { return dump({{"ok", false}, {"error", message}}); }

}  // namespace

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(const ControlServer& server, local::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()),
        in_(kMaxRequestBytes) {}

  void start() { read(); }
  // Says why in one line, then closes (a session over the limit).
  void refuse(const std::string& why) {
    out_ = error_line(why) + "\n";
    write(/*then_close=*/true);
  }
  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  // Every wait for the client (its next request, its taking our response)
  // has the idle deadline: a silent or stuck client gives its slot back.
  void arm_deadline() {
    timer_.expires_after(server_.options_.idle_timeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->close();
    });
  }

  void read() {
    arm_deadline();
    asio::async_read_until(socket_, in_, '\n',
                           [self = shared_from_this()](boost::system::error_code ec, size_t) {
                             self->on_line(ec);
                           });
  }

  void on_line(boost::system::error_code ec) {
    if (ec == asio::error::not_found) {  // the buffer filled without a newline
      out_ = error_line("request longer than " + std::to_string(kMaxRequestBytes) + " bytes") + "\n";
      write(/*then_close=*/true);
      return;
    }
    if (ec) return close();  // peer closed, idle, or we are stopping
    std::istream is(&in_);
    std::string line;
    std::getline(is, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      read();
      return;
    }
    out_ = server_.handle(line) + "\n";
    write(/*then_close=*/false);
  }

  void write(bool then_close) {
    arm_deadline();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), then_close](boost::system::error_code ec, size_t) {
                        if (ec || then_close) self->close();
                        else self->read();
                      });
  }

  const ControlServer& server_;
  local::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf in_;
  std::string out_;
};

ControlServer::ControlServer(asio::io_context& io, std::string path, Options options)
    : io_(io), path_(std::move(path)), options_(std::move(options)), acceptor_(io), accept_retry_(io) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::add_command(std::string name, Handler handler) {
  commands_[std::move(name)] = std::move(handler);
}

std::string ControlServer::handle(const std::string& line) const noexcept {
  try {
    json request;
    if (line.front() == '{') {
      request = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
          !request["command"].is_string())
        return error_line("a request is a JSON object with a \"command\" string, or a command word");
    } else {
      request = json{{"command", line}};
    }
    const std::string& name = request["command"].get_ref<const std::string&>();
    auto it = commands_.find(name);
    if (it == commands_.end()) {
      std::string known;
      for (const auto& [n, h] : commands_) known += (known.empty() ? "" : ", ") + n;
      return error_line("unknown command '" + name + "' (commands: " + known + ")");
    }
    try {
      return dump({{"ok", true}, {"result", it->second(request)}});
    } catch (const std::exception& e) {
      return error_line(e.what());
    }
  } catch (...) {
    // Out of memory, most likely: an answer that needs no allocation.
    return R"({"ok":false,"error":"internal error"})";
  }
}

bool ControlServer::start(std::string& error) {
  namespace fs = std::filesystem;
  std::error_code fec;
  const fs::path p(path_);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), fec);

  if (fs::exists(fs::symlink_status(p, fec))) {
    if (!fs::is_socket(fs::symlink_status(p, fec))) {
      error = "control socket " + path_ + " exists and is not a socket";
      return false;
    }
    // A socket file nobody accepts on is what a killed weftd leaves behind.
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path_), ec);
    if (!ec) {
      error = "control socket " + path_ + " is served by another process (another weftd for this node?)";
      return false;
    }
    fs::remove(p, fec);
  }

  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  if (!ec) acceptor_.bind(local::endpoint(path_), ec);
  if (ec) {
    error = "control socket " + path_ + ": " + ec.message();
    acceptor_.close(ec);
    return false;
  }
  // Counters and, later, control commands: for root and the socket's group.
  // Set before listen(): until then every connect is refused, so nobody
  // ever connects under the mode the umask gave the file.
  if ((options_.group && ::chown(path_.c_str(), static_cast<uid_t>(-1), *options_.group) != 0) ||
      ::chmod(path_.c_str(), 0660) != 0) {
    error = "control socket " + path_ + ": cannot set its " +
            (options_.group ? "group to " + std::to_string(*options_.group) + " and " : std::string()) +
            "mode 0660: " + std::strerror(errno);
    acceptor_.close(ec);
    fs::remove(p, fec);
    return false;
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "control socket " + path_ + ": " + ec.message();
    acceptor_.close(ec);
    fs::remove(p, fec);
    return false;
  }
  listening_ = true;
  accept();
  return true;
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
    if (!listening_ || ec == asio::error::operation_aborted) return;  // closed by stop()
    if (!ec) {
      const bool full = live_sessions() >= options_.max_sessions;
      auto session = std::make_shared<Session>(*this, std::move(socket));
      if (full) {
        session->refuse("too many control sessions (" + std::to_string(options_.max_sessions) +
                        "); try again later");
      } else {
        sessions_.push_back(session);
        session->start();
      }
    }
    if (ec) {
      // Out of descriptors: the connection stays in the backlog and accepting
      // again at once fails again at once. Wait instead of spinning the main
      // lcore; a session ending meanwhile frees a descriptor.
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && listening_) accept();
      });
      return;
    }
    accept();
  });
}

size_t ControlServer::live_sessions() {
  sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
  return sessions_.size();
}

void ControlServer::stop() {
  if (!listening_) return;
  listening_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_retry_.cancel();
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->close();
  sessions_.clear();
  std::error_code fec;
  std::filesystem::remove(path_, fec);
}

}  // namespace weft::dp
