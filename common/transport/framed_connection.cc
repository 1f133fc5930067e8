#include "common/transport/framed_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

namespace weft::ctl {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// One TLS record: reading less wastes calls, more buys nothing.
constexpr size_t kReadChunk = 16 * 1024;

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

std::string describe_io_error(const error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    return "peer closed the connection";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  if (ec == asio::error::operation_aborted) return "connection closed";
  return ec.message();
}

std::shared_ptr<FramedConnection> FramedConnection::create(Socket socket, asio::ssl::context& ctx,
                                                           Options options) {
  return std::shared_ptr<FramedConnection>(
      new FramedConnection(std::move(socket), ctx, std::move(options)));
}

FramedConnection::FramedConnection(Socket socket, asio::ssl::context& ctx, Options options)
    : stream_(std::move(socket), ctx),
      options_(std::move(options)),
      timer_(stream_.get_executor()),
      decoder_(options_.max_frame_payload) {
  error_code ec;
  auto ep = stream_.lowest_layer().remote_endpoint(ec);
  peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  // Frames are small and latency matters more than segment count.
  stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  last_read_ = last_write_ = Clock::now();
}

void FramedConnection::handshake(asio::ssl::stream_base::handshake_type type,
                                 std::function<void(Status)> done) {
  auto self = shared_from_this();
  timer_.expires_after(options_.handshake_timeout);
  timer_.async_wait([self](const error_code& ec) {
    if (ec || self->closed_) return;
    self->close("TLS handshake timed out after " + ms(self->options_.handshake_timeout));
  });
  stream_.async_handshake(type, [self, done = std::move(done)](const error_code& ec) {
    self->timer_.cancel();
    if (self->closed_) return done(Unexpected{self->close_reason_});
    if (ec) {
      std::string why = "TLS handshake: " + describe_io_error(ec);
      long verify = SSL_get_verify_result(self->ssl());
      if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      self->close(why);
      return done(Unexpected{why});
    }
    done(ok());
  });
}

void FramedConnection::start(Callbacks callbacks) {
  if (closed_ || started_) return;
  started_ = true;
  callbacks_ = std::move(callbacks);
  last_read_ = last_write_ = Clock::now();
  read_more();
  if (options_.heartbeat_interval.count() > 0)
    arm_timer(options_.heartbeat_interval);
  else if (options_.idle_timeout.count() > 0)
    arm_timer(options_.idle_timeout / 2);
}

void FramedConnection::read_more() {
  auto space = decoder_.prepare(kReadChunk);
  stream_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const error_code& ec, size_t n) {
                            self->on_read(ec, n);
                          });
}

void FramedConnection::on_read(const error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) return close(describe_io_error(ec));
  decoder_.commit(n);
  // Any progress counts as life: a large frame on a slow link is not silence.
  last_read_ = Clock::now();
  std::string_view frame;
  for (;;) {
    auto r = decoder_.next(frame);
    if (r == FrameDecoder::Result::kNeedMore) break;
    if (r == FrameDecoder::Result::kOversized)
      return close("oversized frame (cap " + std::to_string(options_.max_frame_payload) +
                   " bytes)");
    // While flushing a last word we no longer listen.
    if (!flushing_ && callbacks_.on_frame) {
      in_on_frame_ = true;
      try {
        callbacks_.on_frame(frame);
      } catch (const std::exception& e) {
        // The owner failed on this frame: that ends this connection, never
        // the process (an exception must not leave an asio handler).
        close(std::string("internal error handling a frame: ") + e.what());
      }
      in_on_frame_ = false;
    }
    if (closed_) {
      callbacks_.on_frame = nullptr;  // close() could not: it ran inside it
      return;
    }
  }
  read_more();
}

bool FramedConnection::send(std::string_view payload) {
  if (closed_ || flushing_) return false;
  if (payload.size() > options_.max_frame_payload) {
    close("refusing to send a frame of " + std::to_string(payload.size()) + " bytes (cap " +
          std::to_string(options_.max_frame_payload) + ")");
    return false;
  }
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload.size());
  append_frame(payload, frame);
  if (queued_bytes_ + frame.size() > options_.max_queued_bytes) {
    close("peer is not reading: " + std::to_string(queued_bytes_) + " bytes queued");
    return false;
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (!writing_) write_next();
  return true;
}

void FramedConnection::write_next() {
  if (queue_.empty()) {
    writing_ = false;
    if (flushing_) close(flush_reason_);
    return;
  }
  writing_ = true;
  asio::async_write(stream_, asio::buffer(queue_.front()),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close(describe_io_error(ec));
                      self->queued_bytes_ -= self->queue_.front().size();
                      self->queue_.pop_front();
                      self->last_write_ = Clock::now();
                      self->write_next();
                    });
}

void FramedConnection::arm_timer(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return;
    self->on_tick();
  });
}

void FramedConnection::on_tick() {
  const auto now = Clock::now();
  if (flushing_) {
    if (now >= flush_deadline_) return close(flush_reason_ + " (peer did not take our last frames)");
    return arm_timer(std::chrono::duration_cast<std::chrono::milliseconds>(flush_deadline_ - now));
  }
  const auto idle = options_.idle_timeout;
  if (idle.count() > 0 && now - last_read_ >= idle)
    return close("peer silent for " + ms(idle));
  const auto beat = options_.heartbeat_interval;
  if (beat.count() > 0 && !writing_ && now - last_write_ >= beat) send(options_.heartbeat_payload);
  arm_timer(beat.count() > 0 ? beat : idle / 2);
}

void FramedConnection::close_after_flush(std::string reason) {
  if (closed_ || flushing_) return;
  if (!writing_) return close(std::move(reason));
  flushing_ = true;
  flush_reason_ = std::move(reason);
  flush_deadline_ = Clock::now() + options_.flush_timeout;
  arm_timer(options_.flush_timeout);
}

void FramedConnection::close(std::string reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  timer_.cancel();
  error_code ignored;
  stream_.lowest_layer().shutdown(Socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
  // The queue stays: an aborted write may still hold a view of its front.
  // The callbacks usually hold their owner, which holds us: drop them now so
  // no cycle outlives the connection, even if the io_context is destroyed
  // before the posted call runs. on_frame may be running (the owner closing
  // from inside it); then on_read drops it when it returns. on_close is
  // deferred so that the owner never hears of the close inside its own call.
  if (!in_on_frame_) callbacks_.on_frame = nullptr;
  asio::post(stream_.get_executor(),
             [on_close = std::move(callbacks_.on_close), reason = std::move(reason)] {
               if (on_close) on_close(reason);
             });
  callbacks_.on_close = nullptr;
}

}  // namespace weft::ctl
