// The bench clients' positional count arguments (REQUESTS, CONNECTIONS, ...).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace tailcut::bench {

// A positive whole number; throws std::invalid_argument naming `what`.
inline std::size_t parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) {
    throw std::invalid_argument{std::string{what} + " must be a positive whole number, got '" +
                                text + "'"};
  }
  return static_cast<std::size_t>(value);
}

}  // namespace tailcut::bench
