// Standard descriptors 0, 1 and 2 that the process started without. Were
// one left closed, the next descriptor opened (Asio's eventfd, a socket)
// would take its number: `fetch -i -` would read that descriptor and a log
// would be written into it. So main() reopens them on /dev/null before it
// opens anything, as daemons do, and the subcommands that read or write
// them ask here whether they were there.
#pragma once

namespace tailcut::cli {

// Opens /dev/null on each of 0, 1 and 2 that is closed, and notes which
// were. False when /dev/null cannot be opened (the caller should stop).
// Call it first in main(), before anything opens a descriptor.
[[nodiscard]] bool reopen_closed_standard_streams() noexcept;

// Whether `descriptor` (0, 1 or 2) was closed when the process started.
[[nodiscard]] bool was_closed_at_start(int descriptor) noexcept;

}  // namespace tailcut::cli
