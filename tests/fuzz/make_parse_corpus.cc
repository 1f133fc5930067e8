// Writes the parser fuzzer's seed corpus: one file per frame kind
// (tests/packet/frame_kinds.h), named after it, into the directory given.
//
//   make_parse_corpus OUT_DIR

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/packet/frame_kinds.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  for (const weft::test::FrameKind& kind : weft::test::frame_kinds()) {
    const weft::test::Bytes b = kind.frame.bytes();
    std::ofstream out(dir / kind.name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) {
      std::fprintf(stderr, "%s: cannot write\n", (dir / kind.name).c_str());
      return 1;
    }
  }
  return 0;
}
