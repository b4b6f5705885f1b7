// Growing the process's file-descriptor table once, before it is needed.
#include "descriptor_table.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace tailcut::http::detail {

void reserve_descriptor_table(std::size_t descriptors) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const auto wanted =
      std::min<std::size_t>({descriptors, limit.rlim_cur, max_reserved_descriptors});
  if (wanted < 2) return;
  // F_DUPFD takes the lowest free descriptor >= the argument (never closes
  // one, as dup2 would), which makes the kernel grow the table to hold it.
  const int probe = ::fcntl(STDERR_FILENO, F_DUPFD, static_cast<int>(wanted) - 1);
  if (probe >= 0) ::close(probe);
}

}  // namespace tailcut::http::detail
