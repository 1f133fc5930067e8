#pragma once
// Length-prefixed framing for the southbound channel: every message is a
// 4-byte big-endian payload length followed by the payload (one serialized
// protobuf envelope). The codec is pure bytes, with no sockets, so it is unit
// tested and fuzzed on its own; FramedConnection feeds it from a TLS stream.
//
// A peer can announce any length, so the decoder enforces a cap before it
// buffers anything: an oversized announcement is reported as an error and the
// caller closes that connection (only that one).
//
//   FrameDecoder dec(max_payload);
//   auto space = dec.prepare(64 * 1024);      // read into space.data()
//   dec.commit(n);
//   std::string_view frame;
//   while (dec.next(frame) == FrameDecoder::Result::kFrame) handle(frame);
//
// Thread-compatible: one decoder per connection.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace weft::ctl {

inline constexpr size_t kFrameHeaderBytes = 4;
// Large enough for the tables of a busy node, small enough that a hostile
// peer cannot make us allocate much.
inline constexpr uint32_t kDefaultMaxFramePayload = 32u << 20;

// Appends one frame (header and payload) to `out`. The caller keeps payloads
// within the peer's cap; the largest representable payload is 4 GiB - 1.
void append_frame(std::string_view payload, std::string& out);

class FrameDecoder {
 public:
  enum class Result {
    kNeedMore,   // no complete frame buffered yet
    kFrame,      // `frame` holds the next payload
    kOversized,  // the peer announced a payload above the cap; stop reading
  };

  explicit FrameDecoder(uint32_t max_payload = kDefaultMaxFramePayload)
      : max_payload_(max_payload) {}

  // Writable space for at least `min_bytes` more input; valid until the next
  // call of any member.
  std::span<char> prepare(size_t min_bytes);
  // Marks `n` bytes of the prepared space as received.
  void commit(size_t n);

  // Extracts the next complete frame. The view stays valid until the next
  // call of prepare() or next(). After kOversized, every call returns
  // kOversized.
  Result next(std::string_view& frame);

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }

 private:
  uint32_t max_payload_;
  bool failed_ = false;
  std::string buf_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
};

}  // namespace weft::ctl
