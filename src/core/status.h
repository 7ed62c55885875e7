// Expected failures as values. Result<T> carries either a T or an Error with a one-line message;
// Status is Result<void>. No exceptions on core, http or engine paths.
#pragma once
#include <expected>
#include <string>
#include <utility>

namespace headroom {

struct Error {
  std::string message;  // one line, no trailing newline, fit to print after "headroom: "
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// Fail("...") converts to any Result<T> / Status holding the error.
inline std::unexpected<Error> Fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

inline Status Ok() { return {}; }

}  // namespace headroom
