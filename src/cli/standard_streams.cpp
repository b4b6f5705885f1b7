// reopen_closed_standard_streams: fcntl finds the closed ones, /dev/null
// takes their place.
#include "cli/standard_streams.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace tailcut::cli {

namespace {

std::array<bool, 3> closed_at_start{};

}  // namespace

bool reopen_closed_standard_streams() noexcept {
  for (int descriptor = 0; descriptor < 3; ++descriptor) {
    if (::fcntl(descriptor, F_GETFD) != -1 || errno != EBADF) continue;
    closed_at_start[static_cast<std::size_t>(descriptor)] = true;
    // The lowest free number: this one, as the lower ones are open.
    const int opened = ::open("/dev/null", O_RDWR);
    if (opened == -1) return false;
    if (opened != descriptor) {
      const bool moved = ::dup2(opened, descriptor) == descriptor;
      ::close(opened);
      if (!moved) return false;
    }
  }
  return true;
}

bool was_closed_at_start(int descriptor) noexcept {
  return descriptor >= 0 && descriptor < 3 && closed_at_start[static_cast<std::size_t>(descriptor)];
}

}  // namespace tailcut::cli
