#pragma once
// Expected<T>: a value or the reason there is none. The control plane (store,
// transport, server, API, agent) returns errors as values and never lets an
// exception escape its API; this is the type it returns them in, until C++23's
// std::expected is available to us.
//
//   Expected<Config> c = load(path);
//   if (!c) return Unexpected{"config: " + c.error()};
//   use(*c);
//
// A plain value type: thread-compatible.

#include <string>
#include <utility>
#include <variant>

namespace weft::ctl {

// The error side, spelled at the return site so it cannot be mistaken for a T.
struct Unexpected {
  std::string error;
};

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  // Only meaningful when !has_value().
  const std::string& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, std::string> v_;
};

// For operations that produce nothing but may fail.
struct Done {};
using Status = Expected<Done>;
inline Status ok() { return Done{}; }

}  // namespace weft::ctl
