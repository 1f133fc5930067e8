#pragma once
// FUZZ_CHECK(cond): what a fuzz target asserts of the code under test. It
// holds in every build type (assert() is compiled out of release builds),
// says which check failed, and aborts so that libFuzzer records the input.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
