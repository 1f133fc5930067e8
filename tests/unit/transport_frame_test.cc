#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/transport/frame.h"

namespace weft::ctl {
namespace {

// Feeds `wire` in chunks of `chunk` bytes and collects every frame.
std::vector<std::string> decode(FrameDecoder& dec, std::string_view wire, size_t chunk,
                                FrameDecoder::Result* last = nullptr) {
  std::vector<std::string> frames;
  FrameDecoder::Result r = FrameDecoder::Result::kNeedMore;
  while (!wire.empty()) {
    size_t n = std::min(chunk, wire.size());
    auto space = dec.prepare(n);
    std::memcpy(space.data(), wire.data(), n);
    dec.commit(n);
    wire.remove_prefix(n);
    std::string_view f;
    while ((r = dec.next(f)) == FrameDecoder::Result::kFrame) frames.emplace_back(f);
    if (r == FrameDecoder::Result::kOversized) break;
  }
  if (last) *last = r;
  return frames;
}

TEST(TransportFrame, HeaderIsBigEndianLength) {
  std::string wire;
  append_frame("abc", wire);
  ASSERT_EQ(wire.size(), 7u);
  EXPECT_EQ(wire.substr(0, 4), std::string("\0\0\0\3", 4));
  EXPECT_EQ(wire.substr(4), "abc");
}

TEST(TransportFrame, RoundTripsAnyChunking) {
  const std::vector<std::string> sent = {"", "x", std::string(70000, 'y'), "hello", std::string(3, '\0')};
  std::string wire;
  for (const auto& s : sent) append_frame(s, wire);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{4096}, wire.size()}) {
    FrameDecoder dec(1 << 20);
    FrameDecoder::Result last;
    auto got = decode(dec, wire, chunk, &last);
    EXPECT_EQ(got, sent) << "chunk " << chunk;
    EXPECT_EQ(last, FrameDecoder::Result::kNeedMore);
    EXPECT_EQ(dec.buffered(), 0u);
  }
}

TEST(TransportFrame, PartialFrameWaits) {
  std::string wire;
  append_frame("complete", wire);
  append_frame("partial", wire);
  wire.resize(wire.size() - 1);
  FrameDecoder dec(1024);
  FrameDecoder::Result last;
  auto got = decode(dec, wire, 5, &last);
  EXPECT_EQ(got, std::vector<std::string>{"complete"});
  EXPECT_EQ(last, FrameDecoder::Result::kNeedMore);
  EXPECT_EQ(dec.buffered(), 4u + 6u);
}

TEST(TransportFrame, PayloadAtCapPassesAboveCapFailsBeforeBuffering) {
  FrameDecoder dec(16);
  std::string ok;
  append_frame(std::string(16, 'a'), ok);
  EXPECT_EQ(decode(dec, ok, 64).size(), 1u);

  // Only the 4-byte header of a 4 GiB announcement arrives: it is refused at
  // once, without waiting for (or allocating) the body.
  FrameDecoder dec2(16);
  FrameDecoder::Result last;
  auto got = decode(dec2, std::string("\xff\xff\xff\xff", 4), 4, &last);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(last, FrameDecoder::Result::kOversized);
  std::string_view f;
  EXPECT_EQ(dec2.next(f), FrameDecoder::Result::kOversized) << "the failure is sticky";

  FrameDecoder dec3(16);
  std::string big;
  append_frame(std::string(17, 'b'), big);
  decode(dec3, big, 64, &last);
  EXPECT_EQ(last, FrameDecoder::Result::kOversized);
}

TEST(TransportFrame, FramesBeforeAnOversizedOneAreDelivered) {
  std::string wire;
  append_frame("one", wire);
  append_frame(std::string(100, 'x'), wire);
  FrameDecoder dec(10);
  FrameDecoder::Result last;
  auto got = decode(dec, wire, wire.size(), &last);
  EXPECT_EQ(got, std::vector<std::string>{"one"});
  EXPECT_EQ(last, FrameDecoder::Result::kOversized);
}

}  // namespace
}  // namespace weft::ctl
