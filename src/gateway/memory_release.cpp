// release_free_memory and its periodic check. The allocator is found when
// the program is linked, not chosen by the library: tcmalloc's C entry is
// a weak reference, set only in a binary that links tcmalloc.
#include "gateway/memory_release.hpp"

#include <malloc.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

// gperftools/malloc_extension_c.h; null unless tcmalloc is linked in.
extern "C" void MallocExtension_ReleaseFreeMemory() __attribute__((weak));

namespace tailcut::gateway {

namespace asio = boost::asio;

void release_free_memory() noexcept {
  if (&MallocExtension_ReleaseFreeMemory != nullptr) {
    MallocExtension_ReleaseFreeMemory();
  } else {
    malloc_trim(0);
  }
}

asio::awaitable<void> release_memory_after_bursts(http::BodyBudget* upstream_buffer) {
  asio::steady_timer timer{co_await asio::this_coro::executor};
  for (;;) {
    timer.expires_after(memory_release_period);
    co_await timer.async_wait(asio::use_awaitable);
    if (upstream_buffer->take_peak_bytes() >= memory_release_peak_bytes) release_free_memory();
  }
}

}  // namespace tailcut::gateway
