// libFuzzer target for the southbound frame decoder (common/transport/frame.h).
//
// The input is fed in chunks whose sizes come from the input itself, with
// a small cap, and decoded frame by frame. Every frame returned must be a
// payload the peer announced (the cap respected, the bytes the encoder
// would have written back out), and once the decoder says kOversized it
// must keep saying so; ASan catches a read past its buffer.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/transport/frame.h"

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint32_t cap = 1u + (data[0] % 4) * 300;  // 1, 301, 601 or 901 bytes
  const uint8_t* in = data + 1;
  size_t left = size - 1;
  weft::ctl::FrameDecoder dec(cap);
  std::string seen;  // the frames decoded, re-encoded
  bool oversized = false;
  size_t chunk_seed = size;
  while (left > 0) {
    const size_t n = std::min(left, 1 + (chunk_seed = chunk_seed * 1103515245u + 12345u) % 97);
    auto space = dec.prepare(n);
    FUZZ_CHECK(space.size() >= n);
    std::memcpy(space.data(), in, n);
    dec.commit(n);
    in += n;
    left -= n;
    std::string_view frame;
    for (;;) {
      const auto r = dec.next(frame);
      if (r == weft::ctl::FrameDecoder::Result::kNeedMore) {
        FUZZ_CHECK(!oversized);
        break;
      }
      if (r == weft::ctl::FrameDecoder::Result::kOversized) {
        oversized = true;
        break;
      }
      FUZZ_CHECK(!oversized);
      FUZZ_CHECK(frame.size() <= cap);
      weft::ctl::append_frame(frame, seen);
    }
    if (oversized) {
      std::string_view frame2;
      FUZZ_CHECK(dec.next(frame2) == weft::ctl::FrameDecoder::Result::kOversized);
      break;
    }
  }
  // What came out is a prefix of what went in.
  FUZZ_CHECK(seen.size() <= size - 1);
  FUZZ_CHECK(std::memcmp(seen.data(), data + 1, seen.size()) == 0);
  return 0;
}
