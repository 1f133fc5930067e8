// The control socket protocol: JSON line or bare word in, one JSON line out;
// bad requests answered, oversized ones cut off; a stale socket file taken
// over, a live one left alone.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
    make_server({});
  }
  void make_server(ControlServer::Options options) {
    server_ = std::make_unique<ControlServer>(io_, path_, options);
    server_->add_command("echo", [](const json& req) { return req; });
    server_->add_command("fail", [](const json&) -> json { throw std::runtime_error("it broke"); });
    server_->add_command("bytes", [](const json&) -> json { return std::string("a\xff\xfe"); });
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

  // A connected client socket, reads time out after 5 s.
  int connect_client() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }

  // Sends `data`, returns everything read until the server closes or one
  // line arrived.
  std::string exchange(const std::string& data) { return exchange_on(connect_client(), data); }
  // The same on `fd`, which it closes.
  std::string exchange_on(int fd, const std::string& data) {
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
  EXPECT_EQ(r["error"], "unknown command 'nope' (commands: bytes, echo, fail)");
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

// One byte that is not UTF-8 used to make the unknown-command reply throw
// out of dump(), and out of the asio handler: weftd aborted.
TEST_F(ControlServerTest, BytesThatAreNotUtf8AreAnsweredNotFatal) {
  json r;
  ASSERT_NO_THROW(r = json::parse(server_->handle("\xff")));
  EXPECT_FALSE(r["ok"]);
  EXPECT_EQ(r["error"].get<std::string>().find("unknown command '\xef\xbf\xbd'"), 0u) << r.dump();
  ASSERT_NO_THROW(r = json::parse(server_->handle("bytes")));
  EXPECT_EQ(r["result"], "a\xef\xbf\xbd\xef\xbf\xbd");

  serve();
  EXPECT_EQ(json::parse(exchange("\xff\xfe\n"))["ok"], false);
  EXPECT_EQ(json::parse(exchange("{\"command\": \"\xff\"}\n"))["ok"], false);
  EXPECT_EQ(json::parse(exchange("echo\n"))["ok"], true) << "the server survived";
}

TEST_F(ControlServerTest, SocketHasItsModeAndGroupBeforeItListens) {
  ControlServer::Options options;
  options.group = gid_t{4242};  // as root, any group id will do
  make_server(options);
  std::string error;
  ASSERT_TRUE(server_->start(error)) << error;
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, 4242u);
}

TEST_F(ControlServerTest, SessionsAreCappedAndIdleOnesClosed) {
  ControlServer::Options options;
  options.max_sessions = 2;
  options.idle_timeout = std::chrono::milliseconds(1000);  // the exchanges below take less
  make_server(options);
  serve();
  int first = connect_client(), second = connect_client();
  json r = json::parse(exchange("echo\n"));  // a third, while two are open
  EXPECT_FALSE(r["ok"]);
  EXPECT_NE(r["error"].get<std::string>().find("too many control sessions"), std::string::npos) << r.dump();
  EXPECT_EQ(json::parse(exchange_on(second, "echo\n"))["ok"], true) << "the two within the cap are served";

  // The idle one is closed after its timeout, and its slot is free again.
  char buf[64];
  EXPECT_EQ(::recv(first, buf, sizeof buf, 0), 0) << "idle session not closed";
  ::close(first);
  EXPECT_EQ(json::parse(exchange("echo\n"))["ok"], true);
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
