#pragma once
// One TLS connection carrying length-prefixed frames (frame.h): the transport
// under both ends of the southbound channel, the controller's node sessions
// and the node agent. It owns the stream, a read loop that hands each complete
// frame to a callback, a bounded write queue, a handshake deadline, and the
// liveness rules (heartbeat when idle, close when the peer falls silent).
//
// Anything wrong with the peer closes this connection and nothing else: an
// oversized frame, a read or write error, a silent peer, a peer that does not
// read its queue, an exception thrown by on_frame. The owner learns why through `on_close`, called exactly
// once, from the io_context, never from inside one of its own calls.
//
//   auto conn = FramedConnection::create(std::move(socket), *tls_ctx, opts);
//   conn->handshake(ssl::stream_base::server, [conn](Status s) {
//     if (!s) return log(s.error());
//     conn->start({.on_frame = ..., .on_close = ...});
//   });
//   conn->send(serialized_message);
//
// Threads: every member must be called on the thread that runs the socket's
// io_context (the controller and agents each use a single-threaded one).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/expected.h"
#include "common/transport/frame.h"

namespace weft::ctl {

class FramedConnection : public std::enable_shared_from_this<FramedConnection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Stream = boost::asio::ssl::stream<Socket>;
  using Clock = std::chrono::steady_clock;

  struct Options {
    uint32_t max_frame_payload = kDefaultMaxFramePayload;
    std::chrono::milliseconds handshake_timeout{5000};
    // When nothing was sent for this long, send `heartbeat_payload` (a frame
    // the peer's protocol ignores); 0 disables.
    std::chrono::milliseconds heartbeat_interval{0};
    std::string heartbeat_payload;
    // When nothing arrived for this long, close; 0 disables. Checked on the
    // heartbeat tick, so it fires within one interval of the deadline.
    std::chrono::milliseconds idle_timeout{0};
    // A peer that lets this much pile up in our queue is not reading.
    size_t max_queued_bytes = 2 * size_t{kDefaultMaxFramePayload};
    // close_after_flush() gives the peer this long to take the queue.
    std::chrono::milliseconds flush_timeout{2000};
  };

  struct Callbacks {
    std::function<void(std::string_view payload)> on_frame;
    std::function<void(const std::string& reason)> on_close;
  };

  // `socket` is connected; `ctx` must outlive the connection.
  static std::shared_ptr<FramedConnection> create(Socket socket, boost::asio::ssl::context& ctx,
                                                  Options options);

  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // For peer_names()/expect_peer_host() around the handshake.
  SSL* ssl() { return stream_.native_handle(); }
  // "address:port" of the peer, fixed at creation, for logs.
  const std::string& peer() const { return peer_; }
  bool is_open() const { return !closed_; }

  // Runs the TLS handshake under `handshake_timeout`; `done` gets the outcome.
  void handshake(boost::asio::ssl::stream_base::handshake_type type,
                 std::function<void(Status)> done);

  // Starts reading frames and the liveness timer.
  void start(Callbacks callbacks);

  // Queues one frame. False when the connection is closed or closing (a
  // payload above the cap, or a queue over max_queued_bytes, closes it).
  bool send(std::string_view payload);

  // Closes now; queued frames are dropped. Idempotent.
  void close(std::string reason);
  // Stops reading, lets the queue drain (bounded by flush_timeout), then
  // closes: for a last word such as "you are refused, because ...".
  void close_after_flush(std::string reason);

 private:
  FramedConnection(Socket socket, boost::asio::ssl::context& ctx, Options options);

  void read_more();
  void on_read(const boost::system::error_code& ec, size_t n);
  void write_next();
  void arm_timer(std::chrono::milliseconds after);
  void on_tick();

  Stream stream_;
  Options options_;
  std::string peer_;
  boost::asio::steady_timer timer_;
  FrameDecoder decoder_;
  Callbacks callbacks_;

  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;

  bool started_ = false;
  bool in_on_frame_ = false;
  bool closed_ = false;
  std::string close_reason_;
  bool flushing_ = false;
  std::string flush_reason_;
  Clock::time_point flush_deadline_;
  Clock::time_point last_read_;
  Clock::time_point last_write_;
};

// Human-readable reason for a failed read, write or handshake.
std::string describe_io_error(const boost::system::error_code& ec);

}  // namespace weft::ctl
