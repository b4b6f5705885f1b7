// HostLimiter: bounds the requests in flight to one origin (--per-host).
// Waiting happens here, before a request's clock starts, rather than in the
// connection pool's queue, where it would count against --connect-timeout.
// Entries live only while used, so many distinct hosts cost nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "tailcut/async/limiter.hpp"

namespace tailcut::cli::fetch {

class HostLimiter {
 public:
  class [[nodiscard]] Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

   private:
    friend class HostLimiter;
    Lease(HostLimiter* owner, std::string host);
    void release() noexcept;

    HostLimiter* owner_ = nullptr;
    std::string host_;
    std::optional<async::Limiter::Permit> permit_;
  };

  // `per_host` 0: no limit (acquire never waits).
  HostLimiter(boost::asio::any_io_executor executor, std::size_t per_host);

  // Waits until `host` (an origin, e.g. "http://a:80") has room. A
  // cancelled waiter leaves the queue and throws operation_aborted.
  boost::asio::awaitable<Lease> acquire(std::string host);

  [[nodiscard]] std::size_t hosts_in_use() const noexcept { return hosts_.size(); }

 private:
  struct Host {
    std::unique_ptr<async::Limiter> limiter;
    std::size_t users = 0;
  };
  void leave(const std::string& host) noexcept;

  boost::asio::any_io_executor executor_;
  std::size_t per_host_;
  std::unordered_map<std::string, Host> hosts_;
};

}  // namespace tailcut::cli::fetch
