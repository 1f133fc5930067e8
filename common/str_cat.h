#pragma once
// str_cat: one allocation for a message built from pieces.
//
//   error(at, str_cat({"no network named '", name, "'"}));
//
// Besides being cheaper than a chain of operator+, it keeps g++ 12 quiet:
// `"literal" + std::string(...)` inlines an insert at offset 0 that its
// -Wrestrict check misreads (GCC bug 105329), an error under --werror.
//
// Pure; thread-safe.

#include <initializer_list>
#include <string>
#include <string_view>

namespace weft {

inline std::string str_cat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace weft
