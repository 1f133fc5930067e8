// The control socket protocol: JSON line or bare word in, one JSON line out;
// bad requests answered, oversized ones cut off; a stale socket file taken
// over, a live one left alone.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <filesystem>
#include <thread>

#include "dataplane/control_socket/control_server.h"

namespace weft::dp {
namespace {

using nlohmann::json;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "weft_ctl_" + std::to_string(::getpid()) + ".sock";
    std::filesystem::remove(path_);
    server_ = std::make_unique<ControlServer>(io_, path_);
    server_->add_command("echo", [](const json& req) { return req; });
    server_->add_command("fail", [](const json&) -> json { throw std::runtime_error("it broke"); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] { server_->stop(); });
      work_.reset();
      thread_.join();
    }
    server_.reset();
  }
  void serve() {
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    thread_ = std::thread([this] { io_.run(); });
  }

  // Sends `data`, returns everything read until the server closes or one
  // line arrived.
  std::string exchange(const std::string& data) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may hang up on an oversized request
      sent += static_cast<size_t>(n);
    }
    std::string reply;
    char buf[4096];
    while (reply.empty() || reply.back() != '\n') {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return reply;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

TEST_F(ControlServerTest, AnswersJsonAndBareWords) {
  json r = json::parse(server_->handle(R"({"command": "echo", "x": 5})"));
  EXPECT_TRUE(r["ok"]);
  EXPECT_EQ(r["result"]["x"], 5);
  r = json::parse(server_->handle("echo"));
  EXPECT_TRUE(r["ok"]);
  EXPECT_EQ(r["result"]["command"], "echo");
}

TEST_F(ControlServerTest, RefusesBadRequests) {
  json r = json::parse(server_->handle("{not json"));
  EXPECT_FALSE(r["ok"]);
  r = json::parse(server_->handle(R"({"cmd": "echo"})"));
  EXPECT_FALSE(r["ok"]);
  r = json::parse(server_->handle("nope"));
  EXPECT_FALSE(r["ok"]);
  EXPECT_EQ(r["error"], "unknown command 'nope' (commands: echo, fail)");
  r = json::parse(server_->handle("fail"));
  EXPECT_FALSE(r["ok"]);
  EXPECT_EQ(r["error"], "it broke");
}

TEST_F(ControlServerTest, ServesManyRequestsPerConnection) {
  serve();
  const std::string reply = exchange("echo\n{\"command\":\"echo\",\"n\":2}\n");
  // One line per request; the first arrives on its own.
  EXPECT_EQ(json::parse(reply.substr(0, reply.find('\n')))["ok"], true);
  EXPECT_EQ(json::parse(exchange("{\"command\":\"echo\",\"n\":2}\n"))["result"]["n"], 2);
}

TEST_F(ControlServerTest, CutsOffOversizedRequests) {
  serve();
  json r = json::parse(exchange(std::string(ControlServer::kMaxRequestBytes + 10, 'x')));
  EXPECT_FALSE(r["ok"]);
  EXPECT_NE(r["error"].get<std::string>().find("longer than"), std::string::npos);
}

TEST_F(ControlServerTest, TakesOverAStaleSocketButNotALiveOne) {
  {  // a socket file nobody listens on, as a killed weftd leaves
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  serve();
  EXPECT_EQ(json::parse(exchange("echo\n"))["ok"], true);

  boost::asio::io_context other_io;
  ControlServer other(other_io, path_);
  std::string error;
  EXPECT_FALSE(other.start(error));
  EXPECT_NE(error.find("served by another process"), std::string::npos) << error;
}

TEST_F(ControlServerTest, RemovesItsSocketOnStop) {
  std::string error;
  ASSERT_TRUE(server_->start(error)) << error;
  EXPECT_TRUE(std::filesystem::exists(path_));
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace weft::dp
