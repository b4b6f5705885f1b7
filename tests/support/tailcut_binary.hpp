// Where the `tailcut` binary under test is: $TAILCUT_BINARY, or the one this
// build made (TAILCUT_BINARY_PATH, set by tests/CMakeLists.txt).
#pragma once

#include <cstdlib>
#include <string>

namespace tailcut::test {

inline std::string tailcut_binary() {
  if (const char* from_environment = std::getenv("TAILCUT_BINARY")) return from_environment;
  return TAILCUT_BINARY_PATH;
}

}  // namespace tailcut::test
