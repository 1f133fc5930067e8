#include "dataplane/control_socket/control_server.h"

#include <sys/stat.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <istream>

namespace weft::dp {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(const ControlServer& server, local::socket socket)
      : server_(server), socket_(std::move(socket)), in_(kMaxRequestBytes) {}

  void start() { read(); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read() {
    asio::async_read_until(socket_, in_, '\n',
                           [self = shared_from_this()](boost::system::error_code ec, size_t) {
                             self->on_line(ec);
                           });
  }

  void on_line(boost::system::error_code ec) {
    if (ec == asio::error::not_found) {  // the buffer filled without a newline
      out_ = json{{"ok", false}, {"error", "request longer than " + std::to_string(kMaxRequestBytes) + " bytes"}}
                 .dump() + "\n";
      write(/*then_close=*/true);
      return;
    }
    if (ec) return;  // peer closed, or we are stopping
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
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), then_close](boost::system::error_code ec, size_t) {
                        if (ec || then_close) self->close();
                        else self->read();
                      });
  }

  const ControlServer& server_;
  local::socket socket_;
  asio::streambuf in_;
  std::string out_;
};

ControlServer::ControlServer(asio::io_context& io, std::string path)
    : io_(io), path_(std::move(path)), acceptor_(io) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::add_command(std::string name, Handler handler) {
  commands_[std::move(name)] = std::move(handler);
}

std::string ControlServer::handle(const std::string& line) const {
  json request;
  if (line.front() == '{') {
    request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
        !request["command"].is_string())
      return json{{"ok", false}, {"error", "a request is a JSON object with a \"command\" string, or a command word"}}
          .dump();
  } else {
    request = json{{"command", line}};
  }
  const std::string& name = request["command"].get_ref<const std::string&>();
  auto it = commands_.find(name);
  if (it == commands_.end()) {
    std::string known;
    for (const auto& [n, h] : commands_) known += (known.empty() ? "" : ", ") + n;
    return json{{"ok", false}, {"error", "unknown command '" + name + "' (commands: " + known + ")"}}.dump();
  }
  try {
    return json{{"ok", true}, {"result", it->second(request)}}.dump();
  } catch (const std::exception& e) {
    return json{{"ok", false}, {"error", e.what()}}.dump();
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
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "control socket " + path_ + ": " + ec.message();
    acceptor_.close(ec);
    return false;
  }
  // Counters and, later, control commands: for root and the weft group.
  ::chmod(path_.c_str(), 0660);
  listening_ = true;
  accept();
  return true;
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
    if (ec) return;  // closed by stop()
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
    sessions_.push_back(session);
    session->start();
    accept();
  });
}

void ControlServer::stop() {
  if (!listening_) return;
  listening_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->close();
  sessions_.clear();
  std::error_code fec;
  std::filesystem::remove(path_, fec);
}

}  // namespace weft::dp
