// Giving freed memory back to the system after a burst of large upstream
// bodies: the allocator keeps what it freed for reuse, which leaves the
// gateway's resident set at its peak long after the burst.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>

#include "tailcut/http/body_budget.hpp"

namespace tailcut::gateway {

// How often the buffered bodies' peak is looked at, and the peak above
// which freed memory is given back: below it, what the allocator keeps is
// small and about to be reused.
inline constexpr std::chrono::seconds memory_release_period{10};
inline constexpr std::size_t memory_release_peak_bytes = 32 * std::size_t{1024 * 1024};

// Asks the allocator the binary runs on to return its free memory to the
// system: tcmalloc's ReleaseFreeMemory when it is linked in, glibc's
// malloc_trim(0) otherwise. Takes milliseconds after a large burst.
void release_free_memory() noexcept;

// Every memory_release_period, releases free memory when `upstream_buffer`
// peaked above memory_release_peak_bytes since the previous look. Runs
// until its executor stops.
[[nodiscard]] boost::asio::awaitable<void> release_memory_after_bursts(
    http::BodyBudget* upstream_buffer);

}  // namespace tailcut::gateway
