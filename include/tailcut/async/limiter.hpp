// Limiter: a counting semaphore for coroutines, to bound concurrency.
//
//   async::Limiter limiter{executor, 100};
//   ...
//   auto permit = co_await limiter.acquire();   // waits while 100 are out
//   co_await fetch(url);                        // permit released at scope end
//
// Waiters are served first come, first served. A waiter whose caller is
// cancelled leaves the queue and throws operation_aborted. The limiter must
// outlive its permits. Single-threaded, like the rest of async/.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <list>
#include <optional>

namespace tailcut::async {

class Limiter {
 public:
  // Holds one unit of the limiter; gives it back when destroyed.
  class [[nodiscard]] Permit {
   public:
    Permit(Permit&& other) noexcept : limiter_{std::exchange(other.limiter_, nullptr)} {}
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    // Gives the unit back early.
    void release() noexcept;

   private:
    friend class Limiter;
    explicit Permit(Limiter* limiter) : limiter_{limiter} {}
    Limiter* limiter_;
  };

  Limiter(boost::asio::any_io_executor executor, std::size_t limit);
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Waits for a free unit.
  boost::asio::awaitable<Permit> acquire();
  // A unit if one is free now, without waiting.
  std::optional<Permit> try_acquire();

  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
  [[nodiscard]] std::size_t in_use() const noexcept { return in_use_; }
  [[nodiscard]] std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  struct Waiter;
  void release_one() noexcept;

  boost::asio::any_io_executor executor_;
  std::size_t limit_;
  std::size_t in_use_ = 0;
  std::list<Waiter*> waiters_;
};

}  // namespace tailcut::async
