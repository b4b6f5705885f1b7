// ConnectionPool: the Session's keep-alive connections per (scheme, host,
// port), with a total and a per-host limit and a first come, first served
// queue for requests that find it full. Single-threaded.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "connection.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http::detail {

struct PoolLimits {
  std::size_t total = 0;     // open connections over all hosts; 0 = no limit
  std::size_t per_host = 0;  // open connections per origin; 0 = no limit
  std::chrono::milliseconds keepalive_timeout{0};
};

// Whether an acquire may take an idle connection, and how much it trusts one.
enum class Reuse {
  // An idle connection if any, checked first (one recv(MSG_PEEK)): the
  // server may have closed it, or sent something nobody asked for.
  idle_first,
  // The same, but one idle for less than `trusted_idle_time` is taken
  // unchecked: the caller retries on a new connection when it turns out
  // closed (idempotent requests), and servers neither close nor talk on
  // a connection that was busy a moment ago. Saves a system call per request.
  idle_first_retryable,
  fresh_only,
};

// How long an idle connection stays trusted without a check (see Reuse).
inline constexpr std::chrono::milliseconds trusted_idle_time{1000};

class ConnectionPool {
  struct HostEntry;
  struct Waiter;

 public:
  // The right to use one connection slot of a host: either an idle
  // connection taken from the pool, or none yet (the holder opens one and
  // attach()es it). Destroying the lease closes its connection unless
  // release_to_pool() was called, and frees the slot.
  class [[nodiscard]] Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();

    [[nodiscard]] Connection* connection() const noexcept { return connection_.get(); }
    [[nodiscard]] bool reused() const noexcept { return reused_; }
    // A connection opened for it; null (an opening that failed) changes nothing.
    void attach(std::unique_ptr<Connection> connection);
    // Its connection answered (counts a reuse when it came from the pool).
    void served() noexcept;
    // Keeps the connection open for the next request to the same host.
    void release_to_pool() noexcept;

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, HostEntry* host, std::unique_ptr<Connection> connection);
    ConnectionPool* pool_;
    HostEntry* host_;
    std::unique_ptr<Connection> connection_;
    bool reused_;
  };

  ConnectionPool(boost::asio::any_io_executor executor, PoolLimits limits);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A slot for `origin` into `lease`: at once when the limits allow, else
  // after the requests queued before (into, not returned: an awaited value
  // would sit in the caller's frame). The pool must outlive the lease. When
  // there is no slot, `failure` says why, rather than an exception (hedged
  // attempts waiting for a slot are cancelled by the thousand, and each
  // exception costs ~20 k instructions per coroutine frame it crosses):
  // ClientError(deadline.kind) when `deadline` passed first (`url` is for
  // the message), async::Failure::cancelled() when the caller was cancelled.
  // By reference: the caller awaits at once and keeps `origin` and `url`
  // alive.
  // The slot at once, when the limits allow (acquire() without waiting, and
  // without a coroutine); nullopt when the request would have to queue.
  [[nodiscard]] std::optional<Lease> try_acquire(const Origin& origin, Reuse reuse);

  [[nodiscard]] boost::asio::awaitable<void> acquire(std::optional<Lease>& lease,
                                                     async::Failure& failure, const Origin& origin,
                                                     Deadline deadline, Reuse reuse,
                                                     const std::string& url, std::stop_token stop);

  [[nodiscard]] PoolStats stats() const noexcept;

  // Closes the idle connections; from now on released ones are closed too.
  void close() noexcept;

 private:
  struct IdleConnection {
    std::unique_ptr<Connection> connection;
    Clock::time_point since;
  };
  // Exists while it has a connection idle or in use, or a waiter: entries
  // are erased as soon as they are unused (forget_if_unused).
  struct HostEntry {
    std::vector<IdleConnection> idle;  // oldest first
    std::size_t in_use = 0;
    std::size_t waiting = 0;           // queued Waiters for this host
    const std::string* key = nullptr;  // its key in hosts_ (nodes do not move)
  };

  [[nodiscard]] HostEntry& host_entry(const Origin& origin);
  [[nodiscard]] std::optional<Lease> try_take(HostEntry& host, Reuse reuse, Clock::time_point now);
  [[nodiscard]] bool expired(const IdleConnection& idle, Clock::time_point now) const noexcept;
  void drop_expired_idle(Clock::time_point now) noexcept;
  void close_oldest_idle(HostEntry& host) noexcept;
  // Closes the oldest idle connection of any host; erases that host's entry
  // if this leaves it unused, unless it is `keep` (the caller's).
  void close_oldest_idle_anywhere(const HostEntry& keep) noexcept;
  [[nodiscard]] static bool unused(const HostEntry& host) noexcept {
    return host.in_use == 0 && host.idle.empty() && host.waiting == 0;
  }
  // Erases `host` when nothing refers to it any more; it must not be used after.
  void forget_if_unused(HostEntry& host) noexcept;
  void leave_queue(Waiter& waiter) noexcept;
  void give_back(HostEntry& host, std::unique_ptr<Connection> connection, bool reusable) noexcept;
  void serve_waiters(Clock::time_point now) noexcept;

  boost::asio::any_io_executor executor_;
  PoolLimits limits_;
  std::unordered_map<std::string, HostEntry> hosts_;
  // The entry found last, and for which origin: most requests go where the
  // previous one went, and finding it again needs no key string.
  std::optional<Origin> last_origin_;
  HostEntry* last_host_ = nullptr;
  std::list<Waiter*> waiters_;
  std::size_t in_use_ = 0;
  std::size_t idle_ = 0;
  std::uint64_t opened_ = 0;
  std::uint64_t reused_count_ = 0;
  bool closed_ = false;
};

}  // namespace tailcut::http::detail
