#include "common/transport/frame.h"

#include <cassert>

namespace weft::ctl {

void append_frame(std::string_view payload, std::string& out) {
  const auto n = static_cast<uint32_t>(payload.size());
  const char header[kFrameHeaderBytes] = {
      static_cast<char>(n >> 24), static_cast<char>(n >> 16),
      static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(header, kFrameHeaderBytes);
  out.append(payload);
}

std::span<char> FrameDecoder::prepare(size_t min_bytes) {
  // Slide unconsumed bytes to the front before growing, so a long-lived
  // connection's buffer stays at about one frame plus one read.
  if (begin_ > 0 && buf_.size() - end_ < min_bytes) {
    buf_.erase(0, begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < min_bytes) buf_.resize(end_ + min_bytes);
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameDecoder::commit(size_t n) {
  assert(end_ + n <= buf_.size());
  end_ += n;
}

FrameDecoder::Result FrameDecoder::next(std::string_view& frame) {
  if (failed_) return Result::kOversized;
  if (end_ - begin_ < kFrameHeaderBytes) return Result::kNeedMore;
  const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + begin_);
  const uint32_t len = uint32_t{h[0]} << 24 | uint32_t{h[1]} << 16 | uint32_t{h[2]} << 8 | h[3];
  if (len > max_payload_) {
    failed_ = true;
    return Result::kOversized;
  }
  if (end_ - begin_ - kFrameHeaderBytes < len) return Result::kNeedMore;
  frame = std::string_view(buf_.data() + begin_ + kFrameHeaderBytes, len);
  begin_ += kFrameHeaderBytes + len;
  if (begin_ == end_) begin_ = end_ = 0;  // cheap reset while the view is alive
  return Result::kFrame;
}

}  // namespace weft::ctl
